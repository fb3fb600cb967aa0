"""The `Message` the email package's feed parser makes of a plain single-part message,
or of a plain multipart one, built without it.

Most mail mailflow reads is one text part under a dozen headers, and the feed parser,
which reads it line by line through a buffer built for multipart nesting, was a quarter
of parsing and reading it. For such a message its result is simple to state: one header
per line that starts with a name and a colon, with the lines after it that start with a
space or tab; then a blank line; then the rest, as the payload. Anything else (no blank
line, a line that is neither, a message/* type, an mbox "From " line) is left to the
feed parser. tests/core/test_simple_mime.py checks, with Hypothesis, that what is built
here equals what the feed parser makes, attribute by attribute.

Most of the rest is multipart/alternative (a text part and an HTML part, as Gmail,
Outlook and Apple Mail write it), perhaps inside multipart/mixed with an attachment.
There the feed parser also compiled a regular expression for each message's boundary,
and read every line of every part. `multipart_message` splits the parts at their
delimiter lines with `str.find` and builds each part as above; it reads no line of a
part's body. What reading never looks at is not built: the preamble and epilogue, and
the defects of a message it accepts (it accepts none that has one: every part has its
headers, a blank line and a body, every multipart its boundary and closing delimiter,
no line ends in a lone CR, and no part is a message/* or a digest). Anything else is
the feed parser's. tests/core/test_simple_mime.py checks that the parts built here, and
the message parse_message reads from them, are the feed parser's.
"""

from __future__ import annotations

import itertools
import re
from email.message import Message

# a header as the feed parser reads one: a line that starts with a name and a colon (its
# own test is [\041-\071\073-\176]*:, an empty name being a defect), then the lines that
# start with a space or tab; each line ends at \r\n, \r or \n
_END = r"(?>\r\n|\r|\n)"
_HEADER = re.compile(rf"([\x21-\x39\x3b-\x7e]+):([^\r\n]*+{_END}(?:[ \t][^\r\n]*+{_END})*+)")
_BLANK = re.compile(_END)
_LONE_CR = re.compile(r"\r(?!\n)")


def _headers(text: str, start: int, end: int) -> tuple[Message, int] | None:
    """The headers of the message or part in text[start:end] and where its body starts,
    or None: no header, or they do not end in a blank line."""
    message = Message()
    position = start
    while (header := _HEADER.match(text, position, end)) is not None:
        # Compat32.header_source_parse: the value's first line without its leading blanks
        # (they cannot reach past that line: it ends in a line break), the rest as it is
        message.set_raw(header.group(1), header.group(2).lstrip(" \t").rstrip("\r\n"))
        position = header.end()
    blank = _BLANK.match(text, position, end)
    if blank is None or position == start:  # another kind of line, the end, or no header
        return None
    return message, blank.end()


def simple_message(text: str) -> Message | None:
    """`email.message_from_bytes` of the bytes `text` was decoded from (ASCII, with
    surrogateescape, as the parser decodes them), or None: not a plain single-part
    message, for the feed parser (or `multipart_message`) to read."""
    read = _headers(text, 0, len(text))
    if read is None:
        return None
    message, body = read
    if message.get_content_maintype() in ("multipart", "message"):
        return None  # parts, a forwarded message, a delivery report: the parser's work
    message.set_payload(text[body:])
    return message


MAX_DEPTH = 4  # multiparts within multiparts: deeper ones are the feed parser's


def multipart_message(text: str) -> Message | None:
    """`email.message_from_bytes` of a plain multipart message (see the module's
    docstring), its preamble, epilogue and defects left out; None: the feed parser's."""
    if _LONE_CR.search(text):  # (one pass: counting CRs and CRLFs took two, each slower)
        return None  # a lone CR ends a line for the parser: not worth following here
    read = _headers(text, 0, len(text))
    if read is None or read[0].get_content_maintype() != "multipart":
        return None
    message, body = read
    return message if _split(text, message, body, len(text), 0) else None


def _split(text: str, message: Message, start: int, end: int, depth: int) -> bool:
    """Give the multipart `message` its parts, from its body text[start:end]; False when
    it is not plain enough (the module's docstring)."""
    boundary = message.get_boundary()
    if not boundary or depth >= MAX_DEPTH or message.get_content_subtype() == "digest":
        return False
    delimiters = _delimiters(text, "--" + boundary, start, end)
    if len(delimiters) < 2 or not delimiters[-1][2] or any(c for _, _, c in delimiters[:-1]):
        return False  # no part, no closing delimiter, or a part after it
    for (_, after, _), (line, _, _) in itertools.pairwise(delimiters):
        # the line break before a delimiter line is the delimiter's, not the part's
        part_end = line - (2 if text.startswith("\r\n", line - 2) else 1)
        if part_end <= after:
            return False
        read = _headers(text, after, part_end)
        if read is None:
            return False
        part, body = read
        maintype = part.get_content_maintype()
        if maintype == "message" or part.get_content_type() == "text/rfc822-headers":
            return False  # a forwarded message, a delivery report: the parser reads them
        if maintype == "multipart":
            if part.get_boundary() == boundary or not _split(text, part, body, part_end,
                                                             depth + 1):
                return False
        else:
            part.set_payload(text[body:part_end])
        message.attach(part)
    return True


def _delimiters(text: str, dashed: str, start: int, end: int) -> list[tuple[int, int, bool]]:
    """The delimiter lines of text[start:end] (the feed parser's: `--boundary`, perhaps
    `--`, blanks, the line's end): for each, where its line starts, where the next line
    starts, and whether it closes the multipart."""
    found: list[tuple[int, int, bool]] = []
    position = start
    while (at := text.find(dashed, position, end)) >= 0:
        position = at + len(dashed)
        if at != start and text[at - 1] != "\n":
            continue  # not at the start of a line
        newline = text.find("\n", position, end)
        line_end = end if newline < 0 else newline + 1
        rest = text[position:line_end].rstrip("\r\n")
        closing = rest.startswith("--")
        if (rest[2:] if closing else rest).strip(" \t"):
            continue  # more on the line: text that starts like a delimiter
        found.append((at, line_end, closing))
        position = line_end
    return found

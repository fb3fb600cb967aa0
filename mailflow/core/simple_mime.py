"""The `Message` the email package's feed parser makes of a plain single-part message,
built without it.

Most mail mailflow reads is one text part under a dozen headers, and the feed parser,
which reads it line by line through a buffer built for multipart nesting, was a quarter
of parsing and reading it. For such a message its result is simple to state: one header
per line that starts with a name and a colon, with the lines after it that start with a
space or tab; then a blank line; then the rest, as the payload. Anything else (no blank
line, a line that is neither, a multipart or message/* type, an mbox "From " line) is
left to the feed parser. tests/core/test_simple_mime.py checks, with Hypothesis, that
what is built here equals what the feed parser makes, attribute by attribute.
"""

from __future__ import annotations

import re
from email.message import Message

# a header as the feed parser reads one: a line that starts with a name and a colon (its
# own test is [\041-\071\073-\176]*:, an empty name being a defect), then the lines that
# start with a space or tab; each line ends at \r\n, \r or \n
_END = r"(?>\r\n|\r|\n)"
_HEADER = re.compile(rf"([\x21-\x39\x3b-\x7e]+):([^\r\n]*+{_END}(?:[ \t][^\r\n]*+{_END})*+)")
_BLANK = re.compile(_END)


def simple_message(text: str) -> Message | None:
    """`email.message_from_bytes` of the bytes `text` was decoded from (ASCII, with
    surrogateescape, as the parser decodes them), or None: not a plain single-part
    message, for the feed parser to read."""
    message = Message()
    position = 0
    while (header := _HEADER.match(text, position)) is not None:
        # Compat32.header_source_parse: the value's first line without its leading blanks
        # (they cannot reach past that line: it ends in a line break), the rest as it is
        message.set_raw(header.group(1), header.group(2).lstrip(" \t").rstrip("\r\n"))
        position = header.end()
    blank = _BLANK.match(text, position)
    if blank is None or position == 0:  # another kind of line, the end, or no header
        return None
    if message.get_content_maintype() in ("multipart", "message"):
        return None  # parts, a forwarded message, a delivery report: the parser's work
    message.set_payload(text[blank.end():])
    return message

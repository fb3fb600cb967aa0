"""Bytes of an RFC 5322 message in, a plain `InboundMessage` out.

Uses the compat32 policy: measured several times cheaper than
`email.policy.default`, and we decode what we need ourselves.
"""

from __future__ import annotations

import codecs
import email
import hashlib
import re
from datetime import datetime
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from mailflow.core.budget import (
    BASE64_LINES_KEPT,
    HTML_BUDGET,
    RAW_BUDGET,
    REPORT_BUDGET,
    TEXT_BUDGET,
)
from mailflow.core.html_text import html_to_text
from mailflow.core.model import Address, InboundMessage
from mailflow.core.simple_mime import multipart_message, simple_message

_MSGID = re.compile(r"<([^<>\s]+)>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` without control characters (NUL, ESC, DEL…) but tab and newline, which no
    name, subject or terminal line needs."""
    return _CONTROL.sub("", text)


class MalformedMessage(ValueError):
    """The message cannot be understood at all; it belongs in quarantine."""


def decode_bytes(payload: bytes, charset: str | None) -> str:
    """Decode with the declared charset, falling back instead of raising on unknown ones."""
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            codecs.lookup(candidate)
            return payload.decode(candidate, errors="replace")
        except (LookupError, UnicodeError):
            continue
    return payload.decode("latin-1")


def unescape_8bit(value: str) -> str:
    """A header value with raw 8-bit bytes (RFC 6532 or a sloppy client) as real text.

    compat32 keeps such bytes as lone surrogates, which no encoder (SQLite, SMTP, a
    terminal) accepts; every header is passed through here before anything reads it.
    """
    if value.isascii() or not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    raw = value.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("windows-1252", errors="replace").encode(
            "utf-8", "surrogatepass").decode("utf-8", "replace")


def decode_header_value(value: str | None) -> str:
    """Decode RFC 2047 encoded words in any charset; unknown charsets degrade, never raise."""
    if value is None:
        return ""
    return _decode_words(unescape_8bit(str(value)))


def _decode_words(value: str) -> str:
    """`decode_header_value` of a value unescaped already."""
    if value.isascii() and "=?" not in value:  # the common case: nothing to decode
        return " ".join(value.split())
    try:
        chunks = decode_header(value)
    except Exception:  # a broken encoded word: keep the raw text
        return " ".join(value.split())
    out: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset or "ascii"))
        else:
            out.append(chunk)
    return " ".join("".join(out).split())


# matched against a stripped item: no two parts can take the same characters (linear)
_SIMPLE_ADDRESS = re.compile(r"(?:([^<>,;:\\\"()@]*)<([^<>\s,;:\"()@]+@[^<>\s,;:\"()]+)>"
                             r"|([^<>\s,;:\"()@]+@[^<>\s,;:\"()]+))")

# quotes, comments, escapes and domain literals: getaddresses' care is needed
_NOT_SIMPLE = re.compile(r'["(\\\[\]]')


def _split_simple(value: str) -> list[tuple[str, str]] | None:
    """`Name <a@b>, c@d` without quotes or comments; None for anything else.

    getaddresses() is a third of parsing time; most headers need none of its care. An
    encoded word (=?utf-8?q?Zo=C3=AB?=, a name in most mail from abroad) is an atom to
    it as to this, decoded afterwards by both.
    """
    if _NOT_SIMPLE.search(value):
        return None
    pairs = []
    for item in value.split(","):
        if not item.strip():
            continue
        match = _SIMPLE_ADDRESS.fullmatch(item.strip())
        if match is None:
            return None
        pairs.append(((match.group(1) or "").strip(), match.group(2) or match.group(3)))
    return pairs


def parse_addresses(values: list[str]) -> tuple[Address, ...]:
    """Addresses from raw header values, split before decoding so encoded commas don't split."""
    found: list[Address] = []
    seen: set[str] = set()
    pairs: list[tuple[str, str]] = []
    for value in values:
        simple = _split_simple(str(value))
        pairs.extend(simple if simple is not None else getaddresses([str(value)]))
    for name, addr in pairs:
        addr = addr.strip().strip("<>").lower()
        if "@" not in addr or addr in seen:
            continue
        seen.add(addr)
        found.append(Address(printable(addr),
                             printable(decode_header_value(name)).strip('"').strip()))
    return tuple(found)


def normalize_message_id(value: str | None) -> str | None:
    if not value:
        return None
    match = _MSGID.search(value)
    if match:
        return match.group(1)
    value = value.strip()
    return value or None


def _message_ids(value: str | None) -> tuple[str, ...]:
    return tuple(_MSGID.findall(value or ""))


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else None


def _part_text(part: Message, budget: int) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return decode_bytes(payload[:budget * 4], _charset(part))[:budget]


# a Content-Type of plain parameters: no quoted pair, no ';' within quotes, no RFC 2231 '*'
# and no '=' before the first ';' (the email package would read that as a parameter too).
# Possessive throughout: a value that fails to match costs a linear scan, not a backtrack
# through every split of its trailing blanks (quadratic in them: test_hostile.py)
_PLAIN_PARAMETERS = re.compile(r'[^;="\\()<>\r\n]*+(?:;[ \t]*+[A-Za-z0-9_.+-]++[ \t]*+=[ \t]*+'
                               r'(?:"[^";\\\r\n]*+"|[A-Za-z0-9_.:+/-]*+)[ \t]*+)*+;?[ \t]*+')
_PARAMETER = re.compile(r';[ \t]*([A-Za-z0-9_.+-]+)[ \t]*=[ \t]*'
                        r'(?:"([^";\\\r\n]*)"|([A-Za-z0-9_.:+/-]*))')


def _charset(part: Message) -> str | None:
    """`part.get_content_charset()`, read straight from a plain Content-Type: the email
    package's parameter parsing was a fifteenth of parsing and reading a message."""
    value = part.get("Content-Type")
    if type(value) is not str or not value.isascii() or \
            _PLAIN_PARAMETERS.fullmatch(value) is None:
        charset: str | None = part.get_content_charset()
        return charset
    for name, quoted, token in _PARAMETER.findall(value):
        if name.lower() == "charset":
            return str(quoted or token).lower()
    return None


def _filename(part: Message) -> str | None:
    """`part.get_filename()`, without parsing the parameters of a part that cannot name a
    file (no Content-Disposition, no "name" in its Content-Type): most text parts."""
    if part.get("Content-Disposition") is None and \
            "name" not in str(part.get("Content-Type", "")).lower():
        return None
    return part.get_filename()


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("Content-Disposition", "")).lower()
    return disposition.startswith("attachment")


def _walk_bodies(message: Message) -> tuple[str, str | None, str | None, Message | None, list[str]]:
    """The text body, the HTML body, a DSN report, a forwarded message and attachment names."""
    text: str | None = None
    html: str | None = None
    report: str | None = None
    forwarded: Message | None = None
    names: list[str] = []
    stack: list[Message] = [message]
    while stack:
        part = stack.pop(0)
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            if forwarded is None and isinstance(inner, list) and inner \
                    and isinstance(inner[0], Message):
                forwarded = inner[0]
            continue
        if ctype in ("text/rfc822-headers", "message/rfc822-headers") and forwarded is None:
            # a DSN returns the headers of the bounced message: keep them like a forward
            payload = part.get_payload(decode=True)
            returned = email.message_from_bytes(payload if isinstance(payload, bytes) else b"")
            if returned.keys():
                forwarded = returned
            continue
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            inner = part.get_payload()
            if isinstance(inner, list):
                report = "\n".join(unescape_8bit(str(block)) for block in inner)
            else:
                report = unescape_8bit(str(inner))
            continue
        if part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                stack[0:0] = [p for p in payload if isinstance(p, Message)]
            continue
        filename = _filename(part)
        if filename or _is_attachment(part):
            names.append(decode_header_value(filename) if filename else "")
            continue
        if ctype == "text/plain" and text is None:
            text = _part_text(part, TEXT_BUDGET)
        elif ctype == "text/html" and html is None:
            html = _part_text(part, HTML_BUDGET)
    if text is None:
        text = html_to_text(html)[:TEXT_BUDGET] if html else ""
    return text, html, report, forwarded, names


def _unescaped(value: object) -> str:
    """`unescape_8bit` of a header name or value, without the call for plain ASCII (the
    feed parser gives str): about 18 calls a message saved."""
    return value if type(value) is str and value.isascii() else unescape_8bit(str(value))


class _RawHeaders:
    """Header values as stored, by lower-case name: compat32 would wrap raw 8-bit values
    in lossy Header objects."""

    def __init__(self, message: Message) -> None:
        self.items = [(_unescaped(k).lower(), _unescaped(v)) for k, v in message.raw_items()]
        self.by_name: dict[str, list[str]] = {}
        for key, value in self.items:
            self.by_name.setdefault(key, []).append(value)

    def all(self, name: str) -> list[str]:
        return self.by_name.get(name.lower(), [])

    def first(self, name: str) -> str | None:
        values = self.by_name.get(name.lower())
        return values[0] if values else None


def _from_message(message: Message, raw_headers: bytes, require_sender: bool) -> InboundMessage:
    if not message.keys():
        raise MalformedMessage("no headers")
    raw = _RawHeaders(message)
    senders = parse_addresses(raw.all("From"))
    if require_sender and not senders:
        raise MalformedMessage("no readable From address")
    message_id = normalize_message_id(raw.first("Message-ID"))
    missing = message_id is None
    if message_id is None:
        message_id = "sha256-" + hashlib.sha256(raw_headers).hexdigest()[:32] + "@mailflow.invalid"
    text, html, report, forwarded, names = _walk_bodies(message)
    headers = tuple((k, _decode_words(v)) for k, v in raw.items)
    delivered = tuple(
        a.email for a in parse_addresses(
            raw.all("Delivered-To") + raw.all("X-Original-To")
        )
    )
    return InboundMessage(
        message_id=message_id,
        subject=printable(decode_header_value(raw.first("Subject"))),
        from_=senders[0] if senders else None,
        to=parse_addresses(raw.all("To")),
        cc=parse_addresses(raw.all("Cc")),
        reply_to=parse_addresses(raw.all("Reply-To")),
        delivered_to=delivered,
        in_reply_to=normalize_message_id(raw.first("In-Reply-To")),
        references=_message_ids(raw.first("References")),
        date=_parse_date(raw.first("Date")),
        headers=headers,
        content_type=message.get_content_type(),
        text=text.replace("\r\n", "\n"),
        html=html,
        report=report[:REPORT_BUDGET] if report else report,
        forwarded=(
            _from_message(forwarded, forwarded.as_bytes()[:4096], require_sender=False)
            if forwarded is not None and forwarded.keys() else None
        ),
        attachment_names=tuple(names),
        missing_message_id=missing,
    )


# a run of base64 lines longer than we keep; possessive, so the engine keeps no
# backtracking state per line (a greedy group held 150 MB on a 50 MB attachment)
_BASE64_RUN = re.compile(rb"(?m)(?:^[A-Za-z0-9+/]{40,100}={0,2}\r?\n){%d,}+"
                         % (BASE64_LINES_KEPT + 1))
_RUN_REACH = (BASE64_LINES_KEPT + 1) * 104  # those lines at their longest: 100 + "==\r\n"


def within_budget(raw: bytes) -> bytes:
    """`raw` cut down for parsing: runs of base64 lines (attachments) to their first
    BASE64_LINES_KEPT lines, then RAW_BUDGET bytes.

    The email package holds several copies of what it parses (a 50 MB message peaked
    near 400 MB); what is cut is attachment data and text far past the text budget.
    A run is only looked for where it could change what is kept: the scan ends with the
    budget, not with the message.
    """
    if len(raw) <= RAW_BUDGET:
        return raw
    kept: list[bytes] = []
    size = position = 0
    while size < RAW_BUDGET:
        # a run that starts past the budget changes nothing kept; one that starts before
        # it has its first lines within this reach of it, where the search can see them
        seen = _BASE64_RUN.search(raw, position, position + RAW_BUDGET - size + _RUN_REACH)
        run = _BASE64_RUN.match(raw, seen.start()) if seen is not None else None
        if run is None:  # (the match from where the search found one: the whole run)
            break
        end = run.start()
        for _ in range(BASE64_LINES_KEPT):
            end = raw.index(b"\n", end) + 1
        kept.append(raw[position:end])
        size += end - position
        position = run.end()
    kept.append(raw[position:position + max(0, RAW_BUDGET - size)])
    return b"".join(kept)[:RAW_BUDGET]


_BLANK_LINE = re.compile(rb"\n\n|\r\n\r\n")


def parse_message(raw: bytes) -> InboundMessage:
    """Parse a whole message; raises MalformedMessage when there is nothing to work with."""
    raw = within_budget(raw)
    if not raw or raw.isspace():  # (strip() would copy the whole message to ask)
        raise MalformedMessage("empty message")
    # the first blank line, of either kind: found where the headers end, whereas looking
    # for each kind on its own read a whole CRLF message for the "\n\n" it never has
    blank = _BLANK_LINE.search(raw)
    raw_headers = raw[: blank.start()] if blank else raw
    try:
        # decoded once, as message_from_bytes decodes it before it parses the text
        text = raw.decode("ascii", "surrogateescape")
        message = (simple_message(text) or multipart_message(text)
                   or email.message_from_string(text))
        return _from_message(message, raw_headers, require_sender=True)
    except MalformedMessage:
        raise
    except Exception as exc:  # the email package can fail in many ways on hostile input
        raise MalformedMessage(f"unparseable: {type(exc).__name__}: {exc}") from exc

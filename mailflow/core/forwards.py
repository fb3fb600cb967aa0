"""The original message inside a forward: attached (message/rfc822) or inline in the text.

Inline forms handled: Gmail ("---------- Forwarded message ---------"), Outlook
("From: … Sent: … To: … Subject:" after a rule line), Apple Mail ("Begin
forwarded message:"), Thunderbird ("-------- Original Message --------" /
"-------- Forwarded Message --------") and their header blocks.
"""

from __future__ import annotations

import itertools
import re

from mailflow.core.model import Address, InboundMessage
from mailflow.core.parse import parse_addresses

_MARKERS = re.compile(
    r"^[ \t]*(?:-+\s*Forwarded message\s*-+|Begin forwarded message:|-+\s*Original Message\s*-+|"
    r"-+\s*Forwarded Message\s*-+|_{10,}|-+\s*Weitergeleitete Nachricht\s*-+|"
    r"-+\s*Message transféré\s*-+|-+\s*Mensaje reenviado\s*-+)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_HEADER_LINE = re.compile(r"^[\s>*]*([A-Za-z][A-Za-z -]{0,20}?)\*?[ \t]*:[ \t]*(.*)$")
_FIELDS = {
    "from": "from", "von": "from", "de": "from", "van": "from",
    "to": "to", "an": "to", "à": "to", "para": "to", "aan": "to",
    "cc": "cc", "kopie": "cc",
    "subject": "subject", "betreff": "subject", "objet": "subject", "asunto": "subject",
    "onderwerp": "subject",
    "date": "date", "sent": "date", "datum": "date", "gesendet": "date", "envoyé": "date",
    "enviado": "date", "verzonden": "date",
}


def _header_block(lines: list[str]) -> tuple[dict[str, str], int]:
    """Header fields at the top of `lines` (continuations joined) and where the body starts."""
    fields: dict[str, str] = {}
    last: str | None = None
    index = 0
    while index < len(lines) and not lines[index].strip():
        index += 1
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            if fields:
                break
            index += 1
            continue
        match = _HEADER_LINE.match(line)
        field = _FIELDS.get(match.group(1).strip().lower()) if match else None
        if match and field:
            fields[field] = match.group(2).strip()
            last = field
        elif last in ("to", "cc") and line.startswith((" ", "\t")):
            fields[last] += " " + line.strip()
        else:
            break
        index += 1
    return fields, index


def _addresses(value: str) -> tuple[Address, ...]:
    # Outlook writes "Bob Smith <bob@x>; Jane <jane@y>" and Gmail sometimes "Bob <mailto:...>"
    return parse_addresses([value.replace(";", ",").replace("mailto:", "")])


def inline_forward(text: str) -> InboundMessage | None:
    """The forwarded original found in a plain-text body, or None."""
    for marker in itertools.islice(_MARKERS.finditer(text), 3):  # each reads the rest: few
        lines = text[marker.end():].lstrip("\r\n").splitlines()
        fields, body_start = _header_block(lines)
        senders = _addresses(fields.get("from", ""))
        if not senders:
            continue
        return InboundMessage(
            message_id="",
            subject=fields.get("subject", ""),
            from_=senders[0],
            to=_addresses(fields.get("to", "")),
            cc=_addresses(fields.get("cc", "")),
            text="\n".join(lines[body_start:]),
        )
    # Outlook without a rule line: the block itself starts with "From:" then "Sent:"
    match = re.search(r"^[ \t]*\*?From:\*?[ \t].*\n[ \t]*\*?(?:Sent|Date):", text, re.MULTILINE)
    if match:
        lines = text[match.start():].splitlines()
        fields, body_start = _header_block(lines)
        senders = _addresses(fields.get("from", ""))
        if senders:
            return InboundMessage(
                message_id="", subject=fields.get("subject", ""), from_=senders[0],
                to=_addresses(fields.get("to", "")), cc=_addresses(fields.get("cc", "")),
                text="\n".join(lines[body_start:]),
            )
    return None


def forwarded_original(message: InboundMessage) -> InboundMessage | None:
    """The message a forward carries: the attached one first, else the inline one."""
    if message.forwarded is not None and message.forwarded.from_ is not None:
        return message.forwarded
    return inline_forward(message.text)

"""An OutgoingEmail as RFC 5322 bytes (pure)."""

from __future__ import annotations

from email.charset import QP, Charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import compat32
from email.utils import format_datetime

from mailflow.core.model import Address
from mailflow.core.outgoing import LOOP_HEADER, OutgoingEmail

SMTP_COMPAT = compat32.clone(linesep="\r\n")
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP


def format_address(address: Address) -> str:
    """`Name <email>` with the name RFC 2047-encoded when it is not ASCII.

    Each address is encoded on its own, so two non-ASCII names in one header can
    never be folded into one (CPython gh-100884).
    """
    if not address.name:
        return address.email
    if address.name.isascii():
        name = address.name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{name}" <{address.email}>'
    return f"{Header(address.name, 'utf-8').encode()} <{address.email}>"


def _text_part(text: str, subtype: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype)
    part.set_payload(text, charset=_UTF8_QP)
    return part


def fold(name: str, value: str, limit: int = 78) -> str:
    """`Name: value` folded at spaces into lines of at most `limit` characters where possible.

    Values here are ASCII (non-ASCII parts are RFC 2047 encoded first), so a plain fold is
    enough; the email package's folding was most of the cost of composing (bench/schedule.py).
    """
    words = " ".join(value.split()).split(" ")
    lines, line = [], f"{name}:"
    for word in words:
        if len(line) + 1 + len(word) > limit and line != f"{name}:":
            lines.append(line)
            line = " " + word
        else:
            line += " " + word
    lines.append(line)
    return "\r\n".join(lines)


def _encoded(text: str) -> str:
    """ASCII text as it is; anything else as RFC 2047 encoded words."""
    return text if text.isascii() else Header(text, "utf-8").encode()  # words <= 75 chars


def to_bytes(email: OutgoingEmail) -> bytes:
    body: MIMENonMultipart | MIMEMultipart
    if email.html:
        body = MIMEMultipart("alternative")
        body.attach(_text_part(email.text, "plain"))
        body.attach(_text_part(email.html, "html"))
    else:
        body = _text_part(email.text, "plain")
    headers = [
        ("From", format_address(email.sender)),
        ("To", ", ".join(format_address(a) for a in email.to)),
        *([("Reply-To", format_address(email.reply_to))] if email.reply_to else []),
        ("Subject", _encoded(email.subject)),
        ("Date", format_datetime(email.date)),
        ("Message-ID", f"<{email.message_id}>"),
        *([("In-Reply-To", f"<{email.in_reply_to}>")] if email.in_reply_to else []),
        *([("References", " ".join(f"<{r}>" for r in email.references))]
          if email.references else []),
        ("Auto-Submitted", "auto-generated"),
        ("X-Auto-Response-Suppress", "All"),
        (LOOP_HEADER, email.loop_value),
    ]
    head = "".join(fold(name, value) + "\r\n" for name, value in headers).encode("ascii")
    # the MIME part brings MIME-Version, Content-Type and the encoded body; CRLF on the
    # wire because smtplib sends bytes as they are (it only fixes line ends in str)
    return head + body.as_bytes(policy=SMTP_COMPAT)

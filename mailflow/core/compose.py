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


def to_bytes(email: OutgoingEmail) -> bytes:
    body: MIMENonMultipart | MIMEMultipart
    if email.html:
        body = MIMEMultipart("alternative")
        body.attach(_text_part(email.text, "plain"))
        body.attach(_text_part(email.html, "html"))
    else:
        body = _text_part(email.text, "plain")
    body["From"] = format_address(email.sender)
    body["To"] = ", ".join(format_address(a) for a in email.to)
    if email.reply_to is not None:
        body["Reply-To"] = format_address(email.reply_to)
    subject = email.subject
    body["Subject"] = subject if subject.isascii() else Header(subject, "utf-8").encode()
    body["Date"] = format_datetime(email.date)
    body["Message-ID"] = f"<{email.message_id}>"
    if email.in_reply_to:
        body["In-Reply-To"] = f"<{email.in_reply_to}>"
    if email.references:
        body["References"] = " ".join(f"<{r}>" for r in email.references)
    body["Auto-Submitted"] = "auto-generated"
    body["X-Auto-Response-Suppress"] = "All"
    body[LOOP_HEADER] = email.loop_value
    # CRLF on the wire: smtplib sends bytes as they are (it only fixes line ends in str)
    return body.as_bytes(policy=SMTP_COMPAT)

"""An OutgoingEmail as RFC 5322 bytes (pure)."""

from __future__ import annotations

import re
from email import quoprimime
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


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


_UNSAFE_ID = re.compile(r"[\x00-\x20\x7f<>]")


class NeedsSmtpUtf8(ValueError):
    """An address whose local part is not ASCII: only an SMTPUTF8 server can take it."""


def wire_address(email: str) -> str:
    """`email` as it goes on the wire: an international domain in IDNA (xn--) form."""
    local, at, domain = email.rpartition("@")
    if not at or domain.isascii():
        return email
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError as exc:
        raise ValueError(f"{email}: the domain cannot be written in IDNA form") from exc


def needs_smtputf8(email: str) -> bool:
    return not wire_address(email).isascii()


def format_address(address: Address, utf8: bool = False) -> str:
    """`Name <email>` with the name RFC 2047-encoded when it is not ASCII.

    Each address is encoded on its own, so two non-ASCII names in one header can
    never be folded into one (CPython gh-100884). A non-ASCII local part is written
    as UTF-8 (RFC 6532) when `utf8`, and raises NeedsSmtpUtf8 otherwise.
    """
    email = wire_address(_CONTROL.sub("", address.email))
    if not email.isascii() and not utf8:
        raise NeedsSmtpUtf8(f"{email} is not an ASCII address")
    name = _CONTROL.sub("", address.name).strip()
    if not name:
        return email
    if name.isascii():
        name = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{name}" <{email}>'
    return f"{Header(name, 'utf-8').encode()} <{email}>"


def _text_part(text: str, subtype: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype)
    part.set_payload(text, charset=_UTF8_QP)
    return part


_PLAIN_HEAD = (b'MIME-Version: 1.0\r\nContent-Type: text/plain; charset="utf-8"\r\n'
               b"Content-Transfer-Encoding: quoted-printable\r\n\r\n")
_LINE_END = re.compile(r"\r\n|\r|\n")


def plain_part(text: str) -> bytes:
    """Exactly what the email package writes for `_text_part(text, "plain")`, made directly:
    its generator was half the cost of composing an email (bench/schedule.py)."""
    if not text:
        return _PLAIN_HEAD
    encoded = quoprimime.body_encode(text.encode("utf-8").decode("latin-1"))
    lines = _LINE_END.split(encoded)
    body = "\r\n".join(lines[:-1]) + ("\r\n" if len(lines) > 1 else "") + lines[-1]
    return _PLAIN_HEAD + body.encode("ascii")


def fold(name: str, value: str, limit: int = 78) -> str:
    """`Name: value` folded at spaces into lines of at most `limit` characters where possible.

    Values here are ASCII (non-ASCII parts are RFC 2047 encoded first), so a plain fold is
    enough; the email package's folding was most of the cost of composing (bench/schedule.py).
    """
    if (len(name) + 2 + len(value) <= limit and value.isprintable() and "  " not in value
            and value[:1] != " " and value[-1:] != " "):
        return f"{name}: {value}"  # most headers: one line, already single-spaced
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


def _writable_id(message_id: str, utf8: bool) -> bool:
    return (message_id.isascii() or utf8) and not _UNSAFE_ID.search(message_id)


def to_bytes(email: OutgoingEmail, utf8: bool = False) -> bytes:
    """The email as bytes; `utf8` allows UTF-8 addresses (for an SMTPUTF8 server or a file)."""
    body: MIMEMultipart | None = None
    if email.html:
        body = MIMEMultipart("alternative")
        body.attach(_text_part(email.text, "plain"))
        body.attach(_text_part(email.html, "html"))
    # ids from inbound mail may hold anything: only ones safe to write are echoed back
    in_reply_to = email.in_reply_to if email.in_reply_to and _writable_id(email.in_reply_to,
                                                                           utf8) else None
    references = [r for r in email.references if _writable_id(r, utf8)]
    headers = [
        ("From", format_address(email.sender, utf8)),
        ("To", ", ".join(format_address(a, utf8) for a in email.to)),
        *([("Cc", ", ".join(format_address(a, utf8) for a in email.cc))] if email.cc else []),
        *([("Reply-To", format_address(email.reply_to, utf8))] if email.reply_to else []),
        ("Subject", _encoded(_CONTROL.sub(" ", email.subject))),
        ("Date", format_datetime(email.date)),
        ("Message-ID", f"<{email.message_id}>"),
        *([("In-Reply-To", f"<{in_reply_to}>")] if in_reply_to else []),
        *([("References", " ".join(f"<{r}>" for r in references))] if references else []),
        ("Content-Language", email.language if email.language.isalpha() else "en"),
        ("Auto-Submitted", "auto-generated"),
        ("X-Auto-Response-Suppress", "All"),
        (LOOP_HEADER, email.loop_value),
    ]
    head = "".join(fold(name, value) + "\r\n" for name, value in headers).encode(
        "utf-8" if utf8 else "ascii")
    # the MIME part brings MIME-Version, Content-Type and the encoded body; CRLF on the
    # wire because smtplib sends bytes as they are (it only fixes line ends in str)
    return head + (body.as_bytes(policy=SMTP_COMPAT) if body is not None
                   else plain_part(email.text))

"""Mail we must never answer: auto-replies, bounces, mailing lists and our own mail.

A bounce is told apart from an out-of-office by its delivery status (RFC 3464),
not by wording; a dated out-of-office tells us when the person is back.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from mailflow.core.addressing import split_address
from mailflow.core.model import InboundMessage
from mailflow.core.outgoing import LOOP_HEADER
from mailflow.core.parse import normalize_message_id


@dataclass(frozen=True)
class RobotVerdict:
    kind: str  # "auto-reply" | "bounce" | "mailing-list" | "own-mail"
    reason: str
    failed_recipients: tuple[str, ...] = ()
    status: str | None = None
    permanent: bool = False
    original_message_id: str | None = None
    returns_on: date | None = None


_AUTO_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto:|autoreply|auto-reply|auto reply|"
    r"abwesenheitsnotiz|automatische antwort|r[ée]ponse automatique|absence|"
    r"respuesta autom[áa]tica|fuera de la oficina|risposta automatica|fuori sede|"
    r"automatisch antwoord|afwezig|resposta autom[áa]tica|fr[åa]nvaro|autosvar|"
    r"vacation|on vacation|away from (the )?office)",
    re.IGNORECASE)
_BOUNCE_SENDER = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@",
                            re.IGNORECASE)
_BOUNCE_TEXT = re.compile(
    r"(this is the mail system at host|message was created automatically by mail delivery|"
    r"this is the qmail-send program|delivery has failed to these recipients|"
    r"address not found|undeliverable|delivery status notification \(failure\)|"
    r"could not be delivered|permanent error|returned mail|failure notice)", re.IGNORECASE)
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_REPLY = re.compile(r"\b([45]\d\d)[ -]([245]\.\d{1,3}\.\d{1,3})?")
_ADDRESS = re.compile(r"<?([A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})>?")


def _headers_say_auto(message: InboundMessage) -> str | None:
    auto = (message.header("auto-submitted") or "").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    for name in ("x-autoreply", "x-autorespond", "x-auto-response-suppress",
                 "x-ms-exchange-inbox-rules-loop", "x-ms-exchange-generated-message-source"):
        if message.header(name) is not None:
            return name
    precedence = (message.header("precedence") or message.header("x-precedence") or "").lower()
    if precedence.strip() in ("bulk", "junk", "auto_reply"):
        return f"Precedence: {precedence.strip()}"
    return None


def _is_own(message: InboundMessage, own: Collection[str]) -> bool:
    if message.header(LOOP_HEADER) is not None:
        return True
    sender = message.from_.email if message.from_ else ""
    if not sender:
        return False
    base, domain, _ = split_address(sender)
    return any(split_address(o)[:2] == (base, domain) for o in own)


def _dsn_fields(report: str) -> tuple[list[str], str | None, str | None]:
    """Failed recipients, the worst status and the action from a delivery-status report."""
    recipients: list[str] = []
    status: str | None = None
    action: str | None = None
    for line in report.splitlines():
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name in ("final-recipient", "original-recipient"):
            address = value.split(";")[-1].strip().strip("<>").lower()
            if "@" in address and address not in recipients:
                recipients.append(address)
        elif name == "status":
            found = _STATUS.search(value)
            if found and (status is None or found.group(0) > status):
                status = found.group(0)
        elif name == "action" and action is None:
            action = value.strip().lower()
    return recipients, status, action


def _original_id(message: InboundMessage) -> str | None:
    if message.forwarded is not None and message.forwarded.message_id:
        return message.forwarded.message_id
    found = re.search(r"^\s*Message-ID:\s*(<[^>]+>)", message.text, re.IGNORECASE | re.MULTILINE)
    if found:
        return normalize_message_id(found.group(1))
    return message.in_reply_to


def _bounce(message: InboundMessage) -> RobotVerdict | None:
    is_report = message.content_type == "multipart/report" or message.report is not None
    sender = message.from_.email if message.from_ else ""
    return_path = (message.header("return-path") or "").strip()
    looks = _BOUNCE_SENDER.match(sender) or return_path == "<>"
    if not is_report and not (looks and _BOUNCE_TEXT.search(message.subject + "\n" +
                                                             message.text)):
        return None
    recipients, status, action = _dsn_fields(message.report or "")
    if status is None:
        found = _STATUS.search(message.text)
        reply = _SMTP_REPLY.search(message.text)
        status = found.group(0) if found else (
            f"{reply.group(1)[0]}.0.0" if reply else None)
    if not recipients:
        own = {sender}
        recipients = [a.lower() for a in _ADDRESS.findall(message.text)
                      if a.lower() not in own][:1]
    if action == "delayed" or (status or "").startswith("4"):
        permanent = False
    else:
        permanent = status is None or status.startswith("5")
    shown = status or "no status"
    return RobotVerdict("bounce", f"bounce: DSN status {shown}", tuple(recipients), status,
                        permanent, _original_id(message))


def detect_robot(message: InboundMessage, own_addresses: Collection[str],
                 today: date) -> RobotVerdict | None:
    """Why `message` comes from a machine, or None for a person."""
    if _is_own(message, own_addresses):
        return RobotVerdict("own-mail", f"own-mail: {LOOP_HEADER} or our own address")
    bounce = _bounce(message)
    if bounce is not None:
        return bounce
    list_id = message.header("list-id")
    precedence = (message.header("precedence") or "").strip().lower()
    if list_id is not None or precedence == "list":
        return RobotVerdict("mailing-list", f"mailing-list: {list_id or 'Precedence: list'}")
    why = _headers_say_auto(message)
    subject = message.subject
    if why is None and _AUTO_SUBJECT.match(subject) and not re.match(r"^\s*(re|aw|sv|fw|fwd)\s*:",
                                                                     subject, re.IGNORECASE):
        why = f"subject {subject[:40]!r}"
    if why is None:
        return None
    return RobotVerdict("auto-reply", f"auto-reply: {why}",
                        original_message_id=message.in_reply_to,
                        returns_on=read_return_date(subject + "\n" + message.text, today))


_MONTHS = {
    "jan": 1, "january": 1, "januar": 1, "janvier": 1, "enero": 1, "januari": 1,
    "feb": 2, "february": 2, "februar": 2, "février": 2, "fevrier": 2, "febrero": 2,
    "februari": 2, "mar": 3, "march": 3, "märz": 3, "maerz": 3, "mars": 3, "marzo": 3,
    "maart": 3, "apr": 4, "april": 4, "avril": 4, "abril": 4, "may": 5, "mai": 5, "mayo": 5,
    "mei": 5, "jun": 6, "june": 6, "juni": 6, "juin": 6, "junio": 6, "jul": 7, "july": 7,
    "juli": 7, "juillet": 7, "julio": 7, "aug": 8, "august": 8, "août": 8, "aout": 8,
    "agosto": 8, "augustus": 8, "sep": 9, "sept": 9, "september": 9, "septembre": 9,
    "septiembre": 9, "oct": 10, "october": 10, "oktober": 10, "octobre": 10, "octubre": 10,
    "nov": 11, "november": 11, "novembre": 11, "noviembre": 11, "dec": 12, "december": 12,
    "dezember": 12, "décembre": 12, "decembre": 12, "diciembre": 12,
}
_CONTEXT = re.compile(r"(back|return|returning|until|till|bis|ab dem|ab|retour|hasta|tot|"
                      r"from|après|dès|zurück|wieder)", re.IGNORECASE)
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_FORMS = [
    re.compile(r"\b(?P<y>20\d\d)-(?P<m>\d\d)-(?P<d>\d\d)\b"),
    re.compile(r"\b(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>20\d\d)\b"),
    re.compile(rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th|er)?\.?\s+(?:de\s+)?(?P<mn>{_MONTH_NAMES})"
               rf"\.?(?:\s+(?:de\s+)?(?P<y>20\d\d))?\b", re.IGNORECASE),
    re.compile(rf"\b(?P<mn>{_MONTH_NAMES})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?"
               rf"(?:,?\s+(?P<y>20\d\d))?\b", re.IGNORECASE),
]


def read_return_date(text: str, today: date) -> date | None:
    """The date someone says they are back, when it can be read unambiguously."""
    found: list[tuple[int, date]] = []
    for form in _DATE_FORMS:
        for match in form.finditer(text):
            parts = match.groupdict()
            month = _MONTHS.get((parts.get("mn") or "").lower()) or int(parts.get("m") or 0)
            try:
                day = int(parts["d"])
                year = int(parts["y"]) if parts.get("y") else today.year
                when = date(year, month, day)
            except (ValueError, TypeError):
                continue
            if not parts.get("y") and when < today:
                when = date(year + 1, month, day)
            before = text[max(0, match.start() - 40):match.start()]
            if _CONTEXT.search(before):
                found.append((match.start(), when))
    if not found:
        return None
    when = max(found)[1]
    if when < today or when > today + timedelta(days=365):
        return None
    return when

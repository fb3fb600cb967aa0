"""Mail we must never answer: our own mail, bounces, mailing lists and auto-replies.

The rules run in that order and the first that fires wins:

1. own mail: our LOOP_HEADER, or From is a tracking address (plus-variants too);
2. bounces: a delivery-status report (RFC 3464), read per recipient; without one,
   a MAILER-DAEMON/postmaster sender with bounce wording, or an empty Return-Path
   with the signature of a mail system (Postfix, Exim, qmail, Exchange, Gmail).
   Whether a bounce is permanent comes from its status code (5.x.x), never from
   wording alone, so an out-of-office is never taken for a bounce;
3. mailing lists: List-Id, Precedence: list, or List-Unsubscribe with a bulk/list
   precedence (checked before Precedence: bulk, so a newsletter is no vacation reply);
4. auto-replies: RFC 3834 and vendor headers, then localized subject prefixes.
   A subject such as "Re: Out of office" is a person answering one: it counts
   only when headers say so.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from mailflow.core.addressing import split_address
from mailflow.core.correlate import PREFIX
from mailflow.core.model import InboundMessage
from mailflow.core.outgoing import LOOP_HEADER
from mailflow.core.parse import normalize_message_id
from mailflow.core.reply_text import strip_quotes


@dataclass(frozen=True)
class RobotVerdict:
    kind: str  # "auto-reply" | "bounce" | "mailing-list" | "own-mail"
    reason: str
    failed_recipients: tuple[str, ...] = ()
    status: str | None = None
    permanent: bool = False
    original_message_id: str | None = None
    returns_on: date | None = None


# --- auto-replies -------------------------------------------------------------------

_AUTO_HEADERS = ("x-autoreply", "x-autorespond", "x-auto-response-suppress",
                 "x-ms-exchange-inbox-rules-loop", "x-ms-exchange-generated-message-source")
_AUTO_SUBJECT = re.compile(
    r"^[ \t]*(out of (?:the )?office|automatic reply|auto:|auto[- ]?reply|abwesenheitsnotiz|"
    r"automatische antwort|réponse automatique|absence|respuesta automática|"
    r"fuera de la oficina|risposta automatica|fuori sede|automatisch antwoord|afwezig|"
    r"resposta automática|frånvaro|autosvar)(?!\w)", re.IGNORECASE)
_REPLY_PREFIX = re.compile(rf"\s*{PREFIX}\s*:|\s*\[R-\d+\]", re.IGNORECASE)


def _auto_reason(message: InboundMessage) -> str | None:
    auto = (message.header("auto-submitted") or "").strip()
    if auto and auto.lower() != "no":
        return f"Auto-Submitted: {auto}"
    for name in _AUTO_HEADERS:
        if message.header(name) is not None:
            return _header_title(name)
    for name in ("precedence", "x-precedence"):
        value = (message.header(name) or "").strip().lower()
        if value in ("bulk", "junk", "auto_reply"):
            return f"{_header_title(name)}: {value}"
    match = _AUTO_SUBJECT.match(message.subject)
    if match:
        return f"subject starts with {match.group(1)!r}"
    return None


def _header_title(name: str) -> str:
    return "-".join(part.upper() if part in ("ms", "x") else part.capitalize()
                    for part in name.split("-"))


def _subject_remark(subject: str) -> str:
    """What the sender wrote after an auto-reply prefix, before the subject it echoes."""
    match = _AUTO_SUBJECT.match(subject)
    rest = subject[match.end():] if match else ""
    echo = _REPLY_PREFIX.search(rest)
    return rest[:echo.start()] if echo else rest


# --- bounces ------------------------------------------------------------------------

_DAEMON = re.compile(r"^(?:mailer-daemon|mailer_daemon|mailerdaemon|mail-daemon|postmaster)@",
                     re.IGNORECASE)
# Written by mail systems only: enough on their own with an empty Return-Path.
_SYSTEM_TEXT = re.compile(
    r"this is the mail system at host|created automatically by mail delivery software|"
    r"this is the qmail-send program|delivery has failed to these recipients|"
    r"\*\* address not found \*\*|delivery status notification \((?:failure|delay)\)|"
    r"undelivered mail returned to sender", re.IGNORECASE)
# Wording that, from MAILER-DAEMON or postmaster, says "bounce".
_BOUNCE_TEXT = re.compile(
    _SYSTEM_TEXT.pattern + r"|address not found|undeliverable|undelivered|could ?n[o']t be "
    r"delivered|was ?n[o']t delivered|was not delivered|delivery (?:has )?failed|"
    r"delivery to the following recipients? failed|returned mail|failure notice|"
    r"mail delivery failed|permanent (?:error|failure)|delayed mail|will be retried",
    re.IGNORECASE)
_DELAY_TEXT = re.compile(r"delayed mail|will be retried|still being retried|will retry|"
                         r"not yet been delivered|delivery status notification \(delay\)|"
                         r"\bdelayed\b", re.IGNORECASE)
_PERMANENT_TEXT = re.compile(r"permanent (?:error|failure)|permanently|i've given up|"
                             r"has given up", re.IGNORECASE)
_COPY_MARKER = re.compile(
    r"^[ \t]*-{2,}\s*(?:below this line is a copy|this is a copy of|original message|"
    r"undelivered message|headers of the)", re.IGNORECASE | re.MULTILINE)
_ENHANCED = r"[245]\.\d{1,3}\.\d{1,3}"
_STATUS = re.compile(rf"^{_ENHANCED}$")
_CODE_PAIR = re.compile(rf"\b[45][0-5]\d[ -]#?({_ENHANCED})\b")
_QMAIL_CODE = re.compile(rf"\(#({_ENHANCED})\)")
_STATUS_LINE = re.compile(rf"^[ \t]*Status:\s*({_ENHANCED})\b", re.IGNORECASE | re.MULTILINE)
_SMTP_CODE = re.compile(r"(?:said:|error|response was:?|^)[ \t]*([45][0-5]\d)[ -]",
                        re.IGNORECASE | re.MULTILINE)
_ADDR = r"[A-Za-z0-9._%+'=-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_FAILED_TEXT = [  # strongest first; each names the address that failed
    re.compile(rf"^[ \t]*<({_ADDR})>:", re.MULTILINE),  # Postfix, qmail
    re.compile(rf"(?:was ?n[o']t|was not|could ?n[o']t be|could not be) delivered to\s+"
               rf"<?({_ADDR})", re.IGNORECASE),  # Gmail, Exchange
    re.compile(rf"(?:address(?:\(es\))? failed|recipients? or groups|recipients? failed):"
               rf"\s*\n(?:\s*\n)?[^\n<@]*<?({_ADDR})", re.IGNORECASE),  # Exim, Exchange
    re.compile(rf"RCPT TO:\s*<({_ADDR})>", re.IGNORECASE),
]
_MSGID_LINE = re.compile(r"^[ \t]*Message-ID:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_REPORT_TYPE = re.compile(r"report-type\s*=\s*\"?([\w.-]+)", re.IGNORECASE)


@dataclass(frozen=True)
class _Recipient:
    addresses: tuple[str, ...]
    action: str
    status: str | None


def _dsn_recipients(report: str) -> list[_Recipient]:
    """The per-recipient blocks of an RFC 3464 report (folded lines joined)."""
    text = re.sub(r"\n[ \t]+", " ", report.replace("\r\n", "\n").replace("\r", "\n"))
    found = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        addresses: list[str] = []
        for line in block.split("\n"):
            name, colon, value = line.partition(":")
            name = name.strip().lower()
            if not colon:
                continue
            if name in ("original-recipient", "final-recipient"):
                address = value.rpartition(";")[2].strip().strip("<>").lower()
                if "@" in address and address not in addresses:
                    addresses.append(address)
            else:
                fields.setdefault(name, value.strip())
        if addresses:
            status = fields.get("status", "").split(" ")[0]
            found.append(_Recipient(tuple(addresses), fields.get("action", "").lower(),
                                    status if _STATUS.match(status) else None))
    return found


def _from_report(recipients: list[_Recipient]) -> tuple[list[str], str | None, bool]:
    """Failed addresses, their status and whether they failed for good."""
    permanent = [r for r in recipients if r.action == "failed" or
                 (r.action not in ("delayed", "delivered", "relayed", "expanded")
                  and (r.status or "").startswith("5"))]
    chosen = permanent or [r for r in recipients if r.action == "delayed"
                           or (r.status or "").startswith("4")]
    if not chosen:  # a success report (NOTIFY=SUCCESS): nothing failed
        statuses = [r.status for r in recipients if r.status]
        return [], statuses[0] if statuses else None, False
    addresses = list(dict.fromkeys(a for r in chosen for a in r.addresses))
    statuses = sorted((r.status for r in chosen if r.status), key=lambda s: -int(s[0]))
    status = statuses[0] if statuses else None
    return addresses, status, bool(permanent) and (status or "5").startswith("5")


def _status_from_text(notice: str) -> str | None:
    for pattern in (_CODE_PAIR, _QMAIL_CODE, _STATUS_LINE):
        match = pattern.search(notice)
        if match:
            return match.group(1)
    match = _SMTP_CODE.search(notice)
    return f"{match.group(1)[0]}.0.0" if match else None


def _failed_from_text(message: InboundMessage, notice: str, exclude: set[str]) -> list[str]:
    header = ",".join(message.header_all("x-failed-recipients"))
    found = [a.lower() for a in re.findall(_ADDR, header)]
    for pattern in _FAILED_TEXT:
        if found:
            break
        found = [a.lower() for a in pattern.findall(notice)]
    return [a for a in dict.fromkeys(found) if a not in exclude and not _DAEMON.match(a)]


def _original_id(message: InboundMessage) -> str | None:
    returned = message.forwarded
    if returned is not None and not returned.missing_message_id:
        return returned.message_id
    match = _MSGID_LINE.search(message.text)
    if match:
        return normalize_message_id(match.group(1))
    return message.in_reply_to


def _bounce(message: InboundMessage, own: Collection[str]) -> RobotVerdict | None:
    sender = message.from_.email if message.from_ else ""
    report_type = _REPORT_TYPE.search(message.header("content-type") or "")
    structured = message.report is not None or (
        message.content_type == "multipart/report"
        and (report_type is None or report_type.group(1).lower() == "delivery-status"))
    null_return = "".join((message.header("return-path") or "").split()) == "<>"
    daemon = _DAEMON.match(sender) is not None
    mailer_daemon = sender.lower().startswith("mailer-daemon@")
    if not (structured or daemon or null_return):  # (a mailer-daemon is a daemon)
        return None  # most mail: its text need not be searched for a notice
    copy = _COPY_MARKER.search(message.text)
    notice = message.text[:copy.start()] if copy else message.text
    if not structured and not (
            (daemon and _BOUNCE_TEXT.search(message.subject + "\n" + notice))
            or (null_return and _SYSTEM_TEXT.search(message.subject + "\n" + notice))
            or mailer_daemon):
        return None
    recipients = _dsn_recipients(message.report or "")
    if recipients:
        failed, status, permanent = _from_report(recipients)
        reason = f"bounce: DSN status {status or 'missing'}"
        if not failed:
            reason += " (nothing failed)"
    else:
        exclude = {a.lower() for a in own} | {sender.lower()}
        failed = _failed_from_text(message, notice, exclude)
        status = _status_from_text(notice)
        delayed = _DELAY_TEXT.search(message.subject + "\n" + notice) is not None \
            and not (status or "").startswith("5")
        permanent = not delayed and (status.startswith("5") if status
                                     else _PERMANENT_TEXT.search(notice) is not None)
        reason = (f"bounce: status {status} in the notice" if status else
                  "bounce: permanent failure, no status code" if permanent else
                  "bounce: delivery notice without a status code")
    return RobotVerdict("bounce", reason, tuple(failed), status, permanent,
                        _original_id(message))


# --- the rules in order -------------------------------------------------------------

def _own_mail(message: InboundMessage, own: Collection[str]) -> str | None:
    if message.header(LOOP_HEADER) is not None:
        return LOOP_HEADER
    sender = message.from_.email if message.from_ else ""
    if not sender:
        return None
    base, domain, _ = split_address(sender)
    if any(split_address(address.strip())[:2] == (base, domain) for address in own):
        return f"From {sender}"
    return None


def _mailing_list(message: InboundMessage) -> str | None:
    list_id = message.header("list-id")
    if list_id is not None:
        inner = re.search(r"<[^<>]*>", list_id)
        return f"List-Id {inner.group(0) if inner else list_id.strip()}"
    precedence = (message.header("precedence") or "").strip().lower()
    if precedence == "list":
        return "Precedence: list"
    if message.header("list-unsubscribe") is not None and precedence == "bulk":
        return "List-Unsubscribe with Precedence: bulk"
    return None


def detect_robot(message: InboundMessage, own_addresses: Collection[str],
                 today: date) -> RobotVerdict | None:
    """Why `message` comes from a machine, or None when a person wrote it."""
    own = _own_mail(message, own_addresses)
    if own is not None:
        return RobotVerdict("own-mail", f"own-mail: {own}")
    bounce = _bounce(message, own_addresses)
    if bounce is not None:
        return bounce
    listed = _mailing_list(message)
    if listed is not None:
        return RobotVerdict("mailing-list", f"mailing-list: {listed}")
    report_type = _REPORT_TYPE.search(message.header("content-type") or "")
    if message.content_type == "multipart/report" and report_type is not None:
        why: str | None = f"report-type={report_type.group(1).lower()}"  # e.g. read receipts
    else:
        why = _auto_reason(message)
    if why is None:
        return None
    said = _subject_remark(message.subject) + "\n" + strip_quotes(message.text)
    return RobotVerdict("auto-reply", f"auto-reply: {why}",
                        original_message_id=message.in_reply_to,
                        returns_on=read_return_date(said, today))


# --- return dates -------------------------------------------------------------------

_MONTHS = {
    "jan": 1, "january": 1, "januar": 1, "janvier": 1, "janv": 1, "enero": 1, "ene": 1,
    "januari": 1, "feb": 2, "february": 2, "februar": 2, "février": 2, "févr": 2,
    "febrero": 2, "februari": 2, "mar": 3, "march": 3, "märz": 3, "mär": 3, "mrz": 3,
    "mars": 3, "marzo": 3, "maart": 3, "mrt": 3, "apr": 4, "april": 4, "avril": 4,
    "avr": 4, "abril": 4, "abr": 4, "may": 5, "mai": 5, "mayo": 5, "mei": 5, "jun": 6,
    "june": 6, "juni": 6, "juin": 6, "junio": 6, "jul": 7, "july": 7, "juli": 7,
    "juillet": 7, "juil": 7, "julio": 7, "aug": 8, "august": 8, "août": 8, "agosto": 8,
    "ago": 8, "augustus": 8, "sep": 9, "sept": 9, "september": 9, "septembre": 9,
    "septiembre": 9, "oct": 10, "october": 10, "okt": 10, "oktober": 10, "octobre": 10,
    "octubre": 10, "nov": 11, "november": 11, "novembre": 11, "noviembre": 11, "dec": 12,
    "december": 12, "dez": 12, "dezember": 12, "déc": 12, "décembre": 12, "dic": 12,
    "diciembre": 12,
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_YEAR = r"(?P<y>20\d\d)"
_DATE_FORMS = [
    re.compile(rf"\b{_YEAR}[-/](?P<m>\d\d)[-/](?P<d>\d\d)\b"),  # 2026-12-07
    re.compile(rf"\b(?P<d>\d{{1,2}})\.(?P<m>\d{{1,2}})\.(?:{_YEAR}\b|(?!\d))"),  # 07.12.(2026)
    re.compile(rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th|er)?\.?\s+(?:of\s+|de\s+)?(?P<mn>{_MONTH})"
               rf"\b\.?(?:,?\s+(?:de\s+)?{_YEAR}\b)?", re.IGNORECASE),  # 7 December (2026)
    re.compile(rf"\b(?P<mn>{_MONTH})\b\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b"
               rf"(?:,?\s+{_YEAR}\b)?", re.IGNORECASE),  # December 7(, 2026)
]
# Words that put a date in "I am back" terms; "from"/"since" are left out on purpose.
_CONTEXT = re.compile(
    r"\b(?:back|return|returns|returning|until|till|til|bis|ab|zurück|wieder|retour|"
    r"reviens|rentre|dès|jusqu|partir|hasta|regreso|regresaré|regresare|vuelvo|volveré|"
    r"volvere|vuelta|tot|t/m|terug|vanaf|weer|rientro|fino)\b"
    r"|\b(?:au|al)\s+$",  # the end of a range: "du 1er au 7 décembre", "del 1 al 7"
    re.IGNORECASE)
# A return word just after the date: "am 7.12. wieder im Büro", "le 7 décembre de retour"
_CONTEXT_AFTER = re.compile(
    r"^\W{0,3}(?:\w+\s+){0,3}?(?:wieder|zurück|back|retour|terug|weer|de vuelta)\b",
    re.IGNORECASE)
_CLAUSE_END = re.compile(r"[.!?]\s+(?=[A-ZÄÖÜÉ])|[;!?]\s|\n\s*\n")


def _dates(text: str, today: date) -> list[tuple[int, int, date]]:
    """(start, end, date) of every readable date, overlaps resolved to the earliest match."""
    found: list[tuple[int, int, date]] = []
    for form in _DATE_FORMS:
        for match in form.finditer(text):
            parts = match.groupdict()
            month = _MONTHS.get((parts.get("mn") or "").lower()) or int(parts.get("m") or 0)
            try:
                when = date(int(parts["y"] or today.year), month, int(parts["d"]))
                if parts["y"] is None and when < today:
                    when = date(today.year + 1, month, int(parts["d"]))
            except ValueError:
                continue
            found.append((match.start(), match.end(), when))
    found.sort(key=lambda item: (item[0], -item[1]))
    kept: list[tuple[int, int, date]] = []
    for item in found:
        if not kept or item[0] >= kept[-1][1]:
            kept.append(item)
    return kept


def read_return_date(text: str, today: date) -> date | None:
    """The date someone says they are back (or away until), when it can be read unambiguously.

    Day/month order is only guessed where the form settles it (ISO, dotted D.M.Y, month
    names); "12/07/2026" is not read. Without a year the next such day on or after
    `today` is meant. The last date after a back/until word (in English, German, French,
    Spanish, Dutch: "ab dem", "jusqu'au", "de vuelta el", "t/m") or just before a return
    word ("am 7.12. wieder im Büro") counts; a date in the past
    or more than a year ahead gives None.
    """
    chosen: date | None = None
    for start, end, when in _dates(text, today):
        before = text[max(0, start - 60):start]
        ends = list(_CLAUSE_END.finditer(before))
        if ends:
            before = before[ends[-1].end():]
        if _CONTEXT.search(before) or _CONTEXT_AFTER.match(text[end:end + 40]):
            chosen = when
    if chosen is None or chosen < today or chosen > today + timedelta(days=365):
        return None
    return chosen

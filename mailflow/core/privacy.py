"""One person's data: what is held about an address, how it is erased, what retention drops.

Pure: the store reads the rows that mention a person (`Store.rows_about`), this module
decides what becomes of each (`plan_erasure`: a list of `RowChange`), and `app.privacy`
applies the list in one transaction. A forgotten person keeps a stable pseudonym on the
referrals they were part of, so the ledger's counts and the other parties' history stay
whole; what is theirs alone (notes, ratings text, their contact record) is deleted.
"""

from __future__ import annotations

import email
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.header import decode_header, make_header
from typing import Any

FORGOTTEN = "[forgotten]"  # what stands where a forgotten person's name was
PSEUDONYM_DOMAIN = "invalid"  # RFC 2606: mail to a pseudonym can never be delivered
MIN_NAME = 4  # shorter names ("Al") are not searched for: they would match everything
# what a person wrote, kept as an event's detail: deleted with them
THEIR_WORDS = frozenset({"note", "need", "reply", "refused", "rated", "rating", "stopped",
                         "forget-asked"})
WITHDRAWN_DETAIL = "cancelled: the person was forgotten"


def pseudonym(email: str, salt: str) -> str:
    """The stable stand-in for a forgotten address: the same on every row, so that counts
    per partner still add up; not reversible without the installation's salt."""
    digest = hmac.new(salt.encode(), email.strip().lower().encode(), hashlib.sha256)
    return f"forgotten-{digest.hexdigest()[:12]}@{PSEUDONYM_DOMAIN}"


def opt_out_hash(email: str, salt: str) -> str:
    """The salted hash kept of a forgotten person's `stop all`: their address is gone, their
    wish is not."""
    digest = hmac.new(salt.encode(), b"stop-all:" + email.strip().lower().encode(),
                      hashlib.sha256)
    return digest.hexdigest()


def is_pseudonym(email: str | None) -> bool:
    return bool(email) and str(email).startswith("forgotten-") and str(email).endswith(
        "@" + PSEUDONYM_DOMAIN)


@dataclass(frozen=True)
class Person:
    """An address, the names it was seen with, and its pseudonym."""

    email: str
    names: tuple[str, ...] = ()
    pseudonym: str = ""
    # the referrals they were part of: there even their first name goes from the texts
    party: frozenset[int] = frozenset()

    def about(self, row: Mapping[str, Any]) -> bool:
        """Whether a row belongs to a referral they were part of."""
        return row.get("referral_id") in self.party

    @property
    def searched_names(self) -> tuple[str, ...]:
        return tuple(n for n in self.names if len(n) >= MIN_NAME)

    def needles(self) -> tuple[str, ...]:
        """What to look for in text, lower-case: the address and the names, also as JSON
        writes them (a non-ASCII name is escaped there)."""
        found: list[str] = []
        for text in (self.email, *self.searched_names):
            found += [text.lower(), json.dumps(text)[1:-1].lower()]
        return tuple(dict.fromkeys(found))


def _pattern(person: Person, name_parts: bool = False) -> re.Pattern[str] | None:
    words = [re.escape(n) for n in person.needles()]
    if name_parts:  # "Jane" of "Jane Doe", on the referrals that were about her
        words += [re.escape(p) for n in person.names for p in n.split() if len(p) >= 3]
    if not words:
        return None
    words.sort(key=len, reverse=True)  # the address before the name it may contain
    return re.compile(r"(?<![\w.+-])(?:" + "|".join(words) + r")(?![\w-])", re.IGNORECASE)


def mentions(text: Any, person: Person) -> bool:
    pattern = _pattern(person)
    return isinstance(text, str) and pattern is not None and pattern.search(text) is not None


def scrub(text: Any, person: Person, name_parts: bool = False) -> Any:
    """`text` with the address replaced by the pseudonym and the names by FORGOTTEN."""
    if not isinstance(text, str) or not text:
        return text
    pattern = _pattern(person, name_parts)
    if pattern is None:
        return text
    email = person.email.lower()

    def replacement(match: re.Match[str]) -> str:
        return person.pseudonym if match.group(0).lower() == email else FORGOTTEN

    return pattern.sub(replacement, text)


def message_mentions(raw: bytes, person: Person) -> bool:
    """Whether a stored message names `person`, in its raw bytes, its decoded headers
    (`=?utf-8?q?Zo=C3=AB?=`) or its decoded text parts: a mailbox's own search matches
    substrings (`mary.jane@` holds `jane@`), so what it finds is confirmed here."""
    if mentions(raw.decode("utf-8", "replace"), person):
        return True
    message = email.message_from_bytes(raw)
    for value in message.values():
        try:
            if mentions(str(make_header(decode_header(str(value)))), person):
                return True
        except (LookupError, ValueError, UnicodeError):
            continue  # an encoded word that will not decode: its bytes were read above
    for part in message.walk():
        if part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True)
        try:
            text = payload.decode(part.get_content_charset() or "utf-8", "replace") \
                if isinstance(payload, bytes) else ""
        except LookupError:  # an unknown charset: read as UTF-8
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
        if mentions(text, person):
            return True
    return False


def names_seen(email: str, rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> tuple[str, ...]:
    """The names `email` was seen with: its contact record, the intros that named it, the
    partner directory."""
    names: list[str] = []
    for row in rows.get("contacts", ()):
        if row.get("email") == email and row.get("name"):
            names.append(str(row["name"]))
    for row in rows.get("referrals", ()):
        seen = _json(row.get("names"), {})
        if isinstance(seen, dict) and seen.get(email):
            names.append(str(seen[email]))
    for row in rows.get("partners", ()):
        if row.get("_emails") and set(row["_emails"]) <= {email} and row.get("name"):
            names.append(str(row["name"]))
    return tuple(dict.fromkeys(n.strip() for n in names if n and n.strip()))


def _json(text: Any, empty: Any) -> Any:
    if not isinstance(text, str) or not text:
        return empty
    try:
        return json.loads(text)
    except ValueError:
        return empty


@dataclass(frozen=True)
class RowChange:
    """One row of one table: its new values, or deleted (`fields` None)."""

    table: str
    rowid: int
    fields: Mapping[str, Any] | None


ROLES = ("referrer", "client", "partner")


def _scrubbed(row: Mapping[str, Any], columns: Iterable[str], person: Person,
              name_parts: bool = False) -> dict[str, Any]:
    return {c: scrub(row[c], person, name_parts) for c in columns
            if c in row and scrub(row[c], person, name_parts) != row[c]}


def _referral(row: Mapping[str, Any], person: Person) -> dict[str, Any]:
    email = person.email
    party = any(row.get(r) == email for r in ROLES) or email in _json(row.get("candidates"), [])
    fields = {r: person.pseudonym for r in ROLES if row.get(r) == email}
    candidates = _json(row.get("candidates"), [])
    if isinstance(candidates, list) and email in candidates:
        fields["candidates"] = json.dumps([person.pseudonym if c == email else c
                                           for c in candidates])
    names = _json(row.get("names"), {})
    if isinstance(names, dict):
        kept = {k: v for k, v in names.items() if k != email and not mentions(v, person)
                and not mentions(k, person)}
        if kept != names:
            fields["names"] = json.dumps(kept)
    if party and row.get("context"):
        fields["context"] = ""  # the intro's text was about them
    fields.update(_scrubbed(row, ("subject",), person, name_parts=party))
    if not party:
        fields.update(_scrubbed(row, ("context",), person))
    return fields


def _outbox(row: Mapping[str, Any], person: Person) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    pending = row.get("status") == "pending"
    if row.get("recipient") == person.email:
        fields["recipient"] = person.pseudonym
        if pending:
            fields.update(status="withdrawn", detail=WITHDRAWN_DETAIL)
    payload = _json(row.get("payload"), None)
    if isinstance(payload, dict) and payload.get("sender") == person.email:
        payload.pop("text", None)  # their words, relayed: gone with them
        payload.pop("given_rating", None)
        fields["payload"] = json.dumps(payload)
        if pending:
            fields.update(status="withdrawn", detail=WITHDRAWN_DETAIL)
    fields.update(_scrubbed({**row, **fields}, ("payload", "detail"), person,
                            person.about(row)))
    return fields


def plan_erasure(person: Person,
                 rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[RowChange]:
    """What becomes of every row that mentions `person` (rows as `Store.rows_about` reads
    them, each with its `_rowid`). A table the store reads and this does not know is an
    error: an erasure that skips a table is no erasure."""
    unknown = set(rows) - set(ERASURE_RULES)
    if unknown:
        raise ValueError(f"no erasure rule for the tables {sorted(unknown)}")
    person = replace(person, party=party_to(person.email, rows))
    changes: list[RowChange] = []
    for table, found in rows.items():
        rule = ERASURE_RULES[table]
        for row in found:
            fields = rule(row, person)
            if fields is None or fields:
                changes.append(RowChange(table, int(row["_rowid"]), fields))
    return changes


def party_to(email: str, rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> frozenset[int]:
    """The referrals `email` was the referrer, client, partner or a candidate of."""
    return frozenset(int(r["id"]) for r in rows.get("referrals", ())
                     if any(r.get(role) == email for role in ROLES)
                     or email in _json(r.get("candidates"), []))


def _is(column: str, row: Mapping[str, Any], person: Person) -> bool:
    return row.get(column) == person.email


def _delete_if(*columns: str, text: tuple[str, ...] = ()) -> Any:
    """A rule: the row is deleted when one of `columns` is the address; else its text
    columns are scrubbed."""
    def rule(row: Mapping[str, Any], person: Person) -> dict[str, Any] | None:
        if any(_is(c, row, person) for c in columns):
            return None
        return _scrubbed(row, text, person)
    return rule


def _events(row: Mapping[str, Any], person: Person) -> dict[str, Any]:
    if _is("actor", row, person):
        detail = ("" if row.get("kind") in THEIR_WORDS
                  else scrub(row.get("detail"), person, person.about(row)))
        return {"actor": person.pseudonym, "detail": detail}
    return _scrubbed(row, ("detail",), person, person.about(row))


def _undo(row: Mapping[str, Any], person: Person) -> dict[str, Any] | None:
    if _is("actor", row, person):
        return None
    return _scrubbed(row, ("before",), person, person.about(row))


def _opt_outs(row: Mapping[str, Any], person: Person) -> dict[str, Any] | None:
    if _is("email", row, person):
        return None
    return {"by": person.pseudonym} if _is("by", row, person) else {}


def _partners(row: Mapping[str, Any], person: Person) -> dict[str, Any] | None:
    emails = set(row.get("_emails") or ())
    if emails and emails <= {person.email}:
        return None  # the partner was this one person
    fields = _scrubbed(row, ("name", "notes"), person)
    if _is("added_by", row, person):
        fields["added_by"] = person.pseudonym
    return fields


def _partner_changes(row: Mapping[str, Any], person: Person) -> dict[str, Any]:
    fields = {c: person.pseudonym for c in ("actor", "email") if _is(c, row, person)}
    fields.update(_scrubbed(row, ("detail", "record"), person))
    return fields


def _meta(row: Mapping[str, Any], person: Person) -> dict[str, Any] | None:
    if row.get("key") == f"digest:{person.email}":
        return None  # a pseudonym gets no digest
    return _scrubbed(row, ("value",), person)


ERASURE_RULES: dict[str, Any] = {
    "referrals": _referral,
    "events": _events,
    "undo": _undo,
    "outbox": _outbox,
    "messages": _delete_if("sender", text=("reason",)),
    "contacts": _delete_if("email", text=("name", "undeliverable")),
    "opt_outs": _opt_outs,
    "pauses": _delete_if("email", text=("reason",)),
    "partners": _partners,
    "partner_emails": _delete_if("email"),
    "partner_changes": _partner_changes,
    "signins": _delete_if("email"),
    "web_sessions": _delete_if("email", text=("flash",)),
    "forget_requests": _delete_if("email"),
    "partner_profiles": _delete_if("email", text=("ideal", "avoid")),
    "meta": _meta,
}


def stopped_all(email: str, rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> bool:
    """Whether `email` said `stop all` (or asked to be forgotten, which stops all too)."""
    return any(r.get("email") == email and not r.get("referral_id")
               for r in rows.get("opt_outs", ()))


# -- "forget me" and retention ---------------------------------------------------------------

def due_erasures(requests: Sequence[Mapping[str, Any]], now: datetime,
                 after_days: int) -> list[str]:
    """The addresses whose "forget me" is at least `after_days` old."""
    cutoff = now - timedelta(days=after_days)
    return [str(r["email"]) for r in requests
            if datetime.fromisoformat(str(r["asked_at"])) <= cutoff]


def months_before(now: datetime, months: int) -> datetime:
    """The same moment `months` calendar months earlier (the 31st falls on the month's end)."""
    month = now.month - 1 - months
    year, month = now.year + month // 12, month % 12 + 1
    day = now.day
    while True:
        try:
            return now.replace(year=year, month=month, day=day)
        except ValueError:
            day -= 1


def daily_due(last_run: str | None, now: datetime) -> bool:
    """The privacy work runs once a day: not yet today (by the stored date of its last run)."""
    return last_run is None or last_run < now.date().isoformat()


@dataclass(frozen=True)
class PersonReport:
    """Everything held about one address, as a subject-access request hands it over."""

    email: str
    names: tuple[str, ...]
    referrals: list[dict[str, Any]]
    tables: dict[str, list[dict[str, Any]]]

    def as_dict(self) -> dict[str, Any]:
        return {"email": self.email, "names": list(self.names), "referrals": self.referrals,
                "held": self.tables}


def person_report(person: Person,
                  rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> PersonReport:
    """The rows that mention `person`, by table, with the referrals and their roles first."""
    referrals = []
    for row in rows.get("referrals", ()):
        roles = [r for r in ROLES if row.get(r) == person.email]
        if person.email in _json(row.get("candidates"), []) and not roles:
            roles = ["candidate"]
        referrals.append({"id": f"R-{row['id']}", "roles": roles or ["mentioned"],
                          "status": row.get("status"), "outcome": row.get("outcome"),
                          "subject": row.get("subject"), "created_at": row.get("created_at"),
                          "closed_at": row.get("closed_at")})
    tables = {table: [{k: _readable(v) for k, v in row.items() if not k.startswith("_")}
                      for row in found]
              for table, found in rows.items() if found}
    return PersonReport(person.email, person.names, referrals, tables)


def _readable(value: Any) -> Any:
    """A JSON column as data, not as a string of JSON."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        parsed = _json(value, None)
        return value if parsed is None else parsed
    return value

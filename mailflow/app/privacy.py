"""One person's data listed and erased, "forget me" carried out, and retention: the shell
around `core.privacy`, which decides what becomes of every row."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from mailflow.adapters.mailbox import KEEP_COPY, MailboxSource
from mailflow.adapters.store import PERSONAL_COLUMNS, Store, to_db
from mailflow.app.wiring import App, open_mailbox
from mailflow.core.privacy import (
    THEIR_WORDS,
    Person,
    PersonReport,
    RowChange,
    daily_due,
    due_erasures,
    message_mentions,
    months_before,
    names_seen,
    opt_out_hash,
    party_to,
    person_report,
    plan_erasure,
    pseudonym,
    stopped_all,
)
from mailflow.errors import MailboxError, MailflowError

log = logging.getLogger("mailflow.app.privacy")
Rows = dict[str, list[dict[str, Any]]]


def _writer(store: Store, table: str) -> Callable[[str, int, dict[str, Any] | None], None]:
    """The store's method that changes a row of `table` (each module writes its own)."""
    if table in ("referrals", "events", "undo"):
        return store.rewrite_referral_rows
    if table == "outbox":
        return store.rewrite_outbox_rows
    if table == "messages":
        return store.rewrite_message_rows
    if table in ("signins", "web_sessions"):
        return store.rewrite_web_rows
    if table == "meta":
        return lambda _, rowid, fields: store.rewrite_meta_row(rowid, fields)
    return store.rewrite_contact_rows


def read_person(store: Store, email: str) -> tuple[Person, Rows]:
    """The rows about `email`: found by its address, then again by the names it had."""
    email = email.strip().lower()
    salt = store.privacy_salt()
    bare = Person(email, (), pseudonym(email, salt))
    rows = store.rows_about(email, bare.needles())
    person = Person(email, names_seen(email, rows), bare.pseudonym)
    if person.names:
        rows = store.rows_about(email, person.needles())
    # SQLite lowers ASCII only: what it found is checked again, and so are exact matches
    rows = _confirmed(rows, person)
    # and everything said on the referrals they were part of, where even a first name is theirs
    for table, more in store.rows_of_referrals(sorted(party_to(email, rows))).items():
        known = {r["_rowid"] for r in rows.get(table, [])}
        rows[table] = sorted([*rows.get(table, []), *(r for r in more
                                                      if r["_rowid"] not in known)],
                             key=lambda r: int(r["_rowid"]))
    return person, rows


def _confirmed(rows: Rows, person: Person) -> Rows:
    needles = person.needles()
    kept: Rows = {}
    for table, found in rows.items():
        exact, text = PERSONAL_COLUMNS[table]
        kept[table] = [r for r in found
                       if any(r.get(c) == person.email for c in exact)
                       or (table == "partners" and person.email in r.get("_emails", ()))
                       or any(isinstance(r.get(c), str) and any(n in str(r[c]).lower()
                                                                for n in needles)
                              for c in text)]
    return kept


def person(app: App, email: str) -> PersonReport:
    """Everything held about `email`, as `mailflow person` and the web show it."""
    found, rows = read_person(app.store, email)
    return person_report(found, rows)


@dataclass
class ErasureReport:
    email: str
    pseudonym: str
    dry_run: bool
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows changed or deleted
    messages: dict[str, int] = field(default_factory=dict)  # folder -> messages expunged
    mailbox_problem: str = ""  # a dry run that could not look in the mailbox
    in_config: bool = False  # a partner of the config file: it would bring them back

    def as_dict(self) -> dict[str, Any]:
        return {"email": self.email, "pseudonym": self.pseudonym, "dry_run": self.dry_run,
                "rows": self.rows, "messages": self.messages,
                "mailbox_problem": self.mailbox_problem or None,
                "in_config": self.in_config}


def _folders(app: App, mailbox: MailboxSource) -> list[str]:
    """mailflow's own folders: where handled and quarantined mail goes (the folder read
    from, when handled mail stays there), and its copies of sent mail."""
    settings = app.mailbox
    folders = [settings.processed_folder or mailbox.folder, settings.quarantine_folder]
    if settings.sent_folder and KEEP_COPY in mailbox.capabilities:
        folders.append(settings.sent_folder)
    return list(dict.fromkeys(folders))


def forget(app: App, email: str, now: datetime, mailbox: MailboxSource | None = None,
           dry_run: bool = False) -> ErasureReport:
    """Erase what mailflow holds about `email` (`dry_run`: only count it). The mail first
    (a failure there leaves the database as it was, to try again), then every row in one
    transaction, then the file compacted so that no deleted byte stays on disk."""
    store = app.store
    found, rows = read_person(store, email)
    report = ErasureReport(found.email, found.pseudonym, dry_run, in_config=any(
        found.email in entry.email for entry in app.config.partners))
    needles = [found.email, *found.searched_names]
    own = mailbox is None
    try:
        if mailbox is None:
            mailbox = open_mailbox(app.config)
        for folder in _folders(app, mailbox):
            report.messages[folder] = mailbox.expunge_mentioning(
                folder, needles, partial(message_mentions, person=found), dry_run)
    except (MailflowError, OSError) as exc:
        if not dry_run:
            raise MailboxError(f"{exc}; nothing was erased") from exc
        report.mailbox_problem = str(exc)
    finally:
        if own and mailbox is not None:
            mailbox.close()
    changes = plan_erasure(found, rows)
    for change in changes:
        report.rows[change.table] = report.rows.get(change.table, 0) + 1
    if dry_run:
        return report
    _apply(store, found, changes, stopped_all(found.email, rows), now)
    if not store.compact():
        log.warning("the database's WAL could not be emptied after forgetting %s (another "
                    "process was reading); its old pages go with the next checkpoint",
                    found.pseudonym)
    log.info("forgot %s (now %s): %s rows changed or deleted, %s messages expunged (%s)",
             found.email, found.pseudonym, sum(report.rows.values()),
             sum(report.messages.values()),
             ", ".join(f"{n} in {f}" for f, n in report.messages.items()) or "no folder")
    return report


def _apply(store: Store, person: Person, changes: list[RowChange], stopped: bool,
           now: datetime) -> None:
    referrals = [c.rowid for c in changes if c.table == "referrals"]
    with store.atomic():
        for change in changes:
            _writer(store, change.table)(change.table, change.rowid,
                                         dict(change.fields) if change.fields is not None
                                         else None)
        if stopped:  # their `stop all` outlives their address
            store.keep_opt_out_hash(opt_out_hash(person.email, store.privacy_salt()), now)
        # a pseudonym is never written to: planning and sending skip it like a stop
        store.opt_out(person.pseudonym, None, now, by="mailflow")
        if referrals:
            store.mark_for_planning(referrals)


# -- the daily work: "forget me" requests that are due, and retention -------------------------

@dataclass
class DailyReport:
    forgotten: list[str] = field(default_factory=list)
    expired: int = 0


def daily(app: App, now: datetime, mailbox: MailboxSource) -> DailyReport | None:
    """Once a day (the first cycle of the day): carry out the "forget me" requests older
    than `privacy.forget_after_days`, and apply the retention policy. Each is guarded:
    a failure is logged and tried again the next day."""
    store = app.store
    if not daily_due(store.meta("privacy_last_run"), now):
        return None
    with store.atomic():
        store.set_meta("privacy_last_run", now.date().isoformat())
    report = DailyReport()
    for email in due_erasures(store.forget_requests(), now,
                              app.config.privacy.forget_after_days):
        try:
            forget(app, email, now, mailbox)
            report.forgotten.append(email)
        except Exception:
            log.exception("the erasure asked for by a \"forget me\" failed; tried again "
                          "tomorrow")
    try:
        report.expired = apply_retention(app, now)
    except Exception:
        log.exception("retention failed; tried again tomorrow")
    return report


def apply_retention(app: App, now: datetime) -> int:
    """Drop the texts of referrals closed more than `retention.closed_months` ago; returns
    how many referrals were expired now."""
    months = app.config.privacy.retention_closed_months
    if months is None:
        return 0
    store = app.store
    cutoff = months_before(now, months)
    with store.atomic():
        expired = store.closed_before(cutoff)
        if expired:
            store.expire_texts(expired, sorted(THEIR_WORDS), now)
            store.drop_message_records(expired)
            store.clear_payloads(expired)
        dropped = store.drop_contacts_without_referrals()
        store.set_meta("retention_last", f"{to_db(now)} {len(expired)} {dropped}")
    if expired or dropped:
        store.compact()
        log.info("retention: %s referrals closed before %s lost their texts; %s contacts "
                 "deleted", len(expired), cutoff.date().isoformat(), dropped)
    return len(expired)

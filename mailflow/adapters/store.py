"""SQLite through sqlite-utils: referrals, events, messages seen, cursors, outbox."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlite_utils

from mailflow.adapters.migrations import migrations
from mailflow.core.correlate import base_subject
from mailflow.core.ledger import ReferralSummary
from mailflow.core.model import Event, Outcome, Referral, Status


def _create_private(path: Path) -> None:
    """The database holds personal data and the HMAC secret: owner-only (SQLite gives its
    WAL and shared-memory files the database file's mode)."""
    try:
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        elif path.stat().st_mode & 0o077:
            path.chmod(0o600)
    except OSError:
        pass  # not ours to fix (a read-only copy, another owner): SQLite reports real errors


@lru_cache(maxsize=256)  # a cycle writes the same few moments (its `now`) many times
def to_db(moment: datetime | None) -> str | None:
    """Timestamps are stored in UTC ISO-8601 so that text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def from_db(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class NewStep:
    """A workflow step to queue: `status` pending, or skipped (with why) when too old."""

    step: str
    recipient: str
    due_at: datetime
    status: str
    detail: str | None


@dataclass(frozen=True)
class OutboxRow:
    id: int
    referral_id: int  # 0 for a digest or an alert, which belong to no referral
    step: str  # the workflow step, or the notice's kind (confirm, relay, …)
    recipient: str
    due_at: datetime
    status: str
    attempts: int
    message_id: str | None
    sent_at: datetime | None
    detail: str  # why it was skipped or failed: text for people, never data
    payload: str = ""  # a notice's data, a digest's text (JSON); empty for workflow steps
    kind: str = "step"  # step | notice | digest | alert

    @property
    def is_notice(self) -> bool:
        return self.kind == "notice"


@dataclass(frozen=True)
class PartnerRecord:
    id: int
    name: str
    emails: tuple[str, ...]
    niche: str
    notes: str
    domain: str | None
    source: str  # "config" (the file wins), "cli" or "web"
    added_by: str | None = None  # who added it on the web (they and the admin may change it)


def _partner(row: dict[str, Any], emails: tuple[str, ...]) -> PartnerRecord:
    return PartnerRecord(row["id"], row["name"] or "", emails, row["niche"] or "",
                         row["notes"] or "", row["domain"], row["source"] or "",
                         row.get("added_by"))


@dataclass(frozen=True)
class WebSession:
    """A signed-in browser: the cookie carries a random token; `id` is its SHA-256."""

    id: str
    email: str
    admin: bool
    csrf: str
    created_at: datetime
    seen_at: datetime
    flash: str | None = None


def _session(row: dict[str, Any]) -> WebSession:
    created, seen = from_db(row["created_at"]), from_db(row["seen_at"])
    assert created is not None and seen is not None
    return WebSession(row["id"], row["email"], bool(row["admin"]), row["csrf"], created, seen,
                      row["flash"])


@dataclass(frozen=True)
class PartnerChange:
    at: datetime
    actor: str
    change: str  # added, edited, removed
    email: str
    detail: str


def _json(text: str | None, empty: Any) -> Any:
    """A JSON column; the common empty value without the decoder (most referrals)."""
    if not text or text in ("[]", "{}"):
        return type(empty)()
    return json.loads(text)


def _referral(row: dict[str, Any]) -> Referral:
    created = from_db(row["created_at"])
    assert created is not None
    return Referral(
        id=row["id"], status=Status(row["status"]), referrer=row["referrer"],
        client=row["client"], partner=row["partner"], subject=row["subject"] or "",
        created_at=created, intro_message_id=row["intro_message_id"] or "",
        outcome=Outcome(row["outcome"]) if row["outcome"] else None,
        contacted_at=from_db(row["contacted_at"]), closed_at=from_db(row["closed_at"]),
        context=row["context"] or "", candidates=tuple(_json(row["candidates"], [])),
        names=_json(row["names"], {}), direction=row["direction"] or "given",
        history=bool(row.get("history")), plan_from=from_db(row.get("plan_from")),
        snoozed_until=from_db(row.get("snoozed_until")), rating=row.get("rating"),
    )


def _outbox(row: dict[str, Any]) -> OutboxRow:
    due = from_db(row["due_at"])
    assert due is not None
    return OutboxRow(row["id"], row["referral_id"] or 0, row["step"], row["recipient"], due,
                     row["status"], row["attempts"] or 0, row["message_id"],
                     from_db(row["sent_at"]), row["detail"] or "", row.get("payload") or "",
                     row.get("kind") or "step")


def _db_values(fields: dict[str, Any]) -> dict[str, Any]:
    """Referral field values as their columns hold them."""
    return {k: (to_db(v) if isinstance(v, datetime) else
                str(v) if isinstance(v, (Status, Outcome)) else
                int(v) if isinstance(v, bool) else v) for k, v in fields.items()}


def _chunks(values: Sequence[Any], size: int = 500) -> list[list[Any]]:
    """`values` (deduplicated) in pieces that stay under SQLite's limit on parameters."""
    unique = list(dict.fromkeys(values))
    return [unique[i:i + size] for i in range(0, len(unique), size)]


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


def said_stop(opt_outs: set[tuple[str, int]], email: str, referral_id: int) -> bool:
    """Whether `email` said stop to this referral, or to everything (referral id 0), in the
    pairs `Store.opt_outs_of` returns."""
    return (email, 0) in opt_outs or (email, referral_id) in opt_outs


class Store:
    """The one database; every write for one message goes through one `atomic()` block."""

    def __init__(self, path: Path | str, busy_timeout_ms: int = 30_000) -> None:
        if str(path) != ":memory:":
            _create_private(Path(path))
        # one connection, used by one thread at a time: the web view's event loop (or a test
        # client's portal) may not be the thread that opened it
        self.db = sqlite_utils.Database(sqlite3.connect(str(path), check_same_thread=False))
        # autocommit outside `atomic()`: no implicit transaction is ever left open, and
        # every write transaction is begun explicitly, IMMEDIATE (see `atomic`)
        self.db.conn.isolation_level = None
        self._depth = 0  # savepoints open inside the transaction
        # what this process wrote and so need not write again (a name already stored, a
        # digest clock already started); forgotten on every rollback, when it may be undone
        self._names_written: dict[str, str] = {}
        self._clocks_started: set[str] = set()
        self.rollbacks = 0  # counted, so that a caller's memory of what it wrote can tell
        self.db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if str(path) != ":memory:":
            if self.db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                self.db.execute("PRAGMA journal_mode = wal")
            # a checkpoint every 10,000 pages (40 MB of WAL) instead of 1,000: a page written
            # by many commits is copied back once. Handling 10,000 realistic messages
            # in-process took 7 % less. The WAL file keeps its size for reuse; one that a
            # checkpoint leaves above 64 MB is truncated to that
            self.db.execute("PRAGMA wal_autocheckpoint = 10000")
            self.db.execute("PRAGMA journal_size_limit = 67108864")
            # FULL: a commit is on disk before mail is moved out of the inbox, so a power
            # cut cannot roll back a record whose message is already in the processed folder
            self.db.execute("PRAGMA synchronous = FULL")
        if migrations.pending(self.db):
            with self.atomic():
                migrations.apply(self.db)
        self._referral_defaults = self._column_defaults("referrals")

    def _column_defaults(self, table: str) -> dict[str, Any]:
        """Each column's value in a row that does not give it: its DEFAULT, or NULL."""
        return {name: (self.db.execute(f"select {default}").fetchone()[0]
                       if default is not None else None)
                for _, name, _, _, default, _ in self.db.execute(
                    f"pragma table_info([{table}])").fetchall()}

    # Reads and hot writes use plain SQL: sqlite-utils' table helpers re-read the schema on
    # every call, which measured as most of the dispatch time in bench/schedule.py.
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self.db.execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _update(self, table: str, key: str, value: Any, fields: dict[str, Any]) -> bool:
        """Whether the row exists (nothing to change: not asked)."""
        if not fields:
            return True
        assignments = ", ".join(f"[{name}] = ?" for name in fields)
        cursor = self.db.execute(f"update [{table}] set {assignments} where [{key}] = ?",
                                 [*fields.values(), value])
        return cursor.rowcount > 0

    def referral_row(self, referral_id: int) -> dict[str, Any]:
        rows = self.query("select * from referrals where id = ?", [referral_id])
        if not rows:
            raise KeyError(f"no referral {referral_id}")
        return rows[0]

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction (a savepoint when nested) that takes the write lock up front.

        Under WAL a deferred transaction that reads and then writes cannot wait for the
        lock (SQLITE_BUSY whatever busy_timeout says); BEGIN IMMEDIATE waits instead.
        """
        conn = self.db.conn
        if conn.in_transaction:
            with self._savepoint(conn):
                yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._forget_written()
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:  # a full disk, say: nothing of it was written
            self._forget_written()
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    @contextmanager
    def _savepoint(self, conn: sqlite3.Connection) -> Iterator[None]:
        """A nested block. Its name is fixed by depth, not random like sqlite-utils' own:
        a new statement text each time missed the statement cache and pushed the hot
        statements out of it (every statement re-prepared: 20-60 us instead of 2-7)."""
        self._depth += 1
        name = f"mailflow_{self._depth}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self._forget_written()
            if conn.in_transaction:  # an error may have ended the whole transaction
                conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        else:
            conn.execute(f"RELEASE SAVEPOINT {name}")
        finally:
            self._depth -= 1

    def _forget_written(self) -> None:
        self._names_written.clear()
        self._clocks_started.clear()
        self.rollbacks += 1

    def close(self) -> None:
        self.db.close()

    # meta -----------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        rows = self.query("select value from meta where key = ?", [key])
        return rows[0]["value"] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("insert into meta (key, value) values (?, ?) on conflict(key) "
                        "do update set value = excluded.value", [key, value])

    def delete_meta(self, *keys: str) -> None:
        self.db.execute(f"delete from meta where key in ({','.join('?' * len(keys))})",
                        list(keys))

    def first_seen(self, referrer: str, at: datetime) -> None:
        """Start `referrer`'s digest clock (once: later intros leave it alone)."""
        if referrer in self._clocks_started:
            return
        self._clocks_started.add(referrer)
        self.db.execute("insert or ignore into meta (key, value) values (?, ?)",
                        [f"digest:{referrer}", to_db(at)])

    def digests_due(self, last_before: datetime) -> list[str]:
        """Referrers whose last digest (or first intro) is older than `last_before`."""
        rows = self.db.execute("select substr(key, 8) from meta where key like 'digest:%' "
                               "and value <= ? order by key", [to_db(last_before)])
        return [r[0] for r in rows.fetchall()]

    def has_messages(self) -> bool:
        return self.db.execute("select 1 from messages limit 1").fetchone() is not None

    def installation_id(self) -> str:
        """A random id made with the database: it makes our Message-IDs unique to it."""
        return self.meta("installation") or "0"

    # planning marks -------------------------------------------------------
    def mark_for_planning(self, referral_ids: Sequence[int]) -> None:
        if not referral_ids:
            return
        self.db.conn.executemany("insert or ignore into replan (referral_id) values (?)",
                                 [(i,) for i in referral_ids])

    def marked_for_planning(self) -> list[int]:
        return [r[0] for r in self.db.execute(
            "select referral_id from replan order by referral_id").fetchall()]

    def unmark_for_planning(self, referral_id: int) -> None:
        self.db.execute("delete from replan where referral_id = ?", [referral_id])

    # cursors and messages ---------------------------------------------------
    def cursor(self, folder: str) -> str | None:
        """Where reading `folder` resumes: opaque, as its mailbox source gave it."""
        rows = self.query("select position from cursors where folder = ?", [folder])
        return rows[0]["position"] if rows else None

    def set_cursor(self, folder: str, position: str) -> None:
        self.db.execute("insert into cursors (folder, position) values (?, ?) "
                        "on conflict(folder) do update set position = excluded.position",
                        [folder, position])

    def seen_message(self, message_id: str) -> dict[str, Any] | None:
        rows = self.query("select * from messages where message_id = ?", [message_id])
        return rows[0] if rows else None

    def seen_messages(self, message_ids: Sequence[str]) -> set[str]:
        """Which of these Message-IDs are on record (one query per 500)."""
        found: set[str] = set()
        for chunk in _chunks(message_ids):
            found.update(row[0] for row in self.db.execute(
                f"select message_id from messages where message_id in ({_marks(chunk)})",
                chunk).fetchall())
        return found

    # The per-message writes below use plain SQL: sqlite-utils' insert/upsert re-read the
    # table schema on every call, which measured as a third of ingest time (bench/ingest.py).
    def record_message(self, message_id: str, folder: str, key: str, kind: str, reason: str,
                       referral_id: int | None, at: datetime) -> None:
        """`key`: where the source had the message (an IMAP UID, a Maildir file name)."""
        self.db.execute(
            "insert or replace into messages (message_id, folder, place, kind, reason, "
            "referral_id, seen_at) values (?, ?, ?, ?, ?, ?, ?)",
            [message_id, folder, key, str(kind), reason, referral_id, to_db(at)])

    def messages(self, kind: str | None = None) -> list[dict[str, Any]]:
        where = "kind = ?" if kind else None
        return list(self.db.table("messages").rows_where(where, [kind] if kind else [],
                                                   order_by="seen_at"))

    # referrals ------------------------------------------------------------
    def add_referral(self, **fields: Any) -> Referral:
        row = _db_values(fields)
        row["candidates"] = json.dumps(list(fields.get("candidates", ())))
        row["names"] = json.dumps(dict(fields.get("names", {})))
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        cursor = self.db.execute(f"insert into referrals ({columns}) values ({marks})",
                                 list(row.values()))
        # the row as stored, made here: RETURNING * (which SQLite collects in a temporary
        # table) and its conversion took three times the insert (6,555 intros: 0.39 s)
        return _referral({**self._referral_defaults, **row, "id": cursor.lastrowid})

    def referral(self, referral_id: int) -> Referral:
        return _referral(self.referral_row(referral_id))

    def referrals_by_id(self, referral_ids: Sequence[int]) -> dict[int, Referral]:
        found: dict[int, Referral] = {}
        for chunk in _chunks(referral_ids):
            for row in self.query(f"select * from referrals where id in ({_marks(chunk)})",
                                  chunk):
                found[row["id"]] = _referral(row)
        return found

    def find_referral(self, referral_id: int) -> Referral | None:
        rows = self.query("select * from referrals where id = ?", [referral_id])
        return _referral(rows[0]) if rows else None

    def referrals(self, status: str | None = None) -> list[Referral]:
        where = "status = ?" if status else None
        rows = self.db.table("referrals").rows_where(where, [status] if status else [],
                                                     order_by="id")
        return [_referral(r) for r in rows]

    def referral_summaries(self, referrer: str | None) -> list[ReferralSummary]:
        """What the ledger needs of `referrer`'s referrals (all when None), nothing more."""
        sql = ("select id, partner, direction, status, outcome, created_at, contacted_at, "
               "closed_at, rating from referrals"
               + (" where referrer = ?" if referrer is not None else "") + " order by id")
        statuses = {s.value: s for s in Status}
        outcomes = {o.value: o for o in Outcome}
        out = []
        for (rid, partner, direction, status, outcome, created, contacted, closed,
             rating) in self.db.execute(sql, [referrer] if referrer is not None else []):
            out.append(ReferralSummary(
                rid, partner, direction or "given", statuses[status],
                outcomes.get(outcome) if outcome else None,
                datetime.fromisoformat(created), from_db(contacted), from_db(closed), rating))
        return out

    def last_said(self, referrer: str | None) -> dict[int, list[Event]]:
        """Per referral, the last time each person (not mailflow) was heard on it: what the
        ledger's "last contact" needs, without reading every event."""
        sql = ("select e.referral_id, e.actor, max(e.at) from events e "
               + ("join referrals r on r.id = e.referral_id where r.referrer = ? and "
                  if referrer is not None else "where ")
               + "e.actor not in ('mailflow', 'cli') group by e.referral_id, e.actor")
        out: dict[int, list[Event]] = {}
        for referral_id, actor, at in self.db.execute(sql, [referrer] if referrer else []):
            moment = from_db(at)
            if moment is not None:
                out.setdefault(referral_id, []).append(Event(moment, "said", actor, ""))
        return out

    def update_referral(self, referral_id: int, **fields: Any) -> None:
        if not self._update("referrals", "id", referral_id, _db_values(fields)):
            raise KeyError(f"no referral {referral_id}")

    def open_with_subject(self, subject: str) -> list[Referral]:
        """Referrals not closed whose intro subject folds to `subject` (see base_subject)."""
        rows = self.query("select * from referrals where status != 'closed' and "
                          "lower(subject) like ?", [f"%{subject[-40:]}"])
        return [_referral(r) for r in rows if base_subject(r["subject"] or "") == subject]

    def referrals_in_thread(self, message_ids: tuple[str, ...]) -> list[int]:
        """Referrals whose intro, our mail or a recorded reply has one of these Message-IDs."""
        found: list[int] = []
        for mid in message_ids:
            for sql in ("select id from referrals where intro_message_id = ?",
                        "select referral_id from outbox where message_id = ?",
                        "select referral_id from messages where message_id = ? "
                        "and referral_id is not null"):
                for (rid,) in self.db.execute(sql, [mid]).fetchall():
                    if rid not in found:
                        found.append(rid)
            if found:
                return found
        return found

    def referrers(self) -> list[str]:
        """Everyone who made a referral, read from the referrer index alone."""
        rows = self.db.execute("select distinct referrer from referrals order by referrer")
        return [r[0] for r in rows.fetchall()]

    def open_referrals_of_partner(self, partner: str, other_than: int) -> list[int]:
        rows = self.db.execute("select id from referrals where partner = ? and id != ? "
                               "and status != 'closed' order by id", [partner, other_than])
        return [r[0] for r in rows.fetchall()]

    def past_partners(self) -> frozenset[str]:
        rows = self.db.execute("select distinct partner from referrals where partner is not null")
        return frozenset(r[0] for r in rows.fetchall())

    # events ---------------------------------------------------------------
    def add_event(self, referral_id: int, at: datetime, kind: str, actor: str,
                  detail: str = "") -> None:
        self.db.execute("insert into events (referral_id, at, kind, actor, detail) "
                        "values (?, ?, ?, ?, ?)", [referral_id, to_db(at), kind, actor, detail])

    def events(self, referral_id: int | None = None) -> list[tuple[int, Event]]:
        rows = (self.query("select * from events where referral_id = ? order by id",
                           [referral_id]) if referral_id is not None
                else self.query("select * from events order by id"))
        out = []
        for r in rows:
            at = from_db(r["at"])
            assert at is not None
            out.append((r["referral_id"], Event(at, r["kind"], r["actor"], r["detail"] or "")))
        return out

    # contacts and opt-outs ------------------------------------------------
    def remember_names(self, names: dict[str, str]) -> None:
        changed = [(email, name) for email, name in names.items()
                   if self._names_written.get(email) != name]
        if not changed:
            return
        if len(self._names_written) > 100_000:  # a bound on memory, not on correctness
            self._names_written.clear()
        self._names_written.update(changed)
        self.db.conn.executemany(
            "insert into contacts (email, name) values (?, ?) "
            "on conflict(email) do update set name = excluded.name "
            "where name is not excluded.name", changed)  # unchanged: not rewritten

    def notes_of(self, referral_ids: Sequence[int]) -> dict[int, list[str]]:
        """The notes and needs said about each of these referrals, oldest first."""
        found: dict[int, list[str]] = {i: [] for i in referral_ids}
        for chunk in _chunks(referral_ids):
            for row in self.db.execute(
                    f"select referral_id, detail from events where referral_id in ({_marks(chunk)})"
                    " and kind in ('note', 'need') order by id", list(chunk)).fetchall():
                found.setdefault(row[0], []).append(row[1] or "")
        return found

    def contacts_of(self, emails: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The contacts known among `emails` (names, undeliverable marks)."""
        found: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(emails):
            for row in self.query(f"select * from contacts where email in ({_marks(chunk)})",
                                  chunk):
                found[row["email"]] = row
        return found

    def opt_outs_of(self, emails: Sequence[str]) -> set[tuple[str, int]]:
        """(email, referral id) said stop among `emails`; referral id 0 means everything."""
        found: set[tuple[str, int]] = set()
        for chunk in _chunks(emails):
            found.update((r[0], r[1]) for r in self.db.execute(
                f"select email, referral_id from opt_outs where email in ({_marks(chunk)})",
                list(chunk)).fetchall())
        return found

    def contact(self, email: str) -> dict[str, Any]:
        rows = self.query("select * from contacts where email = ?", [email])
        return rows[0] if rows else {"email": email, "name": "", "undeliverable": None}

    def mark_undeliverable(self, email: str, reason: str) -> None:
        self.db.table("contacts").upsert({"email": email, "undeliverable": reason}, pk="email")

    def opt_out(self, email: str, referral_id: int | None, at: datetime,
                by: str | None = None) -> None:
        """`by`: who said stop for `email`, when it was not `email` itself (the referrer on
        the web or the operator), so that only such a stop can be resumed."""
        self.db.execute("insert into opt_outs (email, referral_id, at, by) values (?, ?, ?, ?) "
                        "on conflict(email, referral_id) do update set at = excluded.at, "
                        "by = excluded.by", [email, referral_id or 0, to_db(at), by])

    def stops_on(self, referral_id: int, emails: Sequence[str]) -> dict[str, str | None]:
        """Which of `emails` get no mail about the referral: each with who said stop for
        them (None: they said it themselves, or said `stop all`)."""
        found: dict[str, str | None] = {}
        for chunk in _chunks(list(emails)):
            for email, rid, by in self.db.execute(
                    "select email, referral_id, by from opt_outs where email in "
                    f"({_marks(chunk)}) and referral_id in (0, ?) order by referral_id",
                    [*chunk, referral_id]).fetchall():
                found[email] = None if rid == 0 or found.get(email, "") is None else by
        return found

    def resume(self, email: str, referral_id: int) -> bool:
        """Lift a stop someone else said for `email` about one referral (never their own)."""
        cursor = self.db.execute("delete from opt_outs where email = ? and referral_id = ? "
                                 "and by is not null", [email, referral_id])
        return cursor.rowcount > 0

    def opted_out(self, email: str, referral_id: int) -> bool:
        return said_stop(self.opt_outs_of([email]), email, referral_id)

    # pauses (out of office) ---------------------------------------------------
    def paused_until(self, email: str) -> datetime | None:
        rows = self.query("select until from pauses where email = ?", [email])
        return from_db(rows[0]["until"]) if rows else None

    def pauses_of(self, emails: Sequence[str]) -> dict[str, datetime]:
        found: dict[str, datetime] = {}
        for chunk in _chunks(emails):
            for row in self.query(f"select email, until from pauses where email in "
                                  f"({_marks(chunk)})", chunk):
                if (until := from_db(row["until"])) is not None:
                    found[row["email"]] = until
        return found

    def pause(self, email: str, until: datetime, reason: str) -> None:
        self.db.execute("insert into pauses (email, until, reason) values (?, ?, ?) "
                        "on conflict(email) do update set until = excluded.until, "
                        "reason = excluded.reason", [email, to_db(until), reason])

    def open_referrals_of(self, email: str) -> list[Referral]:
        rows = self.query("select * from referrals where status != 'closed' and "
                          "(referrer = ? or client = ? or partner = ?) order by id",
                          [email, email, email])
        return [_referral(r) for r in rows]

    def clear_undeliverable(self, email: str) -> bool:
        cursor = self.db.execute("update contacts set undeliverable = null where email = ? "
                                 "and undeliverable is not null", [email])
        return cursor.rowcount > 0

    # the web view ---------------------------------------------------------
    def add_signin(self, nonce: str, email: str, at: datetime) -> None:
        self.db.execute("insert into signins (nonce, email, created_at) values (?, ?, ?)",
                        [nonce, email, to_db(at)])

    def use_signin(self, nonce: str, at: datetime, issued_after: datetime) -> str | None:
        """The address a sign-in nonce was issued to, once and only if it was issued after
        `issued_after`: None if unknown, used or too old."""
        cursor = self.db.execute("update signins set used_at = ? where nonce = ? "
                                 "and used_at is null and created_at >= ?",
                                 [to_db(at), nonce, to_db(issued_after)])
        if cursor.rowcount != 1:
            return None
        row = self.db.execute("select email from signins where nonce = ?", [nonce]).fetchone()
        return str(row[0])

    def signin_email(self, nonce: str, issued_after: datetime) -> str | None:
        """The address an unused sign-in nonce issued after `issued_after` would sign in."""
        row = self.db.execute("select email from signins where nonce = ? and used_at is null "
                              "and created_at >= ?", [nonce, to_db(issued_after)]).fetchone()
        return str(row[0]) if row else None

    def replace_signins(self, email: str, at: datetime) -> None:
        """A newer link replaces the older: `email`'s unused links stop working."""
        self.db.execute("update signins set used_at = ? where email = ? and used_at is null",
                        [to_db(at), email])

    def signins_issued_since(self, since: datetime) -> int:
        """Sign-in links issued to anyone since `since` (the tracker-wide cap)."""
        sql = "select count(*) from signins where created_at >= ?"
        return int(self.db.execute(sql, [to_db(since)]).fetchone()[0])

    def add_session(self, session: WebSession) -> None:
        self.db.execute("insert into web_sessions (id, email, admin, csrf, created_at, seen_at) "
                        "values (?, ?, ?, ?, ?, ?)",
                        [session.id, session.email, int(session.admin), session.csrf,
                         to_db(session.created_at), to_db(session.seen_at)])

    def session(self, session_id: str) -> WebSession | None:
        rows = self.query("select * from web_sessions where id = ?", [session_id])
        return _session(rows[0]) if rows else None

    def sessions(self) -> list[WebSession]:
        return [_session(r) for r in self.query("select * from web_sessions "
                                                "order by seen_at desc")]

    def touch_session(self, session_id: str, at: datetime) -> None:
        self.db.execute("update web_sessions set seen_at = ? where id = ?",
                        [to_db(at), session_id])

    def set_flash(self, session_id: str, flash: str | None) -> None:
        self.db.execute("update web_sessions set flash = ? where id = ?", [flash, session_id])

    def end_sessions(self, session_ids: Sequence[str]) -> int:
        ended = 0
        for chunk in _chunks(list(session_ids)):
            ended += self.db.execute(f"delete from web_sessions where id in ({_marks(chunk)})",
                                     chunk).rowcount
        return ended

    def end_sessions_before(self, created_before: datetime, seen_before: datetime) -> None:
        """Forget sessions past their lifetime or idle too long."""
        self.db.execute("delete from web_sessions where created_at < ? or seen_at < ?",
                        [to_db(created_before), to_db(seen_before)])

    def referrals_page(self, referrer: str | None, status: str | None, search: str,
                       offset: int, limit: int) -> tuple[list[Referral], int]:
        """One page of referrals, oldest first: `referrer`'s only, unless None (admin)."""
        where, params = ["1 = 1"], []
        if referrer is not None:
            where.append("referrer = ?")
            params.append(referrer)
        if status:
            where.append("status = ?")
            params.append(status)
        if search:
            where.append("(client like ? or partner like ? or subject like ? or names like ?)")
            params += [f"%{search}%"] * 4
        clause = " and ".join(where)
        total = int(self.db.execute(f"select count(*) from referrals where {clause}",
                                    params).fetchone()[0])
        rows = self.query(f"select * from referrals where {clause} order by created_at, id "
                          "limit ? offset ?", [*params, limit, offset])
        return [_referral(r) for r in rows], total

    def pending_of(self, referrer: str | None) -> list[OutboxRow]:
        """Pending emails about `referrer`'s referrals (every email when None)."""
        if referrer is None:
            return self.pending()
        rows = self.query("select o.* from outbox o join referrals r on r.id = o.referral_id "
                          "where o.status = 'pending' and r.referrer = ? "
                          "order by o.due_at, o.id", [referrer])
        return [_outbox(r) for r in rows]

    # partners and undo -----------------------------------------------------
    def partner_records(self) -> list[PartnerRecord]:
        emails: dict[int, list[str]] = {}
        for row in self.query("select email, partner_id from partner_emails order by email"):
            emails.setdefault(row["partner_id"], []).append(row["email"])
        return [_partner(r, tuple(emails.get(r["id"], ())))
                for r in self.query("select * from partners order by id")]

    def find_partner(self, email: str) -> PartnerRecord | None:
        return self.find_partners([email]).get(email.lower())

    def find_partners(self, emails: Sequence[str]) -> dict[str, PartnerRecord]:
        """The partner of each of `emails` that is a partner's address (keys lower-case)."""
        lowered = [e.lower() for e in emails]
        ids: dict[str, int] = {}
        for chunk in _chunks(lowered):
            ids.update((r[0], r[1]) for r in self.db.execute(
                f"select email, partner_id from partner_emails where email in ({_marks(chunk)})",
                chunk).fetchall())
        partners: dict[int, PartnerRecord] = {}
        for chunk in _chunks(list(ids.values())):
            addresses: dict[int, list[str]] = {}
            for row in self.db.execute("select email, partner_id from partner_emails where "
                                       f"partner_id in ({_marks(chunk)}) order by email",
                                       chunk).fetchall():
                addresses.setdefault(row[1], []).append(row[0])
            for row in self.query(f"select * from partners where id in ({_marks(chunk)})",
                                  chunk):
                partners[row["id"]] = _partner(row, tuple(addresses.get(row["id"], ())))
        return {email: partners[i] for email, i in ids.items() if i in partners}

    def save_partner(self, fields: dict[str, Any], emails: Sequence[str],
                     partner_id: int | None) -> int:
        """Insert (partner_id None) or replace a partner and its addresses; returns its id."""
        if partner_id is None:
            names = ", ".join(fields)
            cursor = self.db.execute(f"insert into partners ({names}) values "
                                     f"({', '.join('?' * len(fields))})", list(fields.values()))
            assert cursor.lastrowid is not None
            partner_id = int(cursor.lastrowid)
        else:
            self._update("partners", "id", partner_id, fields)
            self.db.execute("delete from partner_emails where partner_id = ?", [partner_id])
        self.db.conn.executemany(
            "insert into partner_emails (email, partner_id) values (?, ?) "
            "on conflict(email) do update set partner_id = excluded.partner_id",
            [(e, partner_id) for e in emails])
        return partner_id

    def add_partner_change(self, at: datetime, actor: str, change: str, email: str,
                           detail: str) -> None:
        self.db.execute("insert into partner_changes (at, actor, change, email, detail) "
                        "values (?, ?, ?, ?, ?)", [to_db(at), actor, change, email, detail])

    def partner_changes(self, limit: int = 50) -> list[PartnerChange]:
        rows = self.query("select * from partner_changes order by id desc limit ?", [limit])
        return [PartnerChange(from_db(r["at"]) or datetime.min, r["actor"], r["change"],
                              r["email"], r["detail"] or "") for r in rows]

    def delete_partner(self, partner_id: int) -> None:
        self.db.execute("delete from partner_emails where partner_id = ?", [partner_id])
        self.db.execute("delete from partners where id = ?", [partner_id])

    def keep_undo(self, referral_id: int, actor: str, at: datetime,
                  before: dict[str, Any]) -> None:
        self.db.execute("insert into undo (referral_id, actor, at, before) values (?, ?, ?, ?)",
                        [referral_id, actor, to_db(at), json.dumps(_db_values(before))])

    def latest_undo(self, referral_id: int, actor: str, since: datetime) -> int | None:
        """The id of `actor`'s newest undo snapshot of the referral kept since `since`."""
        row = self.db.execute("select id from undo where referral_id = ? and actor = ? "
                              "and at >= ? order by id desc limit 1",
                              [referral_id, actor, to_db(since)]).fetchone()
        return int(row[0]) if row else None

    def restore_undo(self, undo_id: int) -> None:
        """Put a kept state back and forget it."""
        row = self.db.execute("select referral_id, before from undo where id = ?",
                              [undo_id]).fetchone()
        if row is not None:
            self._update("referrals", "id", row[0], json.loads(row[1]))
            self.db.execute("delete from undo where id = ?", [undo_id])

    # outbox ---------------------------------------------------------------
    def outbox_row(self, row_id: int) -> OutboxRow | None:
        rows = self.query("select * from outbox where id = ?", [row_id])
        return _outbox(rows[0]) if rows else None

    def outbox_rows(self, referral_id: int) -> list[OutboxRow]:
        rows = self.query("select * from outbox where referral_id = ? order by id", [referral_id])
        return [_outbox(r) for r in rows]

    def step_rows(self, referral_id: int) -> list[OutboxRow]:
        """The referral's workflow steps (not its notices)."""
        return self.step_rows_of([referral_id])[referral_id]

    def step_rows_of(self, referral_ids: Sequence[int]) -> dict[int, list[OutboxRow]]:
        """The workflow steps of each of these referrals, oldest first."""
        found: dict[int, list[OutboxRow]] = {i: [] for i in referral_ids}
        for chunk in _chunks(referral_ids):
            for row in self.query(f"select * from outbox where referral_id in ({_marks(chunk)}) "
                                  "and kind = 'step' order by id", chunk):
                found[row["referral_id"]].append(_outbox(row))
        return found

    def add_outbox(self, referral_id: int | None, step: str, recipient: str, due_at: datetime,
                   *, kind: str, payload: str = "", message_id: str | None = None
                   ) -> int | None:
        """Queue one email that is not a workflow step (a notice, a digest, an alert, a
        sign-in link: `kind`); workflow steps are queued by `add_steps`.

        Returns the new row's id (None when ignored as a duplicate).
        """
        cursor = self.db.execute(
            "insert or ignore into outbox (referral_id, step, recipient, due_at, status, "
            "attempts, kind, payload, message_id) values (?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
            [referral_id, step, recipient, to_db(due_at), kind, payload, message_id])
        return cursor.lastrowid if cursor.rowcount else None

    def add_steps(self, referral_id: int, steps: Sequence[NewStep]) -> None:
        """Queue a referral's new workflow steps in one statement; a step already planned
        for that person is ignored."""
        if not steps:
            return
        self.db.conn.executemany(
            "insert or ignore into outbox (referral_id, step, recipient, due_at, status, "
            "attempts, kind, payload, detail) values (?, ?, ?, ?, ?, 0, 'step', '', ?)",
            [(referral_id, s.step, s.recipient, to_db(s.due_at), s.status, s.detail)
             for s in steps])

    def notices_to(self, referral_id: int, recipient: str, kind: str) -> int:
        """How many notices of `kind` this person was ever given about this referral."""
        sql = ("select count(*) from outbox where referral_id = ? and recipient = ? "
               "and kind = 'notice' and step = ?")
        return int(self.db.execute(sql, [referral_id, recipient, kind]).fetchone()[0])

    def notice_number(self, row_id: int) -> int:
        """Which notice of its kind to that person about that referral this row is (1, 2…)."""
        sql = ("select count(*) from outbox o join outbox n on n.referral_id = o.referral_id "
               "and n.recipient = o.recipient and n.kind = 'notice' and n.step = o.step "
               "and n.id <= o.id where o.id = ?")
        return int(self.db.execute(sql, [row_id]).fetchone()[0])

    def update_outbox(self, row_id: int, **fields: Any) -> None:
        row = {k: (to_db(v) if isinstance(v, datetime) else v) for k, v in fields.items()}
        self._update("outbox", "id", row_id, row)

    def due(self, now: datetime) -> list[OutboxRow]:
        """Pending steps due by `now`, through the (status, due_at) index."""
        rows = self.query(
            "select * from outbox where status = 'pending' and due_at <= ? order by due_at, id",
            [to_db(now)])
        return [_outbox(r) for r in rows]

    def pending(self) -> list[OutboxRow]:
        rows = self.query("select * from outbox where status = 'pending' order by due_at, id")
        return [_outbox(r) for r in rows]

    def not_sent_since(self, since: datetime) -> list[OutboxRow]:
        """Steps recorded as missed or superseded that were due after `since`."""
        rows = self.query("select * from outbox where status in ('missed', 'superseded') "
                          "and due_at >= ? order by due_at, id", [to_db(since)])
        return [_outbox(r) for r in rows]

    def failed_rows(self, limit: int = 50) -> list[OutboxRow]:
        rows = self.query("select * from outbox where status = 'failed' order by id desc "
                          "limit ?", [limit])
        return [_outbox(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """Referrals per status, pending emails and quarantined messages, by index counts."""
        found = {s.value: 0 for s in Status}
        for status, number in self.db.execute(
                "select status, count(*) from referrals group by status"):
            found[status] = number
        pending = self.db.execute("select count(*) from outbox where status = 'pending'")
        quarantined = self.db.execute("select count(*) from messages "
                                      "where kind = 'quarantined'")
        return {**found, "pending": int(pending.fetchone()[0]),
                "quarantined": int(quarantined.fetchone()[0])}

    def quarantined(self, limit: int) -> list[dict[str, Any]]:
        """The latest quarantined messages, newest last."""
        rows = self.query("select message_id, reason, seen_at from messages where kind = "
                          "'quarantined' order by seen_at desc limit ?", [limit])
        return rows[::-1]

    def failed_count(self) -> int:
        return int(self.db.execute(
            "select count(*) from outbox where status = 'failed'").fetchone()[0])

    def sent_counts(self, referral_ids: Sequence[int]) -> dict[int, int]:
        """Automated steps sent for each of these referrals (answers and notices are not
        counted; absent: none sent)."""
        found: dict[int, int] = {}
        for chunk in _chunks(referral_ids):
            found.update((r[0], r[1]) for r in self.db.execute(
                "select referral_id, count(*) from outbox where referral_id in "
                f"({_marks(chunk)}) and status = 'sent' and kind = 'step' and step not in "
                "('acknowledgement', 'partner_question') group by referral_id",
                list(chunk)).fetchall())
        return found

    def sent_to_each_since(self, recipients: Sequence[str], since: datetime,
                           kind: str | None = None) -> dict[str, int]:
        """Emails (of `kind`, when given) sent to each of `recipients` since `since`."""
        found: dict[str, int] = {}
        for chunk in _chunks(recipients):
            found.update((r[0], r[1]) for r in self.db.execute(
                "select recipient, count(distinct message_id) from outbox where recipient in "
                f"({_marks(chunk)}) and status = 'sent' and sent_at >= ?"
                + (" and kind = ?" if kind else "") + " group by recipient",
                [*chunk, to_db(since), *([kind] if kind else [])]).fetchall())
        return found

    def sent_with_message_ids(self, message_ids: Sequence[str]) -> list[OutboxRow]:
        """Outbox rows mailflow sent (or is sending) under any of these Message-IDs."""
        ids = [m for m in message_ids if m][:50]
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = self.query(f"select * from outbox where message_id in ({marks}) "
                          "and status = 'sent' order by id", ids)
        return [_outbox(r) for r in rows]

    def pending_notice(self, recipient: str, kind: str) -> OutboxRow | None:
        """The first pending notice of `kind` to `recipient`, if any."""
        rows = self.query("select * from outbox where recipient = ? and status = 'pending' "
                          "and kind = 'notice' and step = ? order by id limit 1",
                          [recipient, kind])
        return _outbox(rows[0]) if rows else None

    def step_exists_for_partner(self, step: str, partner: str, other_than: int) -> bool:
        sql = ("select 1 from outbox where step = ? and recipient = ? and referral_id != ? "
               "and kind = 'step' and status in ('pending', 'sent')")
        return self.db.execute(sql, [step, partner, other_than]).fetchone() is not None

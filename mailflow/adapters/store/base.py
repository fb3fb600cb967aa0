"""The one database's connection: pragmas, migrations, transactions, the meta table."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any

import sqlite_utils

from mailflow.adapters.migrations import migrations
from mailflow.core.model import Outcome, Status


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


def _json(text: str | None, empty: Any) -> Any:
    """A JSON column; the common empty value without the decoder (most referrals)."""
    if not text or text in ("[]", "{}"):
        return type(empty)()
    return json.loads(text)


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


def _assignments(fields: dict[str, Any]) -> str:
    """`[a] = ?, [b] = ?` for an update of these columns."""
    return ", ".join(f"[{name}] = ?" for name in fields)



class StoreBase:
    """The connection: pragmas, migrations, transactions, and the meta table."""

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
        # a `whole` block is open: the blocks inside it take no savepoint (see `atomic`)
        self._whole_open = False
        self._whole_failed = False  # an error went through a block inside it
        # what this process wrote and so need not write again (a name already stored, a
        # digest clock already started); forgotten on every rollback, when it may be undone
        self._names_written: dict[str, str] = {}
        self._clocks_started: set[str] = set()
        # each partner's `not:` (None: none said), as read or written here; good while no
        # other connection has written (`_others_wrote`)
        self._avoid_said: dict[str, str | None] = {}
        self._transactions = 0  # begun on this connection
        self._checked_in = -1  # the transaction in which data_version was last read
        self._data_version: int | None = None
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

    def atomic(self, whole: bool = False) -> _Atomic:
        """One transaction (a savepoint when nested) that takes the write lock up front.

        Under WAL a deferred transaction that reads and then writes cannot wait for the
        lock (SQLITE_BUSY whatever busy_timeout says); BEGIN IMMEDIATE waits instead.

        `whole`: the block is undone whole or not at all (ingest's one message), so the
        blocks inside it open no savepoint of their own (a SAVEPOINT and a RELEASE each,
        two of the 12 statements a message took in bench/handle.py). An error raised
        through one of them rolls the whole block back, even if it was caught inside it
        (then the block raises `PartlyFailed` at its end): nothing half done is kept.
        """
        return _Atomic(self, whole)

    @property
    def in_transaction(self) -> bool:
        return self.db.conn.in_transaction

    @property
    def transaction_number(self) -> int:
        """Which of this connection's transactions is open (or was the last)."""
        return self._transactions

    def _forget_written(self) -> None:
        self._names_written.clear()
        self._clocks_started.clear()
        self._avoid_said.clear()
        self.rollbacks += 1

    def _others_wrote(self) -> bool:
        """Whether another connection committed since this was last asked. Asked once
        per transaction (inside one, with the write lock held, no other can write)."""
        in_transaction = self.db.conn.in_transaction
        if in_transaction and self._checked_in == self._transactions:
            return False
        self._checked_in = self._transactions if in_transaction else -1
        version = int(self.db.execute("PRAGMA data_version").fetchone()[0])
        changed = version != self._data_version
        self._data_version = version
        return changed

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

    def rewrite_meta_row(self, rowid: int, fields: dict[str, Any] | None) -> None:
        """An erasure's change to one meta row (`fields` None: deleted)."""
        if fields is None:
            self.db.execute("delete from meta where rowid = ?", [rowid])
        elif fields:
            self.db.execute(f"update meta set {_assignments(fields)} where rowid = ?",
                            [*fields.values(), rowid])

    def privacy_salt(self) -> str:
        """The random salt of pseudonyms and of the hashes of forgotten stops (made by the
        migration that added them)."""
        return self.meta("privacy_salt") or self.installation_id()

    def installation_id(self) -> str:
        """A random id made with the database: it makes our Message-IDs unique to it."""
        return self.meta("installation") or "0"


class PartlyFailed(RuntimeError):
    """A block inside a `whole` one failed, and the error was caught before its end."""


class _Atomic:
    """`StoreBase.atomic`'s block. A class, not a generator: a first run opens some 24,000
    of them (one per message, one per change inside it), and @contextmanager cost 4.5 us
    of the 5.8 each took (bench/ingest.py).

    A nested block's savepoint name is fixed by depth, not random like sqlite-utils' own:
    a new statement text each time missed the statement cache and pushed the hot
    statements out of it (every statement re-prepared: 20-60 us instead of 2-7).
    """

    __slots__ = ("_inner", "_savepoint", "_store", "_whole")

    def __init__(self, store: StoreBase, whole: bool = False) -> None:
        self._store = store
        self._savepoint: str | None = None
        self._whole = whole
        self._inner = False  # inside a whole block: no savepoint of its own

    def __enter__(self) -> None:
        store = self._store
        if store._whole_open:
            self._inner = True
            return
        conn = store.db.conn
        if conn.in_transaction:
            store._depth += 1
            self._savepoint = f"mailflow_{store._depth}"
            conn.execute(f"SAVEPOINT {self._savepoint}")
        else:
            conn.execute("BEGIN IMMEDIATE")
            store._transactions += 1
        if self._whole:
            store._whole_open, store._whole_failed = True, False

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        store = self._store
        if self._inner:
            if kind is not None:
                store._whole_failed = True
            return
        partly = False
        if self._whole:
            store._whole_open = False
            partly = kind is None and store._whole_failed  # an error was caught half-way
        self._end(kind is not None or partly)
        if partly:
            raise PartlyFailed("a block inside a whole one failed: all of it was undone")

    def _end(self, undo: bool) -> None:
        store = self._store
        conn = store.db.conn
        name = self._savepoint
        if name is not None:
            try:
                if undo:
                    store._forget_written()
                    if conn.in_transaction:  # an error may have ended the whole transaction
                        conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                        conn.execute(f"RELEASE SAVEPOINT {name}")
                else:
                    conn.execute(f"RELEASE SAVEPOINT {name}")
            finally:
                store._depth -= 1
            return
        if undo:
            store._forget_written()
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return
        try:
            conn.execute("COMMIT")
        except BaseException:  # a full disk, say: nothing of it was written
            store._forget_written()
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

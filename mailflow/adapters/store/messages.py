"""The messages read (and quarantined) and each folder's cursor."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mailflow.adapters.store.base import (
    StoreBase,
    _assignments,
    _chunks,
    _marks,
    to_db,
)


class MessageTables(StoreBase):
    """The messages read (and quarantined) and each folder's cursor."""

    def has_messages(self) -> bool:
        return self.db.execute("select 1 from messages limit 1").fetchone() is not None

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
                       referral_id: int | None, at: datetime, sender: str | None = None) -> None:
        """`key`: where the source had the message (an IMAP UID, a Maildir file name);
        `sender`: its From address (so that one person's records can be found)."""
        self.db.execute(
            "insert or replace into messages (message_id, folder, place, kind, reason, "
            "referral_id, seen_at, sender) values (?, ?, ?, ?, ?, ?, ?, ?)",
            [message_id, folder, key, str(kind), reason, referral_id, to_db(at), sender])

    def messages(self, kind: str | None = None) -> list[dict[str, Any]]:
        where = "kind = ?" if kind else None
        return list(self.db.table("messages").rows_where(where, [kind] if kind else [],
                                                   order_by="seen_at"))

    def quarantined(self, limit: int) -> list[dict[str, Any]]:
        """The latest quarantined messages, newest last."""
        rows = self.query("select message_id, reason, seen_at from messages where kind = "
                          "'quarantined' order by seen_at desc limit ?", [limit])
        return rows[::-1]

    # erasure and retention -------------------------------------------------
    def rewrite_message_rows(self, table: str, rowid: int, fields: dict[str, Any] | None
                             ) -> None:
        """An erasure's change to one row of `messages` (`fields` None: deleted)."""
        assert table == "messages", table
        if fields is None:
            self.db.execute("delete from messages where rowid = ?", [rowid])
        elif fields:
            self.db.execute(f"update messages set {_assignments(fields)} where rowid = ?",
                            [*fields.values(), rowid])

    def drop_message_records(self, referral_ids: Sequence[int]) -> int:
        """Retention: what the messages recorded about these referrals said of their
        senders. Each Message-ID stays, so that mail still in a folder is never taken for
        new (and an old intro never makes a second referral)."""
        dropped = 0
        for chunk in _chunks(referral_ids):
            dropped += self.db.execute(
                "update messages set sender = null, reason = '' where referral_id in "
                f"({_marks(chunk)}) and (sender is not null or reason != '')",
                chunk).rowcount
        return dropped

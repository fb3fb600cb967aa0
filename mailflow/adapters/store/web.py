"""The web view's sign-in links and sessions."""

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
from mailflow.adapters.store.rows import (
    WebSession,
    _session,
)


class WebTables(StoreBase):
    """The web view's sign-in links and sessions."""

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

    def rewrite_web_rows(self, table: str, rowid: int, fields: dict[str, Any] | None) -> None:
        """An erasure's change to one row of `signins` or `web_sessions` (None: deleted)."""
        if table == "signins":
            if fields is None:
                self.db.execute("delete from signins where rowid = ?", [rowid])
            elif fields:
                self.db.execute(f"update signins set {_assignments(fields)} where rowid = ?",
                                [*fields.values(), rowid])
        elif table == "web_sessions":
            if fields is None:
                self.db.execute("delete from web_sessions where rowid = ?", [rowid])
            elif fields:
                self.db.execute(f"update web_sessions set {_assignments(fields)} "
                                "where rowid = ?", [*fields.values(), rowid])
        else:
            raise ValueError(f"{table} is not a table of the web view")

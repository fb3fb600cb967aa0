"""Reading everything held about one person, across every table that holds people.

`PERSONAL_COLUMNS` is the one list of the columns that hold addresses, names or what
people wrote, read by `mailflow person`, by the erasure (`core.privacy.plan_erasure`) and
by a test that fails when the schema grows a column of that kind this list does not name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mailflow.adapters.store.base import StoreBase, _chunks, _marks

# table -> (columns that hold an address, compared whole; columns of text searched in)
PERSONAL_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "referrals": (("referrer", "client", "partner"),
                  ("candidates", "names", "subject", "context")),
    "events": (("actor",), ("detail",)),
    "undo": (("actor",), ("before",)),
    "outbox": (("recipient",), ("payload", "detail")),
    "messages": (("sender",), ("reason",)),
    "contacts": (("email",), ("name", "undeliverable")),
    "opt_outs": (("email", "by"), ()),
    "pauses": (("email",), ("reason",)),
    "partners": (("added_by",), ("name", "notes")),
    "partner_emails": (("email",), ()),
    "partner_changes": (("actor", "email"), ("detail", "record")),
    "signins": (("email",), ()),
    "web_sessions": (("email",), ("flash",)),
    "forget_requests": (("email",), ()),
    "partner_profiles": (("email",), ("ideal", "avoid")),
    "meta": ((), ("key", "value")),
}


class PeopleTables(StoreBase):
    """Reads across tables: what mentions one person."""

    def rows_about(self, email: str, needles: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Per table, the rows where an address column is `email` or a text column holds
        one of `needles` (lower-case; `instr` on `lower()`: SQLite lowers ASCII only, so
        the caller checks again). Each row carries its `_rowid`; a partner also its
        `_emails`."""
        found: dict[str, list[dict[str, Any]]] = {}
        for table, (exact, text) in PERSONAL_COLUMNS.items():
            where = [f"[{c}] = ?" for c in exact]
            params: list[Any] = [email] * len(exact)
            for column in text:
                for needle in needles:
                    where.append(f"instr(lower([{column}]), ?) > 0")
                    params.append(needle)
            if table == "partners":
                where.append("id in (select partner_id from partner_emails where email = ?)")
                params.append(email)
            if not where:
                continue
            rows = self.query(f"select rowid as _rowid, * from [{table}] where "
                              + " or ".join(where) + " order by rowid", params)
            if table == "partners":
                for row in rows:
                    row["_emails"] = [r[0] for r in self.db.execute(
                        "select email from partner_emails where partner_id = ? order by email",
                        [row["id"]]).fetchall()]
            found[table] = rows
        return found

    def rows_of_referrals(self, referral_ids: Sequence[int]) -> dict[str, list[dict[str, Any]]]:
        """Every event, undo snapshot and email of these referrals, with its `_rowid`."""
        found: dict[str, list[dict[str, Any]]] = {}
        for table in ("events", "undo", "outbox"):
            rows: list[dict[str, Any]] = []
            for chunk in _chunks(referral_ids):
                rows += self.query(f"select rowid as _rowid, * from [{table}] where "
                                   f"referral_id in ({_marks(chunk)}) order by rowid", chunk)
            found[table] = rows
        return found

    def compact(self) -> bool:
        """Leave no deleted byte behind: the WAL copied back and emptied, the file rebuilt
        (VACUUM), and the WAL emptied again. Outside any transaction. False when another
        connection's reading kept the last checkpoint from emptying the WAL (its frames
        are overwritten by the next writes)."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.execute("VACUUM")
        busy = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return not busy or not busy[0]

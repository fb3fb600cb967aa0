"""The one outgoing queue: steps, notices, digests, alerts and sign-in links."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mailflow.adapters.store.base import (
    StoreBase,
    _assignments,
    _chunks,
    _marks,
    from_db,
    to_db,
)
from mailflow.adapters.store.rows import (
    NewStep,
    OutboxRow,
    _outbox,
)
from mailflow.core.model import Status


class OutboxTable(StoreBase):
    """The one outgoing queue: steps, notices, digests, alerts and sign-in links."""

    def pending_of(self, referrer: str | None) -> list[OutboxRow]:
        """Pending emails about `referrer`'s referrals (every email when None)."""
        if referrer is None:
            return self.pending()
        rows = self.query("select o.* from outbox o join referrals r on r.id = o.referral_id "
                          "where o.status = 'pending' and r.referrer = ? "
                          "order by o.due_at, o.id", [referrer])
        return [_outbox(r) for r in rows]

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

    def step_states_of(self, referral_ids: Sequence[int]
                       ) -> dict[int, list[tuple[str, str, datetime, datetime | None]]]:
        """(step, status, due_at, sent_at) of each of these referrals' workflow steps,
        oldest first: what the send choice reads of them. Four columns, not the whole
        rows: for a send's 1000 due referrals (5000 steps) the rows took 25 of the
        170 ms before its first email (bench/schedule.py)."""
        found: dict[int, list[tuple[str, str, datetime, datetime | None]]] = {
            i: [] for i in referral_ids}
        moments: dict[str, datetime] = {}  # a cycle's steps share few due dates
        for chunk in _chunks(referral_ids):
            for referral_id, step, status, due, sent in self.db.conn.execute(
                    "select referral_id, step, status, due_at, sent_at from outbox "
                    f"where referral_id in ({_marks(chunk)}) and kind = 'step' order by id",
                    chunk):
                due_at = moments.get(due)
                if due_at is None:
                    due_at = moments[due] = datetime.fromisoformat(due)
                found[referral_id].append((step, status, due_at, from_db(sent)))
        return found

    def add_outbox(self, referral_id: int | None, step: str, recipient: str, due_at: datetime,
                   *, kind: str, payload: str = "", message_id: str | None = None,
                   answers_at: datetime | None = None) -> int | None:
        """Queue one email that is not a workflow step (a notice, a digest, an alert, a
        sign-in link: `kind`); workflow steps are queued by `add_steps`.

        Returns the new row's id (None when ignored as a duplicate).
        """
        cursor = self.db.execute(
            "insert or ignore into outbox (referral_id, step, recipient, due_at, status, "
            "attempts, kind, payload, message_id, answers_at) "
            "values (?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)",
            [referral_id, step, recipient, to_db(due_at), kind, payload, message_id,
             to_db(answers_at)])
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
        """How many notices of `kind` this person was ever given about this referral (one
        too late to send was not given: an answer to a reply read weeks late)."""
        sql = ("select count(*) from outbox where referral_id = ? and recipient = ? "
               "and kind = 'notice' and step = ? and status != 'missed'")
        return int(self.db.execute(sql, [referral_id, recipient, kind]).fetchone()[0])

    def answer_later(self, referral_id: int, recipient: str, kind: str,
                     written: datetime) -> None:
        """A once-only notice still pending answers a later reply too: dated by that one."""
        self.db.execute(
            "update outbox set answers_at = ? where referral_id = ? and recipient = ? "
            "and kind = 'notice' and step = ? and status = 'pending' and answers_at < ?",
            [to_db(written), referral_id, recipient, kind, to_db(written)])

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

    def due_keys(self, now: datetime) -> list[tuple[int, str, str]]:
        """`due`'s rows as (id, recipient, kind) only, in its order: a large send reads these
        once, and each slice's rows when it comes to them (`still_due`)."""
        rows = self.db.execute(
            "select id, recipient, kind from outbox where status = 'pending' and due_at <= ? "
            "order by due_at, id", [to_db(now)]).fetchall()
        return [(row_id, recipient, kind or "step") for row_id, recipient, kind in rows]

    def still_due(self, ids: Sequence[int], now: datetime) -> list[OutboxRow]:
        """Those of these rows still due by `now`, in due order."""
        # led by the ids, so each is looked up by key: with `id in (...)` the planner walked
        # every due row through the (status, due_at) index
        rows = self.query("select o.* from json_each(?) j cross join outbox o on o.id = j.value "
                          "where o.status = 'pending' and o.due_at <= ? order by o.due_at, o.id",
                          [json.dumps(list(ids)), to_db(now)])
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

    # erasure and retention -------------------------------------------------
    def rewrite_outbox_rows(self, table: str, rowid: int, fields: dict[str, Any] | None
                            ) -> None:
        """An erasure's change to one row of `outbox` (`fields` None: deleted)."""
        assert table == "outbox", table
        if fields is None:
            self.db.execute("delete from outbox where rowid = ?", [rowid])
        elif fields:
            self.db.execute(f"update outbox set {_assignments(fields)} where rowid = ?",
                            [*fields.values(), rowid])

    def clear_payloads(self, referral_ids: Sequence[int]) -> None:
        """Retention: what the emails about these referrals said (a relayed note, a need);
        the rows stay, counted."""
        for chunk in _chunks(referral_ids):
            self.db.execute(f"update outbox set payload = '' where referral_id in "
                            f"({_marks(chunk)}) and status != 'pending' and payload != ''",
                            chunk)

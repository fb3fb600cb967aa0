"""Referrals, their events and undo snapshots, planning marks and digest clocks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mailflow.adapters.store.base import (
    StoreBase,
    _assignments,
    _chunks,
    _db_values,
    _marks,
    from_db,
    to_db,
)
from mailflow.adapters.store.rows import (
    _referral,
)
from mailflow.core.correlate import base_subject
from mailflow.core.ledger import ReferralSummary
from mailflow.core.model import Event, Outcome, Referral, Status

_IN_THREAD = ("select 0, id from referrals where intro_message_id = ? union all "
              "select 1, referral_id from outbox where message_id = ? union all "
              "select 2, referral_id from messages where message_id = ? "
              "and referral_id is not null")


class ReferralTables(StoreBase):
    """Referrals, their events and undo snapshots, planning marks and digest clocks."""

    def referral_row(self, referral_id: int) -> dict[str, Any]:
        rows = self.query("select * from referrals where id = ?", [referral_id])
        if not rows:
            raise KeyError(f"no referral {referral_id}")
        return rows[0]

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

    # referrals ------------------------------------------------------------
    def add_referral(self, **fields: Any) -> Referral:
        row, referral_id = self._insert_referral(fields)
        # the row as stored, made here: RETURNING * (which SQLite collects in a temporary
        # table) and its conversion took three times the insert (6,555 intros: 0.39 s)
        return _referral({**self._referral_defaults, **row, "id": referral_id})

    def insert_referral(self, **fields: Any) -> int:
        """`add_referral` for a caller that needs only the new id (ingest's intros): the
        Referral made from the row took a quarter of the insert's time."""
        return self._insert_referral(fields)[1]

    def _insert_referral(self, fields: dict[str, Any]) -> tuple[dict[str, Any], int]:
        row = _db_values(fields)
        row["candidates"] = json.dumps(list(fields.get("candidates", ())))
        row["names"] = json.dumps(dict(fields.get("names", {})))
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        cursor = self.db.execute(f"insert into referrals ({columns}) values ({marks})",
                                 list(row.values()))
        assert cursor.lastrowid is not None
        return row, cursor.lastrowid

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
               "closed_at, rating, value from referrals"
               + (" where referrer = ?" if referrer is not None else "") + " order by id")
        statuses = {s.value: s for s in Status}
        outcomes = {o.value: o for o in Outcome}
        out = []
        for (rid, partner, direction, status, outcome, created, contacted, closed,
             rating, value) in self.db.execute(sql,
                                               [referrer] if referrer is not None else []):
            out.append(ReferralSummary(
                rid, partner, direction or "given", statuses[status],
                outcomes.get(outcome) if outcome else None,
                datetime.fromisoformat(created), from_db(contacted), from_db(closed), rating,
                value))
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

    def consent_answers(self, referrer: str | None) -> dict[int, tuple[str, datetime]]:
        """Per referral that asked its client first and was answered: the answer's event
        detail and time (the latest)."""
        sql = ("select e.referral_id, e.detail, e.at from events e "
               + ("join referrals r on r.id = e.referral_id where r.referrer = ? and "
                  if referrer is not None else "where ")
               + "e.kind = 'consent' order by e.id")
        out: dict[int, tuple[str, datetime]] = {}
        for referral_id, detail, at in self.db.execute(sql, [referrer] if referrer else []):
            moment = from_db(at)
            if moment is not None:
                out[referral_id] = (detail or "", moment)
        return out

    def update_referral(self, referral_id: int, **fields: Any) -> None:
        if not self._update("referrals", "id", referral_id, _db_values(fields)):
            raise KeyError(f"no referral {referral_id}")

    def open_with_subject(self, subject: str) -> list[Referral]:
        """Referrals not closed whose intro subject folds to `subject` (see base_subject)."""
        rows = self.query("select * from referrals where status != 'closed' and "
                          "lower(subject) like ?", [f"%{subject[-40:]}"])
        return [_referral(r) for r in rows if base_subject(r["subject"] or "") == subject]

    def open_received(self, referrer: str, partner: str, client: str) -> Referral | None:
        """The open referral `partner` sent `referrer` for `client`, if there is one."""
        rows = self.query("select * from referrals where direction = 'received' and "
                          "status != 'closed' and referrer = ? and partner = ? and client = ? "
                          "order by id limit 1", [referrer, partner, client])
        return _referral(rows[0]) if rows else None

    def referrals_in_thread(self, message_ids: tuple[str, ...]) -> list[int]:
        """Referrals whose intro, our mail or a recorded reply has one of these Message-IDs."""
        found: list[int] = []
        for mid in message_ids:
            # one statement, not three (a reply took three here, bench/handle.py); the
            # sort by part, stable, keeps the order the three queries had
            rows = self.db.execute(_IN_THREAD, [mid, mid, mid]).fetchall()
            for _, rid in sorted(rows, key=lambda row: int(row[0])):
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

    def notes_of(self, referral_ids: Sequence[int]) -> dict[int, list[str]]:
        """The notes and needs said about each of these referrals, oldest first."""
        found: dict[int, list[str]] = {i: [] for i in referral_ids}
        for chunk in _chunks(referral_ids):
            for row in self.db.execute(
                    f"select referral_id, detail from events where referral_id in ({_marks(chunk)})"
                    " and kind in ('note', 'need') order by id", list(chunk)).fetchall():
                found.setdefault(row[0], []).append(row[1] or "")
        return found

    def consent_events(self, referral_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """The latest (kind, detail) of each referral's consent events, for those that
        have one (`core.decisions.consent_of` reads it)."""
        found: dict[int, tuple[str, str]] = {}
        for chunk in _chunks(referral_ids):
            for row in self.db.execute(
                    f"select referral_id, kind, detail from events where referral_id in "
                    f"({_marks(chunk)}) and kind in ('consent-asked', 'consent') order by id",
                    list(chunk)).fetchall():
                found[row[0]] = (row[1], row[2] or "")
        return found

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

    def open_referrals_of(self, email: str) -> list[Referral]:
        rows = self.query("select * from referrals where status != 'closed' and "
                          "(referrer = ? or client = ? or partner = ?) order by id",
                          [email, email, email])
        return [_referral(r) for r in rows]

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

    # erasure and retention -------------------------------------------------
    def rewrite_referral_rows(self, table: str, rowid: int, fields: dict[str, Any] | None
                              ) -> None:
        """An erasure's change to one row of `referrals`, `events` or `undo` (`fields`
        None: deleted)."""
        if table == "referrals":
            if fields is None:
                raise ValueError("a referral is never deleted: its counts are the ledger's")
            if fields:
                self.db.execute(f"update referrals set {_assignments(fields)} where rowid = ?",
                                [*fields.values(), rowid])
        elif table == "events":
            if fields is None:
                self.db.execute("delete from events where rowid = ?", [rowid])
            elif fields:
                self.db.execute(f"update events set {_assignments(fields)} where rowid = ?",
                                [*fields.values(), rowid])
        elif table == "undo":
            if fields is None:
                self.db.execute("delete from undo where rowid = ?", [rowid])
            elif fields:
                self.db.execute(f"update undo set {_assignments(fields)} where rowid = ?",
                                [*fields.values(), rowid])
        else:
            raise ValueError(f"{table} is not a table of referrals")

    def closed_before(self, cutoff: datetime) -> list[int]:
        """Referrals closed before `cutoff` whose texts retention has not dropped yet."""
        return [r[0] for r in self.db.execute(
            "select id from referrals where status = 'closed' and closed_at < ? "
            "and expired_at is null order by id", [to_db(cutoff)]).fetchall()]

    def expire_texts(self, referral_ids: Sequence[int], kinds: Sequence[str],
                     at: datetime) -> None:
        """Retention: the intro's text and the names it showed, the text of the events of
        `kinds` (what people wrote) and the undo snapshots go; the referral, its outcome
        and its events (the ledger's counts) stay."""
        for chunk in _chunks(referral_ids):
            marks = _marks(chunk)
            self.db.execute(f"update referrals set context = '', names = '{{}}', "
                            f"expired_at = ? where id in ({marks})", [to_db(at), *chunk])
            self.db.execute(f"update events set detail = '' where referral_id in ({marks}) "
                            f"and kind in ({_marks(kinds)})", [*chunk, *kinds])
            self.db.execute(f"delete from undo where referral_id in ({marks})", chunk)

    def expired_count(self) -> int:
        return int(self.db.execute(
            "select count(*) from referrals where expired_at is not null").fetchone()[0])

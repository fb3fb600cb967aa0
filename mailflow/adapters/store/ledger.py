"""The partner ledger's figures, added up by SQLite: one row per partner, not one object
per referral read into Python.

A partner is a directory partner (its id) or, for an address no partner has, that
address. What `core.ledger.compute_ledger` counts from each referral is counted here the
same way, and `tests/integration/test_ledger_sql.py` checks that the two agree. Medians
are taken by SQLite's window functions: only the middle value (or the two middle values)
of each partner is read.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from mailflow.adapters.store.base import StoreBase, from_db, to_db
from mailflow.adapters.store.rows import _referral
from mailflow.core.ledger import PartnerTotals
from mailflow.core.model import Event, Referral

# the referrals in scope, each with its partner: the directory's id, or -1 and the address
_SCOPED = """
with scoped as (
  select r.id, r.partner, (r.direction is 'received') as received, r.status, r.outcome,
         r.created_at, r.contacted_at, r.closed_at, r.rating,
         coalesce(p.partner_id, -1) as pid,
         iif(p.partner_id is null, r.partner, '') as address
  from referrals r left join partner_emails p on p.email = r.partner
  where r.partner is not null {where}
)
"""

_TOTALS = _SCOPED + """
select pid, address, count(*) - sum(received), sum(received),
  sum(not received and not (status = 'closed' and closed_at is not null)),
  sum(not received and status = 'closed' and closed_at is not null
      and coalesce(outcome, '') = 'won'),
  sum(not received and status = 'closed' and closed_at is not null
      and coalesce(outcome, '') = 'lost'),
  sum(not received and status = 'closed' and closed_at is not null
      and coalesce(outcome, '') not in ('won', 'lost')),
  max(iif(received, null, created_at)), max(iif(received, created_at, null))
from scoped group by pid, address
"""

# the middle one or two of each partner's values (statistics.median reads no others)
_MIDDLE = _SCOPED + """
, valued as (select pid, address, {value} as value from scoped where {which})
select pid, address, value from (
  select pid, address, value,
         row_number() over (partition by pid, address order by value) as n,
         count(*) over (partition by pid, address) as c
  from valued)
where n = (c + 1) / 2 or n = c / 2 + 1
order by pid, address, n
"""
_SECONDS = "(cast(strftime('%s', {0}) as integer) - cast(strftime('%s', created_at) as integer))"
_HOURS = ("max(" + _SECONDS.format("contacted_at") + " / 3600.0, 0.0)",
          "not received and contacted_at is not null")
_DAYS = (_SECONDS.format("closed_at") + " / 86400.0",
         "not received and status = 'closed' and closed_at is not null")

_RATINGS = _SCOPED + """
select pid, address, rating from scoped
where not received and rating is not null order by id
"""

# the last time the partner was heard on one of its referrals (any of its addresses)
_HEARD = _SCOPED + """
select s.pid, s.address, max(e.at) from scoped s join events e on e.referral_id = s.id
where e.actor not in ('mailflow', 'cli') and (
  e.actor = s.partner or (s.pid != -1 and e.actor in (
    select email from partner_emails where partner_id = s.pid)))
group by s.pid, s.address
"""


class LedgerTables(StoreBase):
    """The ledger's figures per partner, the referrals per month of its chart, and what
    the weekly digest lists: each read without reading every referral and event."""

    def referrers(self) -> list[str]:
        """Every referrer with a referral, in the order of their first."""
        return [r[0] for r in self.db.execute(
            "select referrer from referrals group by referrer order by min(id)")]

    def waiting_given(self) -> list[Referral]:
        """The referrals we gave that are not closed, in order."""
        return [_referral(r) for r in self.query(
            "select * from referrals where status != 'closed' "
            "and coalesce(nullif(direction, ''), 'given') = 'given' order by id")]

    def needs_since(self, since: datetime) -> list[tuple[str, int, Event]]:
        """Every "need" said at or after `since`: (referrer, referral id, event), in order."""
        out = []
        for referrer, referral_id, at, kind, actor, detail in self.db.execute(
                "select r.referrer, e.referral_id, e.at, e.kind, e.actor, e.detail "
                "from events e join referrals r on r.id = e.referral_id "
                "where e.kind = 'need' and e.at >= ? order by e.id", [to_db(since)]):
            moment = from_db(at)
            assert moment is not None
            out.append((referrer, referral_id, Event(moment, kind, actor, detail or "")))
        return out

    def ledger_totals(self, referrer: str | None = None,
                      since: datetime | None = None) -> dict[tuple[int, str], PartnerTotals]:
        """The figures of `referrer`'s referrals (everyone's when None) created at or after
        `since` (all when None), per partner: (directory id, "") or (-1, address)."""
        where, values = self._scope(referrer, since)
        totals: dict[tuple[int, str], PartnerTotals] = {}
        for (pid, address, given, received, opened, won, lost, done, last_given,
             last_received) in self.db.execute(_TOTALS.format(where=where), values):
            totals[pid, address] = PartnerTotals(
                given, received, opened, won, lost, done, from_db(last_given),
                from_db(last_received))
        for key, value in self._rows(_MIDDLE, where, values, _HOURS):
            totals[key].middle_hours_to_contact.append(value)
        for key, value in self._rows(_MIDDLE, where, values, _DAYS):
            totals[key].middle_days_to_close.append(value)
        for key, value in self._rows(_RATINGS, where, values):
            totals[key].ratings.append(value)
        for key, value in self._rows(_HEARD, where, values):
            totals[key].last_heard = from_db(value)
        return totals

    def referrals_between(self, bounds: list[datetime], referrer: str | None = None) -> list[int]:
        """How many of `referrer`'s referrals (everyone's when None) were created in each
        span [bounds[i], bounds[i + 1])."""
        if len(bounds) < 2:
            return []
        edges = [to_db(b) for b in bounds]
        spans = ", ".join("sum(created_at >= ? and created_at < ?)" for _ in edges[1:])
        values: list[Any] = [v for pair in itertools.pairwise(edges) for v in pair]
        where = " where created_at >= ? and created_at < ?"
        values += [edges[0], edges[-1]]
        if referrer is not None:
            where += " and referrer = ?"
            values.append(referrer)
        row = self.db.execute(f"select {spans} from referrals{where}", values).fetchone()
        return [int(n or 0) for n in row]

    def referral_span(self, referrer: str | None = None,
                      since: datetime | None = None) -> tuple[datetime, datetime] | None:
        """When the first and the last of those referrals were created (None: there are none)."""
        where, values = self._scope(referrer, since)
        row = self.db.execute(
            "select min(created_at), max(created_at) from referrals r where 1"
            + where, values).fetchone()
        first, last = from_db(row[0]), from_db(row[1])
        return (first, last) if first is not None and last is not None else None

    @staticmethod
    def _scope(referrer: str | None, since: datetime | None) -> tuple[str, list[Any]]:
        where = ""
        values: list[Any] = []
        if referrer is not None:
            where += " and r.referrer = ?"
            values.append(referrer)
        if since is not None:
            where += " and r.created_at >= ?"
            values.append(to_db(since))
        return where, values

    def _rows(self, sql: str, where: str, values: list[Any],
              valued: tuple[str, str] | None = None) -> Iterator[tuple[tuple[int, str], Any]]:
        query = (sql.format(where=where, value=valued[0], which=valued[1]) if valued
                 else sql.format(where=where))
        for pid, address, value in self.db.execute(query, values):
            yield (pid, address), value

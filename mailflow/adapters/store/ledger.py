"""The partner ledger summed in SQL: per partner counts, sums, latest moments and the
middle values of the medians, without reading each referral into Python."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from mailflow.adapters.store.base import StoreBase, from_db, to_db
from mailflow.core.ledger import PartnerTally

# the referrals a ledger counts (compute_ledger's rule): a partner, not waiting for the
# client's consent, not declined by them (`a`: the consent answer, yes with its time or no)
_JOINS = """from referrals r
  left join partner_emails pe on pe.email = r.partner
  left join answers a on a.id = r.id"""
_COUNTS = """r.partner is not null and r.status != 'awaiting_consent'
  and (a.id is null or a.yes_at is not null)"""
_ANSWERS = "answers(id, yes_at) as (select cast(key as integer), value from json_each(:answers))"
_COUNTED = f"""{_ANSWERS},
counted as (
  select r.id, pe.partner_id as pid, case when pe.partner_id is null then r.partner end
         as address, coalesce(r.direction = 'received', 0) as got, r.status, r.outcome,
         r.created_at, r.contacted_at, r.closed_at, r.rating, r.value, a.yes_at
  {_JOINS} where {_COUNTS} {{scope}})"""

_SUMS = f"""with {_COUNTED}
select pid, address, sum(not got), sum(got),
  sum(not got and not (status = 'closed' and closed_at is not null)),
  sum(not got and status = 'closed' and closed_at is not null and outcome = 'won'),
  sum(not got and status = 'closed' and closed_at is not null and outcome = 'lost'),
  sum(not got and status = 'closed' and closed_at is not null
      and coalesce(outcome, '') not in ('won', 'lost')),
  total(case when not got then value end), total(case when got then value end),
  max(case when not got then created_at end), max(case when got then created_at end),
  max(created_at),
  group_concat(case when not got and rating is not null then id || ':' || rating end)
from counted group by pid, address"""

# the middle one or two values of each partner's sorted seconds
_MIDDLE = """with {counted},
values_(pid, address, secs) as (select pid, address, {secs} from counted where {where}),
ranked as (select pid, address, secs,
  row_number() over (partition by pid, address order by secs) as n,
  count(*) over (partition by pid, address) as c from values_)
select pid, address, secs from ranked where n in ((c + 1) / 2, (c + 2) / 2)"""
_CONTACT = _MIDDLE.format(
    counted=_COUNTED,
    secs="unixepoch(contacted_at) - unixepoch(max(created_at, coalesce(yes_at, created_at)))",
    where="not got and contacted_at is not null")
_CLOSE = _MIDDLE.format(counted=_COUNTED, secs="unixepoch(closed_at) - unixepoch(created_at)",
                        where="not got and status = 'closed' and closed_at is not null")

# each partner address's latest word on a counted referral of its own partner: walked
# backwards through the (actor, at) index, so that it stops at the first
_SPOKE = f"""with {_ANSWERS},
speakers(actor, pid) as (select value ->> 0, value ->> 1 from json_each(:speakers))
select s.pid, case when s.pid is null then s.actor end, (
  select e.at from events e join referrals r on r.id = e.referral_id
  left join partner_emails pe on pe.email = r.partner left join answers a on a.id = r.id
  where e.actor = s.actor and {_COUNTS} {{scope}}
    and (pe.partner_id = s.pid or (s.pid is null and pe.partner_id is null
                                   and r.partner = s.actor))
  order by e.at desc limit 1)
from speakers s"""


def _scope(referrer: str | None, since: datetime | None) -> str:
    """The clauses that keep to one referrer and a period (spelt out, so that an index
    serves them)."""
    return ((" and r.referrer = :referrer" if referrer is not None else "")
            + (" and r.created_at >= :since" if since is not None else ""))


class LedgerTables(StoreBase):
    """The ledger's sums."""

    def ledger_tallies(self, referrer: str | None, since: datetime | None,
                       consented: Mapping[int, datetime], declined: Sequence[int],
                       directory: Mapping[int, Sequence[str]]) -> list[PartnerTally]:
        """Per partner of the counted referrals of `referrer` (all when None) created at or
        after `since`; `directory`: each directory partner's addresses, by id."""
        answers = json.dumps({**{str(i): to_db(at) for i, at in consented.items()},
                              **{str(i): None for i in declined}})
        params = {"answers": answers, "referrer": referrer, "since": to_db(since)}
        conn = self.db.conn
        scope = _scope(referrer, since)
        middles: dict[tuple[str, int | None, str | None], list[int]] = {}
        for what, sql in (("contact", _CONTACT), ("close", _CLOSE)):
            for pid, address, secs in conn.execute(sql.format(scope=scope), params):
                middles.setdefault((what, pid, address), []).append(secs)
        sums = conn.execute(_SUMS.format(scope=scope), params).fetchall()
        speakers = [[e, pid] for pid, emails in directory.items() for e in emails]
        speakers += [[address, None] for pid, address, *_ in sums if pid is None]
        spoke: dict[tuple[int | None, str | None], str] = {}
        for pid, address, at in conn.execute(_SPOKE.format(scope=scope), {**params,
                                                      "speakers": json.dumps(speakers)}):
            if at is not None and at > spoke.get((pid, address), ""):
                spoke[(pid, address)] = at
        tallies = []
        for (pid, address, given, received, open_, won, lost, done, value_given,
             value_received, last_given, last_received, created, rated) in sums:
            ratings = sorted((int(i), int(r)) for i, r in
                             (x.split(":") for x in (rated or "").split(",") if x))
            last = max(created, spoke.get((pid, address), ""))
            tallies.append(PartnerTally(
                pid, address, given, received, open_, won, lost, done, value_given,
                value_received, from_db(last_given), from_db(last_received), from_db(last),
                tuple(middles.get(("contact", pid, address), ())),
                tuple(middles.get(("close", pid, address), ())),
                tuple(r for _, r in ratings)))
        return tallies

    def month_counts(self, referrer: str | None, since: datetime | None,
                     bounds: Sequence[tuple[datetime, datetime]]) -> list[int]:
        """How many of `referrer`'s referrals (all when None) created since `since` were
        created in each of these [start, end) spans."""
        spans = json.dumps([[to_db(a), to_db(b)] for a, b in bounds])
        return [n for (n,) in self.db.conn.execute(
            "select (select count(*) from referrals r where r.created_at >= s.value ->> 0 "
            f"and r.created_at < s.value ->> 1{_scope(referrer, since)}) "
            "from json_each(:spans) s order by s.key",
            {"referrer": referrer, "since": to_db(since), "spans": spans})]

    def created_span(self, referrer: str | None, since: datetime | None
                     ) -> tuple[datetime, datetime] | None:
        """The first and last creation of `referrer`'s referrals (all when None) since
        `since`, or None when there is none."""
        first, last = self.db.conn.execute(
            "select min(r.created_at), max(r.created_at) from referrals r where 1 = 1"
            + _scope(referrer, since), {"referrer": referrer, "since": to_db(since)}).fetchone()
        start, end = from_db(first), from_db(last)
        return (start, end) if start and end else None

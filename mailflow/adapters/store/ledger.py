"""The partner ledger summed in SQL: per partner counts, sums, latest moments and the
seconds of the medians, without reading each referral whole into Python."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mailflow.adapters.store.base import StoreBase, from_db, to_db
from mailflow.core.ledger import PartnerTally

# the referrals a ledger counts (compute_ledger's rule): a partner, not waiting for the
# client's consent, not declined by them (`a`: the consent answer, yes with its time or no)
_ANSWERS = "answers(id, yes_at) as (select cast(key as integer), value from json_each(:answers))"
_COUNTS = "r.partner is not null and r.status != 'awaiting_consent'"
_ANSWERED = " and (a.id is null or a.yes_at is not null)"
_COUNTED = """{answers}counted as (
  select r.partner, r.direction, r.status, r.outcome, r.created_at, r.contacted_at,
         r.closed_at, r.rating, r.value, {yes_at}
  from referrals r {join} where {counts})"""

# per partner address and direction, walked in idx_referrals_partner_ledger's order, so
# that nothing is sorted: counts, values, the latest intro, the ratings, and each
# referral's seconds to first contact (from the client's yes, when asked: {start}) and to
# closing, as JSON arrays (one row per group, not one per referral: at 100,000 each row
# read into Python costs, and json reads numbers twice as fast as int() does); the caller
# adds up per partner, and reads only the given's ratings and times
_SHUT = "(status = 'closed' and closed_at is not null)"
_SUMS = f"""with {{counted}}
select partner, direction, count(*), total(value), max(created_at),
  count(*) filter (where not {_SHUT}), count(*) filter (where {_SHUT} and outcome = 'won'),
  count(*) filter (where {_SHUT} and outcome = 'lost'),
  json_group_array(rating) filter (where rating is not null),
  json_group_array(unixepoch(contacted_at) - unixepoch({{start}}))
    filter (where contacted_at is not null),
  json_group_array(unixepoch(closed_at) - unixepoch(created_at)) filter (where {_SHUT})
from counted group by partner, direction"""

# each partner address's latest word on a counted referral of its own partner (the same
# directory partner, or the address itself): walked backwards through the (actor, at)
# index, so that it stops at the first
_SPOKE = """with {answers}speakers(actor, pid) as (
  select value ->> 0, value ->> 1 from json_each(:speakers))
select s.actor, (
  select e.at from events e join referrals r on r.id = e.referral_id {join}
  left join partner_emails pe on pe.email = r.partner
  where e.actor = s.actor and {counts}
    and (pe.partner_id = s.pid or (s.pid is null and r.partner = s.actor))
  order by e.at desc limit 1)
from speakers s"""


def _known(seconds: list[Any]) -> list[int]:
    """`seconds` without the nulls of a time SQLite could not read (compute_ledger cannot
    read such a time either)."""
    return [s for s in seconds if s is not None] if None in seconds else seconds


def _middle(values: list[int]) -> tuple[int, ...]:
    """The one or two middle values of the sorted `values`: all a median needs."""
    values.sort()
    n = len(values)
    return tuple(values[(n - 1) // 2:n // 2 + 1])


@dataclass
class _Sums:
    counts: list[int] = field(default_factory=lambda: [0] * 6)
    values: list[float] = field(default_factory=lambda: [0.0, 0.0])
    last: list[str] = field(default_factory=lambda: ["", "", ""])
    ratings: list[int] = field(default_factory=list)
    contact: list[int] = field(default_factory=list)
    close: list[int] = field(default_factory=list)


def _scope(referrer: str | None, since: datetime | None, walk: bool = False) -> str:
    """The clauses that keep to one referrer and a period (spelt out, so that an index
    serves them; `walk`: over all time, not the referrer's index, so that the sums walk
    the partner index instead of sorting the referrer's rows)."""
    unindexed = "+" if walk and since is None else ""
    return ((f" and {unindexed}r.referrer = :referrer" if referrer is not None else "")
            + (" and r.created_at >= :since" if since is not None else ""))


class LedgerTables(StoreBase):
    """The ledger's sums."""

    def ledger_tallies(self, referrer: str | None, since: datetime | None,
                       consented: Mapping[int, datetime], declined: Sequence[int],
                       directory: Mapping[int, Sequence[str]]) -> list[PartnerTally]:
        """Per partner of the counted referrals of `referrer` (all when None) created at or
        after `since`; `directory`: each directory partner's addresses, by id."""
        answers = {**{str(i): to_db(at) for i, at in consented.items()},
                   **{str(i): None for i in declined}}
        params = {"answers": json.dumps(answers), "referrer": referrer,
                  "since": to_db(since)}
        # without answers the join is left out: it costs a lookup per referral
        parts = {"answers": f"{_ANSWERS}, " if answers else "",
                 "join": "left join answers a on a.id = r.id" if answers else "",
                 "counts": _COUNTS + (_ANSWERED if answers else "")
                 + _scope(referrer, since, walk=True)}
        counted = _COUNTED.format(yes_at="a.yes_at" if answers else "null as yes_at", **parts)
        start = "max(created_at, coalesce(yes_at, created_at))" if answers else "created_at"
        owner = {e: pid for pid, emails in directory.items() for e in emails}
        sums: dict[int | str, _Sums] = {}
        conn = self.db.conn
        for (partner, direction, n, value, created, still_open, won, lost, ratings,
             to_contact, to_close) in conn.execute(_SUMS.format(counted=counted, start=start),
                                                   params):
            got = direction == "received"
            tally = sums.setdefault(owner.get(partner, partner), _Sums())
            tally.counts[1 if got else 0] += n
            tally.values[1 if got else 0] += value
            tally.last[1 if got else 0] = max(tally.last[1 if got else 0], created)
            tally.last[2] = max(tally.last[2], created)
            if got:
                continue
            # open, won, lost, done: compute_ledger's order of PartnerLedger's fields
            for i, count in enumerate((still_open, won, lost, n - still_open - won - lost)):
                tally.counts[2 + i] += count
            tally.ratings += json.loads(ratings)
            tally.contact += _known(json.loads(to_contact))
            tally.close += _known(json.loads(to_close))
        speakers = [[e, pid] for pid, emails in directory.items() for e in emails if pid in sums]
        speakers += [[key, None] for key in sums if isinstance(key, str)]
        for actor, at in conn.execute(_SPOKE.format(**parts), {
                **params, "speakers": json.dumps(speakers)}):
            tally = sums[owner.get(actor, actor)]
            tally.last[2] = max(tally.last[2], at or "")
        return [PartnerTally(
            key if isinstance(key, int) else None, key if isinstance(key, str) else None,
            t.counts[0], t.counts[1], t.counts[2], t.counts[3], t.counts[4], t.counts[5],
            t.values[0], t.values[1], from_db(t.last[0] or None), from_db(t.last[1] or None),
            from_db(t.last[2] or None), _middle(t.contact), _middle(t.close),
            tuple(sorted(t.ratings))) for key, t in sums.items()]

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
        # one query each: SQLite reads a min() or a max() alone off the index's end, but
        # both in one query scan every row between (18 ms at 100,000 referrals)
        ends = [f"(select {end}(r.created_at) from referrals r where 1 = 1"
                f"{_scope(referrer, since)})" for end in ("min", "max")]
        first, last = self.db.conn.execute(f"select {', '.join(ends)}", {
            "referrer": referrer, "since": to_db(since)}).fetchone()
        start, end = from_db(first), from_db(last)
        return (start, end) if start and end else None

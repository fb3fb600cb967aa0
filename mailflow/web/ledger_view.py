"""The ledger page's charts and its period (this quarter, this year, all), from plain rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from mailflow.adapters.store import Store
from mailflow.core.charts import BLUE, GREEN, GREY, Chart, Series, bar_chart

PERIODS = {"quarter": "This quarter", "year": "This year", "all": "All time"}


def period_start(period: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    """The first moment of the period in the firm's time zone, or None for all time."""
    local = now.astimezone(zone)
    if period == "quarter":
        month = 3 * ((local.month - 1) // 3) + 1
        return local.replace(month=month, day=1, hour=0, minute=0, second=0, microsecond=0)
    if period == "year":
        return local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return None


def month_starts(first: datetime, last: datetime, zone: ZoneInfo) -> list[datetime]:
    """The first moment of each month in the firm's time zone from `first`'s month to the
    month after `last`'s: the edges of the per-month chart's spans."""
    local = first.astimezone(zone)
    year, month = local.year, local.month
    end = last.astimezone(zone)
    starts = []
    while (year, month) <= (end.year, end.month):
        starts.append(datetime(year, month, 1, tzinfo=zone))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return [*starts, datetime(year, month, 1, tzinfo=zone)]


def per_month(counts: Sequence[int], starts: Sequence[datetime]) -> list[tuple[str, int]]:
    """("Nov 2026", referrals) for each month with any, in order."""
    return [(start.strftime("%b %Y"), count) for start, count in zip(starts, counts,
                                                                   strict=False) if count]


def ledger_charts(rows: Sequence[dict[str, Any]], months: Sequence[tuple[str, int]]
                  ) -> dict[str, Chart]:
    """Given and received, hours to first contact, rating, outcomes, and per month."""
    names = [r["name"] or r["email"] for r in rows]
    given = bar_chart([(n, [r["given"], r["received"]]) for n, r in zip(names, rows, strict=True)],
                      [Series("given", "given to the partner", BLUE),
                       Series("received", "sent back by the partner", GREEN)])
    contact = bar_chart([(n, [r["median_hours_to_contact"]])
                         for n, r in zip(names, rows, strict=True) if r["given"]],
                        [Series("hours", "median hours", BLUE)], missing="no contact yet",
                        unit="h")
    ratings = bar_chart([(n, [r["average_rating"]])
                         for n, r in zip(names, rows, strict=True) if r["given"]],
                        [Series("rating", "mean rating", GREEN)], missing="no rating yet",
                        top=5)
    closed = {k: sum(r[k] for r in rows) for k in ("won", "lost", "done")}
    outcomes = bar_chart([(k, [n]) for k, n in closed.items()] if any(closed.values()) else [],
                         [Series("closed", "referrals", GREY)])
    per_month = bar_chart([(m, [n]) for m, n in months], [Series("month", "referrals", BLUE)])
    return {"chart": given, "contact": contact, "ratings": ratings, "outcomes": outcomes,
            "months": per_month}


def referral_months(store: Store, referrer: str | None, since: datetime | None,
                    zone: ZoneInfo) -> list[tuple[str, int]]:
    """The per-month chart's bars: `referrer`'s referrals (everyone's when None) created
    at or after `since`, counted per month of the firm's time zone by the store."""
    span = store.referral_span(referrer, since)
    if span is None:
        return []
    starts = month_starts(*span, zone)
    edges = [max(starts[0], since) if since is not None else starts[0], *starts[1:]]
    return per_month(store.referrals_between(edges, referrer), starts)

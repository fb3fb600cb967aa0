"""The ledger page's charts and its period (this quarter, this year, all), from plain rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from mailflow.adapters.store import Store
from mailflow.core.charts import BLUE, GREEN, GREY, Chart, Series, bar_chart

PERIODS = {"quarter": "This quarter", "year": "This year", "all": "All time"}
# the partners a per-partner chart draws: more bars than this no one reads on a phone (and
# at 500 partners the page was 700 kB); the table under the charts lists every partner
CHART_PARTNERS = 15


def period_start(period: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    """The first moment of the period in the firm's time zone, or None for all time."""
    local = now.astimezone(zone)
    if period == "quarter":
        month = 3 * ((local.month - 1) // 3) + 1
        return local.replace(month=month, day=1, hour=0, minute=0, second=0, microsecond=0)
    if period == "year":
        return local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return None


def month_spans(first: datetime, last: datetime, zone: ZoneInfo
                ) -> list[tuple[str, datetime, datetime]]:
    """Each month of the firm's time zone from `first`'s to `last`'s: its name, its first
    moment and the next month's."""
    local = first.astimezone(zone).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    spans = []
    while local <= last:
        following = local.replace(year=local.year + local.month // 12,
                                  month=local.month % 12 + 1)
        spans.append((local.strftime("%b %Y"), local, following))
        local = following
    return spans


def charted(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows the per-partner charts draw: the CHART_PARTNERS partners with the most
    referrals given and received, in the table's order."""
    most = sorted(range(len(rows)), key=lambda i: -(rows[i]["given"] + rows[i]["received"]))
    return [rows[i] for i in sorted(most[:CHART_PARTNERS])]


def ledger_charts(rows: Sequence[dict[str, Any]], everyone: Sequence[dict[str, Any]],
                  months: Sequence[tuple[str, int]]) -> dict[str, Chart]:
    """Given and received, hours to first contact and rating of `rows` (those `charted`
    picks); the outcomes of `everyone`; and the referrals per month."""
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
    closed = {k: sum(r[k] for r in everyone) for k in ("won", "lost", "done")}
    outcomes = bar_chart([(k, [n]) for k, n in closed.items()] if any(closed.values()) else [],
                         [Series("closed", "referrals", GREY)])
    per_month = bar_chart([(m, [n]) for m, n in months], [Series("month", "referrals", BLUE)])
    return {"chart": given, "contact": contact, "ratings": ratings, "outcomes": outcomes,
            "months": per_month}


def referrals_per_month(store: Store, referrer: str | None, since: datetime | None,
                        zone: ZoneInfo) -> list[tuple[str, int]]:
    """The period's referrals per month of the firm's time zone (months without any
    left out), counted by the store month by month."""
    span = store.created_span(referrer, since)
    if span is None:
        return []
    spans = month_spans(*span, zone)
    counts = store.month_counts(referrer, since, [(start, end) for _, start, end in spans])
    return [(name, n) for (name, _, _), n in zip(spans, counts, strict=True) if n]

"""The firm at a glance (pure): per referrer, what they gave, received and won, side by side."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from statistics import median
from typing import Protocol

from mailflow.core.model import Outcome
from mailflow.core.stale import StaleFacts, is_stale


class FirmFacts(StaleFacts, Protocol):
    """What the firm view reads of a referral (a `Referral`)."""

    @property
    def referrer(self) -> str: ...
    @property
    def outcome(self) -> Outcome | None: ...


@dataclass(frozen=True)
class ReferrerRow:
    referrer: str
    given: int
    received: int
    won: int
    median_hours_to_contact: float | None  # None: no given referral has contact yet
    stale: int


def referrer_rows(referrals: Iterable[FirmFacts], now: datetime) -> list[ReferrerRow]:
    """One row per referrer, those who give the most first (then by address)."""
    found: dict[str, list[FirmFacts]] = {}
    for referral in referrals:
        found.setdefault(referral.referrer, []).append(referral)
    rows = []
    for referrer, theirs in found.items():
        given = [r for r in theirs if r.direction == "given"]
        hours = [max((r.contacted_at - r.created_at).total_seconds() / 3600, 0.0)
                 for r in given if r.contacted_at is not None]
        rows.append(ReferrerRow(
            referrer, len(given), len(theirs) - len(given),
            sum(r.outcome is Outcome.WON for r in given),
            round(median(hours), 1) if hours else None,
            sum(is_stale(r, now) for r in theirs)))
    return sorted(rows, key=lambda r: (-r.given, r.referrer))

"""The firm view's rows: given, received, won, median hours to first contact, stale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mailflow.core.firm import ReferrerRow, referrer_rows
from mailflow.core.model import Outcome, Status

NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)
DAY = timedelta(days=1)


@dataclass
class Facts:
    referrer: str
    direction: str = "given"
    status: Status = Status.OPEN
    outcome: Outcome | None = None
    created_at: datetime = NOW - 2 * DAY
    contacted_at: datetime | None = None
    snoozed_until: datetime | None = None


def test_each_referrer_side_by_side() -> None:
    made = NOW - 20 * DAY
    rows = referrer_rows([
        Facts("alice@firm", contacted_at=NOW - 2 * DAY + timedelta(hours=3),
              status=Status.CLOSED, outcome=Outcome.WON),
        Facts("alice@firm", created_at=made, contacted_at=made + timedelta(hours=9),
              status=Status.CONTACTED),
        Facts("alice@firm", created_at=made),  # stale
        Facts("alice@firm", created_at=made, snoozed_until=NOW + DAY),  # snoozed: not stale
        Facts("alice@firm", direction="received", created_at=made),  # never stale
        Facts("zoe@firm", direction="received"),
        Facts("bob@firm", status=Status.CLOSED, outcome=Outcome.LOST),
    ], NOW)
    assert rows == [
        ReferrerRow("alice@firm", 4, 1, 1, 6.0, 1),
        ReferrerRow("bob@firm", 1, 0, 0, None, 0),
        ReferrerRow("zoe@firm", 0, 1, 0, None, 0),
    ]


def test_no_referrals_no_rows() -> None:
    assert referrer_rows([], NOW) == []

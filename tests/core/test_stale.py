"""The one stale rule, as a table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from mailflow.core.model import Status
from mailflow.core.stale import is_stale

NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)


@dataclass
class Facts:
    status: Status = Status.OPEN
    direction: str = "given"
    created_at: datetime = NOW - timedelta(days=15)
    contacted_at: datetime | None = None
    snoozed_until: datetime | None = None


@pytest.mark.parametrize(("facts", "stale"), [
    (Facts(), True),
    (Facts(created_at=NOW - timedelta(days=13)), False),  # not yet
    (Facts(status=Status.NEEDS_PARTNER), True),  # nobody introduced: stuck
    (Facts(status=Status.CONTACTED, contacted_at=NOW), False),
    (Facts(contacted_at=NOW - timedelta(days=1)), False),
    (Facts(status=Status.CLOSED), False),
    (Facts(direction="received"), False),  # the firm is the partner: never chased
    (Facts(snoozed_until=NOW + timedelta(days=3)), False),  # snoozed: not now
    (Facts(snoozed_until=NOW - timedelta(days=1)), True),  # the snooze is over
])
def test_stale(facts: Facts, stale: bool) -> None:
    assert is_stale(facts, NOW) is stale

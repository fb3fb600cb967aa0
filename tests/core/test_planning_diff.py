"""The planning diff, rule by rule, without a database: plan and rows in, changes out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mailflow.core.planning_diff import Addition, PlanDiff, plan_diff
from mailflow.core.workflow import PlannedStep

LON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 23, 14, 0, tzinfo=LON)
BOB = "bob@law.example"
ONCE = {"partner_brief"}


@dataclass(frozen=True)
class Row:
    id: int
    step: str
    recipient: str
    due_at: datetime
    status: str = "pending"


def diff(wanted: list[PlannedStep], rows: list[Row]) -> PlanDiff:
    return plan_diff(wanted, rows, ONCE, NOW, NOW - timedelta(days=90), 90)


def test_new_steps_are_added_and_ancient_ones_skipped_with_the_reason() -> None:
    soon, ancient = NOW + timedelta(days=1), NOW - timedelta(days=100)
    result = diff([PlannedStep("partner_nudge", BOB, soon),
                   PlannedStep("partner_brief", BOB, ancient)], [])
    assert result.add == [
        Addition("partner_nudge", BOB, soon, "pending"),
        Addition("partner_brief", BOB, ancient, "skipped",
                 "due more than 90 days before it was planned")]


def test_a_step_due_exactly_at_the_limit_is_still_planned() -> None:
    limit = NOW - timedelta(days=90)
    just_older = limit - timedelta(microseconds=1)
    result = diff([PlannedStep("partner_nudge", BOB, limit),
                   PlannedStep("partner_brief", BOB, just_older)], [])
    assert [a.status for a in result.add] == ["pending", "skipped"]


def test_a_pending_step_no_longer_wanted_is_cancelled() -> None:
    result = diff([], [Row(1, "partner_nudge", BOB, NOW)])
    assert result.cancel == [1] and result.replan_partners == []


def test_a_cancelled_brief_has_the_partners_other_referrals_replan() -> None:
    result = diff([], [Row(1, "partner_brief", BOB, NOW)])
    assert result.cancel == [1] and result.replan_partners == [BOB]


def test_rows_already_done_leave_the_rows_after_them_to_the_diff() -> None:
    rows = [Row(1, "partner_brief", BOB, NOW, "sent"), Row(2, "partner_checkin", BOB, NOW,
                                                           "cancelled"),
            Row(3, "partner_nudge", BOB, NOW)]
    later = NOW + timedelta(days=1)
    result = diff([PlannedStep("partner_checkin", BOB, later)], rows)
    assert result == PlanDiff(cancel=[3], revive=[(2, later)])


def test_a_cancelled_step_wanted_again_is_revived_others_are_left() -> None:
    later = NOW + timedelta(days=2)
    rows = [Row(1, "partner_nudge", BOB, NOW, "cancelled"), Row(2, "escalation", BOB, NOW,
                                                               "sent")]
    result = diff([PlannedStep("partner_nudge", BOB, later),
                   PlannedStep("escalation", BOB, later)], rows)
    assert result.revive == [(1, later)] and not result.add and not result.move


def test_a_step_moves_to_its_new_time() -> None:
    later = NOW + timedelta(days=7)
    result = diff([PlannedStep("partner_nudge", BOB, later)],
                  [Row(1, "partner_nudge", BOB, NOW + timedelta(days=1))])
    assert result.move == [(1, later)]


def test_a_deferred_step_is_never_moved_back_into_the_past() -> None:
    deferred = datetime(2026, 11, 24, 9, 0, tzinfo=LON)  # by the daily cap
    planned = datetime(2026, 11, 23, 11, 0, tzinfo=LON)
    result = diff([PlannedStep("partner_nudge", BOB, planned)],
                  [Row(1, "partner_nudge", BOB, deferred)])
    assert result.move == [(1, NOW)]  # due from now: its grace counts from here
    unchanged = diff([PlannedStep("partner_nudge", BOB, planned)],
                     [Row(1, "partner_nudge", BOB, NOW - timedelta(hours=1))])
    assert unchanged.move == []


@pytest.mark.parametrize(("current", "wanted", "moved"), [
    (NOW + timedelta(days=1), NOW + timedelta(days=7), NOW + timedelta(days=7)),
    (NOW + timedelta(days=2), NOW + timedelta(days=1), NOW + timedelta(days=1)),  # earlier
    (NOW - timedelta(hours=3), NOW - timedelta(hours=1), NOW - timedelta(hours=1)),  # later
    (NOW + timedelta(days=1), NOW - timedelta(hours=1), NOW),  # not back into the past
    (NOW + timedelta(days=1), NOW, NOW),
    (NOW - timedelta(hours=1), NOW - timedelta(hours=2), None),  # due already: it stays
    (NOW - timedelta(hours=1), NOW - timedelta(hours=1), None),
])
def test_where_a_pending_step_moves(current: datetime, wanted: datetime,
                                    moved: datetime | None) -> None:
    result = diff([PlannedStep("partner_nudge", BOB, wanted)],
                  [Row(1, "partner_nudge", BOB, current)])
    assert result.move == ([] if moved is None else [(1, moved)])

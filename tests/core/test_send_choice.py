"""The send choice, rule by rule, without a database: due rows and facts in, verdicts out."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mailflow.core.business_time import BusinessCalendar
from mailflow.core.effects import Notify
from mailflow.core.send_choice import (
    COMBINE,
    DEFER,
    MISSED,
    SEND,
    SKIP,
    SUPERSEDED,
    WAIT,
    Choice,
    Facts,
    SendPolicy,
    StepState,
    choose,
    failure_notice,
)
from mailflow.core.workflow import default_steps

LON = ZoneInfo("Europe/London")
CAL = BusinessCalendar(LON)
MON = datetime(2026, 11, 23, 10, 0, tzinfo=LON)
SAT = datetime(2026, 11, 28, 12, 0, tzinfo=LON)
ALICE, BOB, JANE = "alice@firm.example", "bob@law.example", "jane@gmail.com"
POLICY = SendPolicy(CAL, {s.name: s for s in default_steps()})


@dataclass(frozen=True)
class Row:
    id: int
    step: str
    recipient: str
    due_at: datetime
    referral_id: int = 1
    kind: str = "step"


def facts(**changes: object) -> Facts:
    base = Facts(parties={1: frozenset({ALICE, BOB, JANE}), 2: frozenset({ALICE, BOB, JANE})},
                 intro_at={1: MON - timedelta(minutes=30), 2: MON - timedelta(minutes=30)})
    return replace(base, **changes)  # type: ignore[arg-type]


def verdicts(choice: Choice) -> dict[int, str]:
    return {i: v.action for i, v in choice.verdicts.items()}


# -- who may be sent anything ------------------------------------------------------------
@pytest.mark.parametrize(("row", "known", "why"), [
    (Row(1, "partner_nudge", "carol@x.example", MON), facts(), "no longer a party"),
    (Row(1, "partner_nudge", BOB, MON), facts(stopped=frozenset({(BOB, 1)})), "said stop"),
    (Row(1, "partner_nudge", BOB, MON), facts(bounced=frozenset({BOB})), "address bounced"),
    (Row(1, "partner_nudge", BOB, MON), facts(sent_counts={1: 8}), "send budget of 8"),
    (Row(1, "digest", ALICE, MON, 0, "digest"), facts(bounced=frozenset({ALICE})), "bounced"),
    (Row(1, "digest", ALICE, MON, 0, "digest"), facts(stopped=frozenset({(ALICE, 0)})),
     "said stop"),
])
def test_rows_that_may_not_be_sent_are_skipped_with_the_reason(row: Row, known: Facts,
                                                               why: str) -> None:
    verdict = choose([row], known, POLICY, MON).verdicts[1]
    assert verdict.action == SKIP and why in verdict.reason


def test_the_answer_to_stop_still_goes_and_notices_have_no_budget() -> None:
    confirm = Row(1, "confirm", BOB, MON, kind="notice")
    known = facts(stopped=frozenset({(BOB, 1)}), sent_counts={1: 8})
    assert verdicts(choose([confirm], known, POLICY, MON)) == {1: SEND}


# -- hours, answers and the daily cap ---------------------------------------------------------
def test_steps_wait_for_business_hours_and_answers_do_not() -> None:
    late = MON.replace(hour=18)
    rows = [Row(1, "partner_nudge", BOB, MON), Row(2, "confirm", BOB, MON, kind="notice"),
            Row(3, "relay", BOB, MON, kind="notice")]
    choice = choose(rows, facts(), POLICY, late)
    assert verdicts(choice) == {1: WAIT, 2: SEND, 3: WAIT}


def test_an_acknowledgement_is_an_answer_only_while_the_intro_is_fresh() -> None:
    ack = Row(1, "acknowledgement", ALICE, MON)
    evening = MON.replace(hour=19)
    fresh = facts(intro_at={1: evening - timedelta(hours=1)})
    assert verdicts(choose([ack], fresh, POLICY, evening)) == {1: SEND}
    stale = facts(intro_at={1: evening - timedelta(hours=3)})
    assert verdicts(choose([ack], stale, POLICY, evening)) == {1: WAIT}
    thursday = datetime(2026, 11, 26, 10, tzinfo=LON)
    old = facts(intro_at={1: thursday})
    assert verdicts(choose([replace(ack, due_at=thursday)], old, POLICY, SAT)) == {1: WAIT}


def test_a_stale_acknowledgement_joins_the_referrers_next_email() -> None:
    thursday = datetime(2026, 11, 26, 10, tzinfo=LON)
    monday = datetime(2026, 11, 30, 10, tzinfo=LON)
    rows = [Row(1, "acknowledgement", ALICE, thursday),
            Row(2, "history", ALICE, monday, kind="notice"),
            Row(3, "acknowledgement", ALICE, thursday, referral_id=2)]
    choice = choose(rows, facts(intro_at={1: thursday, 2: thursday}), POLICY, monday)
    assert choice.emails == [(1, 3, 2)]
    assert set(verdicts(choice).values()) == {COMBINE}


def test_the_daily_cap_defers_to_the_next_opening_and_answers_pass() -> None:
    rows = [Row(1, "partner_nudge", BOB, MON), Row(2, "confirm", BOB, MON, kind="notice")]
    choice = choose(rows, facts(sent_today={BOB: 1}), POLICY, MON)
    assert verdicts(choice) == {1: DEFER, 2: SEND}
    assert choice.verdicts[1].until == datetime(2026, 11, 24, 9, 0, tzinfo=LON)


def test_notices_beyond_their_cap_are_folded_then_deferred() -> None:
    rows = [Row(i, "relay", ALICE, MON, kind="notice") for i in range(1, 5)]
    choice = choose(rows, facts(), POLICY, MON)
    assert choice.emails == [(1,), (2,), (3, 4)]
    capped = choose(rows, facts(notices_today={ALICE: 3}), POLICY, MON)
    assert set(verdicts(capped).values()) == {DEFER}


def test_the_digest_and_the_days_other_emails_are_one_email() -> None:
    rows = [Row(1, "escalation", ALICE, MON), Row(2, "relay", ALICE, MON, kind="notice"),
            Row(3, "digest", ALICE, MON, 0, "digest")]
    choice = choose(rows, facts(), POLICY, MON)
    assert choice.emails == [(1, 3, 2)]


def test_an_answer_carries_the_steps_due_to_that_person_now() -> None:
    rows = [Row(1, "confirm", BOB, MON, kind="notice"), Row(2, "thank_partner", BOB, MON),
            Row(3, "partner_checkin", BOB, MON, referral_id=2)]
    assert choose(rows, facts(), POLICY, MON).emails == [(1, 2, 3)]
    evening = MON.replace(hour=19)
    assert choose(rows, facts(), POLICY, evening).emails == [(1,)]  # the rest waits


def test_a_digest_after_the_days_email_waits_for_tomorrow() -> None:
    digest = Row(3, "digest", ALICE, MON, 0, "digest")
    choice = choose([digest], facts(sent_today={ALICE: 1}), POLICY, MON)
    assert verdicts(choice) == {3: DEFER}


def test_alerts_and_signin_links_go_alone_at_once() -> None:
    rows = [Row(1, "alert", "it@firm.example", SAT, 0, "alert"),
            Row(2, "signin", ALICE, SAT, 0, "signin")]
    assert choose(rows, facts(), POLICY, SAT).emails == [(1,), (2,)]


# -- late steps ------------------------------------------------------------------------------
def test_a_step_past_its_grace_is_missed() -> None:
    checkin = Row(1, "client_checkin", JANE, MON - timedelta(days=7))
    verdict = choose([checkin], facts(), POLICY, MON).verdicts[1]
    assert verdict.action == MISSED and "more than 2 business days ago" in verdict.reason


def test_of_two_steps_to_one_person_the_earlier_is_superseded() -> None:
    rows = [Row(1, "partner_checkin", BOB, MON - timedelta(hours=1)),
            Row(2, "feedback_request", BOB, MON)]
    choice = choose(rows, facts(), POLICY, MON)
    assert verdicts(choice) == {1: SUPERSEDED, 2: SEND}
    assert choice.verdicts[1].reason == "superseded by feedback_request"


def test_the_brief_is_never_superseded_but_combined_with_the_nudge() -> None:
    thursday = datetime(2026, 11, 26, 10, tzinfo=LON)
    monday = datetime(2026, 11, 30, 10, tzinfo=LON)
    rows = [Row(1, "partner_brief", BOB, thursday),
            Row(2, "partner_nudge", BOB, thursday + timedelta(days=1))]
    choice = choose(rows, facts(), POLICY, monday)
    assert verdicts(choice) == {1: COMBINE, 2: COMBINE}
    assert choice.emails == [(1, 2)]


def test_the_brief_is_never_missed() -> None:
    brief = Row(1, "partner_brief", BOB, MON - timedelta(days=10))
    assert verdicts(choose([brief], facts(), POLICY, MON)) == {1: SEND}


def test_a_nudge_an_escalation_waits_for_is_sent_however_late() -> None:
    nudge = Row(1, "partner_nudge", BOB, MON - timedelta(days=6))
    known = facts(steps={1: {"partner_nudge": StepState("pending", nudge.due_at),
                             "escalation": StepState("pending", MON - timedelta(days=4))}})
    assert verdicts(choose([nudge], known, POLICY, MON)) == {1: SEND}
    alone = facts(steps={1: {"partner_nudge": StepState("pending", nudge.due_at),
                             "escalation": StepState("cancelled", MON)}})
    assert verdicts(choose([nudge], alone, POLICY, MON)) == {1: MISSED}


def test_the_escalation_waits_while_the_nudge_has_not_gone() -> None:
    escalation = Row(2, "escalation", ALICE, MON - timedelta(days=4))
    known = facts(steps={1: {"partner_nudge": StepState("pending", MON - timedelta(days=6)),
                             "escalation": StepState("pending", escalation.due_at)}})
    verdict = choose([escalation], known, POLICY, MON).verdicts[2]
    assert verdict.action == WAIT and "partner_nudge" in verdict.reason


def test_the_escalation_keeps_its_delay_from_a_late_nudge() -> None:
    escalation = Row(2, "escalation", ALICE, MON - timedelta(days=4))
    sent = MON - timedelta(hours=1)
    known = facts(steps={1: {"partner_nudge": StepState("sent", MON - timedelta(days=6), sent),
                             "escalation": StepState("pending", escalation.due_at)}})
    verdict = choose([escalation], known, POLICY, MON).verdicts[2]
    assert verdict.action == DEFER
    assert verdict.until == datetime(2026, 11, 25, 9, 0, tzinfo=LON)  # two business days
    later = choose([escalation], known, POLICY, verdict.until)
    assert verdicts(later) == {2: SEND}  # grace counts from then, not from the plan


def test_a_check_in_shifts_by_the_nudges_lateness() -> None:
    checkin = Row(2, "partner_checkin", BOB, MON)
    sent = MON - timedelta(days=1)
    known = facts(steps={1: {"partner_nudge": StepState("sent", MON - timedelta(days=6), sent),
                             "partner_checkin": StepState("pending", MON)}})
    verdict = choose([checkin], known, POLICY, MON).verdicts[2]
    assert verdict.action == DEFER  # five days on is a Saturday: the next opening
    assert verdict.until == datetime(2026, 11, 30, 9, 0, tzinfo=LON)


def test_a_step_whose_presumed_step_is_not_wanted_goes_as_planned() -> None:
    escalation = Row(2, "escalation", ALICE, MON)
    for state in ("cancelled", "skipped", "absent"):
        steps = {} if state == "absent" else {"partner_nudge": StepState(state, MON)}
        known = facts(steps={1: steps})
        assert verdicts(choose([escalation], known, POLICY, MON)) == {2: SEND}, state


def test_an_on_time_nudge_leaves_the_escalation_where_it_was_planned() -> None:
    nudge_due = datetime(2026, 11, 24, 10, tzinfo=LON)
    escalation = Row(2, "escalation", ALICE, datetime(2026, 11, 26, 10, tzinfo=LON))
    known = facts(steps={1: {"partner_nudge": StepState("sent", nudge_due, nudge_due)}})
    assert verdicts(choose([escalation], known, POLICY, escalation.due_at)) == {2: SEND}


def test_a_late_acknowledgement_is_news_for_the_referrer_never_missed() -> None:
    ack = Row(1, "acknowledgement", ALICE, MON - timedelta(days=7))
    old = facts(intro_at={1: MON - timedelta(days=7)})
    assert verdicts(choose([ack], old, POLICY, MON)) == {1: SEND}


def test_the_referrer_hears_once_of_an_email_that_failed_unless_it_was_theirs() -> None:
    notice = failure_notice(Row(1, "partner_nudge", BOB, MON), ALICE, "550 no such user")
    assert notice == Notify(1, ALICE, "send-failed",
                            {"address": BOB, "error": "550 no such user"}, once=True)
    assert failure_notice(Row(1, "escalation", ALICE, MON), ALICE, "550") is None
    assert failure_notice(Row(1, "digest", ALICE, MON, 0, "digest"), ALICE, "550") is None

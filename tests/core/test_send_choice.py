"""The send choice, rule by rule, without a database: due rows and facts in, verdicts out."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
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
    Verdict,
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
    answers_at: datetime | None = None


def facts(**changes: object) -> Facts:
    base = Facts(parties={1: frozenset({ALICE, BOB, JANE}), 2: frozenset({ALICE, BOB, JANE})},
                 intro_at={1: MON - timedelta(minutes=30), 2: MON - timedelta(minutes=30)})
    return replace(base, **changes)  # type: ignore[arg-type]


def verdicts(choice: Choice) -> dict[int, str]:
    return {i: v.action for i, v in choice.verdicts.items()}


# -- who may be sent anything ------------------------------------------------------------
BUDGET_USED = "send budget of 8 emails for this referral used"


@pytest.mark.parametrize(("row", "known", "why"), [
    (Row(1, "partner_nudge", "carol@x.example", MON), facts(),
     "no longer a party to the referral"),
    (Row(1, "partner_nudge", BOB, MON, referral_id=3), facts(),  # no parties on record
     "no longer a party to the referral"),
    (Row(1, "partner_nudge", BOB, MON), facts(stopped=frozenset({(BOB, 1)})),
     "recipient said stop"),
    (Row(1, "relay", BOB, MON, kind="notice"), facts(stopped=frozenset({(BOB, 1)})),
     "recipient said stop"),  # only the answer to "stop" still goes
    (Row(1, "partner_nudge", BOB, MON), facts(bounced=frozenset({BOB})), "address bounced"),
    (Row(1, "partner_nudge", BOB, MON), facts(sent_counts={1: 8}), BUDGET_USED),
    (Row(1, "partner_nudge", BOB, MON), facts(sent_counts={1: 9}), BUDGET_USED),
    (Row(1, "digest", ALICE, MON, 0, "digest"), facts(bounced=frozenset({ALICE})),
     "address bounced"),
    (Row(1, "digest", ALICE, MON, 0, "digest"), facts(stopped=frozenset({(ALICE, 0)})),
     "recipient said stop"),
])
def test_rows_that_may_not_be_sent_are_skipped_with_the_reason(row: Row, known: Facts,
                                                               why: str) -> None:
    assert choose([row], known, POLICY, MON).verdicts == {1: Verdict(SKIP, why)}


@pytest.mark.parametrize(("budget", "counts", "action"), [
    (8, {1: 7}, SEND),  # the eighth email still goes
    (8, {1: 8}, SKIP),
    (1, {}, SEND),  # a referral with no email sent yet has its whole budget
    (1, {1: 1}, SKIP),
    (1, {2: 1}, SEND),  # another referral's emails count for that one only
])
def test_the_send_budget_counts_this_referrals_emails(budget: int, counts: dict[int, int],
                                                      action: str) -> None:
    policy = replace(POLICY, max_per_referral=budget)
    nudge = Row(1, "partner_nudge", BOB, MON)
    assert verdicts(choose([nudge], facts(sent_counts=counts), policy, MON)) == {1: action}


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
    assert choice.verdicts[1] == choice.verdicts[3] == Verdict(WAIT, "outside business hours")


def test_an_answer_notice_is_an_answer_only_while_the_reply_is_fresh() -> None:
    """An answer is dated by the reply it answers (`answers_at`), not by when it was queued,
    deferred or retried (`due_at`)."""
    evening = MON.replace(hour=19)
    fresh = Row(1, "confirm", BOB, evening, kind="notice",
                answers_at=evening - timedelta(hours=2))
    assert verdicts(choose([fresh], facts(), POLICY, evening)) == {1: SEND}
    older = replace(fresh, answers_at=evening - timedelta(hours=2, minutes=1))
    assert choose([older], facts(), POLICY, evening).verdicts[1] == Verdict(
        WAIT, "outside business hours")
    midnight = (MON + timedelta(days=1)).replace(hour=0)  # deferred by the cap to the day's
    assert verdicts(choose([replace(older, due_at=midnight)], facts(), POLICY, midnight)
                    ) == {1: WAIT}  # start: still not an answer, so not at midnight
    assert verdicts(choose([older], facts(), POLICY, MON.replace(hour=11) + timedelta(days=1))
                    ) == {1: SEND}  # in business hours, with the person's other mail
    undated = Row(2, "confirm", BOB, MON - timedelta(days=30), kind="notice")
    assert verdicts(choose([undated], facts(), POLICY, evening)) == {2: SEND}  # as before


def test_an_answer_to_a_reply_written_beyond_the_grace_is_missed() -> None:
    """A first run reads months of replies: their confirmations are history, not news."""
    thursday = datetime(2026, 11, 19, 10, tzinfo=LON)  # two business days before MON 10:00
    month_ago = thursday - timedelta(days=30)
    rows = [Row(1, "confirm", BOB, MON, kind="notice", answers_at=thursday),
            Row(2, "confirm", BOB, MON, kind="notice",
                answers_at=thursday - timedelta(minutes=1)),
            *(Row(i, kind, BOB, MON, kind="notice", answers_at=month_ago) for i, kind in
              enumerate(("help", "refused", "unproven", "which"), 3)),
            # not dated by a reply (news, the answers to stop and forget me): never missed
            *(Row(i, kind, BOB, month_ago, kind="notice") for i, kind in
              enumerate(("confirm", "relay", "send-failed"), 7))]
    choice = choose(rows, facts(), POLICY, MON)
    assert choice.verdicts[2] == Verdict(MISSED, "answers a reply of Thu 19 Nov 09:59, more "
                                                 "than 2 business days ago")
    assert verdicts(choice) == {1: SEND, 2: MISSED, 3: MISSED, 4: MISSED, 5: MISSED, 6: MISSED,
                                7: SEND, 8: COMBINE, 9: COMBINE}  # 3 notices a day
    longer = replace(POLICY, grace=(5.0, "business days"))  # workflow.grace
    assert verdicts(choose(rows[1:3], facts(), longer, MON)) == {2: SEND, 3: MISSED}
    own = replace(POLICY, steps={**POLICY.steps, "confirm": replace(
        POLICY.steps["partner_nudge"], name="confirm", grace_amount=30)})
    assert verdicts(choose(rows[1:2], facts(), own, MON)) == {2: MISSED}  # not a step's grace


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


@pytest.mark.parametrize(("age", "action"), [
    (timedelta(hours=2), SEND),  # exactly answer_within old: still an answer
    (timedelta(hours=2, microseconds=1), WAIT),
])
def test_an_acknowledgement_is_an_answer_up_to_answer_within(age: timedelta,
                                                             action: str) -> None:
    evening = MON.replace(hour=19)
    known = facts(intro_at={1: evening - age})
    ack = Row(1, "acknowledgement", ALICE, evening - age)
    assert verdicts(choose([ack], known, POLICY, evening)) == {1: action}


def test_a_stale_acknowledgement_joins_the_referrers_next_email() -> None:
    thursday = datetime(2026, 11, 26, 10, tzinfo=LON)
    monday = datetime(2026, 11, 30, 10, tzinfo=LON)
    rows = [Row(1, "acknowledgement", ALICE, thursday),
            Row(2, "history", ALICE, monday, kind="notice"),
            Row(3, "acknowledgement", ALICE, thursday, referral_id=2)]
    choice = choose(rows, facts(intro_at={1: thursday, 2: thursday}), POLICY, monday)
    assert choice.emails == [(1, 3, 2)]
    assert set(verdicts(choice).values()) == {COMBINE}


# "Tomorrow" starts at midnight in the firm's time zone, not the server's: the cases in
# summer and in Los Angeles put a different hour on a midnight reckoned in UTC.
LA = ZoneInfo("America/Los_Angeles")
ALL_DAY = BusinessCalendar(LON, frozenset(range(7)), time(0, 0), time(23, 59))
FRI = datetime(2026, 11, 27, 16, 30, 15, 123456, tzinfo=LON)
SUMMER_FRI = datetime(2026, 6, 19, 16, 30, 15, 123456, tzinfo=LON)
LA_MON = datetime(2026, 11, 23, 16, 30, 15, 123456, tzinfo=LA)  # Tuesday 00:30 in UTC


def test_the_daily_cap_defers_to_the_next_opening_and_answers_pass() -> None:
    rows = [Row(1, "partner_nudge", BOB, MON), Row(2, "confirm", BOB, MON, kind="notice")]
    choice = choose(rows, facts(sent_today={BOB: 1}), POLICY, MON)
    assert verdicts(choice) == {1: DEFER, 2: SEND}
    assert choice.verdicts[1] == Verdict(DEFER, "1 a day: tomorrow",
                                         datetime(2026, 11, 24, 9, 0, tzinfo=LON))


@pytest.mark.parametrize(("calendar", "now", "until"), [
    (CAL, FRI, datetime(2026, 11, 30, 9, 0, tzinfo=LON)),  # Saturday: Monday's opening
    (ALL_DAY, FRI, datetime(2026, 11, 28, 0, 0, tzinfo=LON)),  # open at midnight
    (ALL_DAY, SUMMER_FRI, datetime(2026, 6, 20, 0, 0, tzinfo=LON)),
    (BusinessCalendar(LA), LA_MON, datetime(2026, 11, 24, 9, 0, tzinfo=LA)),
])
def test_the_daily_cap_defers_to_the_first_opening_from_tomorrows_start(
        calendar: BusinessCalendar, now: datetime, until: datetime) -> None:
    policy = replace(POLICY, calendar=calendar, max_per_day=2)
    rows = [Row(1, "partner_nudge", BOB, now), Row(2, "digest", BOB, now, 0, "digest")]
    choice = choose(rows, facts(sent_today={BOB: 2}), policy, now)
    deferred = Verdict(DEFER, "2 a day: tomorrow", until)
    assert choice.verdicts == {1: deferred, 2: deferred} and choice.emails == []
    got = choice.verdicts[1].until
    assert got is not None and got.utcoffset() == until.utcoffset()


@pytest.mark.parametrize(("sent_today", "action"), [
    ({}, SEND), ({BOB: 1}, SEND), ({BOB: 2}, DEFER), ({ALICE: 2}, SEND)])
def test_the_daily_cap_counts_that_persons_emails_today(sent_today: dict[str, int],
                                                        action: str) -> None:
    policy = replace(POLICY, max_per_day=2)
    nudge = Row(1, "partner_nudge", BOB, MON)
    assert verdicts(choose([nudge], facts(sent_today=sent_today), policy, MON)) == {1: action}


def test_notices_beyond_their_cap_are_folded_then_deferred() -> None:
    rows = [Row(i, "relay", ALICE, MON, kind="notice") for i in range(1, 5)]
    choice = choose(rows, facts(), POLICY, MON)
    assert choice.emails == [(1,), (2,), (3, 4)]
    capped = choose(rows, facts(notices_today={ALICE: 3}), POLICY, MON)
    assert set(verdicts(capped).values()) == {DEFER}


@pytest.mark.parametrize(("today", "count", "emails"), [
    (0, 3, [(1,), (2,), (3,)]),  # exactly the cap: each alone
    (1, 3, [(1,), (2, 3)]),
    (2, 1, [(1,)]),  # one notice left today, and one to send
    (2, 2, [(1, 2)]),  # one left: everything in it
    (3, 1, []),
    (4, 1, []),
])
def test_notices_go_alone_up_to_what_is_left_of_the_days_cap(
        today: int, count: int, emails: list[tuple[int, ...]]) -> None:
    rows = [Row(i, "relay", ALICE, MON, kind="notice") for i in range(1, count + 1)]
    choice = choose(rows, facts(notices_today={ALICE: today}), POLICY, MON)
    assert choice.emails == emails


@pytest.mark.parametrize(("calendar", "now", "until"), [
    (CAL, FRI, datetime(2026, 11, 28, 0, 0, tzinfo=LON)),  # not the next opening: answers
    (CAL, SUMMER_FRI, datetime(2026, 6, 20, 0, 0, tzinfo=LON)),  # go at any hour
    (BusinessCalendar(LA), LA_MON, datetime(2026, 11, 24, 0, 0, tzinfo=LA)),
])
def test_notices_over_the_cap_are_deferred_to_tomorrows_start(
        calendar: BusinessCalendar, now: datetime, until: datetime) -> None:
    policy = replace(POLICY, calendar=calendar, max_notices_per_day=2)
    rows = [Row(1, "confirm", ALICE, now, kind="notice"),
            Row(2, "relay", ALICE, now, kind="notice")]
    choice = choose(rows, facts(notices_today={ALICE: 2}), policy, now)
    deferred = Verdict(DEFER, "2 notices a day: tomorrow", until)
    assert choice.verdicts == {1: deferred, 2: deferred} and choice.emails == []
    got = choice.verdicts[1].until
    assert got is not None and got.utcoffset() == until.utcoffset()


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
    assert verdict == Verdict(MISSED, "due Mon 16 Nov 10:00, more than 2 business days ago")


SUMMER_MON = datetime(2026, 6, 15, 10, 0, tzinfo=LON)  # 09:00 in UTC


@pytest.mark.parametrize(("now", "action"), [
    (datetime(2026, 6, 17, 10, 0, tzinfo=LON), SEND),  # two business days on: still in grace
    (datetime(2026, 6, 17, 10, 0, 0, 1, tzinfo=LON), MISSED),
])
def test_grace_ends_exactly_its_length_after_the_step_was_due(now: datetime,
                                                              action: str) -> None:
    checkin = Row(1, "client_checkin", JANE, SUMMER_MON)
    verdict = choose([checkin], facts(), POLICY, now).verdicts[1]
    missed = "due Mon 15 Jun 10:00, more than 2 business days ago"  # the firm's time
    assert verdict == (Verdict(SEND) if action == SEND else Verdict(MISSED, missed))


@pytest.mark.parametrize(("grace", "now", "verdict"), [
    ((4, "hours"), MON.replace(hour=14), Verdict(SEND)),
    ((4, "hours"), MON.replace(hour=14, second=1),
     Verdict(MISSED, "due Mon 23 Nov 10:00, more than 4 hours ago")),
    ((2.5, "business hours"), MON.replace(hour=12, minute=31),
     Verdict(MISSED, "due Mon 23 Nov 10:00, more than 2.5 business hours ago")),
    ((3, "business days"), MON + timedelta(days=3), Verdict(SEND)),
])
def test_each_step_has_its_own_grace(grace: tuple[float, str], now: datetime,
                                     verdict: Verdict) -> None:
    steps = dict(POLICY.steps)
    steps["client_checkin"] = replace(steps["client_checkin"], grace_amount=grace[0],
                                      grace_unit=grace[1])
    checkin = Row(1, "client_checkin", JANE, MON)
    assert choose([checkin], facts(), replace(POLICY, steps=steps), now).verdicts == {
        1: verdict}


def test_a_late_step_holds_back_none_of_the_persons_other_steps() -> None:
    nudge_due = MON - timedelta(days=6)
    rows = [Row(1, "escalation", ALICE, MON - timedelta(days=4)),  # its nudge not sent
            Row(2, "escalation", ALICE, MON - timedelta(days=4), referral_id=2),
            Row(3, "escalation", ALICE, MON - timedelta(days=4), referral_id=3),
            Row(4, "client_checkin", JANE, MON - timedelta(days=7)),
            Row(5, "client_checkin", JANE, MON, referral_id=2)]
    known = facts(
        parties={i: frozenset({ALICE, BOB, JANE}) for i in (1, 2, 3)},
        steps={1: {"partner_nudge": StepState("pending", nudge_due)},
               2: {"partner_nudge": StepState("sent", nudge_due, MON - timedelta(hours=1))},
               3: {"partner_nudge": StepState("cancelled", nudge_due)}})
    choice = choose(rows, known, POLICY, MON)
    assert choice.verdicts == {
        1: Verdict(WAIT, "waits for partner_nudge"),
        2: Verdict(DEFER, "keeps its delay from the step it follows",
                   datetime(2026, 11, 25, 9, 0, tzinfo=LON)),
        3: Verdict(SEND),
        4: Verdict(MISSED, "due Mon 16 Nov 10:00, more than 2 business days ago"),
        5: Verdict(SEND)}


@pytest.mark.parametrize("order", [1, -1])
def test_of_two_steps_to_one_person_the_earlier_is_superseded(order: int) -> None:
    rows = [Row(1, "partner_checkin", BOB, MON - timedelta(hours=1)),
            Row(2, "feedback_request", BOB, MON)][::order]
    choice = choose(rows, facts(), POLICY, MON)
    assert verdicts(choice) == {1: SUPERSEDED, 2: SEND}
    assert choice.verdicts[1].reason == "superseded by feedback_request"


@pytest.mark.parametrize("order", [1, -1])
def test_the_brief_is_never_superseded_but_combined_with_the_nudge(order: int) -> None:
    thursday = datetime(2026, 11, 26, 10, tzinfo=LON)
    monday = datetime(2026, 11, 30, 10, tzinfo=LON)
    rows = [Row(1, "partner_brief", BOB, thursday),
            Row(2, "partner_nudge", BOB, thursday + timedelta(days=1))][::order]
    choice = choose(rows, facts(), POLICY, monday)
    assert verdicts(choice) == {1: COMBINE, 2: COMBINE}
    assert sorted(choice.emails[0]) == [1, 2] and len(choice.emails) == 1


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


NUDGE_DUE = datetime(2026, 11, 17, 10, tzinfo=LON)  # a Tuesday


@pytest.mark.parametrize(("step", "due", "nudge_due", "sent", "until"), [
    # the escalation counts in the nudge's unit: two business days after the nudge went
    ("escalation", datetime(2026, 11, 19, 10, tzinfo=LON), NUDGE_DUE,
     datetime(2026, 11, 27, 14, tzinfo=LON), datetime(2026, 12, 1, 14, tzinfo=LON)),
    # the check-in counts in days, the nudge in business days: the check-in keeps its planned
    # distance (Monday's nudge, Friday's check-in), shifted by the nudge's five hours late
    ("partner_checkin", datetime(2026, 11, 27, 10, tzinfo=LON),
     datetime(2026, 11, 23, 10, tzinfo=LON), datetime(2026, 11, 23, 15, tzinfo=LON),
     datetime(2026, 11, 27, 15, tzinfo=LON)),
])
def test_a_step_keeps_its_delay_from_the_step_it_presumes(
        step: str, due: datetime, nudge_due: datetime, sent: datetime,
        until: datetime) -> None:
    row = Row(2, step, ALICE if step == "escalation" else BOB, due)
    known = facts(steps={1: {"partner_nudge": StepState("sent", nudge_due, sent),
                             step: StepState("pending", due)}})
    assert choose([row], known, POLICY, due).verdicts == {
        2: Verdict(DEFER, "keeps its delay from the step it follows", until)}
    assert verdicts(choose([row], known, POLICY, until)) == {2: SEND}


@pytest.mark.parametrize("sent", [NUDGE_DUE, NUDGE_DUE - timedelta(days=1)])
def test_a_nudge_sent_on_time_or_early_leaves_the_check_in_as_planned(sent: datetime) -> None:
    checkin = Row(2, "partner_checkin", BOB, datetime(2026, 11, 23, 10, tzinfo=LON))
    known = facts(steps={1: {"partner_nudge": StepState("sent", NUDGE_DUE, sent)}})
    assert verdicts(choose([checkin], known, POLICY, checkin.due_at)) == {2: SEND}


def test_a_step_due_with_the_step_it_presumes_goes_once_that_one_has_gone() -> None:
    steps = dict(POLICY.steps)
    steps["escalation"] = replace(steps["escalation"], after_amount=1)  # as the nudge
    escalation = Row(2, "escalation", ALICE, NUDGE_DUE)
    sent = datetime(2026, 11, 23, 15, tzinfo=LON)
    known = facts(steps={1: {"partner_nudge": StepState("sent", NUDGE_DUE, sent)}})
    policy = replace(POLICY, steps=steps)
    assert verdicts(choose([escalation], known, policy, sent)) == {2: SEND}


def test_a_presumed_step_sent_at_no_known_time_holds_nothing_back() -> None:
    escalation = Row(2, "escalation", ALICE, MON)
    known = facts(steps={1: {"partner_nudge": StepState("sent", NUDGE_DUE)}})
    assert verdicts(choose([escalation], known, POLICY, MON)) == {2: SEND}


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

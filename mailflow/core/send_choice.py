"""The send choice: what becomes of each due outbox row now, and which rows go out together.

A pure function of the due rows, the facts the dispatcher read up front and `now`. The
dispatcher applies the verdicts (writes), renders and sends the emails, and records them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from mailflow.core.business_time import BusinessCalendar
from mailflow.core.effects import Notify
from mailflow.core.workflow import ACKNOWLEDGEMENT, INTRODUCTION, PARTNER_QUESTION, StepConfig

SEND, COMBINE, DEFER, WAIT = "send", "combine", "defer", "wait"
MISSED, SUPERSEDED, SKIP = "missed", "superseded", "skipped"
RESPONSE_STEPS = frozenset({ACKNOWLEDGEMENT, PARTNER_QUESTION})
# Notices that answer what the person just did go out at once, any hour; the others
# (relayed news, bounce and failure notices, the first-run summary) wait for business hours.
ANSWER_NOTICES = frozenset({"confirm", "help", "refused", "which", "unproven"})
STANDALONE = frozenset({"digest", "alert", "signin"})  # rendered when queued
# steps that go as an email of their own, never combined (others are copied on them), never
# missed nor superseded, and not held by the daily cap: they do what a person asked for
ALONE_STEPS = frozenset({INTRODUCTION})
DEFAULT_GRACE = (2.0, "business days")


class DueRow(Protocol):
    """The fields of an outbox row the choice reads."""

    @property
    def id(self) -> int: ...
    @property
    def referral_id(self) -> int: ...
    @property
    def step(self) -> str: ...
    @property
    def recipient(self) -> str: ...
    @property
    def due_at(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def answers_at(self) -> datetime | None: ...  # a notice answering a reply: its time


@dataclass(frozen=True)
class StepState:
    """Another workflow row of a due row's referral: what became of it."""

    status: str
    due_at: datetime
    sent_at: datetime | None = None


_GONE = StepState("absent", datetime.min)


@dataclass(frozen=True)
class Facts:
    """What the store said before the choice; none of it changes while it is made."""

    parties: Mapping[int, frozenset[str]] = field(default_factory=dict)
    intro_at: Mapping[int, datetime] = field(default_factory=dict)
    stopped: frozenset[tuple[str, int]] = frozenset()  # (recipient, referral id)
    bounced: frozenset[str] = frozenset()
    sent_counts: Mapping[int, int] = field(default_factory=dict)
    sent_today: Mapping[str, int] = field(default_factory=dict)
    notices_today: Mapping[str, int] = field(default_factory=dict)
    steps: Mapping[int, Mapping[str, StepState]] = field(default_factory=dict)


@dataclass(frozen=True)
class SendPolicy:
    calendar: BusinessCalendar
    steps: Mapping[str, StepConfig]
    max_per_referral: int = 8
    max_per_day: int = 1
    max_notices_per_day: int = 3
    answer_within: timedelta = timedelta(hours=2)
    grace: tuple[float, str] = DEFAULT_GRACE  # `workflow.grace`: a notice's, and any step's
    # a partner in their own time zone or with their own holidays; everyone else: `calendar`
    calendars: Mapping[str, BusinessCalendar] = field(default_factory=dict)

    def of(self, recipient: str) -> SendPolicy:
        """The policy as it reads for one recipient: their business hours."""
        own = self.calendars.get(recipient)
        return self if own is None else replace(self, calendar=own, calendars={})


@dataclass(frozen=True)
class Verdict:
    action: str
    reason: str = ""
    until: datetime | None = None  # for DEFER: the new due time


@dataclass
class Choice:
    verdicts: dict[int, Verdict] = field(default_factory=dict)
    emails: list[tuple[int, ...]] = field(default_factory=list)  # row ids, one tuple an email

    def send(self, rows: Sequence[DueRow]) -> None:
        """`rows` as one email: the row alone, or combined."""
        if not rows:
            return
        action = SEND if len(rows) == 1 else COMBINE
        for row in rows:
            self.verdicts[row.id] = Verdict(action)
        self.emails.append(tuple(r.id for r in rows))

    def rule(self, rows: Sequence[DueRow], action: str, reason: str = "",
             until: datetime | None = None) -> None:
        for row in rows:
            self.verdicts[row.id] = Verdict(action, reason, until)


def choose(rows: Sequence[DueRow], facts: Facts, policy: SendPolicy,
           now: datetime) -> Choice:
    """The verdict on every due row, and the emails the sendable ones make."""
    choice = Choice()
    people: dict[str, list[DueRow]] = {}
    for row in rows:
        why = _refused(row, facts, policy)
        if why:
            choice.rule([row], SKIP, why)
        elif row.kind in ("alert", "signin"):
            choice.send([row])
        else:
            people.setdefault(row.recipient, []).append(row)
    for recipient, theirs in people.items():
        _choose_for(recipient, theirs, facts, policy.of(recipient), now, choice)
    return choice


def _refused(row: DueRow, facts: Facts, policy: SendPolicy) -> str:
    """Why this row may not be sent at all (empty: it may)."""
    if row.kind in STANDALONE:
        if row.recipient in facts.bounced:
            return "address bounced"
        if row.kind == "digest" and (row.recipient, 0) in facts.stopped:
            return "recipient said stop"
        return ""
    notice = row.kind == "notice"
    if row.recipient not in facts.parties.get(row.referral_id, frozenset()):
        return "no longer a party to the referral"
    if (row.recipient, row.referral_id) in facts.stopped and not (
            notice and row.step == "confirm"):  # the answer to "stop"
        return "recipient said stop"
    if row.recipient in facts.bounced:
        return "address bounced"
    if not notice and facts.sent_counts.get(row.referral_id, 0) >= policy.max_per_referral:
        return f"send budget of {policy.max_per_referral} emails for this referral used"
    return ""


def _is_answer(row: DueRow, facts: Facts, policy: SendPolicy, now: datetime) -> bool:
    """An answer to what the person just did: at once, any hour, beyond the daily cap."""
    if row.kind == "notice":
        return row.step in ANSWER_NOTICES and (
            row.answers_at is None or now - row.answers_at <= policy.answer_within)
    if row.kind == "step" and row.step in RESPONSE_STEPS:
        intro = facts.intro_at.get(row.referral_id)
        return intro is not None and now - intro <= policy.answer_within
    return False


def _choose_for(recipient: str, rows: list[DueRow], facts: Facts, policy: SendPolicy,
                now: datetime, choice: Choice) -> None:
    """One person's rows: answers at once; the rest of the day's mail as one email."""
    open_now = policy.calendar.is_open(now)
    answer_ids = {r.id for r in rows if _is_answer(r, facts, policy, now)}
    notices = [r for r in rows if r.kind == "notice" and r.id not in answer_ids]
    digests = [r for r in rows if r.kind == "digest"]
    alone = [r for r in rows if r.kind == "step" and r.step in ALONE_STEPS]
    steps = [r for r in rows if r.kind == "step" and r.step not in ALONE_STEPS]
    if alone and not open_now:
        choice.rule(alone, WAIT, "outside business hours")
    for row in alone if open_now else ():
        choice.send([row])
    answer_steps = _timely([r for r in steps if r.id in answer_ids], facts, policy, now,
                           choice)
    regular = [r for r in steps if r.id not in answer_ids]
    if not open_now:
        choice.rule(regular + notices + digests, WAIT, "outside business hours")
        regular, notices, digests = [], [], []
    regular = _timely(regular, facts, policy, now, choice)
    notices = _timely_notices(notices, policy, now, choice)
    daily = regular + digests
    if daily and facts.sent_today.get(recipient, 0) >= policy.max_per_day:
        day_start = now.astimezone(policy.calendar.timezone).replace(
            hour=0, minute=0, second=0, microsecond=0)
        tomorrow = policy.calendar.next_opening(day_start + timedelta(days=1))
        choice.rule(daily, DEFER, f"{policy.max_per_day} a day: tomorrow", tomorrow)
        daily = []
    answer_notices = [r for r in rows if r.kind == "notice" and r.id in answer_ids]
    if daily:  # an answer and the day's other mail (relayed news, a summary) are one email
        daily, notices = answer_notices + daily + notices, []
        answer_notices = []
    _notice_emails(recipient, answer_notices + notices, facts, policy, now, choice)
    choice.send(answer_steps + daily)


def _notice_emails(recipient: str, notices: list[DueRow], facts: Facts,
                   policy: SendPolicy, now: datetime, choice: Choice) -> None:
    """Notices one by one up to the daily cap; beyond it the rest folded into one email."""
    if not notices:
        return
    allowed = policy.max_notices_per_day - facts.notices_today.get(recipient, 0)
    if allowed <= 0:
        day_start = now.astimezone(policy.calendar.timezone).replace(
            hour=0, minute=0, second=0, microsecond=0)
        choice.rule(notices, DEFER, f"{policy.max_notices_per_day} notices a day: tomorrow",
                    day_start + timedelta(days=1))
        return
    singles = notices if len(notices) <= allowed else notices[:allowed - 1]
    for row in singles:
        choice.send([row])
    choice.send(notices[len(singles):])


def _grace(policy: SendPolicy, step: str) -> tuple[float, str]:
    config = policy.steps.get(step)
    return (config.grace_amount, config.grace_unit) if config else policy.grace


def _too_late(start: datetime, grace: tuple[float, str], policy: SendPolicy, now: datetime,
              what: str = "due") -> str:
    """Why a row that could first go at `start` is past its grace now (empty: it is not)."""
    amount, unit = grace
    if now <= policy.calendar.add(start, amount, unit):
        return ""
    when = start.astimezone(policy.calendar.timezone).strftime("%a %d %b %H:%M")
    return f"{what} {when}, more than {amount:g} {unit} ago"


def _needed(row: DueRow, facts: Facts, policy: SendPolicy) -> bool:
    """Whether a later step waits for this one: then it is never missed nor superseded."""
    config = policy.steps.get(row.step)
    if config is not None and config.once_per_partner:
        return True  # the partner learns how replies work, late or not
    if row.step in RESPONSE_STEPS:
        return True  # late, it is no longer an answer, but still news for the referrer
    states = facts.steps.get(row.referral_id, {})
    return any(s.presumes == row.step and states.get(s.name, _GONE).status == "pending"
               for s in policy.steps.values())


def _earliest(row: DueRow, facts: Facts, policy: SendPolicy) -> datetime | None:
    """When the step this one presumes lets it go (None: not yet sent, so not yet)."""
    config = policy.steps.get(row.step)
    if config is None or not config.presumes:
        return row.due_at
    before = facts.steps.get(row.referral_id, {}).get(config.presumes, _GONE)
    if before.status == "pending":
        return None
    if before.status != "sent" or before.sent_at is None:
        return row.due_at  # not wanted (contact seen, opted out…): nothing to wait for
    first = policy.steps.get(config.presumes)
    if first and (first.after_unit, first.since) == (config.after_unit, config.since):
        after = policy.calendar.add(before.sent_at, max(
            config.after_amount - first.after_amount, 0), config.after_unit)
    else:  # its delay from the presumed step as planned, shifted by that step's lateness
        after = policy.calendar.next_opening(row.due_at + max(
            before.sent_at - before.due_at, timedelta(0)))
    return max(after, row.due_at)


def _timely(rows: list[DueRow], facts: Facts, policy: SendPolicy, now: datetime,
            choice: Choice) -> list[DueRow]:
    """Steps still worth sending now: their presumed step went, their grace is not past,
    and no later step to the same person about the same referral replaces them.

    Grace counts from when a step could first be sent. A step a later one waits for, and
    a once-only step, is never missed nor superseded: it goes with what replaces it.
    """
    fresh = []
    for row in rows:
        start = _earliest(row, facts, policy)
        config = policy.steps.get(row.step)
        if start is None:
            choice.rule([row], WAIT, f"waits for {config.presumes if config else ''}")
            continue
        if start > now:
            choice.rule([row], DEFER, "keeps its delay from the step it follows", start)
            continue
        late = _too_late(start, _grace(policy, row.step), policy, now)
        if late and not _needed(row, facts, policy):
            choice.rule([row], MISSED, late)
            continue
        fresh.append(row)
    latest: dict[int, DueRow] = {}
    for row in fresh:
        if not _needed(row, facts, policy) and (
                row.referral_id not in latest
                or (row.due_at, row.id) >= (latest[row.referral_id].due_at,
                                            latest[row.referral_id].id)):
            latest[row.referral_id] = row
    kept = []
    for row in fresh:
        later = latest.get(row.referral_id)
        if later is not None and later is not row and not _needed(row, facts, policy):
            choice.rule([row], SUPERSEDED, f"superseded by {later.step}")
        else:
            kept.append(row)
    return kept


def _timely_notices(rows: list[DueRow], policy: SendPolicy, now: datetime,
                    choice: Choice) -> list[DueRow]:
    """Notices still worth sending: an answer to a reply past the grace from when the
    reply was written is missed (a first run reads months of commands)."""
    fresh = []
    for row in rows:
        if row.answers_at is not None and (
                late := _too_late(row.answers_at, policy.grace, policy, now,
                                  "answers a reply of")):
            choice.rule([row], MISSED, late)
        else:
            fresh.append(row)
    return fresh


def failure_notice(row: DueRow, referrer: str, detail: str) -> Notify | None:
    """Who hears that an email could not be delivered: the referrer, once, unless it was
    theirs."""
    if not row.referral_id or row.recipient == referrer:
        return None
    return Notify(row.referral_id, referrer, "send-failed",
                  {"address": row.recipient, "error": detail}, once=True)

"""The workflow as data: which steps a referral should have in the outbox, and when.

`plan` is a pure function of the referral's state; the shell compares its answer
with the outbox table and inserts, moves or cancels rows. Nothing due lives only
in memory, so a restart or a config change re-plans from the same facts.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from mailflow.core.business_time import BusinessCalendar
from mailflow.core.model import Referral, Role, Status
from mailflow.core.vocabulary import listed_words

ACKNOWLEDGEMENT = "acknowledgement"
PARTNER_QUESTION = "partner_question"
INTRODUCTION = "introduction"  # to the partner, the client and the referrer copied


@dataclass(frozen=True)
class StepConfig:
    """One workflow step: who gets which template, when, unless what."""

    name: str
    to: Role
    template: str
    after_amount: float = 0
    after_unit: str = "days"
    since: str = "intake"
    unless: tuple[str, ...] = ()
    once_per_partner: bool = False
    grace_amount: float = 2
    grace_unit: str = "business days"
    presumes: str = ""  # a step that must have gone first (the escalation: the nudge)


def default_steps() -> tuple[StepConfig, ...]:
    """PRODUCT.md's default workflow table."""
    partner, client, referrer = Role.PARTNER, Role.CLIENT, Role.REFERRER
    return (
        StepConfig("partner_brief", partner, "partner_brief", 0, "hours",
                   unless=("closed", "briefed"), once_per_partner=True),
        StepConfig("partner_nudge", partner, "partner_nudge", 1, "business days",
                   unless=("contacted", "closed")),
        StepConfig("escalation", referrer, "escalation", 3, "business days",
                   unless=("contacted", "closed"), presumes="partner_nudge"),
        StepConfig("partner_checkin", partner, "partner_checkin", 7, "days", unless=("closed",),
                   presumes="partner_nudge"),
        StepConfig("client_checkin", client, "client_checkin", 7, "days",
                   unless=("closed", "opted_out")),
        StepConfig("feedback_request", partner, "feedback_request", 21, "days",
                   unless=("closed",)),
        StepConfig("thank_partner", partner, "thank_partner", 0, "hours", since="closed"),
        StepConfig("thank_client", client, "thank_client", 0, "hours", since="closed",
                   unless=("opted_out",)),
        StepConfig("outcome_report", referrer, "outcome_report", 0, "hours", since="closed"),
    )


def default_received_steps() -> tuple[StepConfig, ...]:
    """A referral a partner sent *to* the firm: the firm's person is reminded to call the
    client, the partner hears when they have spoken and how it ended, and the firm's
    person is prompted to thank them (PRODUCT.md, "received referrals")."""
    partner, referrer = Role.PARTNER, Role.REFERRER
    return (
        StepConfig("received_reminder", referrer, "received_reminder", 1, "business days",
                   unless=("contacted", "closed")),
        StepConfig("received_contacted", partner, "received_contacted", 0, "hours",
                   since="contacted", unless=("closed",)),
        StepConfig("thank_introducer", referrer, "thank_introducer", 0, "hours",
                   since="closed"),
        StepConfig("received_outcome", partner, "received_outcome", 0, "hours",
                   since="closed"),
    )


def consent_steps() -> tuple[StepConfig, ...]:
    """An intro that asks the client first (README, "How people use it"): while the
    client has not answered, one reminder to them and then word to the referrer; once they
    said yes, the introduction to the partner, at once (then the usual steps)."""
    partner, client, referrer = Role.PARTNER, Role.CLIENT, Role.REFERRER
    return (
        StepConfig("consent_reminder", client, "consent_reminder", 3, "business days",
                   unless=("closed", "opted_out")),
        StepConfig("consent_silent", referrer, "consent_silent", 6, "business days",
                   unless=("closed",), presumes="consent_reminder"),
        StepConfig(INTRODUCTION, partner, INTRODUCTION, 0, "hours", unless=("closed",)),
    )


CONSENT_STEPS = consent_steps()


@dataclass(frozen=True)
class ReferralFacts:
    """What planning needs beyond the referral row itself."""

    referral: Referral
    briefed_elsewhere: bool = False
    opted_out: frozenset[str] = frozenset()
    undeliverable: frozenset[str] = frozenset()
    snoozed_until: datetime | None = None
    paused_until: dict[str, datetime] | None = None
    # a party with business hours of their own (a partner in another time zone)
    calendars: Mapping[str, BusinessCalendar] = field(default_factory=dict)
    # the client's consent, when the intro asked for it: "asked", "yes" or "no"
    consent: str | None = None


@dataclass(frozen=True)
class PlannedStep:
    step: str
    recipient: str
    due_at: datetime


def _anchor(referral: Referral, since: str) -> datetime | None:
    return {"intake": referral.plan_from or referral.created_at,
            "contacted": referral.contacted_at, "closed": referral.closed_at}[since]


def _blocked(step: StepConfig, facts: ReferralFacts, recipient: str) -> bool:
    referral = facts.referral
    conditions = {
        "contacted": referral.contacted_at is not None or referral.status is Status.CONTACTED,
        "closed": referral.status is Status.CLOSED,
        "opted_out": recipient in facts.opted_out,
        "briefed": facts.briefed_elsewhere,
    }
    return any(conditions[c] for c in step.unless)


def plans_nothing(referral: Referral) -> bool:
    """Old intros found on a first run: ledger only, never chased."""
    return referral.history


def plan(facts: ReferralFacts, steps: Collection[StepConfig], calendar: BusinessCalendar,
         acknowledge_referrer: bool = True,
         received_steps: Collection[StepConfig] = (),
         asking: Collection[StepConfig] = CONSENT_STEPS) -> list[PlannedStep]:
    """Every step this referral should have, with its due time, given its state now.

    A received referral (a partner's intro to the firm) follows `received_steps`, aimed at
    the firm's person; it is acknowledged by its own reminder, not the acknowledgement.
    An intro that asks the client first (`facts.consent`) follows `asking` while it awaits
    their answer; after a yes, the introduction to the partner and then the usual steps
    from the moment of consent (the referrer, copied on the introduction, gets no
    acknowledgement); after a no, or once it is closed by hand before a yes, nothing."""
    referral = facts.referral
    if plans_nothing(referral) or facts.consent == "no" or (
            facts.consent == "asked" and referral.status is not Status.AWAITING_CONSENT):
        return []  # declined, or closed (moved on) by hand before the client said yes
    received = referral.direction == "received"
    if received:
        steps, acknowledge_referrer = received_steps, False
    by_name = {s.name: s for s in asking}
    if referral.status is Status.AWAITING_CONSENT:
        steps, acknowledge_referrer = [s for s in asking if s.name != INTRODUCTION], False
    elif facts.consent == "yes":
        intro = [by_name[INTRODUCTION]] if INTRODUCTION in by_name else []
        steps, acknowledge_referrer = [*intro, *steps], False
    start = calendar.next_opening(referral.plan_from or referral.created_at)
    if referral.status is Status.NEEDS_PARTNER:
        return [] if received else [PlannedStep(PARTNER_QUESTION, referral.referrer, start)]
    planned: list[PlannedStep] = []
    if acknowledge_referrer:
        planned.append(PlannedStep(ACKNOWLEDGEMENT, referral.referrer, start))
    closed = referral.status is Status.CLOSED
    for step in steps:
        if closed != (step.since == "closed"):
            continue
        recipient = referral.address_of(step.to)
        anchor = _anchor(referral, step.since)
        if recipient is None or anchor is None or _blocked(step, facts, recipient):
            continue
        if recipient in facts.opted_out or recipient in facts.undeliverable:
            continue
        theirs = facts.calendars.get(recipient, calendar)
        due = theirs.add(anchor, step.after_amount, step.after_unit)
        later = [t for t in (facts.snoozed_until if step.since != "closed" else None,
                             (facts.paused_until or {}).get(recipient)) if t is not None]
        if later and due < max(later):
            due = theirs.next_opening(max(later))
        planned.append(PlannedStep(step.name, recipient, due))
    return planned


def role_words(role: Role, language: str = "en") -> tuple[str, ...]:
    """The reply words a recipient in `role` may use, as their emails name them in
    `language` ("en", "de", "fr", "es", "nl"; any other: English)."""
    return listed_words(role, language)

"""The received referral's plan in detail: who gets each step, when, and what holds it back."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mailflow.core.business_time import BusinessCalendar
from mailflow.core.languages import SUPPORTED
from mailflow.core.model import Outcome, Referral, Role, Status
from mailflow.core.workflow import (
    ACKNOWLEDGEMENT,
    PARTNER_QUESTION,
    PlannedStep,
    ReferralFacts,
    default_received_steps,
    default_steps,
    plan,
)

LON = ZoneInfo("Europe/London")
CAL = BusinessCalendar(LON)
ALICE, ZOE, BOB = "alice@firm.example", "zoe@bakery.example", "bob@law.example"
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=LON)
FRIDAY = datetime(2026, 11, 27, 10, 0, tzinfo=LON)
TEMPLATES = Path(__file__).parents[2] / "templates"

RECEIVED = Referral(9, Status.OPEN, ALICE, ZOE, BOB, "Zoe, meet Alice", MONDAY,
                    "bob-intro@law.example", direction="received")
CONTACTED = replace(RECEIVED, status=Status.CONTACTED, contacted_at=MONDAY + timedelta(hours=3))
CLOSED = replace(CONTACTED, status=Status.CLOSED, outcome=Outcome.WON,
                 closed_at=MONDAY + timedelta(days=2))


def planned(referral: Referral, **facts: Any) -> list[PlannedStep]:
    return plan(replace(ReferralFacts(referral), **facts), default_steps(), CAL, True,
                default_received_steps())


def steps(referral: Referral, **facts: Any) -> dict[str, tuple[str, datetime]]:
    return {p.step: (p.recipient, p.due_at) for p in planned(referral, **facts)}


def test_each_received_step_goes_to_its_party_at_its_time() -> None:
    assert steps(RECEIVED) == {"received_reminder": (ALICE, MONDAY + timedelta(days=1))}
    assert steps(CONTACTED) == {"received_contacted": (BOB, MONDAY + timedelta(hours=3))}
    assert steps(CLOSED) == {"thank_introducer": (ALICE, MONDAY + timedelta(days=2)),
                             "received_outcome": (BOB, MONDAY + timedelta(days=2))}


def test_the_reminder_counts_business_days() -> None:
    friday = replace(RECEIVED, created_at=FRIDAY)
    assert steps(friday)["received_reminder"] == (ALICE, FRIDAY + timedelta(days=3))  # Monday


def test_either_sign_of_contact_stops_the_reminder() -> None:
    # the status alone (set by hand, no time known): no reminder, and nothing to anchor on
    assert steps(replace(RECEIVED, status=Status.CONTACTED)) == {}
    # a contact time while the status is still open
    contact = MONDAY + timedelta(hours=5)
    assert steps(replace(RECEIVED, contacted_at=contact)) == {
        "received_contacted": (BOB, contact)}


def test_a_received_referral_without_a_partner_asks_nobody() -> None:
    needs = replace(RECEIVED, status=Status.NEEDS_PARTNER)
    assert planned(needs) == []
    given = replace(needs, direction="given")
    assert planned(given) == [PlannedStep(PARTNER_QUESTION, ALICE, MONDAY)]


def test_a_snooze_holds_the_open_steps_but_not_the_thanks() -> None:
    until = MONDAY + timedelta(days=7)
    assert steps(RECEIVED, snoozed_until=until) == {"received_reminder": (ALICE, until)}
    assert steps(CLOSED, snoozed_until=until) == steps(CLOSED)


def test_a_pause_holds_its_party_even_after_the_close() -> None:
    until = MONDAY + timedelta(days=9)
    assert steps(CLOSED, paused_until={BOB: until}) == {
        "thank_introducer": (ALICE, MONDAY + timedelta(days=2)),
        "received_outcome": (BOB, until)}


@pytest.mark.parametrize("blocked", ["undeliverable", "opted_out"])
def test_an_unreachable_party_loses_only_their_own_steps(blocked: str) -> None:
    assert set(steps(CLOSED, **{blocked: frozenset({ALICE})})) == {"received_outcome"}
    assert set(steps(CLOSED, **{blocked: frozenset({BOB})})) == {"thank_introducer"}
    assert steps(RECEIVED, **{blocked: frozenset({ALICE})}) == {}


def test_the_received_steps_are_aimed_at_the_firm_and_the_introducer() -> None:
    roles = {s.name: s.to for s in default_received_steps()}
    assert roles == {"received_reminder": Role.REFERRER, "received_contacted": Role.PARTNER,
                     "thank_introducer": Role.REFERRER, "received_outcome": Role.PARTNER}
    assert Role.CLIENT not in roles.values()  # the client is the introducer's to follow


def test_every_received_step_has_its_email_in_every_language() -> None:
    for step in default_received_steps():
        assert (TEMPLATES / f"{step.template}.j2").is_file(), step.template
        for language in SUPPORTED:
            if language != "en":
                assert (TEMPLATES / language / f"{step.template}.j2").is_file(), (
                    language, step.template)


def test_only_a_given_referral_acknowledges_its_referrer() -> None:
    given = replace(RECEIVED, direction="given")
    assert planned(given)[0] == PlannedStep(ACKNOWLEDGEMENT, ALICE, MONDAY)
    assert ACKNOWLEDGEMENT not in steps(RECEIVED)

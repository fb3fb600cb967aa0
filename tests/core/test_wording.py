"""Plain words for steps, statuses and events: every code has one, and explanations read well."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailflow.core.model import Outcome, Role, Status
from mailflow.core.wording import (
    EMAILS,
    EVENTS,
    amount,
    email_status_name,
    event_name,
    explain_email,
    explain_step,
    outcome_name,
    status_name,
    step_name,
)
from mailflow.core.workflow import (
    ACKNOWLEDGEMENT,
    CONSENT_STEPS,
    PARTNER_QUESTION,
    StepConfig,
    default_received_steps,
    default_steps,
)

TEMPLATES = Path(__file__).parents[2] / "templates"


def test_every_step_notice_status_and_outcome_has_a_plain_name() -> None:
    notices = {p.stem.removeprefix("notice_") for p in TEMPLATES.glob("notice_*.j2")}
    steps = ({s.name for s in (*default_steps(), *default_received_steps(), *CONSENT_STEPS)}
             | {ACKNOWLEDGEMENT, PARTNER_QUESTION})
    assert steps | notices <= set(EMAILS)
    for code in [*EMAILS, *EVENTS, *(s.value for s in Status), *(o.value for o in Outcome)]:
        for name in (step_name(code), event_name(code), status_name(code),
                     outcome_name(code), email_status_name(code)):
            assert "_" not in name and name.strip() == name, (code, name)


@pytest.mark.parametrize(("code", "words"), [
    ("feedback_request", "feedback request"), ("partner_question", "partner question"),
    ("partner_brief", "partner brief"), ("confirm", "confirmation"),
    ("a_new_step", "a new step"),
])
def test_step_names(code: str, words: str) -> None:
    assert step_name(code) == words


@pytest.mark.parametrize(("name", "function", "words"), [
    ("needs_partner", status_name, "needs a partner"),
    ("opted_out", event_name, "stopped mail"),
    ("contact-seen", event_name, "contact seen"),
    ("pending", email_status_name, "planned"),
    ("superseded", email_status_name, "replaced by a later email"),
])
def test_statuses_and_events(name: str, function: object, words: str) -> None:
    assert callable(function) and function(name) == words


@pytest.mark.parametrize(("number", "unit", "words"), [
    (1, "business days", "1 business day"), (3, "business days", "3 business days"),
    (0, "hours", "0 hours"), (1.5, "days", "1.5 days"), (1, "hours", "1 hour"),
])
def test_amounts_agree_with_their_number(number: float, unit: str, words: str) -> None:
    assert amount(number, unit) == words


def test_the_default_steps_are_explained_in_plain_words() -> None:
    explained = {s.name: explain_step(s) for s in default_steps()}
    assert explained["partner_nudge"] == ("1 business day after the intro, unless contact was "
                                          "seen or it was closed")
    assert explained["partner_brief"] == ("right after the intro, unless it was closed or the "
                                          "partner was already briefed")
    assert explained["client_checkin"] == ("7 days after the intro, unless it was closed or "
                                           "they stopped mail")
    assert explained["thank_partner"] == "right after closing"
    one = StepConfig("x", Role.CLIENT, "x", 2, "hours", since="contacted", unless=("closed",))
    assert explain_step(one) == "2 hours after contact, unless it was closed"


def test_every_email_has_a_reason() -> None:
    steps = default_steps()
    assert explain_email("step", "escalation", steps).startswith("3 business days after")
    assert explain_email("step", "acknowledgement", steps) == (
        "an answer to the intro: tells the referrer the intro is recorded")
    assert explain_email("notice", "confirm", steps) == "an answer: confirms a reply"
    assert explain_email("digest", "digest", steps) == "the referrer's weekly summary"

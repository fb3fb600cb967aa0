"""What a person may do to a referral, written once (pure): each intent's guard and change.

Every way in maps its input to an intent here: a reply word (`reply_rules`), a
command-line command and a web action (`decisions.on_operator`). A row's guard answers
with the reason the intent does not apply now (already closed, not closed…); the way in
decides how to say it: a reply keeps it as an event, the command line and the web show
it. Who may ask (a role, a signed reply) is the way in's own check, before the table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mailflow.core.model import Outcome, Referral, Status

MAX_SNOOZE_DAYS = 365


@dataclass(frozen=True)
class Ask:
    """An intent with what it needs: close (outcome), snooze (days), partner (address)…"""

    intent: str
    outcome: Outcome | None = None
    days: int | None = None
    partner: str | None = None
    rating: int | None = None


@dataclass(frozen=True)
class Change:
    """The fields an intent sets, its event, and what a confirmation says."""

    fields: Mapping[str, Any]
    event: str
    detail: str  # what happened, without who: "closed as won"
    confirm: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NotNow:
    """The intent does not apply to the referral as it stands."""

    reason: str


Rule = Callable[[Referral, Ask, datetime], Change | NotNow]


def _close(referral: Referral, ask: Ask, now: datetime) -> Change | NotNow:
    if referral.status is Status.CLOSED:
        return NotNow(f"{referral.tag} is already closed ({referral.outcome})")
    if ask.outcome is None:
        return NotNow("closing needs an outcome (won, lost or done)")
    return Change({"status": Status.CLOSED, "outcome": ask.outcome, "closed_at": now},
                  "closed", f"closed as {ask.outcome}",
                  {"change": "closed", "outcome": str(ask.outcome)})


def _reopen(referral: Referral, ask: Ask, now: datetime) -> Change | NotNow:
    if referral.status is not Status.CLOSED:
        return NotNow(f"{referral.tag} is not closed")
    return Change({"status": Status.CONTACTED if referral.contacted_at else Status.OPEN,
                   "outcome": None, "closed_at": None}, "reopened", "reopened",
                  {"change": "reopened"})


def _contacted(referral: Referral, ask: Ask, now: datetime) -> Change | NotNow:
    if referral.status in (Status.CLOSED, Status.CONTACTED):
        return NotNow("contact is already recorded")
    return Change({"status": Status.CONTACTED, "contacted_at": now}, "contacted",
                  "contact reported", {"change": "contacted"})


def _snooze(referral: Referral, ask: Ask, now: datetime) -> Change | NotNow:
    if not ask.days or not 1 <= ask.days <= MAX_SNOOZE_DAYS:
        return NotNow(f"snooze for 1 to {MAX_SNOOZE_DAYS} days")
    return Change({"snoozed_until": now + timedelta(days=ask.days)}, "snoozed",
                  f"snoozed {ask.days} day{'' if ask.days == 1 else 's'}",
                  {"change": "snoozed", "days": ask.days})


def _follow_up(referral: Referral, ask: Ask, now: datetime) -> Change | NotNow:
    if not referral.history:
        return NotNow(f"{referral.tag} is already followed up")
    return Change({"history": False, "plan_from": now}, "follow-up",
                  "followed up from now on", {"change": "follow-up"})


def _rating(referral: Referral, ask: Ask, now: datetime) -> Change | NotNow:
    if ask.rating is None or not 1 <= ask.rating <= 5:
        return NotNow("a rating is 1 to 5")
    return Change({"rating": ask.rating}, "rating", f"rated {ask.rating}/5")


def _people(referral: Referral) -> list[str]:
    return [p for p in dict.fromkeys((*referral.candidates, referral.client, referral.partner))
            if p and p != referral.referrer]


def _choose_partner(referral: Referral, ask: Ask, now: datetime) -> Change | NotNow:
    if referral.status is Status.CLOSED:
        return NotNow(f"{referral.tag} is closed; reopen it first")
    people = _people(referral)
    if ask.partner is None or ask.partner not in people:
        return NotNow(f"{ask.partner} is not one of the people on {referral.tag}")
    client = next((p for p in people if p != ask.partner), None)
    return _partner_is(referral, ask.partner, client)


def _swap(referral: Referral, ask: Ask, now: datetime) -> Change | NotNow:
    if referral.status is Status.CLOSED:
        return NotNow(f"{referral.tag} is closed; reopen it first")
    if not (referral.client and referral.partner):
        return NotNow(f"{referral.tag} has no client and partner to swap")
    return _partner_is(referral, referral.client, referral.partner)


def _partner_is(referral: Referral, partner: str, client: str | None) -> Change:
    status = referral.status if referral.status is not Status.NEEDS_PARTNER else Status.OPEN
    return Change({"partner": partner, "client": client, "status": status},
                  "partner-chosen", f"partner {partner}, client {client}",
                  {"change": "partner-chosen", "partner_chosen": partner})


TRANSITIONS: dict[str, Rule] = {
    "close": _close,
    "reopen": _reopen,
    "contacted": _contacted,
    "snooze": _snooze,
    "follow_up": _follow_up,
    "rating": _rating,
    "partner": _choose_partner,
    "swap": _swap,
}


def transition(referral: Referral, ask: Ask, now: datetime,
               table: Mapping[str, Rule] = TRANSITIONS) -> Change | NotNow:
    """What `ask` does to `referral` at `now`, by the one table."""
    rule = table.get(ask.intent)
    if rule is None:
        return NotNow(f"unknown action {ask.intent!r}")
    return rule(referral, ask, now)

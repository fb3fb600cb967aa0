"""The transition table: each intent's guard and change, and one table for every way in."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mailflow.core.commands import Command
from mailflow.core.decisions import on_operator
from mailflow.core.effects import AddEvent, SetFields
from mailflow.core.model import Outcome, Referral, Role, Status
from mailflow.core.reply_rules import decide_reply
from mailflow.core.transitions import TRANSITIONS, Ask, Change, NotNow, transition
from mailflow.core.vocabulary import VOCABULARY, Word

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
REF = Referral(7, Status.OPEN, "alice@firm.example", "jane@gmail.com", "bob@law.example",
               "Jane / Bob", NOW - timedelta(days=2), "<intro@firm.example>")
CLOSED = replace(REF, status=Status.CLOSED, outcome=Outcome.WON, closed_at=NOW)
UNSURE = replace(REF, status=Status.NEEDS_PARTNER, client=None, partner=None,
                 candidates=("lena@vogel.example", "omar@haddad.example"))


@pytest.mark.parametrize(("referral", "ask", "expected"), [
    (REF, Ask("close", outcome=Outcome.WON),
     Change({"status": Status.CLOSED, "outcome": Outcome.WON, "closed_at": NOW}, "closed",
            "closed as won", {"change": "closed", "outcome": "won"})),
    (CLOSED, Ask("close", outcome=Outcome.DONE), NotNow("R-7 is already closed (won)")),
    (REF, Ask("close"), NotNow("closing needs an outcome (won, lost or done)")),
    (CLOSED, Ask("reopen"),
     Change({"status": Status.OPEN, "outcome": None, "closed_at": None}, "reopened",
            "reopened", {"change": "reopened"})),
    (replace(CLOSED, contacted_at=NOW), Ask("reopen"),
     Change({"status": Status.CONTACTED, "outcome": None, "closed_at": None}, "reopened",
            "reopened", {"change": "reopened"})),
    (REF, Ask("reopen"), NotNow("R-7 is not closed")),
    (REF, Ask("contacted"),
     Change({"status": Status.CONTACTED, "contacted_at": NOW}, "contacted",
            "contact reported", {"change": "contacted"})),
    (replace(REF, status=Status.CONTACTED), Ask("contacted"),
     NotNow("contact is already recorded")),
    (CLOSED, Ask("contacted"), NotNow("contact is already recorded")),
    (REF, Ask("snooze", days=1),
     Change({"snoozed_until": NOW + timedelta(days=1)}, "snoozed", "snoozed 1 day",
            {"change": "snoozed", "days": 1})),
    (REF, Ask("snooze", days=365),
     Change({"snoozed_until": NOW + timedelta(days=365)}, "snoozed", "snoozed 365 days",
            {"change": "snoozed", "days": 365})),
    (REF, Ask("snooze", days=0), NotNow("snooze for 1 to 365 days")),
    (REF, Ask("snooze", days=366), NotNow("snooze for 1 to 365 days")),
    (replace(REF, history=True), Ask("follow_up"),
     Change({"history": False, "plan_from": NOW}, "follow-up", "followed up from now on",
            {"change": "follow-up"})),
    (REF, Ask("follow_up"), NotNow("R-7 is already followed up")),
    (REF, Ask("rating", rating=5), Change({"rating": 5}, "rating", "rated 5/5")),
    (REF, Ask("rating", rating=1), Change({"rating": 1}, "rating", "rated 1/5")),
    (REF, Ask("rating", rating=6), NotNow("a rating is 1 to 5")),
    (REF, Ask("rating", rating=0), NotNow("a rating is 1 to 5")),
    (UNSURE, Ask("partner", partner="omar@haddad.example"),
     Change({"partner": "omar@haddad.example", "client": "lena@vogel.example",
             "status": Status.OPEN}, "partner-chosen",
            "partner omar@haddad.example, client lena@vogel.example",
            {"change": "partner-chosen", "partner_chosen": "omar@haddad.example"})),
    (UNSURE, Ask("partner", partner="alice@firm.example"),
     NotNow("alice@firm.example is not one of the people on R-7")),
    (CLOSED, Ask("partner", partner="jane@gmail.com"), NotNow("R-7 is closed; reopen it first")),
    # the referrer is never a partner, even when the intro listed them among the people
    (replace(UNSURE, candidates=("alice@firm.example", "omar@haddad.example")),
     Ask("partner", partner="alice@firm.example"),
     NotNow("alice@firm.example is not one of the people on R-7")),
    # one person only: they are the partner, and there is no client
    (replace(UNSURE, candidates=("omar@haddad.example",)),
     Ask("partner", partner="omar@haddad.example"),
     Change({"partner": "omar@haddad.example", "client": None, "status": Status.OPEN},
            "partner-chosen", "partner omar@haddad.example, client None",
            {"change": "partner-chosen", "partner_chosen": "omar@haddad.example"})),
    (REF, Ask("swap"),
     Change({"partner": "jane@gmail.com", "client": "bob@law.example",
             "status": Status.OPEN}, "partner-chosen",
            "partner jane@gmail.com, client bob@law.example",
            {"change": "partner-chosen", "partner_chosen": "jane@gmail.com"})),
    (UNSURE, Ask("swap"), NotNow("R-7 has no client and partner to swap")),
    (CLOSED, Ask("swap"), NotNow("R-7 is closed; reopen it first")),
    (REF, Ask("fly"), NotNow("unknown action 'fly'")),
])
def test_each_row_guards_and_changes(referral: Referral, ask: Ask,
                                     expected: Change | NotNow) -> None:
    assert transition(referral, ask, NOW) == expected


def _hold(referral: Referral, ask: Ask, now: datetime) -> Change | NotNow:
    if referral.status is Status.CLOSED:
        return NotNow("closed")
    return Change({"snoozed_until": now + timedelta(days=90)}, "held", "held for a quarter",
                  {"change": "snoozed", "days": 90})


def test_a_new_row_is_picked_up_by_email_and_by_the_operator() -> None:
    """One row and one word: email, the command line and the web need nothing else."""
    table = {**TRANSITIONS, "hold": _hold}
    vocabulary = (*VOCABULARY, Word("hold", ("hold",), frozenset({Role.REFERRER}), True,
                                    "hold", "held for a quarter", intent="hold"))
    said = decide_reply(REF, Role.REFERRER, "alice@firm.example", Command("hold", text="hold"),
                        NOW, vocabulary=vocabulary, table=table)
    assert said.changes == {"snoozed_until": NOW + timedelta(days=90)}
    assert said.event_kind == "held" and said.event_detail == "held for a quarter by " \
        "alice@firm.example"
    done = on_operator(REF, "hold", NOW, actor="alice@firm.example (via web)", table=table)
    assert SetFields(7, {"snoozed_until": NOW + timedelta(days=90)}) in done
    assert AddEvent(7, "held", "alice@firm.example (via web)",
                    "held for a quarter by alice@firm.example (via web)") in done
    with pytest.raises(ValueError, match="unknown action 'hold'"):
        on_operator(REF, "hold", NOW)  # not in the real table
    with pytest.raises(ValueError, match="closed"):
        on_operator(CLOSED, "hold", NOW, table=table)


def test_email_and_operator_say_the_same_rule_their_own_way() -> None:
    """A rule that does not apply is a reply event for email and an error for the web."""
    said = decide_reply(CLOSED, Role.PARTNER, "bob@law.example", Command("done", "done"), NOW)
    assert said.changes == {} and said.event_detail == "done: R-7 is already closed (won)"
    with pytest.raises(ValueError, match=r"R-7 is already closed \(won\)"):
        on_operator(CLOSED, "close", NOW, outcome=Outcome.DONE)

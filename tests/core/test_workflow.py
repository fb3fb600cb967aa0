"""Workflow planning and reply rules: pure functions of state and time."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from mailflow.core.business_time import BusinessCalendar
from mailflow.core.commands import Command
from mailflow.core.model import Outcome, Referral, Role, Status
from mailflow.core.reply_rules import decide_reply
from mailflow.core.workflow import ReferralFacts, default_steps, plan

LON = ZoneInfo("Europe/London")
CAL = BusinessCalendar(LON)
T0 = datetime(2026, 11, 20, 16, 30, tzinfo=LON)  # a Friday afternoon
REF = Referral(7, Status.OPEN, "alice@firm.example", "jane@gmail.com", "bob@law.example",
               "Intro", T0, "intro7@firm.example")


def due(facts: ReferralFacts) -> dict[str, datetime]:
    return {p.step: p.due_at for p in plan(facts, default_steps(), CAL)}


def test_default_table_in_business_time() -> None:
    steps = due(ReferralFacts(REF))
    assert steps["acknowledgement"] == T0
    assert steps["partner_brief"] == T0
    assert steps["partner_nudge"] == datetime(2026, 11, 23, 16, 30, tzinfo=LON)   # Monday
    assert steps["escalation"] == datetime(2026, 11, 25, 16, 30, tzinfo=LON)      # Wednesday
    assert steps["partner_checkin"] == datetime(2026, 11, 27, 16, 30, tzinfo=LON)
    assert steps["client_checkin"] == datetime(2026, 11, 27, 16, 30, tzinfo=LON)
    assert steps["feedback_request"] == datetime(2026, 12, 11, 16, 30, tzinfo=LON)
    assert "thank_partner" not in steps


def test_contact_stops_nudge_and_escalation() -> None:
    contacted = replace(REF, status=Status.CONTACTED, contacted_at=T0 + timedelta(hours=1))
    steps = due(ReferralFacts(contacted))
    assert "partner_nudge" not in steps and "escalation" not in steps
    assert "partner_checkin" in steps


def test_close_replaces_everything_with_the_closing_steps() -> None:
    closed = replace(REF, status=Status.CLOSED, outcome=Outcome.WON,
                     closed_at=datetime(2026, 11, 24, 20, 0, tzinfo=LON))
    steps = due(ReferralFacts(closed))
    assert set(steps) == {"acknowledgement", "thank_partner", "thank_client", "outcome_report"}
    assert steps["thank_partner"] == datetime(2026, 11, 25, 9, 0, tzinfo=LON)  # next opening


def test_brief_once_per_partner_and_opt_out() -> None:
    steps = due(ReferralFacts(REF, briefed_elsewhere=True, opted_out=frozenset({"jane@gmail.com"})))
    assert "partner_brief" not in steps
    assert "client_checkin" not in steps


def test_snooze_and_out_of_office_move_steps() -> None:
    until = datetime(2026, 12, 7, tzinfo=LON)
    steps = due(ReferralFacts(REF, paused_until={"bob@law.example": until}))
    assert steps["partner_nudge"] == datetime(2026, 12, 7, 9, 0, tzinfo=LON)
    assert steps["escalation"] == datetime(2026, 11, 25, 16, 30, tzinfo=LON)  # Alice is not away
    snoozed = due(ReferralFacts(REF, snoozed_until=until))
    assert snoozed["client_checkin"] == datetime(2026, 12, 7, 9, 0, tzinfo=LON)


def test_needs_partner_only_asks_the_question() -> None:
    unsure = replace(REF, status=Status.NEEDS_PARTNER, client=None, partner=None,
                     candidates=("a@x.example", "b@y.example"))
    assert list(due(ReferralFacts(unsure))) == ["partner_question"]


def test_received_referrals_get_no_mail() -> None:
    assert due(ReferralFacts(replace(REF, direction="received"))) == {}


def test_roles_decide_who_may_say_what() -> None:
    now = T0 + timedelta(days=1)
    client_won = decide_reply(REF, Role.CLIENT, "jane@gmail.com", Command("won", "won"), now)
    assert client_won.refused and not client_won.changes
    partner_won = decide_reply(REF, Role.PARTNER, "bob@law.example", Command("won", "won"), now)
    assert partner_won.changes["status"] is Status.CLOSED
    assert partner_won.changes["outcome"] is Outcome.WON
    partner_rating = decide_reply(REF, Role.PARTNER, "bob@law.example",
                                  Command("rating", rating=5), now)
    assert partner_rating.refused
    client_rating = decide_reply(REF, Role.CLIENT, "jane@gmail.com",
                                 Command("rating", rating=5), now)
    assert client_rating.changes == {"rating": 5}
    reopen_by_partner = decide_reply(replace(REF, status=Status.CLOSED), Role.PARTNER,
                                     "bob@law.example", Command("reopen"), now)
    assert reopen_by_partner.refused


def test_choice_answers_the_partner_question() -> None:
    unsure = replace(REF, status=Status.NEEDS_PARTNER, client=None, partner=None,
                     candidates=("lena@vogel.example", "omar@haddad.example"))
    effect = decide_reply(unsure, Role.REFERRER, "alice@firm.example",
                          Command("choice", text="2"), T0)
    assert effect.changes == {"status": Status.OPEN, "partner": "omar@haddad.example",
                              "client": "lena@vogel.example"}
    wrong = decide_reply(unsure, Role.REFERRER, "alice@firm.example",
                         Command("choice", text="7"), T0)
    assert wrong.refused and wrong.help_needed


def test_snooze_moves_by_days() -> None:
    effect = decide_reply(REF, Role.PARTNER, "bob@law.example", Command("snooze", days=14), T0)
    assert effect.changes["snoozed_until"] == T0 + timedelta(days=14)

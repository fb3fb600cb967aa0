"""Referrals a partner sends to the firm: recognised as sent, and followed up at the firm."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from mailflow.core.addressing import Trackers
from mailflow.core.business_time import BusinessCalendar
from mailflow.core.intake import Intro, NotAnIntro, PartnerDirectory, read_intro
from mailflow.core.model import Outcome, Referral, Status
from mailflow.core.parse import parse_message
from mailflow.core.workflow import (
    ReferralFacts,
    default_received_steps,
    default_steps,
    plan,
)

LON = ZoneInfo("Europe/London")
CAL = BusinessCalendar(LON)
TRACKERS = Trackers(("referrals@firm.example",))
DIRECTORY = PartnerDirectory({"bob@law.example": "bob@law.example"})
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=LON)  # Monday


def _intro(sender: str, to: str, cc: str = "referrals@firm.example") -> Intro | NotAnIntro:
    raw = (f"From: {sender}\r\nTo: {to}\r\nCc: {cc}\r\nSubject: Zoe, meet Alice\r\n"
           "Message-ID: <bob-intro@law.example>\r\n\r\nZoe, meet Alice, the best accountant"
           " I know. Alice, Zoe runs a bakery.\r\n")
    return read_intro(parse_message(raw.encode()), TRACKERS, ("*@firm.example",), DIRECTORY)


def test_a_partners_own_intro_to_someone_at_the_firm_is_received() -> None:
    intro = _intro("Bob Smith <bob@law.example>",
                   "Zoe Park <zoe@bakery.example>, Alice Adams <alice@firm.example>")
    assert isinstance(intro, Intro)
    assert (intro.direction, intro.how, intro.referrer) == ("received", "partner",
                                                            "alice@firm.example")
    (new,) = intro.referrals
    assert (new.client, new.partner, new.status) == ("zoe@bakery.example", "bob@law.example",
                                                     Status.OPEN)


def test_a_stranger_or_a_partner_writing_to_nobody_at_the_firm_is_no_intro() -> None:
    stranger = _intro("Mallory <mallory@outside.example>",
                      "zoe@bakery.example, alice@firm.example")
    assert isinstance(stranger, NotAnIntro) and stranger.reason.startswith("not-referrer")
    elsewhere = _intro("Bob Smith <bob@law.example>", "zoe@bakery.example, kim@other.example")
    assert isinstance(elsewhere, NotAnIntro) and "nobody at the firm" in elsewhere.reason
    alone = _intro("Bob Smith <bob@law.example>", "alice@firm.example")
    assert isinstance(alone, NotAnIntro) and "no client" in alone.reason


RECEIVED = Referral(9, Status.OPEN, "alice@firm.example", "zoe@bakery.example",
                    "bob@law.example", "Zoe, meet Alice", T0, "bob-intro@law.example",
                    direction="received")


def due(referral: Referral) -> dict[str, datetime]:
    return {p.step: p.due_at for p in plan(ReferralFacts(referral), default_steps(), CAL,
                                           True, default_received_steps())}


def test_the_received_workflow_is_aimed_at_the_firm() -> None:
    steps = due(RECEIVED)
    assert steps == {"received_reminder": T0 + timedelta(days=1)}  # no acknowledgement
    contacted = replace(RECEIVED, status=Status.CONTACTED, contacted_at=T0 + timedelta(hours=3))
    assert due(contacted) == {"received_contacted": T0 + timedelta(hours=3)}
    closed = replace(contacted, status=Status.CLOSED, outcome=Outcome.WON,
                     closed_at=T0 + timedelta(days=2))
    assert set(due(closed)) == {"thank_introducer", "received_outcome"}


def test_received_steps_can_be_turned_off() -> None:
    assert plan(ReferralFacts(RECEIVED), default_steps(), CAL, True, ()) == []
    # and a given referral never takes them
    given = replace(RECEIVED, direction="given")
    assert "received_reminder" not in {p.step for p in plan(
        ReferralFacts(given), default_steps(), CAL, True, default_received_steps())}

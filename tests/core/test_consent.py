"""Ask the client first: the intake, the client's answer in five languages, the decision
and the plan (all pure)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mailflow.core.addressing import Trackers
from mailflow.core.business_time import BusinessCalendar
from mailflow.core.commands import parse_command
from mailflow.core.consent import read_consent
from mailflow.core.decisions import (
    CONSENT,
    CONSENT_ASKED,
    Reply,
    consent_of,
    on_intro,
    on_reply,
)
from mailflow.core.effects import AddEvent, CreateReferral, Notify, SetFields
from mailflow.core.intake import Intro, PartnerDirectory, read_intro, without_hint
from mailflow.core.ledger import ReferralSummary, compute_ledger
from mailflow.core.model import Outcome, Referral, Status
from mailflow.core.parse import parse_message
from mailflow.core.send_choice import Facts, SendPolicy, choose
from mailflow.core.workflow import CONSENT_STEPS, ReferralFacts, default_steps, plan

LON = ZoneInfo("Europe/London")
CAL = BusinessCalendar(LON)
TRACKERS = Trackers(("referrals@firm.example",))
T0 = datetime(2026, 11, 23, 9, 30, tzinfo=LON)  # a Monday morning
ASKING = Referral(3, Status.AWAITING_CONSENT, "alice@firm.example", "jane@gmail.com",
                  "bob@law.example", "Someone for your will?", T0, "ask1@firm.example")


# -- the client's words ------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "yes", "Yes!", "Yes please.", "yes, please", "Sure", "Happy to!", "Of course — thanks",
    "Hi Alice, yes please!", "ja", "Ja, gerne!", "gerne", "Ja gerne.", "Einverstanden.",
    "oui", "Oui, volontiers.", "volontiers", "D'accord", "d\u2019accord !", "Sí", "¡Sí, claro!",
    "claro", "De acuerdo.", "si", "ja graag", "Prima", "Akkoord.", "Ja, graag!",
    "Yes please, happy to hear from him.\n\nJane",
])
def test_yes_in_each_language(text: str) -> None:
    assert read_consent(text) == "yes"


@pytest.mark.parametrize("text", [
    "no", "No.", "No thanks", "No, thank you.", "nope", "nein", "Nein danke.",
    "Lieber nicht.", "non", "Non merci", "non, merci", "no gracias", "No, gracias.",
    "Mejor no", "nee", "Nee, liever niet.", "liever niet", "Hello Alice, no thanks.",
])
def test_no_in_each_language(text: str) -> None:
    assert read_consent(text) == "no"


@pytest.mark.parametrize("text", [
    "", "not yet", "Not yet, ask me next month.", "no idea", "No idea who that is",
    "yes but not before January", "Maybe", "I'm not sure", "Who is Bob?", "noch nicht",
    "pas encore", "todavía no", "nog niet", "no problem with the will, but later",
    "What does he charge? Yes or no depends on that.", "Thanks Alice",
    "Hi Alice,\n\nI'll think about it.",
])
def test_anything_else_is_no_answer(text: str) -> None:
    assert read_consent(text) is None


def test_only_the_first_clause_is_read_and_the_cost_is_bounded() -> None:
    assert read_consent("I'll think about it. Yes, I will.") is None
    assert read_consent("Yes. " + "No. " * 1000) == "yes"

    def cost(n: int) -> float:
        text = ("Hi Alice, " + "well " * n) + "yes"
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(50):
                read_consent(text)
            best = min(best, time.perf_counter() - start)
        return best

    small, large = cost(20_000), cost(80_000)
    assert max(large, 0.002) / max(small, 0.002) < 10


# -- intake ------------------------------------------------------------------------------

def _intro(to: str, text: str) -> Intro:
    raw = (f"From: Alice Adams <alice@firm.example>\r\nTo: {to}\r\n"
           "Cc: referrals@firm.example\r\nSubject: Someone for your will?\r\n"
           f"Message-ID: <ask1@firm.example>\r\n\r\n{text}\r\n")
    intro = read_intro(parse_message(raw.encode()), TRACKERS, ("*@firm.example",),
                       PartnerDirectory())
    assert isinstance(intro, Intro)
    return intro


def test_an_intro_to_the_client_alone_naming_the_partner_awaits_consent() -> None:
    intro = _intro("Jane Doe <jane@gmail.com>",
                   "Jane, shall I introduce you to Bob?\r\n\r\npartner: bob@law.example")
    (new,) = intro.referrals
    assert (new.client, new.partner, new.status) == ("jane@gmail.com", "bob@law.example",
                                                     Status.AWAITING_CONSENT)
    effects = on_intro(intro, "ask1@firm.example", T0, "", None, T0)
    (create,) = [e for e in effects if isinstance(e, CreateReferral)]
    assert create.plan and create.fields["status"] is Status.AWAITING_CONSENT
    assert [kind for kind, _ in create.events] == [CONSENT_ASKED]


def test_the_partner_among_the_recipients_is_an_ordinary_intro() -> None:
    intro = _intro("jane@gmail.com, bob@law.example", "Jane, meet Bob.\r\npartner: bob@law.example")
    assert [n.status for n in intro.referrals] == [Status.OPEN]


def test_the_hint_line_is_left_out_of_the_text_the_partner_gets() -> None:
    assert without_hint("Jane, meet Bob.\n\npartner: bob@law.example\n\nAlice") == (
        "Jane, meet Bob.\n\nAlice")


# -- the decision ------------------------------------------------------------------------

def _reply(sender: str, text: str, referral: Referral = ASKING, proven: bool = False,
           answers_intro: bool = True) -> Reply:
    return Reply(referral, sender, parse_command(text), proven, T0 + timedelta(hours=2),
                 consent=read_consent(text) if sender == referral.client else None,
                 answers_intro=answers_intro)


def test_the_clients_yes_opens_the_referral_from_that_moment() -> None:
    now = T0 + timedelta(hours=3)
    effects = on_reply(_reply("jane@gmail.com", "Ja, gerne!"), now)
    (fields,) = [e for e in effects if isinstance(e, SetFields)]
    assert fields.changes == {"status": Status.OPEN, "plan_from": T0 + timedelta(hours=2)}
    (event,) = [e for e in effects if isinstance(e, AddEvent)]
    assert event.kind == CONSENT and consent_of(event.kind, event.detail) == "yes"
    assert not [e for e in effects if isinstance(e, Notify)]


def test_the_clients_no_closes_it_and_tells_the_referrer() -> None:
    effects = on_reply(_reply("jane@gmail.com", "Non merci"), T0 + timedelta(hours=3))
    (fields,) = [e for e in effects if isinstance(e, SetFields)]
    assert fields.changes["status"] is Status.CLOSED
    assert fields.changes["outcome"] is Outcome.LOST
    (notice,) = [e for e in effects if isinstance(e, Notify)]
    assert (notice.recipient, notice.kind) == ("alice@firm.example", "declined")
    (event,) = [e for e in effects if isinstance(e, AddEvent)]
    assert consent_of(event.kind, event.detail) == "no"


def test_consent_is_read_only_from_the_client_of_an_awaiting_referral() -> None:
    for reply in (_reply("alice@firm.example", "yes"),  # the referrer's yes is no consent
                  _reply("jane@gmail.com", "yes", replace(ASKING, status=Status.OPEN)),
                  _reply("jane@gmail.com", "yes", answers_intro=False),  # unproven
                  _reply("jane@gmail.com", "not yet")):
        effects = on_reply(reply, T0 + timedelta(hours=3))
        assert not [e for e in effects if isinstance(e, AddEvent) and e.kind == CONSENT]
        assert not [e for e in effects if isinstance(e, SetFields)
                    and e.changes.get("status") is Status.OPEN]
    signed = on_reply(_reply("jane@gmail.com", "yes", proven=True, answers_intro=False),
                      T0 + timedelta(hours=3))
    assert [e for e in signed if isinstance(e, AddEvent) and e.kind == CONSENT]


# -- the plan ----------------------------------------------------------------------------

def _due(facts: ReferralFacts) -> dict[str, tuple[str, datetime]]:
    return {p.step: (p.recipient, p.due_at) for p in plan(facts, default_steps(), CAL)}


def test_while_awaiting_only_the_reminder_and_then_the_referrer() -> None:
    steps = _due(ReferralFacts(ASKING, consent="asked"))
    assert steps == {
        "consent_reminder": ("jane@gmail.com", datetime(2026, 11, 26, 9, 30, tzinfo=LON)),
        "consent_silent": ("alice@firm.example", datetime(2026, 12, 1, 9, 30, tzinfo=LON)),
    }
    stopped = _due(ReferralFacts(ASKING, consent="asked",
                                 opted_out=frozenset({"jane@gmail.com"})))
    assert set(stopped) == {"consent_silent"}


def test_after_a_yes_the_introduction_then_the_usual_steps_from_the_consent() -> None:
    at = T0 + timedelta(days=8, hours=1)  # Tuesday 1 Dec, 10:30
    said_yes = replace(ASKING, status=Status.OPEN, plan_from=at)
    steps = _due(ReferralFacts(said_yes, consent="yes"))
    assert steps["introduction"] == ("bob@law.example", at)
    assert steps["partner_brief"] == ("bob@law.example", at)
    assert steps["partner_nudge"] == ("bob@law.example", at + timedelta(days=1))
    assert "acknowledgement" not in steps and "consent_reminder" not in steps


def test_after_a_no_or_a_close_without_a_yes_nothing_is_planned() -> None:
    closed = replace(ASKING, status=Status.CLOSED, outcome=Outcome.LOST, closed_at=T0)
    assert _due(ReferralFacts(closed, consent="no")) == {}
    assert _due(ReferralFacts(closed, consent="asked")) == {}  # closed by the referrer


class _Row:
    def __init__(self, id: int, step: str, recipient: str, due_at: datetime) -> None:
        self.id, self.referral_id, self.step = id, 3, step
        self.recipient, self.due_at, self.kind = recipient, due_at, "step"


def test_the_introduction_goes_alone_never_combined_with_the_brief() -> None:
    now = datetime(2026, 12, 1, 10, 30, tzinfo=LON)
    rows = [_Row(1, "introduction", "bob@law.example", now),
            _Row(2, "partner_brief", "bob@law.example", now)]
    steps = {s.name: s for s in (*default_steps(), *CONSENT_STEPS)}
    choice = choose(rows, Facts(parties={3: frozenset({"bob@law.example"})}),
                    SendPolicy(CAL, steps), now)
    assert sorted(choice.emails) == [(1,), (2,)]


def test_the_ledger_counts_a_referral_for_its_partner_only_after_the_yes() -> None:
    def summary(id: int, status: Status, contacted: datetime | None = None,
                outcome: Outcome | None = None) -> ReferralSummary:
        return ReferralSummary(id, "bob@law.example", "given", status, outcome, T0, contacted,
                               T0 + timedelta(days=1) if status is Status.CLOSED else None,
                               None)
    consent = T0 + timedelta(days=3)
    referrals = [summary(1, Status.AWAITING_CONSENT),
                 summary(2, Status.CLOSED, outcome=Outcome.LOST),  # the client said no
                 summary(3, Status.CONTACTED, contacted=consent + timedelta(hours=2))]
    (bob,) = compute_ledger([("bob@law.example", "Bob Smith", ("bob@law.example",), "")],
                            referrals, {}, {}, T0 + timedelta(days=5),
                            consented={3: consent}, declined=frozenset({2}))
    assert (bob.given, bob.lost, bob.open) == (1, 0, 1)
    assert bob.hours_to_contact == [2.0]

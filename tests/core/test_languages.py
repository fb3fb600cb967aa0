"""Which language each party gets, the language of short texts, and a partner's own clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mailflow.core.business_time import BusinessCalendar
from mailflow.core.languages import choose, locale_for, normalise
from mailflow.core.model import Referral, Role, Status
from mailflow.core.send_choice import SEND, WAIT, Facts, SendPolicy
from mailflow.core.send_choice import choose as choose_sends
from mailflow.core.text_language import language_of, language_of_tag, message_language
from mailflow.core.workflow import ReferralFacts, default_steps, plan
from tests.core.test_send_choice import Row

LON, MTL, SYD = ZoneInfo("Europe/London"), ZoneInfo("America/Montreal"), ZoneInfo(
    "Australia/Sydney")
FIRM, MONTREAL, SYDNEY = BusinessCalendar(LON), BusinessCalendar(MTL), BusinessCalendar(SYD)
ALICE, BOB, JANE = "alice@firm.example", "bob@law.example", "jane@gmail.com"


# -- the order: by hand, their mail, the intro, the firm ---------------------------------
@pytest.mark.parametrize(("role", "known", "expected"), [
    (Role.PARTNER, {"set_by_hand": "fr", "learned": "de", "intro": "es"}, ("fr", "set")),
    (Role.PARTNER, {"set_by_hand": None, "learned": "de", "intro": "es"}, ("de", "mail")),
    (Role.CLIENT, {"set_by_hand": None, "learned": None, "intro": "es"}, ("es", "intro")),
    (Role.CLIENT, {"set_by_hand": None, "learned": None, "intro": None}, ("nl", "default")),
    # the firm's own people read the firm's language, whatever the intro was written in
    (Role.REFERRER, {"set_by_hand": None, "learned": "de", "intro": "es"}, ("nl", "default")),
    (Role.REFERRER, {"set_by_hand": "en", "learned": None, "intro": "es"}, ("en", "set")),
])
def test_resolution_order(role: Role, known: dict[str, str | None],
                          expected: tuple[str, str]) -> None:
    choice = choose(role, default="nl", **known)
    assert (choice.code, choice.source) == expected
    assert choice.why  # show and the web say why


@pytest.mark.parametrize(("given", "code"), [
    ("de", "de"), ("DE", "de"), ("de-CH", "de"), ("fr_CA", "fr"), ("German", "de"),
    ("Nederlands", "nl"), ("español", "es"), ("it", None), ("", None), ("klingon", None)])
def test_normalise(given: str, code: str | None) -> None:
    assert normalise(given) == code


def test_locale_follows_the_country_where_the_language_is_spoken_there() -> None:
    assert locale_for("de", "CH") == "de_CH"
    assert locale_for("en", "US") == "en_US"
    assert locale_for("en", None) == "en_GB"
    assert locale_for("es", None) == "es"


# -- the language of a short text ------------------------------------------------------
@pytest.mark.parametrize(("text", "code"), [
    ("Erledigt, vielen Dank!", "de"),
    ("Wir haben gestern telefoniert, alles gut.", "de"),
    ("C'est fait, merci beaucoup !", "fr"),
    ("Hecho, muchas gracias.", "es"),
    ("Gedaan, bedankt!", "nl"),
    ("We spoke yesterday and it went well, thank you.", "en"),
    ("Hallo Bob, ich möchte Ihnen Frau Müller vorstellen, die Hilfe bei ihrem Testament "
     "braucht.", "de"),
    ("Hola Carlos, te presento a Lucía, que busca un abogado para su empresa.", "es"),
])
def test_language_of_short_texts(text: str, code: str) -> None:
    assert language_of(text) == code


@pytest.mark.parametrize("text", ["", "ok", "👍", "R-42", "12345 678", "Done"])
def test_too_little_text_says_nothing(text: str) -> None:
    assert language_of(text) is None


def test_the_text_comes_before_the_mail_programs_header() -> None:
    assert language_of_tag("de-DE") == "de"
    assert language_of_tag("it-IT, en") is None
    assert message_language("Erledigt, vielen Dank!", "en-US") == "de"
    assert message_language("ok", "fr-FR") == "fr"
    assert message_language("ok", None) is None


# -- a partner's own business hours ------------------------------------------------------
def referral(created: datetime) -> Referral:
    return Referral(7, Status.OPEN, ALICE, JANE, BOB, "Intro", created, "intro7@firm.example")


def due(created: datetime, calendars: dict[str, BusinessCalendar]) -> dict[str, datetime]:
    facts = ReferralFacts(referral(created), calendars=calendars)
    return {p.step: p.due_at for p in plan(facts, default_steps(), FIRM)}


def test_partner_steps_fall_in_the_partners_business_hours() -> None:
    created = datetime(2026, 11, 23, 8, 0, tzinfo=LON)  # Monday 08:00 London = 03:00 Montreal
    firm_only = due(created, {})
    theirs = due(created, {BOB: MONTREAL})
    assert firm_only["partner_brief"] == datetime(2026, 11, 23, 9, 0, tzinfo=LON)
    assert theirs["partner_brief"] == datetime(2026, 11, 23, 9, 0, tzinfo=MTL)
    assert theirs["partner_nudge"] == datetime(2026, 11, 24, 9, 0, tzinfo=MTL)
    # the referrer's and the client's steps keep the firm's clock
    assert theirs["acknowledgement"] == firm_only["acknowledgement"]
    assert theirs["escalation"] == firm_only["escalation"]
    assert theirs["client_checkin"] == firm_only["client_checkin"]


def test_partner_hours_across_two_dst_changes() -> None:
    # London is on GMT from 25 October, Montreal still on EDT until 1 November
    created = datetime(2026, 10, 30, 20, 0, tzinfo=LON)  # Friday 16:00 in Montreal
    nudge = due(created, {BOB: MONTREAL})["partner_nudge"]
    local = nudge.astimezone(MTL)
    assert (local.date().isoformat(), local.hour) == ("2026-11-02", 16)
    assert local.utcoffset() == timedelta(hours=-5)  # EST by then
    firm = due(created, {})["partner_nudge"].astimezone(LON)
    assert (firm.date().isoformat(), firm.hour) == ("2026-11-03", 9)


def test_sending_waits_for_the_partners_morning() -> None:
    now = datetime(2026, 11, 23, 15, 0, tzinfo=LON)  # 02:00 on Tuesday in Sydney
    rows = [Row(1, "partner_nudge", BOB, now - timedelta(hours=1)),
            Row(2, "escalation", ALICE, now - timedelta(hours=1))]
    facts = Facts(parties={1: frozenset({ALICE, BOB, JANE})}, intro_at={1: now - timedelta(
        days=3)})
    steps = {s.name: s for s in default_steps()}
    firm_only = choose_sends(rows, facts, SendPolicy(FIRM, steps), now)
    sydney = choose_sends(rows, facts, SendPolicy(FIRM, steps, calendars={BOB: SYDNEY}), now)
    assert firm_only.verdicts[1].action == SEND
    assert sydney.verdicts[1].action == WAIT
    assert sydney.verdicts[2].action == SEND  # the referrer is in London

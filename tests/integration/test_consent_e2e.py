"""Ask the client first, end to end: an intro to the client alone with `partner:`, then
the client's yes, no or silence (Dovecot in, aiosmtpd out, time passed with --now)."""

from __future__ import annotations

from typing import Any

import pytest

from mailflow.core.model import InboundMessage
from tests.integration.world import World

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]

ASK = b"""From: Alice Adams <alice@firm.example>
To: Jane Doe <jane@gmail.com>
Cc: referrals@firm.example
Subject: Someone for your will?
Date: Mon, 23 Nov 2026 09:30:00 +0000
Message-ID: <ask1@firm.example>

Jane, Bob Smith is the best estate planner I know and could help with your will.
Would you like me to put you in touch?

partner: bob@law.example

Alice
"""


def _answer(world: World, text: str, at: str = "Mon, 23 Nov 2026 11:00:00 +0000",
            message_id: str = "jane1@gmail.com", to: str = "Alice Adams <alice@firm.example>",
            in_reply_to: str = "ask1@firm.example") -> None:
    world.deliver(f"""From: Jane Doe <jane@gmail.com>
To: {to}
Cc: referrals@firm.example
Subject: Re: Someone for your will?
Date: {at}
Message-ID: <{message_id}>
In-Reply-To: <{in_reply_to}>
References: <{in_reply_to}>

{text}

On Mon, 23 Nov 2026 at 09:30, Alice Adams <alice@firm.example> wrote:
> Would you like me to put you in touch?
""".encode())


def _asked(world: World) -> None:
    world.deliver(ASK)
    world.run("2026-11-23T10:00:00+00:00")
    (referral,) = _listed(world)
    assert referral["status"] == "awaiting_consent"
    assert (referral["client"], referral["partner"]) == ("jane@gmail.com", "bob@law.example")
    assert world.sent() == []  # nobody is written to: not the partner, not even the referrer


def _listed(world: World) -> list[dict[str, Any]]:
    listed = world.cli_json("list")
    assert isinstance(listed, list)
    return listed


def _about(world: World, address: str) -> list[InboundMessage]:
    """The emails to `address` about R-1 (not the weekly digest)."""
    return [m for m in world.sent_to(address) if "[R-1]" in m.subject]


def _events(world: World) -> list[dict[str, str]]:
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict)
    return list(shown["events"])


def test_yes_introduces_the_client_to_the_partner(world: World) -> None:
    _asked(world)
    _answer(world, "Yes please, happy to hear from him.")
    world.run("2026-11-23T11:30:00+00:00")
    (intro,) = [m for m in world.sent_to("bob@law.example") if "Introduction" in m.subject]
    assert {a.email for a in intro.cc} == {"jane@gmail.com", "alice@firm.example"}
    assert intro.reply_to[0].email.startswith("referrals+r1.")
    assert "jane@gmail.com" in intro.text and "best estate planner" in intro.text
    assert "partner: bob@" not in intro.text
    briefs = [m for m in world.sent_to("bob@law.example") if m.message_id != intro.message_id]
    assert briefs and all(not m.cc for m in briefs)  # the brief is Bob's alone
    (received,) = [m for m in world.smtp.messages if b"Introduction" in m.content]
    assert sorted(received.rcpt_tos) == ["alice@firm.example", "bob@law.example",
                                         "jane@gmail.com"]
    (referral,) = _listed(world)
    assert referral["status"] == "open"
    (consent,) = [e for e in _events(world) if e["kind"] == "consent"]
    assert consent["detail"].startswith("yes") and consent["at"]
    # then the usual workflow, counted from the consent: the nudge the next business day
    world.run("2026-11-24T12:00:00+00:00")
    assert [m for m in world.sent_to("bob@law.example") if "nudge" in m.subject.lower()
            or "touch" in m.subject.lower()]
    assert not [m for m in world.sent_to("jane@gmail.com") if "May Bob" in m.subject]


def test_no_closes_it_and_the_partner_never_hears(world: World) -> None:
    _asked(world)
    _answer(world, "Nein danke.")
    world.run("2026-11-23T11:30:00+00:00")
    (referral,) = _listed(world)
    assert referral["status"] == "closed"
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict) and shown["outcome"] == "lost"
    (told,) = world.sent_to("alice@firm.example")
    assert "R-1" in told.subject and "declined" in told.text
    for day in ("2026-11-24", "2026-11-30", "2026-12-14"):
        world.run(f"{day}T12:00:00+00:00")
    everyone = {a.email for m in world.sent() for a in (*m.to, *m.cc)}
    assert "bob@law.example" not in everyone
    assert all("bob@law.example" not in m.rcpt_tos for m in world.smtp.messages)
    assert world.sent_to("jane@gmail.com") == []
    partners = world.cli_json("partners")
    assert isinstance(partners, list)
    (bob,) = [p for p in partners if p["email"] == "bob@law.example"]
    assert (bob["given"], bob["lost"]) == (0, 0)  # Bob never had it


def test_silence_one_reminder_then_the_referrer_is_told(world: World) -> None:
    _asked(world)
    world.run("2026-11-25T12:00:00+00:00")
    assert world.sent() == []
    world.run("2026-11-26T10:00:00+00:00")  # three business days after the intro
    (reminder,) = world.sent_to("jane@gmail.com")
    assert "Bob Smith" in reminder.subject and "mailflow follows up" in reminder.text
    world.run("2026-11-27T10:00:00+00:00")
    world.run("2026-11-30T10:00:00+00:00")
    assert len(world.sent_to("jane@gmail.com")) == 1 and _about(world, "alice@firm.example") == []
    world.run("2026-12-01T10:30:00+00:00")  # three business days after the reminder
    (told,) = _about(world, "alice@firm.example")
    assert "No answer yet" in told.subject
    world.run("2026-12-08T10:30:00+00:00")
    assert len(world.sent_to("jane@gmail.com")) == 1
    assert len(_about(world, "alice@firm.example")) == 1
    assert world.sent_to("bob@law.example") == []
    # a late yes, to the reminder, still introduces them
    _answer(world, "Ja, gerne!", at="Tue, 08 Dec 2026 11:00:00 +0000",
            message_id="jane2@gmail.com", to=reminder.reply_to[0].email,
            in_reply_to=reminder.message_id)
    world.run("2026-12-08T11:30:00+00:00")
    assert [m for m in world.sent_to("bob@law.example") if "Introduction" in m.subject]

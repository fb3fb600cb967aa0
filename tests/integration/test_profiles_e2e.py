"""What a partner says makes a good referral, a need matched to the directory, and the
note when an intro is what a partner would rather not get (Dovecot, aiosmtpd, CLI)."""

from __future__ import annotations

import pytest

from mailflow.cli.parser import main
from tests.integration.world import INTRO, World

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]


def bob_says(world: World, body: str, n: int) -> None:
    brief = world.sent_to("bob@law.example")[0]
    world.deliver(f"""From: Bob Smith <bob@law.example>
To: {world.reply_address("bob@law.example")}
Subject: Re: {brief.subject}
Date: Mon, 23 Nov 2026 1{n}:00:00 +0000
Message-ID: <bob{n}@law.example>
In-Reply-To: <{brief.message_id}>

{body}
""".encode())


def test_a_profile_a_matched_need_and_an_unwanted_intro(world: World) -> None:
    assert main(["--config", str(world.config), "partners", "add", "carol@tax.example",
                 "--name", "Carol Jones", "--niche", "estate planning and trusts"]) == 0
    assert main(["--config", str(world.config), "partners", "add", "dan@it.example",
                 "--name", "Dan Brown", "--niche", "small-office IT"]) == 0
    world.deliver(INTRO)
    world.run("2026-11-23T10:00:00+00:00")
    assert "ideal:" in world.sent_to("bob@law.example")[0].text  # the brief asks

    bob_says(world, "Hi Alice,\n\nideal: families with property abroad\nnot: divorce cases\n\n"
                    "Bob", 1)
    world.run("2026-11-23T11:30:00+00:00")
    partners = world.cli_json("partners")
    assert isinstance(partners, list)
    (bob,) = [p for p in partners if p["email"] == "bob@law.example"]
    assert (bob["ideal"], bob["not"]) == ("families with property abroad", "divorce cases")
    assert "families with property abroad" in world.sent_to("bob@law.example")[-1].text
    assert not [m for m in world.sent_to("alice@firm.example") if "News" in m.subject]

    bob_says(world, "need: estate planning for her parents", 2)
    world.run("2026-11-23T12:30:00+00:00")
    (relay,) = [m for m in world.sent_to("alice@firm.example") if "need" in m.subject]
    assert "Carol Jones (estate planning and trusts)" in relay.text
    assert "Dan Brown" not in relay.text

    world.deliver(b"""From: Alice Adams <alice@firm.example>
To: Mia Moss <mia@gmail.com>, Bob Smith <bob@law.example>
Cc: referrals@firm.example
Subject: Introduction: Mia / Bob
Date: Tue, 24 Nov 2026 09:30:00 +0000
Message-ID: <intro2@firm.example>

Mia, meet Bob. Bob, Mia needs advice on her divorce and the cases around the house.
""")
    world.run("2026-11-24T10:00:00+00:00")
    unwanted = [m for m in world.sent_to("alice@firm.example") if "rather not" in m.subject]
    assert len(unwanted) == 1 and "[R-2]" in unwanted[0].subject
    assert "divorce cases" in unwanted[0].text

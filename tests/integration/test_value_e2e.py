"""A won referral's value: recorded from a reply, counted in the ledger, shown to the firm
only (Dovecot, aiosmtpd, the CLI)."""

from __future__ import annotations

import pytest

from tests.integration.world import INTRO, World

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]


def test_won_with_a_value_shows_in_the_partners_ledger(world: World) -> None:
    world.deliver(INTRO)
    world.run("2026-11-23T10:00:00+00:00")
    brief = world.sent_to("bob@law.example")[0]
    world.deliver(f"""From: Bob Smith <bob@law.example>
To: {world.reply_address("bob@law.example")}
Subject: Re: {brief.subject}
Date: Mon, 23 Nov 2026 12:00:00 +0000
Message-ID: <bob-won@law.example>
In-Reply-To: <{brief.message_id}>

Won! value: 4500

On Mon, 23 Nov 2026 at 10:00, mailflow <referrals@firm.example> wrote:
> value: 99999
""".encode())
    world.run("2026-11-23T12:30:00+00:00")
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict)
    assert (shown["status"], shown["outcome"], shown["value"]) == ("closed", "won", 4500.0)
    partners = world.cli_json("partners")
    assert isinstance(partners, list)
    (bob,) = [p for p in partners if p["email"] == "bob@law.example"]
    assert (bob["value_given"], bob["value_received"]) == (4500.0, 0.0)
    world.run("2026-11-24T10:00:00+00:00")
    for person in ("bob@law.example", "jane@gmail.com"):  # never shown outside the firm
        assert all("4500" not in m.text and "4,500" not in m.text
                   for m in world.sent_to(person))

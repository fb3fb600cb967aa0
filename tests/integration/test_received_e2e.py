"""A referral a partner sends to the firm, over a simulated fortnight: Dovecot, aiosmtpd, CLI."""

from __future__ import annotations

import pytest

from tests.integration.world import World

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]

BOB_TO_ALICE = b"""From: Bob Smith <bob@law.example>
To: Zoe Park <zoe@bakery.example>, Alice Adams <alice@firm.example>
Cc: referrals@firm.example
Subject: Zoe, meet Alice
Date: Mon, 23 Nov 2026 09:30:00 +0000
Message-ID: <bob-intro@law.example>

Zoe, meet Alice, the best accountant I know. Alice, Zoe runs a bakery and needs help with
her year-end accounts.

Bob
"""


def alice_reply_all(date: str, n: int, body: str) -> bytes:
    return f"""From: Alice Adams <alice@firm.example>
To: Zoe Park <zoe@bakery.example>, Bob Smith <bob@law.example>
Cc: referrals@firm.example
Subject: Re: Zoe, meet Alice
Date: {date}
Message-ID: <alice{n}@firm.example>
In-Reply-To: <bob-intro@law.example>
References: <bob-intro@law.example>

{body}

On Mon, 23 Nov 2026 at 09:30, Bob Smith <bob@law.example> wrote:
> Zoe, meet Alice, the best accountant I know.
""".encode()


def test_a_received_referral_is_followed_up_at_the_firm(world: World) -> None:
    world.deliver(BOB_TO_ALICE)
    world.run("2026-11-23T10:00:00+00:00")
    (referral,) = world.cli_json("list")  # type: ignore[misc]
    assert (referral["direction"], referral["referrer"], referral["partner"],
            referral["client"]) == ("received", "alice@firm.example", "bob@law.example",
                                    "zoe@bakery.example")
    assert world.sent() == []  # nobody is written to on the day
    world.run("2026-11-24T10:30:00+00:00")  # a business day on, no contact seen
    (reminder,) = world.sent_to("alice@firm.example")
    assert "Zoe" in reminder.subject and "contacted" in reminder.text
    assert world.sent_to("bob@law.example") == [] and world.sent_to("zoe@bakery.example") == []

    world.deliver(alice_reply_all("Tue, 24 Nov 2026 11:00:00 +0000", 1,
                                  "Zoe, lovely to meet you. Are you free on Thursday?"))
    world.run("2026-11-24T11:30:00+00:00")
    (spoken,) = world.sent_to("bob@law.example")
    assert "have spoken" in spoken.subject
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict) and shown["status"] == "contacted"

    world.deliver(f"""From: Alice Adams <alice@firm.example>
To: {world.reply_address("alice@firm.example")}
Subject: Re: {reminder.subject}
Date: Mon, 30 Nov 2026 11:00:00 +0000
Message-ID: <alice-won@firm.example>
In-Reply-To: <{reminder.message_id}>

Won - Zoe signed the engagement letter.
""".encode())
    world.run("2026-11-30T11:30:00+00:00")
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict) and (shown["status"], shown["outcome"]) == ("closed", "won")
    outcome = world.sent_to("bob@law.example")[-1]
    assert "turned out" in outcome.subject and "taking it on" in outcome.text
    thanks = world.sent_to("alice@firm.example")[-1]
    assert "Thank Bob" in thanks.subject and "small gift" in thanks.text
    assert world.sent_to("zoe@bakery.example") == []  # the client is the firm's to write to
    world.run("2026-12-07T11:30:00+00:00")  # a fortnight on: nothing more
    assert len(world.sent()) == 4
    partners = world.cli_json("partners")
    assert isinstance(partners, list)
    (bob,) = [p for p in partners if p["email"] == "bob@law.example"]
    assert (bob["received"], bob["given"]) == (1, 0)


def test_a_forwarded_intro_then_a_reply_all_is_one_referral(world: World) -> None:
    # Bob wrote to Alice and Zoe without the tracker; Alice forwards it, then replies to all
    world.deliver(b"""From: Alice Adams <alice@firm.example>
To: referrals@firm.example
Subject: Fwd: Zoe, meet Alice
Date: Mon, 23 Nov 2026 09:40:00 +0000
Message-ID: <alice-fwd@firm.example>

FYI

---------- Forwarded message ---------
From: Bob Smith <bob@law.example>
Date: Mon, 23 Nov 2026 at 09:30
Subject: Zoe, meet Alice
To: Zoe Park <zoe@bakery.example>, Alice Adams <alice@firm.example>

Zoe, meet Alice, the best accountant I know.
""")
    world.run("2026-11-23T10:00:00+00:00")
    world.deliver(alice_reply_all("Mon, 23 Nov 2026 10:30:00 +0000", 2,
                                  "Thank you Bob! Zoe, shall we talk on Wednesday?"))
    world.run("2026-11-23T11:00:00+00:00")
    referrals = world.cli_json("list")
    assert isinstance(referrals, list) and len(referrals) == 1
    (referral,) = referrals
    assert referral["direction"] == "received" and referral["status"] == "contacted"

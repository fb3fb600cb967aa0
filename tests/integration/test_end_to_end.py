"""The whole loop through the CLI: Dovecot in, aiosmtpd out, time passed in with --now."""

from __future__ import annotations

import pytest

from mailflow.cli.parser import main
from tests.integration.world import INTRO, World

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]


def test_intro_to_done(world: World) -> None:
    world.deliver(INTRO)
    world.run("2026-11-23T10:00:00+00:00")
    (referral,) = world.cli_json("list")  # type: ignore[misc]
    assert referral["id"] == "R-1" and referral["status"] == "open"
    assert (referral["client"], referral["partner"]) == ("jane@gmail.com", "bob@law.example")
    brief = world.sent_to("bob@law.example")
    assert len(brief) == 1 and "[R-1]" in brief[0].subject
    assert brief[0].in_reply_to == "intro1@firm.example"
    token = brief[0].reply_to[0].email
    assert token.startswith("referrals+r1.")

    # Re-running the same cycle (a crash and restart) sends nothing twice.
    world.run("2026-11-23T10:00:00+00:00")
    assert len(world.sent_to("bob@law.example")) == 1

    # A re-delivered copy of the intro does not create a second referral.
    world.deliver(INTRO)
    world.run("2026-11-23T11:00:00+00:00")
    assert len(world.cli_json("list")) == 1  # type: ignore[arg-type]

    # No contact: the nudge goes out the next business day.
    world.run("2026-11-24T10:30:00+00:00")
    nudges = [m for m in world.sent_to("bob@law.example") if "nudge" in m.subject.lower()]
    assert len(nudges) == 1

    # Bob answers through his reply address; the quoted nudge says "done" too.
    world.deliver(f"""From: Bob Smith <bob@law.example>
To: {token}
Subject: Re: {nudges[0].subject}
Date: Tue, 24 Nov 2026 11:00:00 +0000
Message-ID: <bob-reply@law.example>
In-Reply-To: <{nudges[0].message_id}>

Won - Jane signed the engagement letter today.

On Tue, 24 Nov 2026 at 10:30, mailflow <referrals@firm.example> wrote:
> Reply "done" when finished.
""".encode())
    world.run("2026-11-24T11:30:00+00:00")
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict)
    assert (shown["status"], shown["outcome"]) == ("closed", "won")
    assert shown["contacted_at"] is not None and shown["closed_at"] is not None
    kinds = [e["kind"] for e in shown["events"]]
    assert "contact-seen" in kinds and "closed" in kinds
    world.run("2026-11-25T10:00:00+00:00")
    assert any("Thank you" in m.subject for m in world.sent_to("jane@gmail.com"))
    assert any("Closed" in m.subject for m in world.sent_to("alice@firm.example"))
    assert not [r for r in world.cli_json("outbox")  # type: ignore[union-attr]
                if r["referral"] == "R-1" and "checkin" in r["step"]]


def test_forgeries_change_nothing(world: World) -> None:
    world.deliver(INTRO)
    world.run("2026-11-23T10:00:00+00:00")
    world.deliver(b"""From: Mallory <mallory@outside.example>
To: referrals@firm.example
Subject: Re: [R-1] Introduction
Date: Mon, 23 Nov 2026 12:00:00 +0000
Message-ID: <forged1@outside.example>
In-Reply-To: <intro1@firm.example>

done
""")
    world.deliver(b"""From: Bob Smith <bob@law.example>
To: referrals+r1.0000000000@firm.example
Subject: Re: [R-1] something
Date: Mon, 23 Nov 2026 12:05:00 +0000
Message-ID: <forged2@law.example>

done
""")
    world.deliver(b"""From: Mallory <mallory@outside.example>
To: referrals@firm.example
Cc: jane@gmail.com, bob@law.example
Subject: Intro
Date: Mon, 23 Nov 2026 12:10:00 +0000
Message-ID: <forged3@outside.example>

Jane, meet Bob.
""")
    world.run("2026-11-23T13:00:00+00:00")
    referrals = world.cli_json("list")
    assert isinstance(referrals, list) and len(referrals) == 1
    assert referrals[0]["status"] == "open"
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict)
    assert not [e for e in shown["events"] if e["kind"] == "closed"]


def test_auto_reply_storm_and_bounce(world: World) -> None:
    world.deliver(INTRO)
    world.run("2026-11-23T10:00:00+00:00")
    before = len(world.sent())
    brief = world.sent_to("bob@law.example")[0].message_id
    for n in range(5):
        world.deliver(f"""From: Bob Smith <bob@law.example>
To: referrals@firm.example
Subject: Automatic reply: [R-1] How referrals work
Auto-Submitted: auto-replied
Date: Mon, 23 Nov 2026 10:0{n}:00 +0000
Message-ID: <ooo{n}@law.example>
In-Reply-To: <{brief}>

I am out of the office until 7 December 2026 with limited access to email.
""".encode())
    world.run("2026-11-23T11:00:00+00:00")
    assert len(world.sent()) == before  # never answered
    outbox = world.cli_json("outbox")
    assert isinstance(outbox, list)
    nudge = next(r for r in outbox if r["step"] == "partner_nudge")
    assert nudge["due_at"] >= "2026-12-07"  # moved to after the return date
    world.run("2026-11-30T12:00:00+00:00")  # the client check-in goes to jane
    checkin = world.sent_to("jane@gmail.com")[-1].message_id
    world.deliver(f"""From: Mail Delivery System <MAILER-DAEMON@mx.gmail.example>
To: referrals@firm.example
Subject: Undelivered Mail Returned to Sender
Date: Mon, 23 Nov 2026 11:10:00 +0000
Message-ID: <bounce1@mx.gmail.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This is the mail system at host mx.gmail.example. Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.gmail.example

Final-Recipient: rfc822; jane@gmail.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--B
Content-Type: text/rfc822-headers

Message-ID: <{checkin}>
In-Reply-To: <intro1@firm.example>
Subject: [R-1] Tracking

--B--
""".encode())
    world.run("2026-11-30T13:00:00+00:00")
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict)
    assert any(e["kind"] == "bounce" for e in shown["events"])
    told = [m for m in world.sent_to("alice@firm.example") if "bounced" in m.subject]
    assert len(told) == 1
    written = len(world.sent_to("jane@gmail.com"))
    assert main(["--config", str(world.config), "close", "R-1"]) == 0
    world.run("2026-12-01T12:00:00+00:00")
    assert len(world.sent_to("jane@gmail.com")) == written  # undeliverable: never again
    assert main(["--config", str(world.config), "unbounce", "jane@gmail.com"]) == 0
    assert main(["--config", str(world.config), "unbounce", "jane@gmail.com"]) == 2  # once



def test_malformed_mail_goes_to_quarantine_and_the_cycle_goes_on(world: World) -> None:
    world.imap.deliver(b"\x00\x01\x02 this is not an email\r\n")
    world.deliver(INTRO)
    world.run("2026-11-23T10:00:00+00:00")
    status = world.cli_json("status")
    assert isinstance(status, dict) and status["quarantined"] == 1
    assert status["referrals"]["open"] == 1  # the intro after it was handled
    client = world.imap.client()
    try:
        client.select_folder("mailflow.quarantine", readonly=True)  # Dovecot's "." hierarchy
        (uid,) = client.search()
        assert b"this is not an email" in client.fetch([uid], ["RFC822"])[uid][b"RFC822"]
        client.select_folder("INBOX", readonly=True)
        assert client.search() == []  # nothing left behind, nothing deleted
    finally:
        client.logout()
    (kept,) = status["quarantine"]
    assert kept["reason"].startswith("malformed:")

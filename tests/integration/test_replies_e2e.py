"""Reply words end to end: undo, help once, stop, needs, SMTP retries and refusals."""

from __future__ import annotations

import pytest

from tests.integration.world import INTRO, World

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]


def reply(world: World, sender: str, body: str, n: int, day: int = 23, hour: int = 11,
          to: str | None = None) -> None:
    """A reply to mailflow's email: to the sender's signed reply address unless `to`."""
    address = sender.rpartition("<")[2].rstrip(">")
    world.deliver(f"""From: {sender}
To: {to or world.reply_address(address)}
Subject: Re: [R-1] Introduction: Jane / Bob
Date: Mon, {day} Nov 2026 {hour}:00:00 +0000
Message-ID: <reply{n}@people.example>
In-Reply-To: <intro1@firm.example>

{body}
""".encode())


def events(world: World) -> list[str]:
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict)
    return [e["kind"] for e in shown["events"]]


def test_undo_restores_and_help_is_sent_once(world: World) -> None:
    world.deliver(INTRO)
    world.run("2026-11-23T10:00:00+00:00")
    reply(world, "Bob Smith <bob@law.example>", "Done, thanks!", 1)
    world.run("2026-11-23T11:30:00+00:00")
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict) and shown["status"] == "closed"
    confirmations = [m for m in world.sent_to("bob@law.example") if "undo" in m.text]
    assert len(confirmations) == 1
    reply(world, "Bob Smith <bob@law.example>", "undo", 2, hour=12)
    world.run("2026-11-23T12:30:00+00:00")
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict) and shown["status"] == "contacted"
    assert "undone" in events(world)
    for n in (3, 4):
        reply(world, "Bob Smith <bob@law.example>", "dnoe", n, hour=13)
        world.run("2026-11-23T13:30:00+00:00")
    helps = [m for m in world.sent_to("bob@law.example") if "reply words" in m.subject.lower()]
    assert len(helps) == 1


def test_stop_and_need(world: World) -> None:
    world.deliver(INTRO)
    world.run("2026-11-23T10:00:00+00:00")
    reply(world, "Jane Doe <jane@gmail.com>", "stop", 1)
    reply(world, "Bob Smith <bob@law.example>", "need: a Spanish property lawyer", 2)
    world.run("2026-11-23T11:30:00+00:00")
    relayed = [m for m in world.sent_to("alice@firm.example")
               if "Spanish property lawyer" in m.text]
    assert len(relayed) == 1
    world.run("2026-12-01T10:00:00+00:00")  # the week-on check-ins
    to_jane = world.sent_to("jane@gmail.com")
    assert [m for m in to_jane if "no more emails" in m.text]  # the confirmation of stop
    assert not [m for m in to_jane if "Did Bob" in m.subject]  # and then silence


def test_temporary_failure_retries_with_the_same_message_id(world: World) -> None:
    world.deliver(INTRO)
    world.run("2026-11-23T10:00:00+00:00")
    world.smtp.behaviour.reject["bob@law.example"] = "451 4.3.0 try again later"
    world.run("2026-11-24T10:30:00+00:00")
    assert not [m for m in world.sent_to("bob@law.example") if "nudge" in m.subject.lower()]
    outbox = world.cli_json("outbox")
    assert isinstance(outbox, list)
    first_try = next(r["message_id"] for r in outbox if r["step"] == "partner_nudge")
    assert first_try and first_try.startswith("r1.partner_nudge.")
    del world.smtp.behaviour.reject["bob@law.example"]
    world.run("2026-11-24T11:30:00+00:00")
    nudges = [m for m in world.sent_to("bob@law.example") if "nudge" in m.subject.lower()]
    assert [m.message_id for m in nudges] == [first_try]


def test_permanent_failure_tells_the_referrer_once(world: World) -> None:
    world.smtp.behaviour.reject["jane@gmail.com"] = "550 5.1.1 <jane@gmail.com>: no such user"
    world.deliver(INTRO)
    reply(world, "Bob Smith <bob@law.example>", "Contacted.", 1, hour=9)
    world.run("2026-11-23T10:00:00+00:00")
    world.run("2026-12-01T10:00:00+00:00")  # client check-in refused
    world.run("2026-12-15T10:00:00+00:00")
    told = [m for m in world.sent_to("alice@firm.example") if "Could not email" in m.subject]
    assert len(told) == 1 and "550 5.1.1" in told[0].text
    assert "send-failed" in events(world)


def test_sent_mail_is_filed_in_the_sent_folder(world: World) -> None:
    world.deliver(INTRO)
    world.run("2026-11-23T10:00:00+00:00")
    client = world.imap.client()
    try:
        client.select_folder("Sent", readonly=True)
        assert len(client.search()) == len(world.sent()) > 0
    finally:
        client.logout()


def test_one_email_lists_several_due_referrals_and_tags_pick_one(world: World) -> None:
    world.deliver(INTRO)
    world.deliver(INTRO.replace(b"jane@gmail.com", b"tom@bakery.example")
                  .replace(b"Jane Doe", b"Tom Baker").replace(b"intro1@", b"intro2@"))
    world.run("2026-11-23T10:00:00+00:00")
    world.run("2026-11-24T10:30:00+00:00")
    nudges = [m for m in world.sent_to("bob@law.example") if "2 referrals" in m.subject]
    assert len(nudges) == 1 and "R-1" in nudges[0].text and "R-2" in nudges[0].text
    # "done" without a tag changes nothing and asks which one
    world.deliver(f"""From: Bob Smith <bob@law.example>
To: referrals@firm.example
Subject: Re: {nudges[0].subject}
Date: Tue, 24 Nov 2026 11:00:00 +0000
Message-ID: <combo1@law.example>
In-Reply-To: <{nudges[0].message_id}>

done
""".encode())
    world.run("2026-11-24T11:30:00+00:00")
    statuses = {r["id"]: r["status"] for r in world.cli_json("list")}  # type: ignore[union-attr]
    assert statuses == {"R-1": "open", "R-2": "open"}
    assert [m for m in world.sent_to("bob@law.example") if "Which referral" in m.subject]
    world.deliver(f"""From: Bob Smith <bob@law.example>
To: referrals@firm.example
Subject: Re: {nudges[0].subject}
Date: Tue, 24 Nov 2026 12:00:00 +0000
Message-ID: <combo2@law.example>
In-Reply-To: <{nudges[0].message_id}>

R-2 won, thanks
""".encode())
    world.run("2026-11-24T12:30:00+00:00")
    statuses = {r["id"]: r["status"] for r in world.cli_json("list")}  # type: ignore[union-attr]
    assert statuses == {"R-1": "open", "R-2": "closed"}


def test_reply_all_without_threading_headers_still_counts_as_contact(world: World) -> None:
    world.deliver(INTRO)
    world.run("2026-11-23T10:00:00+00:00")
    world.deliver(b"""From: Bob Smith <bob@law.example>
To: Alice Adams <alice@firm.example>, Jane Doe <jane@gmail.com>
Cc: referrals@firm.example
Subject: RE: Introduction: Jane / Bob
Date: Mon, 23 Nov 2026 10:20:00 +0000
Message-ID: <nothread@law.example>

Lovely to meet you Jane - are you free on Thursday?
""")
    world.deliver(b"""From: Mallory <mallory@outside.example>
To: referrals@firm.example
Subject: Re: Introduction: Jane / Bob
Date: Mon, 23 Nov 2026 10:25:00 +0000
Message-ID: <nothread2@outside.example>

done
""")
    world.run("2026-11-23T10:30:00+00:00")
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict)
    assert shown["status"] == "contacted" and shown["contacted_at"].startswith("2026-11-23T10:20")
    assert "closed" not in [e["kind"] for e in shown["events"]]


def test_a_word_the_role_may_not_use_changes_nothing_and_is_answered_once(world: World) -> None:
    world.deliver(INTRO)
    world.run("2026-11-23T10:00:00+00:00")
    for n in (1, 2):
        reply(world, "Jane Doe <jane@gmail.com>", "Won!", n, hour=10 + n)
        world.run(f"2026-11-23T1{n}:30:00+00:00")
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict) and shown["status"] == "open"
    refused = [e for e in shown["events"] if e["kind"] == "refused"]
    assert len(refused) == 2 and "client may not say 'won'" in refused[0]["detail"]
    answers = [m for m in world.sent_to("jane@gmail.com") if "Nothing changed" in m.subject]
    assert len(answers) == 1

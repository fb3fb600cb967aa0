"""Issue 25: late steps keep their meaning, on Dovecot and aiosmtpd with `run --once --now`.

A first run on a Saturday over old and recent intros, and a week's outage: the brief is
combined with the nudge, never superseded; the escalation waits for the nudge; a late
acknowledgement waits for business hours and joins the referrer's next email; and each
person gets at most one email a day, answers excepted.
"""

from __future__ import annotations

from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from mailflow.core.model import InboundMessage
from tests.integration.world import INTRO, World

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]
LON = ZoneInfo("Europe/London")
THURSDAY = "Thu, 26 Nov 2026 10:00:00 +0000"


def intro(n: int, date: str, partner: str = "Bob Smith <bob@law.example>") -> bytes:
    return (INTRO.replace(b"Jane Doe <jane@gmail.com>", f"Jane {n} <jane{n}@gmail.com>".encode())
            .replace(b"Bob Smith <bob@law.example>", partner.encode())
            .replace(b"Mon, 23 Nov 2026 09:30:00 +0000", date.encode())
            .replace(b"<intro1@firm.example>", f"<intro{n}@firm.example>".encode())
            .replace(b"Introduction: Jane / Bob", f"Introduction {n}".encode()))


def outbox_of(world: World, tag: str) -> dict[str, dict[str, str]]:
    shown = world.cli_json("show", tag)
    assert isinstance(shown, dict)
    return {r["step"]: r for r in shown["outbox"]}


def local_day(message: InboundMessage) -> str:
    assert message.date is not None
    return message.date.astimezone(LON).strftime("%a %d")


def test_a_late_brief_is_combined_with_the_nudge(world: World) -> None:
    world.deliver(intro(1, THURSDAY))
    world.run("2026-11-28T12:00:00+00:00")  # a first run on a Saturday
    world.run("2026-11-30T10:00:00+00:00")  # Monday
    to_bob = world.sent_to("bob@law.example")
    assert len(to_bob) == 1, [m.subject for m in to_bob]
    assert "How Alice's referrals work" in to_bob[0].text
    assert "nudge" in to_bob[0].text.lower() or "Quick nudge" in to_bob[0].text
    steps = outbox_of(world, "R-1")
    assert steps["partner_brief"]["status"] == "sent", steps["partner_brief"]
    assert steps["partner_nudge"]["status"] == "sent"


def test_no_escalation_about_a_partner_never_nudged(world: World) -> None:
    world.deliver(intro(1, "Mon, 23 Nov 2026 10:00:00 +0000"))
    world.run("2026-11-30T10:00:00+00:00")  # back after a week: the intro was never handled
    assert not [m for m in world.sent_to("alice@firm.example") if "No contact yet" in m.subject
                or "No contact yet" in m.text]
    steps = outbox_of(world, "R-1")
    assert steps["partner_nudge"]["status"] == "sent"
    assert steps["partner_brief"]["status"] == "sent"
    assert steps["escalation"]["status"] == "pending"
    world.run("2026-12-01T10:00:00+00:00")
    assert not [m for m in world.sent_to("alice@firm.example") if "No contact yet" in m.text
                or "No contact yet" in m.subject]
    world.run("2026-12-02T10:00:00+00:00")  # two business days after the nudge
    escalated = [m for m in world.sent_to("alice@firm.example")
                 if "No contact yet" in m.subject or "No contact yet" in m.text]
    assert len(escalated) == 1 and local_day(escalated[0]) == "Wed 02"


def test_a_late_acknowledgement_waits_for_business_hours(world: World) -> None:
    for n in (1, 2, 3):
        world.deliver(intro(n, THURSDAY))
    world.run("2026-11-28T12:00:00+00:00")  # Saturday: nobody is waiting for an answer
    assert world.sent() == []
    world.run("2026-11-30T10:00:00+00:00")
    to_alice = world.sent_to("alice@firm.example")
    assert len(to_alice) == 1
    assert all(f"R-{n}" in to_alice[0].text for n in (1, 2, 3))


def test_a_fresh_intro_is_acknowledged_at_once_any_hour(world: World) -> None:
    world.deliver(intro(1, "Fri, 27 Nov 2026 16:30:00 +0000"))
    world.run("2026-11-27T17:30:00+00:00")  # after hours, but within the two hours: an answer
    assert [m.to[0].email for m in world.sent()] == ["alice@firm.example"]
    world.deliver(intro(2, "Fri, 27 Nov 2026 16:40:00 +0000"))
    world.run("2026-11-27T19:00:00+00:00")  # read too late to be an answer
    assert len(world.sent_to("alice@firm.example")) == 1
    world.run("2026-11-30T10:00:00+00:00")
    assert any("R-2" in m.subject or "R-2" in m.text for m in world.sent_to("alice@firm.example"))


def test_the_daily_cap_defers_without_making_a_step_missed(world: World) -> None:
    world.deliver(intro(1, "Mon, 23 Nov 2026 10:00:00 +0000"))
    world.run("2026-11-23T10:00:00+00:00")
    world.deliver(intro(2, "Mon, 23 Nov 2026 11:00:00 +0000"))
    world.run("2026-11-23T11:00:00+00:00")
    world.run("2026-11-24T10:00:00+00:00")  # R-1's nudge to Bob
    world.run("2026-11-24T11:00:00+00:00")  # R-2's: one a day, so tomorrow
    assert outbox_of(world, "R-2")["partner_nudge"]["due_at"].startswith("2026-11-25T09:00")
    world.deliver(f"""From: Jane 2 <jane2@gmail.com>
To: {world.reply_address("jane2@gmail.com", 2)}
Subject: Re: Introduction 2
Date: Tue, 24 Nov 2026 17:30:00 +0000
Message-ID: <jane2-thanks@gmail.com>
In-Reply-To: <intro2@firm.example>

Thanks Alice, looking forward to it.
""".encode())
    world.run("2026-11-24T18:00:00+00:00")  # re-planned after hours, then two days away
    assert outbox_of(world, "R-2")["partner_nudge"]["due_at"] >= "2026-11-24T18:00"
    world.run("2026-11-26T11:30:00+00:00")
    nudge = outbox_of(world, "R-2")["partner_nudge"]
    assert nudge["status"] == "sent", nudge


def test_the_digest_joins_the_days_other_email(world: World) -> None:
    world.deliver(intro(1, "Mon, 16 Nov 2026 10:00:00 +0000"))
    world.run("2026-11-16T10:00:00+00:00")
    world.run("2026-11-23T10:00:00+00:00")  # Monday: the digest, and the check-in's day
    # the escalation, due Thu 19, was missed while away; now the digest and whatever else
    # is due to Alice are one email
    per_day = Counter((m.to[0].email, local_day(m)) for m in world.sent())
    assert max(per_day.values()) == 1, per_day


def test_won_and_the_check_in_due_that_day_are_one_email(world: World) -> None:
    world.deliver(intro(1, "Mon, 16 Nov 2026 10:00:00 +0000"))
    world.run("2026-11-16T10:00:00+00:00")
    world.deliver(intro(2, "Tue, 17 Nov 2026 10:00:00 +0000"))
    for day in (17, 18, 19, 20, 23):
        world.run(f"2026-11-{day}T10:00:00+00:00")
    before = len(world.sent_to("bob@law.example"))
    world.deliver(f"""From: Bob Smith <bob@law.example>
To: {world.reply_address("bob@law.example", 1)}
Subject: Re: [R-1] Introduction 1
Date: Tue, 24 Nov 2026 09:50:00 +0000
Message-ID: <bob-won@law.example>
In-Reply-To: <intro1@firm.example>

Won!
""".encode())
    world.run("2026-11-24T10:00:00+00:00")  # R-2's check-in is due to Bob now too
    today = world.sent_to("bob@law.example")[before:]
    assert len(today) == 1, [m.subject for m in today]
    assert "[R-2]" in today[0].text or "R-2" in today[0].subject
    assert "Noted" in today[0].subject or "Noted" in today[0].text


def test_first_run_saturday_then_monday_then_an_outage(world: World) -> None:
    """The issue's "Done when": at most one email a day each, every partner briefed, no
    escalation about a partner who was not nudged."""
    world.config.write_text(world.config.read_text().replace(
        "  - {email: bob@law.example, name: Bob Smith, niche: estate planning}\n",
        "  - {email: bob@law.example, name: Bob Smith, niche: estate planning}\n"
        "  - {email: carol@tax.example, name: Carol Jones, niche: tax}\n"
        "  - {email: dan@it.example, name: Dan Brown, niche: IT}\n"))
    partners = ["Bob Smith <bob@law.example>", "Carol Jones <carol@tax.example>",
                "Dan Brown <dan@it.example>"]
    for n in range(1, 31):  # old intros: history
        month = 9 + n % 2
        world.deliver(intro(n, f"Tue, {n % 28 + 1:02d} {['Sep', 'Oct'][month - 9]} 2026 "
                               "10:00:00 +0100", partners[n % 3]))
    for n in range(31, 34):  # this week's
        world.deliver(intro(n, THURSDAY, partners[n % 3]))
    world.run("2026-11-28T12:00:00+00:00")  # Saturday
    saturday = list(world.sent())
    assert saturday == []
    world.run("2026-11-30T10:00:00+00:00")  # Monday
    world.run("2026-12-01T10:00:00+00:00")  # Tuesday, then a week's outage
    world.run("2026-12-07T10:00:00+00:00")  # the next Monday
    world.run("2026-12-08T10:00:00+00:00")
    world.run("2026-12-09T10:00:00+00:00")
    answers = ("Noted", "Tracking")
    per_day = Counter((m.to[0].email, local_day(m)) for m in world.sent()
                      if not m.subject.startswith(answers))
    assert max(per_day.values()) == 1, per_day
    for n in range(31, 34):
        steps = outbox_of(world, f"R-{n}")
        assert "superseded" not in {s["status"] for s in steps.values()}
    for email in ("bob@law.example", "carol@tax.example", "dan@it.example"):
        texts = [m.text for m in world.sent_to(email)]
        assert any("referrals work" in t or "How Alice" in t for t in texts), email
    for n in range(31, 34):
        steps = outbox_of(world, f"R-{n}")
        if steps.get("escalation", {}).get("status") == "sent":
            assert steps["partner_nudge"]["status"] == "sent"
            assert steps["partner_nudge"]["sent_at"] < steps["escalation"]["sent_at"]


def partner_reply(world: World, n: int, date: str, body: str) -> None:
    """Bob's reply to intro `n`, on its thread, from his signed reply address."""
    world.deliver(f"""From: Bob Smith <bob@law.example>
To: {world.reply_address("bob@law.example", n)}
Subject: Re: Introduction {n}
Date: {date}
Message-ID: <bob-reply{n}@law.example>
In-Reply-To: <intro{n}@firm.example>

{body}
""".encode())


def test_a_first_run_does_not_confirm_what_was_said_weeks_ago(world: World) -> None:
    world.deliver(intro(1, "Thu, 05 Nov 2026 10:00:00 +0000"))
    partner_reply(world, 1, "Fri, 06 Nov 2026 10:00:00 +0000", "Done, thanks!")
    world.deliver(intro(2, THURSDAY))
    partner_reply(world, 2, "Fri, 27 Nov 2026 16:00:00 +0000", "Done, thanks!")
    world.run("2026-11-30T10:00:00+00:00")  # Monday: within two business days of the 2nd
    for tag in ("R-1", "R-2"):
        shown = world.cli_json("show", tag)
        assert isinstance(shown, dict) and shown["status"] == "closed", tag
    old = outbox_of(world, "R-1")["confirm"]
    assert old["status"] == "missed" and "Fri 06 Nov" in old["detail"], old
    assert outbox_of(world, "R-2")["confirm"]["status"] == "sent"
    to_bob = world.sent_to("bob@law.example")
    assert len(to_bob) == 1 and "R-2" in to_bob[0].subject and "R-1" not in to_bob[0].text


def test_a_help_too_late_to_send_does_not_use_up_the_next_one(world: World) -> None:
    world.deliver(intro(1, "Thu, 05 Nov 2026 10:00:00 +0000"))
    partner_reply(world, 1, "Fri, 06 Nov 2026 10:00:00 +0000", "dnoe")
    world.run("2026-11-30T10:00:00+00:00")
    assert outbox_of(world, "R-1")["help"]["status"] == "missed"
    world.deliver(f"""From: Bob Smith <bob@law.example>
To: {world.reply_address("bob@law.example", 1)}
Subject: Re: Introduction 1
Date: Mon, 30 Nov 2026 10:20:00 +0000
Message-ID: <bob-again@law.example>
In-Reply-To: <intro1@firm.example>

dnoe
""".encode())
    world.run("2026-11-30T10:30:00+00:00")
    helps = [m for m in world.sent_to("bob@law.example") if "reply words" in m.subject.lower()]
    assert len(helps) == 1


def test_a_reply_with_a_slow_clock_is_answered_at_once(world: World) -> None:
    world.deliver(intro(1, "Mon, 30 Nov 2026 09:00:00 +0000"))
    world.run("2026-11-30T09:30:00+00:00")
    world.run("2026-11-30T19:55:00+00:00")  # the daemon's cycle before the reply came
    partner_reply(world, 1, "Fri, 27 Nov 2026 18:00:00 +0000", "Done, thanks!")  # 3 days slow
    world.run("2026-11-30T20:00:00+00:00")  # after hours: only an answer goes
    confirm = outbox_of(world, "R-1")["confirm"]
    assert confirm["status"] == "sent", confirm


def test_a_confirmation_sent_after_the_undo_window_does_not_offer_undo(world: World) -> None:
    world.deliver(intro(1, THURSDAY))
    partner_reply(world, 1, "Fri, 27 Nov 2026 17:00:00 +0000", "Done, thanks!")
    world.run("2026-11-27T22:00:00+00:00")  # read five hours late, after hours: it waits
    assert outbox_of(world, "R-1")["confirm"]["status"] == "pending"
    world.run("2026-11-30T10:00:00+00:00")  # Monday: the undo kept on Friday has lapsed
    confirmations = [m for m in world.sent_to("bob@law.example") if "Closed R-1" in m.text]
    assert len(confirmations) == 1 and "undo" not in confirmations[0].text.lower()


def test_an_old_help_waiting_answers_a_fresh_reply_in_the_same_cycle(world: World) -> None:
    world.deliver(intro(1, "Thu, 05 Nov 2026 10:00:00 +0000"))
    partner_reply(world, 1, "Fri, 06 Nov 2026 10:00:00 +0000", "dnoe")
    world.deliver(f"""From: Bob Smith <bob@law.example>
To: {world.reply_address("bob@law.example", 1)}
Subject: Re: Introduction 1
Date: Mon, 30 Nov 2026 09:50:00 +0000
Message-ID: <bob-today@law.example>
In-Reply-To: <intro1@firm.example>

dnoe
""".encode())
    world.run("2026-11-30T10:00:00+00:00")  # a first run reads both
    assert outbox_of(world, "R-1")["help"]["status"] == "sent"

"""Issue 11 on Dovecot and aiosmtpd: a first run over an old mailbox, an outage, late steps.

Like a careful assistant back from leave: old intros become history, nothing goes out
outside business hours, long-overdue steps are recorded as missed, and each referrer
gets at most one summary.
"""

from __future__ import annotations

from collections import Counter

import pytest

from mailflow.cli.parser import main
from tests.integration.world import INTRO, World

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]


def intro(n: int, date: str, client: str = "Jane Doe <jane{n}@gmail.com>") -> bytes:
    return (INTRO.replace(b"Jane Doe <jane@gmail.com>", client.format(n=n).encode())
            .replace(b"Mon, 23 Nov 2026 09:30:00 +0000", date.encode())
            .replace(b"<intro1@firm.example>", f"<old{n}@firm.example>".encode())
            .replace(b"Introduction: Jane / Bob", f"Introduction {n}".encode()))


OLD_DATES = ["Mon, 07 Sep 2026 10:00:00 +0100", "Tue, 29 Sep 2026 11:00:00 +0100",
             "Wed, 14 Oct 2026 09:15:00 +0100", "Thu, 29 Oct 2026 15:00:00 +0000"]


def per_person(world: World, since: int) -> Counter[str]:
    return Counter(m.to[0].email for m in world.sent()[since:])


def test_a_first_run_over_old_intros_on_a_saturday(world: World,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    for n, date in enumerate(OLD_DATES, start=1):
        world.deliver(intro(n, date))
    capsys.readouterr()
    world.run("2026-11-28T12:00:00+00:00")  # Saturday noon
    assert "4 earlier intros recorded as history, 0 recent ones followed up" in (
        capsys.readouterr().out)
    assert world.sent() == []  # nothing on a Saturday
    world.run("2026-11-29T12:00:00+00:00")  # nor on Sunday
    assert world.sent() == []
    world.run("2026-11-30T10:00:00+00:00")  # Monday
    assert [m.to[0].email for m in world.sent()] == ["alice@firm.example"]
    summary = world.sent()[0]
    assert "found 4 earlier introductions" in summary.subject
    assert "follow up R-1" in summary.text
    for n in range(1, 5):
        shown = world.cli_json("show", f"R-{n}")
        assert isinstance(shown, dict)
        assert not [r for r in shown["outbox"] if r["status"] == "pending"]
    partners = world.cli_json("partners")
    assert isinstance(partners, list)
    assert next(p for p in partners if "bob@law.example" in p["emails"])["given"] == 4
    world.run("2026-12-01T10:00:00+00:00")
    assert len(world.sent()) == 1  # and no nudge about them ever after

    # "follow up R-2": that one is chased from now on, as if it were new
    world.deliver(f"""From: Alice Adams <alice@firm.example>
To: {world.reply_address("alice@firm.example", 1)}
Subject: Re: {summary.subject}
Date: Tue, 01 Dec 2026 10:30:00 +0000
Message-ID: <alice-follow@firm.example>
In-Reply-To: <{summary.message_id}>

follow up R-2
""".encode())
    world.run("2026-12-01T11:00:00+00:00")
    world.run("2026-12-02T11:00:00+00:00")
    nudged = [m for m in world.sent_to("bob@law.example") if "[R-2]" in m.subject]
    assert nudged, [m.subject for m in world.sent()]


def test_this_weeks_intros_are_followed_up_beside_old_ones(world: World) -> None:
    world.deliver(intro(1, OLD_DATES[0]))
    world.deliver(intro(2, "Wed, 25 Nov 2026 10:00:00 +0000"))
    world.run("2026-11-26T10:00:00+00:00")
    listed = world.cli_json("outbox")
    assert isinstance(listed, list)
    assert {r["referral"] for r in listed} <= {"R-2", "R-1"}
    assert not [r for r in listed if r["referral"] == "R-1" and r["step"] != "history"]
    world.run("2026-11-27T10:30:00+00:00")
    assert [m for m in world.sent_to("bob@law.example") if "[R-2]" in m.subject]
    assert not [m for m in world.sent_to("bob@law.example") if "[R-1]" in m.subject]


def test_a_week_long_outage(world: World) -> None:
    world.config.write_text(world.config.read_text() + "admin: it@firm.example\n")
    world.deliver(INTRO)
    world.run("2026-11-23T10:00:00+00:00")  # Monday: acknowledgement and partner brief
    before = len(world.sent())
    world.run("2026-11-28T12:00:00+00:00")  # back on Saturday after five days away
    back = [m for m in world.sent()[before:] if m.to[0].email == "it@firm.example"]
    assert back and "back after" in back[0].subject  # the operator hears how long
    assert [m for m in world.sent()[before:] if m.to[0].email != "it@firm.example"] == []
    start = len(world.sent())
    world.run("2026-11-30T10:00:00+00:00")  # Monday
    counts = per_person(world, start)
    assert counts and max(counts.values()) == 1, counts
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict)
    steps = {r["step"]: r for r in shown["outbox"]}
    # the escalation and the check-in presume the nudge: it goes out late rather than
    # being missed, and they wait for it (issue 25)
    assert steps["partner_nudge"]["status"] == "sent"
    assert steps["escalation"]["status"] == "pending"
    assert steps["partner_checkin"]["status"] == "pending"
    world.run("2026-11-30T11:00:00+00:00")
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict)
    escalation = next(r for r in shown["outbox"] if r["step"] == "escalation")
    assert escalation["due_at"].startswith("2026-12-02T10:00")  # two business days later
    assert main(["--config", str(world.config), "outbox"]) == 0

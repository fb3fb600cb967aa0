"""The default workflow timeline against Dovecot and aiosmtpd, in business time."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mailflow.app.dispatch import Dispatcher
from tests.integration.world import INTRO, World

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]
LON = ZoneInfo("Europe/London")
MONDAY_10 = INTRO.replace(b"Mon, 23 Nov 2026 09:30:00 +0000", b"Mon, 23 Nov 2026 10:00:00 +0000")


def business_hours(start: datetime, end: datetime) -> list[str]:
    moments, now = [], start
    while now <= end:
        if now.weekday() < 5 and 9 <= now.hour < 17:
            moments.append(now.isoformat())
        now += timedelta(hours=1)
    return moments


def received(world: World) -> list[tuple[str, str, str]]:
    """(local time, recipient, subject) of every email the SMTP peer got."""
    return [(m.date.astimezone(LON).strftime("%a %d %H:%M") if m.date else "?",
             m.to[0].email, m.subject) for m in world.sent()]


def test_default_timeline(world: World) -> None:
    world.deliver(MONDAY_10)
    for now in business_hours(datetime(2026, 11, 23, 10, tzinfo=LON),
                              datetime(2026, 12, 1, 10, tzinfo=LON)):
        world.run(now)
    world.deliver(f"""From: Bob Smith <bob@law.example>
To: {world.reply_address("bob@law.example")}
Subject: Re: [R-1] How is it going with Jane Doe?
Date: Tue, 01 Dec 2026 10:40:00 +0000
Message-ID: <bob-done@law.example>
In-Reply-To: <intro1@firm.example>

Done, thanks!

On Mon, 30 Nov 2026, mailflow wrote:
> Reply won, lost or done.
""".encode())
    for now in business_hours(datetime(2026, 12, 1, 11, tzinfo=LON),
                              datetime(2026, 12, 18, 16, tzinfo=LON)):
        world.run(now)
    got = received(world)
    expected = [
        ("Mon 23 10:00", "alice@firm.example", "[R-1] Tracking: Introduction: Jane / Bob"),
        ("Mon 23 10:00", "bob@law.example",
         "[R-1] How Alice's referrals work — Introduction: Jane / Bob"),
        ("Tue 24 10:00", "bob@law.example", "[R-1] Quick nudge: Jane Doe"),
        ("Thu 26 10:00", "alice@firm.example",
         "[R-1] No contact yet: Bob Smith → Jane Doe"),
        ("Mon 30 10:00", "alice@firm.example", "Your referrals this week — 1 open"),
        ("Mon 30 10:00", "bob@law.example", "[R-1] How is it going with Jane Doe?"),
        ("Mon 30 10:00", "jane@gmail.com", "[R-1] Did Bob Smith get in touch?"),
        # the answer to his "done" carries the thank-you due to him now (issue 25)
        ("Tue 01 11:00", "bob@law.example", "[R-1] Noted · Thank you — Jane Doe"),
        ("Tue 01 11:00", "jane@gmail.com", "[R-1] Thank you"),
        ("Tue 01 11:00", "alice@firm.example",
         "[R-1] Closed (done): Jane Doe → Bob Smith"),
    ]
    assert sorted(got) == sorted(expected)
    outbox = world.cli_json("outbox")
    assert outbox == []  # the feedback request died with the close


def test_crash_between_sending_and_recording(world: World,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    world.deliver(MONDAY_10)
    world.run("2026-11-23T10:00:00+00:00")

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt("killed after SMTP accepted, before the database knew")

    from mailflow.cli.parser import main
    with monkeypatch.context() as patch:
        patch.setattr(Dispatcher, "_record", crash)
        assert main(["--config", str(world.config), "run", "--once", "--now",
                     "2026-11-24T10:00:00+00:00"]) == 130
    world.run("2026-11-24T11:00:00+00:00")
    world.run("2026-11-24T12:00:00+00:00")
    nudges = [m for m in world.sent_to("bob@law.example") if "nudge" in m.subject.lower()]
    assert len(nudges) == 2  # at most once more…
    assert nudges[0].message_id == nudges[1].message_id  # …and clients fold the two

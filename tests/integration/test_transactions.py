"""Writes that belong together stand or fall together: a failure (or a kill) between two of
them leaves neither. Every write of a cycle, a command, a web action or the demo is made
in a `Store.atomic` block (a trace on the store's connection finds those that are not)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mailflow.adapters.mailbox import MailboxSource
from mailflow.app import alerts
from mailflow.app import daemon as daemon_module
from mailflow.app.cycle import run_cycle
from mailflow.app.daemon import Daemon
from mailflow.app.digests import queue_digests
from mailflow.app.wiring import App, build_app
from mailflow.cli.parser import main
from mailflow.config import Config, load_config, parse_config
from mailflow.errors import MailboxError
from tests.integration.test_web import sign_in
from tests.integration.web_world import WebWorld, web_world
from tests.integration.world import INTRO, World
from tests.integration.write_trace import AutocommitWrites, autocommit_writes

__all__ = ["autocommit_writes", "web_world"]

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def maildir_app(tmp_path: Path, **more: str) -> App:
    """An app on a local Maildir and a file outbox."""
    for sub in ("new", "cur", "tmp"):
        (tmp_path / "mail" / sub).mkdir(parents=True, exist_ok=True)
    config = parse_config({"tracker": "referrals@firm.example", "database": "m.db",
                           "maildir": "mail", "outbox_dir": "outbox",
                           "referrers": ["*@firm.example"],
                           "partners": [{"email": "bob@law.example", "name": "Bob Smith"}],
                           **more}, tmp_path / "m.yaml")
    return build_app(config)


def test_a_digest_that_cannot_be_queued_leaves_its_clock_where_it_was(tmp_path: Path) -> None:
    """The digest clock and the digest's outbox row are one transaction: the outbox insert
    failing after the clock was written (as a kill between the two did) must not skip the
    week."""
    (tmp_path / "mail" / "new").mkdir(parents=True)
    (tmp_path / "mail" / "new" / "intro.eml").write_bytes(INTRO)
    app = maildir_app(tmp_path)
    try:
        run_cycle(app, MONDAY)  # the intro starts Alice's digest clock
        week_later = MONDAY + timedelta(days=7)
        # a real failure of the real store: the digest's insert is refused
        app.store.db.execute("create trigger refuse_digest before insert on outbox "
                             "when new.kind = 'digest' begin "
                             "select raise(abort, 'disk full'); end")
        with pytest.raises(sqlite3.IntegrityError, match="disk full"):
            queue_digests(app, week_later)
        assert app.store.digests_due(week_later - timedelta(days=7)) == ["alice@firm.example"]
        app.store.db.execute("drop trigger refuse_digest")
        assert queue_digests(app, week_later) == ["alice@firm.example"]  # not skipped
    finally:
        app.close()


OLD_INTRO = (INTRO.replace(b"Mon, 23 Nov 2026 09:30", b"Tue, 06 Oct 2026 09:30")
             .replace(b"intro1@", b"old1@").replace(b"jane@gmail.com", b"tom@bakery.example")
             .replace(b"Jane Doe", b"Tom Baker"))


def reply(world: World, sender: str, body: str, n: int, when: str,
          extra: str = "", in_reply_to: str = "intro1@firm.example") -> None:
    address = sender.rpartition("<")[2].rstrip(">")
    world.deliver(f"""From: {sender}
To: {world.reply_address(address)}
Subject: Re: [R-1] Introduction: Jane / Bob
Date: {when}
Message-ID: <trace{n}@people.example>
In-Reply-To: <{in_reply_to}>
{extra}
{body}
""".encode())


def bounce(world: World, message_id: str) -> None:
    world.deliver(f"""From: Mail Delivery System <MAILER-DAEMON@mx.gmail.example>
To: referrals@firm.example
Subject: Undelivered Mail Returned to Sender
Date: Mon, 30 Nov 2026 12:10:00 +0000
Message-ID: <tracebounce@mx.gmail.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.gmail.example

Final-Recipient: rfc822; jane@gmail.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--B
Content-Type: text/rfc822-headers

Message-ID: <{message_id}>
Subject: [R-1] Tracking

--B--
""".encode())


@pytest.mark.dovecot
@pytest.mark.smtp
def test_cycles_and_commands_write_only_in_transactions(
        world: World, autocommit_writes: AutocommitWrites) -> None:
    """A first run with history, replies, an out-of-office, a bounce, an outage, a digest,
    alerts and every writing command: each write is part of a `Store.atomic` block."""
    config = world.config
    config.write_text(config.read_text() + "admin: ops@firm.example\n")
    world.deliver(INTRO)
    world.deliver(OLD_INTRO)
    world.run("2026-11-23T10:00:00+00:00")  # first run: R-1 followed up, R-2 history
    brief = world.sent_to("bob@law.example")[0].message_id
    reply(world, "Bob Smith <bob@law.example>", "I am out of the office until 25 November.",
          1, "Mon, 23 Nov 2026 10:05:00 +0000", "Auto-Submitted: auto-replied\n",
          in_reply_to=brief)
    reply(world, "Bob Smith <bob@law.example>", "Contacted.", 2,
          "Mon, 23 Nov 2026 10:30:00 +0000")
    reply(world, "Bob Smith <bob@law.example>", "need: a Spanish property lawyer", 3,
          "Mon, 23 Nov 2026 10:40:00 +0000")
    reply(world, "Jane Doe <jane@gmail.com>", "rating 5", 4, "Mon, 23 Nov 2026 10:50:00 +0000")
    world.run("2026-11-23T11:00:00+00:00")
    world.run("2026-11-24T10:30:00+00:00")  # after a night away: the admin is told
    world.run("2026-11-30T12:00:00+00:00")  # the weekly digest, the client check-in
    checkin = world.sent_to("jane@gmail.com")[-1].message_id
    bounce(world, checkin)
    world.run("2026-11-30T13:00:00+00:00")
    for command in (["close", "R-1", "--outcome", "won"], ["reopen", "R-1"],
                    ["unbounce", "jane@gmail.com"],
                    ["partners", "add", "carol@tax.example", "--name", "Carol"],
                    ["partners", "edit", "carol@tax.example", "--niche", "tax"],
                    ["partners", "remove", "carol@tax.example"],
                    ["forget", "tom@bakery.example", "--yes"]):
        assert main(["--config", str(config), *command]) == 0, command
    writes = autocommit_writes.writes
    for command in (["list"], ["show", "R-1"], ["outbox"], ["status"], ["partners"],
                    ["export"], ["export", "--format", "json"], ["report"], ["check"],
                    ["person", "jane@gmail.com"], ["forget", "jane@gmail.com"]):
        assert main(["--config", str(config), *command]) == 0, command
    assert autocommit_writes.writes == writes  # read-only commands never write
    world.run("2026-12-01T10:00:00+00:00")
    app = build_app(load_config(config))
    try:
        alerts.failure(app, MONDAY + timedelta(days=9), "IMAP login failed", urgent=True)
        alerts.success(app, MONDAY + timedelta(days=9, hours=1))
    finally:
        app.close()
    sent = {m.subject for m in world.sent()}
    assert any("this week" in s for s in sent), sent  # the scenario reached its steps
    assert any("needs attention" in s for s in sent), sent
    assert autocommit_writes.found == [], autocommit_writes.report()


@pytest.mark.smtp
def test_web_actions_write_only_in_transactions(
        autocommit_writes: AutocommitWrites, web_world: WebWorld) -> None:
    """Sign-in, every referral action, partner changes and every page, on a store whose
    secret is made on first use (a Maildir install)."""
    app = web_world.app()
    client = TestClient(web_world.serve(app, "http://mailflow.test"),
                        base_url="http://mailflow.test")
    try:
        csrf = sign_in(web_world, client, "alice@firm.example")
        jane = next(r for r in app.store.referrals() if r.client == "jane@gmail.com")
        guessed = next(r for r in app.store.referrals() if "other way" in r.subject)
        for rid, form in ((jane.id, {"action": "snooze", "days": "3"}),
                          (jane.id, {"action": "close", "outcome": "won"}),
                          (jane.id, {"action": "reopen"}),
                          (guessed.id, {"action": "swap"})):
            done = client.post(f"/referrals/{rid}/action", data={**form, "csrf": csrf})
            assert done.status_code == 200 and 'class="error"' not in done.text, form
        client.post(f"/referrals/{jane.id}/action", data={"action": "undo", "csrf": csrf})
        client.post(f"/referrals/{jane.id}/action", data={"action": "stop", "csrf": csrf,
                                                          "address": "jane@gmail.com"})
        client.post(f"/referrals/{jane.id}/action", data={"action": "resume", "csrf": csrf,
                                                          "address": "jane@gmail.com"})
        for form in ({"op": "add", "email": "x@new.example", "name": "X"},
                     {"op": "edit", "email": "x@new.example", "niche": "tax"},
                     {"op": "remove", "email": "x@new.example"}):
            done = client.post("/partners", data={**form, "csrf": csrf})
            assert done.status_code == 200 and 'class="error"' not in done.text, form
        for page in ("/", "/referrals", f"/referrals/{jane.id}", "/partners", "/ledger",
                     "/outbox"):
            assert client.get(page).status_code == 200, page
        admin = TestClient(client.app, base_url="http://mailflow.test")
        admins = sign_in(web_world, admin, "ops@firm.example")
        assert admin.get("/sessions").status_code == 200
        (alices,) = [s for s in app.store.sessions() if s.email == "alice@firm.example"]
        admin.post("/sessions", data={"csrf": admins, "id": alices.id})
        assert admin.get("/people", params={"email": "max@shop.example"}).status_code == 200
        erased = admin.post("/people/forget", data={"csrf": admins, "email": "max@shop.example",
                                                    "confirm": "max@shop.example"})
        assert "Erased" in erased.text
        client.post("/signout", data={"csrf": csrf})
        web_world.wait_for_signins()
    finally:
        client.close()
        app.close()
    assert autocommit_writes.found == [], autocommit_writes.report()


def test_a_failing_then_recovering_daemon_writes_only_in_transactions(
        tmp_path: Path, autocommit_writes: AutocommitWrites,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The daemon's guarded cycle: a mailbox that cannot be opened (an urgent alert), then
    one that can (the recovery)."""
    (tmp_path / "mail" / "new").mkdir(parents=True)
    (tmp_path / "mail" / "new" / "intro.eml").write_bytes(INTRO)
    app = maildir_app(tmp_path, admin="ops@firm.example")
    clock = [MONDAY]
    daemon = Daemon(app, now=lambda: clock[0])
    try:
        real_open = daemon_module.open_mailbox

        def refused(config: Config) -> MailboxSource:
            raise MailboxError("IMAP login failed: wrong password")

        monkeypatch.setattr(daemon_module, "open_mailbox", refused)
        daemon.cycle()
        assert app.store.meta("incident")
        monkeypatch.setattr(daemon_module, "open_mailbox", real_open)
        clock[0] = MONDAY + timedelta(minutes=10)
        daemon.cycle()
        assert app.store.meta("incident") is None and app.store.referrals()
    finally:
        daemon.close()
        app.close()
    assert autocommit_writes.found == [], autocommit_writes.report()


def test_the_demo_writes_only_in_transactions(tmp_path: Path,
                                              autocommit_writes: AutocommitWrites) -> None:
    """The demo's whole story: intros, replies, digests, on a simulated clock."""
    from mailflow.cli.demo import run_demo
    assert "R-1" in run_demo(tmp_path / "demo", False)
    assert autocommit_writes.found == [], autocommit_writes.report()

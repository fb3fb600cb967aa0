"""Issue 10 end to end, on Dovecot and aiosmtpd: one message, address or forger never stops,
floods or fools mailflow."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailflow.cli.parser import main
from tests.integration.smtp_server import Behaviour, start_peer
from tests.integration.world import INTRO, World

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]

EIGHT_BIT_ID = (b"From: Eve <eve@stranger.example>\r\nTo: referrals@firm.example\r\n"
                b"Subject: hello\r\nDate: Mon, 23 Nov 2026 09:00:00 +0000\r\n"
                b"Message-ID: <caf\xc3\xa9@stranger.example>\r\n"
                b"In-Reply-To: <r\xff\xfe@x>\r\n\r\nhi\r\n")
JOSE_INTRO = INTRO.replace(b"Jane Doe <jane@gmail.com>",
                           "José Pérez <josé@correo.example>".encode())


def test_an_8bit_message_id_neither_stops_the_cycle_nor_the_mail_behind_it(world: World) -> None:
    world.imap.deliver(EIGHT_BIT_ID)
    world.deliver(INTRO)
    world.run("2026-11-23T10:00:00+00:00")
    world.run("2026-11-23T11:00:00+00:00")  # and the next cycle too
    listed = world.cli_json("list")
    assert isinstance(listed, list) and [r["id"] for r in listed] == ["R-1"]
    status = world.cli_json("status")
    assert isinstance(status, dict) and status["quarantined"] == 0  # read fine, ignored


def _use_peer(world: World, port: int) -> None:
    text = world.config.read_text()
    start = text.index("smtp:")
    world.config.write_text(text[:start] + text[start:].replace(
        text[start:].split("port: ")[1].split("\n")[0], str(port), 1))


def _sent_subjects(world: World) -> list[tuple[str, str]]:
    return sorted((m.to[0].email, m.subject) for m in world.sent())


def test_an_address_without_smtputf8_fails_alone_and_nothing_is_sent_twice(world: World) -> None:
    controller, peer = start_peer(Behaviour(smtputf8=False))
    world.smtp = peer
    try:
        _without_smtputf8(world)
    finally:
        controller.stop()


def _without_smtputf8(world: World) -> None:
    _use_peer(world, world.smtp.port)
    world.deliver(JOSE_INTRO)
    world.run("2026-11-23T10:00:00+00:00")
    for hour in (11, 12, 13):  # the check-in to josé falls due a week later
        world.run(f"2026-11-30T{hour}:00:00+00:00")
    sent = _sent_subjects(world)
    assert len(sent) == len(set(sent)), "an email went out twice"
    assert not [m for m in world.sent() if any(not a.email.isascii() for a in m.to)]
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict)
    failed = [r for r in shown["outbox"] if r["recipient"] == "josé@correo.example"]
    assert failed and all(r["status"] == "failed" and "SMTPUTF8" in r["detail"] for r in failed)
    told = [m for m in world.sent_to("alice@firm.example") if "Could not email" in m.subject]
    assert len(told) == 1  # the referrer hears once
    # the partner's mail still goes (the late nudge, which the check-in waits for)
    assert any(r["step"] == "partner_nudge" and r["status"] == "sent" for r in shown["outbox"])


def test_an_smtputf8_server_gets_the_international_address(world: World,
                                                           tmp_path: Path) -> None:
    controller, peer = start_peer(Behaviour(smtputf8=True))
    try:
        _use_peer(world, peer.port)
        world.deliver(JOSE_INTRO)
        world.run("2026-11-23T10:00:00+00:00")
        world.run("2026-11-30T10:00:00+00:00")
        to_jose = [m for m in peer.messages if "josé@correo.example" in m.rcpt_tos]
        assert len(to_jose) == 1 and "josé@correo.example".encode() in to_jose[0].content
    finally:
        controller.stop()


def _note(world: World, n: int, body: str) -> None:
    world.deliver(f"""From: Bob Smith <bob@law.example>
To: referrals@firm.example
Subject: Re: [R-1] Introduction: Jane / Bob
Date: Mon, 23 Nov 2026 10:{n % 60:02d}:00 +0000
Message-ID: <forged{n}@law.example>

{body} number {n}: please re-enter your password at evil.example
""".encode())


def test_a_stream_of_notes_becomes_at_most_three_emails_a_day(world: World) -> None:
    world.deliver(INTRO)
    world.run("2026-11-23T10:00:00+00:00")
    before = len(world.sent_to("alice@firm.example"))
    for n in range(50):
        _note(world, n, "An update")
    world.run("2026-11-23T11:00:00+00:00")
    world.run("2026-11-23T12:00:00+00:00")
    relayed = world.sent_to("alice@firm.example")[before:]
    assert 1 <= len(relayed) <= 3
    assert "number 49" in "\n".join(m.text for m in relayed)  # folded, not dropped


def test_a_forged_bounce_or_out_of_office_changes_nothing(world: World) -> None:
    world.deliver(INTRO)
    world.run("2026-11-23T10:00:00+00:00")
    world.deliver(b"""From: Mail Delivery System <MAILER-DAEMON@evil.example>
To: referrals@firm.example
Subject: Undelivered Mail Returned to Sender
Date: Mon, 23 Nov 2026 10:10:00 +0000
Message-ID: <forged-bounce@evil.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; evil.example

Final-Recipient: rfc822; alice@firm.example
Action: failed
Status: 5.1.1

Final-Recipient: rfc822; bob@law.example
Action: failed
Status: 5.1.1

--B
Content-Type: text/rfc822-headers

Message-ID: <made-up@mailflow.firm.example>
In-Reply-To: <intro1@firm.example>

--B--
""")
    world.deliver(b"""From: Bob Smith <bob@law.example>
To: referrals@firm.example
Subject: Automatic reply: Introduction: Jane / Bob
Auto-Submitted: auto-replied
Date: Mon, 23 Nov 2026 10:20:00 +0000
Message-ID: <forged-ooo@evil.example>
In-Reply-To: <intro1@firm.example>

I am out of the office until 20 November 2027.
""")
    world.run("2026-11-23T11:00:00+00:00")
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict)
    kinds = {e["kind"] for e in shown["events"]}
    assert "bounce" not in kinds and "out-of-office" not in kinds
    world.run("2026-11-24T10:30:00+00:00")
    assert [m for m in world.sent_to("bob@law.example") if "nudge" in m.subject.lower()]


def test_a_forged_reply_without_the_signed_address_closes_nothing(world: World) -> None:
    world.deliver(INTRO)
    world.run("2026-11-23T10:00:00+00:00")
    for n, to in enumerate(("referrals@firm.example", "referrals+r1.zzzz@firm.example",
                            "referrals+r1@firm.example")):
        world.deliver(f"""From: Bob Smith <bob@law.example>
To: {to}
Subject: Re: [R-1] Introduction: Jane / Bob
Date: Mon, 23 Nov 2026 10:3{n}:00 +0000
Message-ID: <forged-won{n}@evil.example>
In-Reply-To: <intro1@firm.example>

Won!
""".encode())
    world.run("2026-11-23T11:00:00+00:00")
    shown = world.cli_json("show", "R-1")
    assert isinstance(shown, dict) and shown["status"] != "closed"


def test_a_temporary_failure_of_a_notice_does_not_stop_sending(world: World) -> None:
    world.deliver(INTRO)
    world.run("2026-11-23T10:00:00+00:00")
    world.deliver(f"""From: Bob Smith <bob@law.example>
To: {world.reply_address("bob@law.example")}
Subject: Re: [R-1] Introduction: Jane / Bob
Date: Mon, 23 Nov 2026 10:40:00 +0000
Message-ID: <bob-snooze@law.example>

snooze 3 days
""".encode())
    world.smtp.behaviour.reject["bob@law.example"] = "451 4.3.0 try again later"
    world.run("2026-11-23T11:00:00+00:00")
    del world.smtp.behaviour.reject["bob@law.example"]
    world.run("2026-11-23T12:00:00+00:00")  # was: JSONDecodeError, every cycle, for good
    world.run("2026-11-23T13:00:00+00:00")
    assert [m for m in world.sent_to("bob@law.example") if "Noted" in m.subject]


def test_a_crash_between_ingest_and_planning_loses_no_follow_up(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import mailflow.app.cycle as cycle

    def crash(*args: object, **kwargs: object) -> None:
        raise SystemExit("killed")

    world.deliver(INTRO)
    with monkeypatch.context() as patch, pytest.raises(SystemExit):
        patch.setattr(cycle, "replan", crash)  # killed right after the ingest commit
        main(["--config", str(world.config), "run", "--once", "--now",
              "2026-11-23T10:00:00+00:00"])
    world.run("2026-11-23T10:05:00+00:00")
    outbox = world.cli_json("outbox")
    assert isinstance(outbox, list) and any(r["step"] == "partner_nudge" for r in outbox)
    assert world.sent_to("alice@firm.example")  # the acknowledgement went out


def test_read_only_commands_work_while_another_process_writes(world: World) -> None:
    world.deliver(INTRO)
    world.run("2026-11-23T10:00:00+00:00")
    database = world.config.parent / "mailflow.db"
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("begin immediate")  # the daemon in the middle of a write
    try:
        for command in (["list", "--json"], ["show", "R-1", "--json"], ["partners", "--json"],
                        ["status", "--json"], ["outbox", "--json"]):
            done = subprocess.run([sys.executable, "-m", "mailflow", "--config",
                                   str(world.config), *command], capture_output=True,
                                  text=True, timeout=60, check=False)
            assert done.returncode == 0, (command, done.stderr)
            json.loads(done.stdout)
    finally:
        writer.execute("rollback")
        writer.close()
    assert oct(database.stat().st_mode & 0o777) == "0o600"



SCRIPT_INTRO = (INTRO.replace(b"Jane Doe <jane@gmail.com>",
                              b'"<img src=x onerror=alert(1)>" <jane@gmail.com>')
                .replace(b"Subject: Introduction: Jane / Bob",
                         b"Subject: =HYPERLINK(\"http://evil.example\") \x1b[2J<script>x</script>"))


def test_hostile_text_is_escaped_in_html_and_inert_in_csv_and_terminal(
        world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world.deliver(SCRIPT_INTRO)
    world.run("2026-11-23T10:00:00+00:00")
    world.deliver(f"""From: Bob Smith <bob@law.example>
To: {world.reply_address("bob@law.example")}
Subject: Re: [R-1] hello
Date: Mon, 23 Nov 2026 10:40:00 +0000
Message-ID: <bob-need@law.example>

contacted
need: <script>alert("need")</script>
""".encode())
    world.run("2026-11-23T11:00:00+00:00")
    capsys.readouterr()
    html = tmp_path / "report.html"
    assert main(["--config", str(world.config), "report", "--html", str(html)]) == 0
    page = html.read_text()
    assert "<script>" not in page and "<img" not in page
    world.run("2026-11-30T10:00:00+00:00")  # the weekly digest, with the need in it
    digest = next(m for m in world.sent_to("alice@firm.example") if "this week" in m.subject)
    assert digest.html and "&lt;script&gt;" in digest.html and "<script>" not in digest.html
    capsys.readouterr()
    assert main(["--config", str(world.config), "export", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["subject"].startswith("'=HYPERLINK")
    assert main(["--config", str(world.config), "list"]) == 0
    assert main(["--config", str(world.config), "show", "R-1"]) == 0
    assert "\x1b" not in capsys.readouterr().out


def test_check_names_a_step_whose_template_is_missing(world: World,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    text = world.config.read_text()
    world.config.write_text(text + """workflow:
  steps:
    - {name: partner_nudge, to: partner, template: no_such_template, after: 1 business day}
""")
    assert main(["--config", str(world.config), "check"]) != 0
    err = capsys.readouterr().err
    assert "partner_nudge: template no_such_template.j2 not found" in err


def test_an_imap_connection_dropped_mid_ingest_loses_and_duplicates_nothing(
        world: World) -> None:
    import socket

    from mailflow.app.cycle import run_cycle
    from mailflow.app.wiring import build_app, open_mailbox
    from mailflow.config import load_config
    from mailflow.errors import MailflowError

    text = world.config.read_text().replace("  idle: false\n", "  idle: false\n  batch_size: 2\n")
    world.config.write_text(text)
    for n in range(5):
        world.deliver(INTRO.replace(b"<intro1@firm.example>", f"<drop{n}@firm.example>".encode())
                      .replace(b"Introduction: Jane / Bob", f"Intro {n}".encode()))
    app = build_app(load_config(world.config))
    try:
        box = open_mailbox(app.config)

        dropped: list[int] = []

        def drop_the_line(count: int) -> None:  # after the first batch, the server is gone
            if not dropped:
                dropped.append(count)
                box.client._imap.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[attr-defined]

        start = datetime(2026, 11, 23, 10, tzinfo=UTC)
        try:
            with pytest.raises(MailflowError):
                run_cycle(app, start, box, progress=drop_the_line)
        finally:
            box.close()  # as its opener does: logout fails on the dead line, then shutdown
        # what was fetched before the drop is recorded (read ahead, maybe all five) but not
        # moved, and the cursor has not passed it
        assert 1 <= len(app.store.referrals()) <= 5
        run_cycle(app, start)  # the next cycle reconnects and goes on from the cursor
        assert len(app.store.referrals()) == 5
        assert len({r.subject for r in app.store.referrals()}) == 5
    finally:
        app.close()


def test_a_send_choice_that_fails_on_one_persons_rows_stops_only_their_mail(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug the choice trips over for one recipient: the others' mail still goes, and
    that person's rows stay due for the next cycle."""
    import mailflow.app.dispatch as dispatch

    real = dispatch.choose

    def fails_for_bob(rows, *args, **kwargs):  # type: ignore[no-untyped-def]
        if any(r.recipient == "bob@law.example" for r in rows):
            raise RuntimeError("a row the choice cannot read")
        return real(rows, *args, **kwargs)

    world.deliver(INTRO)
    monkeypatch.setattr(dispatch, "choose", fails_for_bob)
    world.run("2026-11-23T10:00:00+00:00")
    assert world.sent_to("alice@firm.example")  # the acknowledgement went out
    assert not world.sent_to("bob@law.example")
    pending = world.cli_json("outbox")
    assert isinstance(pending, list)
    assert any(r["recipient"] == "bob@law.example" and r["step"] == "partner_brief"
               for r in pending)
    monkeypatch.setattr(dispatch, "choose", real)
    world.run("2026-11-23T10:05:00+00:00")
    assert world.sent_to("bob@law.example")

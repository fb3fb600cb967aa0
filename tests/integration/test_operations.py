"""Operator commands on a local Maildir: partners, close/reopen, outbox, status, export, --since."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from mailflow.cli.parser import main

CONFIG = """\
tracker: referrals@firm.example
timezone: Europe/London
maildir: mail
outbox_dir: outbox
referrers: ["*@firm.example"]
partners:
  - {email: bob@law.example, name: Bob Smith, niche: estate planning}
"""


def intro(n: int, date: str, partner: str = "bob@law.example") -> bytes:
    return (f"From: Alice <alice@firm.example>\r\nTo: c{n}@x.example, {partner}\r\n"
            f"Cc: referrals@firm.example\r\nSubject: Intro {n}\r\nDate: {date}\r\n"
            f"Message-ID: <op{n}@firm.example>\r\n\r\nMeet.\r\n").encode()


@pytest.fixture
def setup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    (tmp_path / "mailflow.yaml").write_text(CONFIG)
    for sub in ("new", "cur", "tmp"):
        (tmp_path / "mail" / sub).mkdir(parents=True)
    return tmp_path / "mailflow.yaml", tmp_path / "mail" / "new"


def cli(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--config", str(config), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_partners_cli_and_config_wins(setup: tuple[Path, Path],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    config, _ = setup
    code, out, _ = cli(capsys, config, "partners", "add", "frank@design.example",
                       "frank@studio.example", "--name", "Frank Ode", "--niche", "branding")
    assert code == 0 and "added" in out
    code, _, err = cli(capsys, config, "partners", "add", "not-an-address")
    assert code == 1 and 'partner.email: expected an email address, got "not-an-address"' in err
    code, _, err = cli(capsys, config, "partners", "edit", "bob@law.example", "--name", "B")
    assert code == 2 and "edit it there (the config file wins)" in err
    code, out, _ = cli(capsys, config, "partners", "edit", "frank@design.example",
                       "frank@studio.example", "--name", "Frank Ode", "--niche", "brands")
    assert code == 0 and "edited" in out
    rows = {r["email"]: r for r in json.loads(cli(capsys, config, "partners", "--json")[1])}
    assert rows["frank@design.example"]["niche"] == "brands"
    assert rows["frank@design.example"]["emails"] == ["frank@design.example",
                                                      "frank@studio.example"]
    assert rows["bob@law.example"]["name"] == "Bob Smith"
    code, _, err = cli(capsys, config, "partners", "remove", "bob@law.example")
    assert code == 2 and "remove it there" in err
    assert cli(capsys, config, "partners", "remove", "frank@design.example")[0] == 0
    rows2 = json.loads(cli(capsys, config, "partners", "--json")[1])
    assert [r["email"] for r in rows2] == ["bob@law.example"]


def test_close_reopen_outbox_status_export(setup: tuple[Path, Path],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    config, new = setup
    (new / "1").write_bytes(intro(1, "Mon, 23 Nov 2026 09:00:00 +0000"))
    (new / "2").write_bytes(b"\x00\x01 not mail")
    assert cli(capsys, config, "run", "--once", "--now", "2026-11-23T09:30:00+00:00")[0] == 0
    pending = json.loads(cli(capsys, config, "outbox", "--json")[1])
    assert {"partner_nudge", "escalation", "client_checkin"} <= {r["step"] for r in pending}
    code, out, _ = cli(capsys, config, "close", "R-1", "--outcome", "won")
    assert code == 0 and "closed (won)" in out
    assert cli(capsys, config, "close", "R-1")[0] == 2  # already closed: one clear line
    steps = {r["step"] for r in json.loads(cli(capsys, config, "outbox", "--json")[1])}
    assert "partner_nudge" not in steps and "thank_partner" in steps
    assert cli(capsys, config, "reopen", "R-1")[0] == 0
    steps = {r["step"] for r in json.loads(cli(capsys, config, "outbox", "--json")[1])}
    assert "partner_nudge" in steps and "thank_partner" not in steps
    status = json.loads(cli(capsys, config, "status", "--json")[1])
    assert status["quarantined"] == 1 and status["last_poll"].startswith("2026-11-23T09:30")
    assert status["referrals"]["open"] == 1
    quarantined = list((config.parent / "mail" / ".mailflow.quarantine" / "cur").iterdir())
    assert len(quarantined) == 1  # kept, never deleted
    exported = json.loads(cli(capsys, config, "export")[1])
    assert exported["referrals"][0]["id"] == "R-1"
    assert [e["kind"] for e in exported["referrals"][0]["events"]][:1] == ["intake"]
    assert exported["ledger"][0]["given"] == 1
    rows = list(csv.DictReader(io.StringIO(cli(capsys, config, "export", "--format",
                                               "csv")[1])))
    assert rows[0]["id"] == "R-1" and rows[0]["partner"] == "bob@law.example"


def test_since_ignores_older_mail(setup: tuple[Path, Path],
                                  capsys: pytest.CaptureFixture[str]) -> None:
    config, new = setup
    (new / "1").write_bytes(intro(1, "Mon, 02 Mar 2026 09:00:00 +0000"))
    (new / "2").write_bytes(intro(2, "Mon, 23 Nov 2026 09:00:00 +0000"))
    code, out, _ = cli(capsys, config, "run", "--once", "--now", "2026-11-23T10:00:00+00:00",
                       "--since", "2026-11-01")
    assert code == 0 and "1 intro" in out and "1 ignored" in out
    listed = json.loads(cli(capsys, config, "list", "--json")[1])
    assert [r["subject"] for r in listed] == ["Intro 2"]


def test_a_broken_template_fails_check_and_only_its_step(setup: tuple[Path, Path],
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    config, new = setup
    overrides = config.parent / "my-templates"
    overrides.mkdir()
    (overrides / "partner_brief.j2").write_text(
        "{% block subject %}Hi {{ partner.frist_name }}{% endblock %}"
        "{% block text %}x{% endblock %}")
    config.write_text(config.read_text() + "templates_dir: my-templates\n")
    code, _, err = cli(capsys, config, "check")
    assert code == 1
    assert "template: partner_brief.j2" in err and "frist_name" in err
    (new / "1").write_bytes(intro(1, "Mon, 23 Nov 2026 09:00:00 +0000"))
    assert cli(capsys, config, "run", "--once", "--now", "2026-11-23T09:30:00+00:00")[0] == 0
    shown = json.loads(cli(capsys, config, "show", "R-1", "--json")[1])
    steps = {r["step"]: r for r in shown["outbox"]}
    assert steps["partner_brief"]["status"] == "failed"
    assert "frist_name" in steps["partner_brief"]["detail"]
    assert steps["acknowledgement"]["status"] == "sent"  # the cycle went on


def test_a_workflow_change_replans_what_is_pending(setup: tuple[Path, Path],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    config, new = setup
    (new / "1").write_bytes(intro(1, "Mon, 23 Nov 2026 09:00:00 +0000"))
    assert cli(capsys, config, "run", "--once", "--now", "2026-11-23T09:30:00+00:00")[0] == 0
    before = {r["step"]: r["due_at"] for r in json.loads(cli(capsys, config, "outbox",
                                                            "--json")[1])}
    assert before["partner_nudge"].startswith("2026-11-24T09:00")
    config.write_text(config.read_text() + """workflow:
  steps:
    - {name: partner_nudge, to: partner, template: partner_nudge, after: 2 business days,
       unless: [contacted, closed]}
""")
    assert cli(capsys, config, "run", "--once", "--now", "2026-11-23T10:30:00+00:00")[0] == 0
    after = {r["step"]: r["due_at"] for r in json.loads(cli(capsys, config, "outbox",
                                                           "--json")[1])}
    assert after["partner_nudge"].startswith("2026-11-25T09:00")
    assert "escalation" not in after and "client_checkin" not in after


def test_partners_add_and_edit_never_lose_a_field(setup: tuple[Path, Path],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    config, _ = setup
    code, out, _ = cli(capsys, config, "partners", "add", "gina@g.example", "--name", "Gina",
                       "--niche", "pensions")
    assert code == 0 and "added partner gina@g.example" in out
    code, _, err = cli(capsys, config, "partners", "add", "gina@g.example")
    assert code == 2 and "already a partner; use `partners edit`" in err
    code, _, err = cli(capsys, config, "partners", "edit", "nobody@g.example", "--notes", "x")
    assert code == 2 and "no partner with address nobody@g.example" in err
    code, out, _ = cli(capsys, config, "partners", "edit", "gina@g.example", "--notes", "hi")
    assert code == 0
    rows = {r["email"]: r for r in json.loads(cli(capsys, config, "partners", "--json")[1])}
    assert (rows["gina@g.example"]["name"], rows["gina@g.example"]["niche"],
            rows["gina@g.example"]["notes"]) == ("Gina", "pensions", "hi")
    code, out, _ = cli(capsys, config, "partners", "remove", "gina@g.example")
    assert code == 0 and out.strip() == "removed partner gina@g.example (Gina)"


def test_the_web_actions_on_the_command_line(setup: tuple[Path, Path],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """snooze, partner, swap, stop, resume and undo go through the same decisions as the
    web and the email words."""
    config, new = setup
    (new / "1").write_bytes(intro(1, "Mon, 23 Nov 2026 09:00:00 +0000"))
    assert cli(capsys, config, "run", "--once", "--now", "2026-11-23T09:30:00+00:00")[0] == 0
    shown = json.loads(cli(capsys, config, "show", "R-1", "--json")[1])
    client, partner = shown["client"], shown["partner"]
    code, out, _ = cli(capsys, config, "snooze", "R-1", "10")
    assert code == 0 and "snoozed until" in out
    assert cli(capsys, config, "snooze", "R-1", "0")[0] == 2  # click's one line
    code, out, _ = cli(capsys, config, "swap", "R-1")
    assert code == 0 and f"partner {client}, client {partner}" in out
    code, out, _ = cli(capsys, config, "undo", "R-1")
    assert code == 0
    shown = json.loads(cli(capsys, config, "show", "R-1", "--json")[1])
    assert (shown["client"], shown["partner"]) == (client, partner)
    code, out, _ = cli(capsys, config, "partner", "R-1", client)
    assert code == 0 and f"partner {client}" in out
    code, _, err = cli(capsys, config, "partner", "R-1", "eve@evil.example")
    assert code == 2 and "not one of the people" in err
    code, out, _ = cli(capsys, config, "stop", "R-1", partner)
    assert code == 0 and f"no more mail to {partner}" in out
    steps = {(r["step"], r["recipient"])
             for r in json.loads(cli(capsys, config, "outbox", "--json")[1])}
    assert not [s for s in steps if s[1] == partner]
    code, out, _ = cli(capsys, config, "resume", "R-1", partner)
    assert code == 0 and "gets mail about it again" in out
    code, _, err = cli(capsys, config, "resume", "R-1", partner)
    assert code == 2 and "is not stopped" in err
    events = [e["kind"] for e in json.loads(cli(capsys, config, "show", "R-1",
                                                   "--json")[1])["events"]]
    assert {"snoozed", "partner-chosen", "undone", "stopped", "resumed"} <= set(events)

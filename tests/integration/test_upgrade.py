"""A database written by the previous main (65a23f5) opens, upgrades in place and goes on.

tests/fixtures/mailflow-65a23f5.db was made by that commit's `run --once` over an
intro and a "snooze 3 days" reply (so it holds a referral, events, a sent notice and
pending steps).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from mailflow.cli.parser import main

FIXTURE = Path(__file__).parents[1] / "fixtures" / "mailflow-65a23f5.db"


def test_a_database_of_the_previous_main_upgrades(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(FIXTURE, tmp_path / "mailflow.db")
    for sub in ("new", "cur", "tmp"):
        (tmp_path / "mail" / sub).mkdir(parents=True)
    config = tmp_path / "mailflow.yaml"
    config.write_text("tracker: referrals@firm.example\nreferrers: ['*@firm.example']\n"
                      "maildir: mail\noutbox_dir: outbox\ndatabase: mailflow.db\n"
                      "partners: [{email: bob@law.example, name: Bob Smith}]\n")
    capsys.readouterr()
    assert main(["--config", str(config), "show", "R-1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["subject"] == "Intro" and any(e["kind"] == "snoozed" for e in shown["events"])
    pending = {r["step"] for r in shown["outbox"] if r["status"] == "pending"}
    assert {"partner_checkin", "client_checkin"} <= pending
    assert main(["--config", str(config), "run", "--once", "--now",
                 "2026-11-30T10:00:00+00:00"]) == 0
    conn = sqlite3.connect(tmp_path / "mailflow.db")
    try:
        applied = {r[0] for r in conn.execute("select name from _sqlite_migrations")}
        assert {"m005_durable_planning_and_payloads", "m006_history", "m007_outbox_kinds",
                "m008_opaque_cursors"} <= applied
        # the old main's `notice.confirm.1` is now a notice of kind confirm
        assert conn.execute("select kind, step from outbox where step like '%confirm%'"
                            ).fetchall() == [("notice", "confirm")]
        assert conn.execute("select value from meta where key = 'installation'").fetchone()
        sent = conn.execute("select message_id from outbox where status = 'sent' and "
                            "step = 'partner_checkin'").fetchone()
    finally:
        conn.close()
    assert sent is not None  # the check-in planned by the old main went out after the upgrade


def test_an_imap_cursor_of_the_old_schema_becomes_an_opaque_one(tmp_path: Path) -> None:
    from mailflow.adapters.store import Store
    shutil.copy(FIXTURE, tmp_path / "old.db")
    conn = sqlite3.connect(tmp_path / "old.db")
    conn.execute("insert into cursors (folder, uidvalidity, last_uid) values ('INBOX', 7, 42)")
    conn.commit()
    conn.close()
    store = Store(tmp_path / "old.db")
    try:
        assert store.cursor("INBOX") == "7:42"  # what ImapMailbox.fetch_new resumes from
    finally:
        store.close()

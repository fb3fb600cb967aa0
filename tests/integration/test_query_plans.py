"""Every statement a cycle issues is served by an index (issue 14).

A populated mailbox (many partners, replies threaded to earlier intros, robots)
runs through real cycles on a Maildir and a file outbox; every SQL statement
SQLite executes is captured and EXPLAINed. A full scan of a table that grows
with the mailbox (referrals, events, messages, outbox) fails the test: such a scan
per message or per referral is what made ingest quadratic on realistic data.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mailflow.adapters.maildir_mailbox import ensure_maildir
from mailflow.app.cycle import run_cycle
from mailflow.app.wiring import build_app
from mailflow.config import load_config

GROWING = ("referrals", "events", "messages", "outbox")
# statements allowed to scan: once per cycle or per command, not per message or referral
ONCE_PER_CYCLE = (
    "select distinct partner from referrals",  # the partner history, read once per ingest
    "select distinct referrer from referrals",  # whose digest is due, from the index
    "select * from outbox where status = 'pending' order by due_at",  # through its index
)


def _mailbox(maildir: Path, partners: int, intros: int) -> None:
    ensure_maildir(maildir)
    start = datetime(2026, 11, 23, 9, tzinfo=UTC)
    number = 0

    def put(raw: str) -> None:
        nonlocal number
        number += 1
        (maildir / "new" / f"{number:05d}.plan").write_bytes(raw.encode())

    for n in range(intros):
        partner = f"p{n % partners}@firm{n % partners}.example"
        date = (start + timedelta(minutes=n)).strftime("%a, %d %b %Y %H:%M:%S +0000")
        put(f"From: Alice <alice@firm.example>\nTo: Client {n} <c{n}@gmail.example>, "
            f"Partner <{partner}>\nCc: referrals@firm.example\nSubject: Intro {n}\n"
            f"Date: {date}\nMessage-ID: <i{n}@firm.example>\n\nMeet. partner: {partner}\n")
        if n % 3 == 0:
            put(f"From: Partner <{partner}>\nTo: referrals@firm.example\nSubject: Re: Intro {n}\n"
                f"Date: {date}\nMessage-ID: <r{n}@x.example>\nIn-Reply-To: <i{n}@firm.example>\n"
                f"\n{'done' if n % 2 else 'contacted'}\n")
        if n % 20 == 0:
            put(f"From: Partner <{partner}>\nTo: referrals@firm.example\n"
                f"Subject: Automatic reply: Intro {n}\nAuto-Submitted: auto-replied\n"
                f"Date: {date}\nMessage-ID: <a{n}@x.example>\nIn-Reply-To: <i{n}@firm.example>\n"
                "\nI am away until 7 December.\n")


def _scans(conn: sqlite3.Connection, statement: str) -> list[str]:
    try:
        plan = conn.execute(f"explain query plan {statement}").fetchall()
    except sqlite3.Error:
        return []  # not a plannable statement (PRAGMA, BEGIN, SAVEPOINT…)
    found = []
    for row in plan:
        detail = row[-1]
        match = re.match(r"SCAN (\w+)(?! USING (?:COVERING )?INDEX)", detail)
        if match and match.group(1) in GROWING:
            found.append(detail)
    return found


def test_no_statement_of_a_cycle_scans_a_growing_table(tmp_path: Path) -> None:
    _mailbox(tmp_path / "mail", partners=40, intros=240)
    config_path = tmp_path / "mailflow.yaml"
    config_path.write_text("tracker: referrals@firm.example\nreferrers: ['*@firm.example']\n"
                           "maildir: mail\noutbox_dir: outbox\ntimezone: UTC\n")
    app = build_app(load_config(config_path))
    try:
        run_cycle(app, datetime(2026, 11, 23, 14, tzinfo=UTC))  # populate
        _mailbox(tmp_path / "mail", partners=40, intros=260)  # and more arrives
        statements: list[str] = []
        app.store.db.conn.set_trace_callback(statements.append)
        for day in (24, 25, 30):
            run_cycle(app, datetime(2026, 11, day, 10, tzinfo=UTC))
        app.store.db.conn.set_trace_callback(None)
        assert len(app.store.referrals()) >= 250
        conn = sqlite3.connect(app.config.database)
        offenders = {}
        for statement in dict.fromkeys(statements):
            if statement.lower().startswith(ONCE_PER_CYCLE):
                continue
            scans = _scans(conn, statement)
            if scans:
                offenders[statement[:160]] = scans
        conn.close()
        assert not offenders, "\n".join(f"{s}\n    {v}" for s, v in offenders.items())
    finally:
        app.close()

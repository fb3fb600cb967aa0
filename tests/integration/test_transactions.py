"""Writes that belong together stand or fall together: a failure (or a kill) between two of
them leaves neither."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailflow.app.cycle import run_cycle
from mailflow.app.digests import queue_digests
from mailflow.app.wiring import App, build_app
from mailflow.config import parse_config
from tests.integration.world import INTRO

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def maildir_app(tmp_path: Path) -> App:
    """An app on a local Maildir and a file outbox."""
    for sub in ("new", "cur", "tmp"):
        (tmp_path / "mail" / sub).mkdir(parents=True, exist_ok=True)
    config = parse_config({"tracker": "referrals@firm.example", "database": "m.db",
                           "maildir": "mail", "outbox_dir": "outbox",
                           "referrers": ["*@firm.example"],
                           "partners": [{"email": "bob@law.example", "name": "Bob Smith"}]},
                          tmp_path / "m.yaml")
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

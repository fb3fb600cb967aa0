"""A digest names the open referrals most in need, at most `DIGEST_LISTS`, stale ones
first, and says how many there are in all, in every language."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailflow.adapters.store import to_db
from mailflow.app.digests import DIGEST_LISTS, build_report
from mailflow.app.wiring import App, build_app
from mailflow.config import parse_config

NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)
ALICE = "alice@firm.example"
OPEN = DIGEST_LISTS + 20
STALE = range(41, OPEN + 1, 2)  # uncontacted and older than two weeks
# what each language says after the list, with the total
SAYS = {"en": f"you will find all {OPEN} when you sign in",
        "de": f"alle {OPEN} finden Sie nach der Anmeldung",
        "fr": f"l'ensemble des {OPEN} en vous connectant",
        "es": f"puede ver las {OPEN} al acceder",
        "nl": f"alle {OPEN} vindt u wanneer u inlogt"}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    config = parse_config({"tracker": "referrals@firm.example", "database": "m.db",
                           "referrers": ["*@firm.example"], "outbox_dir": "outbox",
                           "maildir": "mail"}, tmp_path / "mailflow.yaml")
    app = build_app(config)
    rows = []
    for n in range(1, OPEN + 1):
        # 1-40: contacted long ago (old, not stale); then stale and new ones in turn
        created = NOW - timedelta(days=100 - n if n <= 40 else 30 if n in STALE else 3)
        contacted = to_db(created + timedelta(hours=5)) if n <= 40 else None
        rows.append((n, "contacted" if contacted else "open", ALICE, f"c{n}@mail.example",
                     "bob@law.example", to_db(created), f"<i{n}@firm.example>", contacted))
    rows.append((OPEN + 1, "closed", ALICE, "x@mail.example", "bob@law.example",
                 to_db(NOW - timedelta(days=200)), "<closed@firm.example>", None))
    app.store.db.conn.executemany(
        "insert into referrals (id, status, direction, referrer, client, partner, created_at, "
        "intro_message_id, contacted_at) values (?, ?, 'given', ?, ?, ?, ?, ?, ?)", rows)
    yield app
    app.close()


def test_the_digest_lists_the_most_in_need_stale_first_and_counts_them_all(app: App) -> None:
    digest = build_report(app, NOW)[ALICE]
    listed = [line.split()[0] for line in digest.text.splitlines()
              if line.startswith("  R-")]
    assert len(listed) == DIGEST_LISTS
    stale = [f"R-{n}" for n in STALE]
    assert listed[:len(stale)] == stale  # every stale one, first, oldest first
    assert "R-71" not in listed  # closed
    assert f"{OPEN} open" in digest.subject
    assert SAYS["en"] in digest.text and SAYS["en"] in digest.html


@pytest.mark.parametrize("language", ["de", "fr", "es", "nl"])
def test_every_language_says_how_many_wait(app: App, language: str) -> None:
    app.store.set_language(ALICE, language, True)
    digest = build_report(app, NOW)[ALICE]
    assert digest.language == language
    assert str(OPEN) in digest.subject
    assert SAYS[language] in digest.text and SAYS[language] in digest.html


def test_a_short_list_is_not_said_to_be_short(app: App) -> None:
    app.store.db.conn.execute("update referrals set status = 'closed' where id > 10")
    digest = build_report(app, NOW)[ALICE]
    assert "10 open" in digest.subject
    assert SAYS["en"][:20] not in digest.text and "sign in to mailflow" not in digest.text

"""Intake on a corpus of real-looking intros (tests/mail/intros), read into one store in order."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from mailflow.adapters.mailbox import FetchedMessage
from mailflow.adapters.store import Store
from mailflow.app.directory import seed_from_config
from mailflow.app.inbound import Handler, ReplyPolicy
from mailflow.app.ingest import Folders, IngestReport, handle_fetched
from mailflow.config import load_config
from mailflow.core.addressing import Trackers

CORPUS = Path(__file__).parents[1] / "mail" / "intros"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "expected.yaml").read_text())
NOW = datetime(2026, 11, 16, 13, tzinfo=UTC)


class _NoMailbox:
    folder = "INBOX"


@pytest.fixture(scope="module")
def results() -> dict[str, tuple[str, str, list[Any]]]:
    """file -> (kind, reason, referrals created) after reading the whole corpus in order."""
    config = load_config(CORPUS / "config.yaml")
    store = Store(":memory:")
    seed_from_config(store, config.partners)
    handler = Handler(store, Trackers(config.trackers), config.referrers, "secret",
                      ReplyPolicy())
    out = {}
    for path in sorted(CORPUS.glob("*.eml")):
        before = {r.id for r in store.referrals()}
        report = IngestReport()
        handle_fetched(FetchedMessage(path.name, path.read_bytes()), _NoMailbox(),  # type: ignore[arg-type]
                       handler, Folders(None, "q"), NOW, None, report)
        row = store.db.execute("select kind, reason from messages order by rowid desc "
                               "limit 1").fetchone()
        created = [r for r in store.referrals() if r.id not in before]
        out[path.name] = ("duplicate" if report.duplicates else row[0], row[1], created)
    return out


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_intake(name: str, results: dict[str, tuple[str, str, list[Any]]]) -> None:
    expected = EXPECTED[name]
    kind, reason, created = results[name]
    if expected.get("duplicate"):
        assert kind == "duplicate" and created == []
        return
    assert kind == expected["kind"], reason
    if "reason" in expected:
        assert reason.startswith(expected["reason"])
    wanted = expected.get("referrals", [])
    got = [{"client": r.client, "partner": r.partner, "status": str(r.status),
            **({"candidates": list(r.candidates)} if r.candidates else {})} for r in created]
    assert got == wanted
    for referral in created:
        if "referrer" in expected:
            assert referral.referrer == expected["referrer"]
        assert referral.direction == expected.get("direction", "given")
        for email, name_ in expected.get("names", {}).items():
            assert referral.names.get(email) == name_
        if "subject" in expected:
            assert referral.subject == expected["subject"]
        if "context_contains" in expected:
            assert expected["context_contains"] in referral.context
        if "context_excludes" in expected:
            assert expected["context_excludes"] not in referral.context


def test_an_intro_to_hundreds_of_partners_asks_instead_of_fanning_out() -> None:
    from mailflow.core.addressing import Trackers
    from mailflow.core.intake import Intro, PartnerDirectory, read_intro
    from mailflow.core.model import Status
    from mailflow.core.parse import parse_message

    many = ", ".join(f"p{n}@partners.example" for n in range(500))
    raw = (f"From: Alice <alice@firm.example>\r\nTo: jane@gmail.com, {many}\r\n"
           "Cc: referrals@firm.example\r\nSubject: Intro\r\nMessage-ID: <m@x>\r\n\r\nMeet.\r\n")
    directory = PartnerDirectory(by_domain={"partners.example": "p"})
    intro = read_intro(parse_message(raw.encode()), Trackers(("referrals@firm.example",)),
                       ("*@firm.example",), directory, max_partners=5)
    assert isinstance(intro, Intro) and len(intro.referrals) == 1
    assert intro.referrals[0].status is Status.NEEDS_PARTNER
    assert len(intro.referrals[0].candidates) <= 20
    few = read_intro(parse_message(raw.replace(many, "p1@partners.example, p2@partners.example")
                                   .encode()), Trackers(("referrals@firm.example",)),
                     ("*@firm.example",), directory, max_partners=5)
    assert isinstance(few, Intro) and len(few.referrals) == 2

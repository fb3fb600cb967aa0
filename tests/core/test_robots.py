"""Robots (tests/mail/robots): bounces by DSN status, auto-replies, lists, our own mail."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from mailflow.core.parse import parse_message
from mailflow.core.robots import detect_robot, read_return_date

CORPUS = Path(__file__).parents[1] / "mail" / "robots"
EXPECTED: dict[str, dict[str, Any] | None] = yaml.safe_load(
    (CORPUS / "expected.yaml").read_text())
TODAY = date(2026, 11, 23)


def test_corpus_is_complete() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_robot_verdict(name: str) -> None:
    expected = EXPECTED[name]
    verdict = detect_robot(parse_message((CORPUS / name).read_bytes()),
                           ("referrals@firm.example",), TODAY)
    if expected is None:
        assert verdict is None
        return
    assert verdict is not None and verdict.kind == expected["kind"]
    assert verdict.reason.startswith(expected["kind"])
    for key in ("status", "permanent", "original_message_id", "returns_on"):
        if key in expected:
            assert getattr(verdict, key) == expected[key], key
    if "failed_recipients" in expected:
        assert list(verdict.failed_recipients) == expected["failed_recipients"]


@pytest.mark.parametrize(("text", "today", "expected"), [
    ("I am back on Monday 7 December.", TODAY, date(2026, 12, 7)),
    ("I will return on December 7, 2026.", TODAY, date(2026, 12, 7)),
    ("Back 2026-12-07", TODAY, date(2026, 12, 7)),
    ("Ich bin bis zum 07.12.2026 nicht im Büro", TODAY, date(2026, 12, 7)),
    ("Ab dem 8. Dezember bin ich wieder da", TODAY, date(2026, 12, 8)),
    ("de retour le 7 décembre", TODAY, date(2026, 12, 7)),
    ("hasta el 7 de diciembre", TODAY, date(2026, 12, 7)),
    ("afwezig tot 7 december", TODAY, date(2026, 12, 7)),
    ("away from 1 Dec until 7 Dec", TODAY, date(2026, 12, 7)),
    ("back on 5 January", date(2026, 12, 20), date(2027, 1, 5)),
    ("return on 12/07/2026", TODAY, None),            # US or European? not guessed
    ("I am out of the office", TODAY, None),
    ("back on 1 November 2026", TODAY, None),          # already past
    ("back on 7 December 2028", TODAY, None),          # too far ahead
    ("Our office party is on 7 December.", TODAY, None),  # no back/until context
])
def test_read_return_date(text: str, today: date, expected: date | None) -> None:
    assert read_return_date(text, today) == expected


def test_own_plus_address_counts_as_own_mail() -> None:
    raw = (b"From: referrals+r7.abc@firm.example\r\nTo: x@y.example\r\nSubject: hi\r\n"
           b"Message-ID: <a@b>\r\n\r\nbody\r\n")
    verdict = detect_robot(parse_message(raw), ("referrals@firm.example",), TODAY)
    assert verdict is not None and verdict.kind == "own-mail"

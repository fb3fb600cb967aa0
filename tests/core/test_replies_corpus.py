"""Reply words from real client formats (tests/mail/replies): quotes never count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mailflow.core.commands import parse_command
from mailflow.core.parse import parse_message
from mailflow.core.reply_text import new_text

CORPUS = Path(__file__).parents[1] / "mail" / "replies"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "expected.yaml").read_text())
QUOTE_MARKERS = ("wrote:", "schrieb mailflow", "a écrit", "escribió", "ha scritto",
                 "Original Message", "Gesendet:", "Verzonden:", "Sent:", "Sent from my", "> ")


def test_corpus_is_complete_and_large_enough() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)
    assert len(EXPECTED) >= 30
    assert {"gmail-web", "outlook-desktop", "outlook-web", "apple-mail", "ios-mail",
            "thunderbird", "yahoo", "gmail-android"} <= {e["client"] for e in EXPECTED.values()}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reply_word(name: str) -> None:
    expected = EXPECTED[name]
    text = new_text(parse_message((CORPUS / name).read_bytes()))
    for marker in QUOTE_MARKERS:
        assert marker not in text, f"quoted text leaked into the new text: {marker!r}"
    command = parse_command(text)
    assert command is not None
    assert command.word == expected["word"], text
    for key in ("outcome", "days", "rating", "text", "looks_like_command"):
        if key in expected:
            assert getattr(command, key) == expected[key]
    if "text_contains" in expected:
        assert expected["text_contains"] in command.text


@pytest.mark.parametrize(("text", "word", "detail"), [
    ("Done", "done", None), ("done.", "done", None), ("DONE - thanks", "done", None),
    ("Complete", "done", None), ("Hi Alice,\n\nDone, thanks!", "done", None),
    ("Won", "won", None), ("We're engaged!", "won", None), ("Hired.", "won", None),
    ("Signed today", "won", None), ("Lost", "lost", None), ("No fit, sorry", "lost", None),
    ("Not a fit.", "lost", None), ("Declined - price", "lost", None),
    ("Contacted", "contacted", None), ("Called her today", "contacted", None),
    ("Met on Tuesday", "contacted", None), ("Spoke yesterday", "contacted", None),
    ("We've been in touch \u2014 contacted.", "contacted", None),
    ("snooze 2 weeks", "snooze", 14), ("snooze 3 days", "snooze", 3),
    ("Snooze for 1 week", "snooze", 7), ("snooze", "snooze", 7), ("snooze 2w", "snooze", 14),
    ("stop", "stop", None), ("Stop all", "stop_all", None), ("rating 4", "rating", 4),
    ("4/5", "rating", 4), ("5 stars", "rating", 5), ("\u2605\u2605\u2605", "rating", 3),
    ("need: estate lawyer", "need", None), ("reopen", "reopen", None), ("undo", "undo", None),
    ("2", "choice", None), ("omar@haddad.example", "choice", None),
    ("I'm not done yet", "note", None), ("Haven't contacted them yet", "note", None),
    ("We met on Tuesday and it went well", "note", None), ("Meeting tomorrow", "note", None),
    ("rating 9", "note", None), ("Thanks for the intro, talking next week.", "note", None),
    ("metadata looks fine", "note", None),
])
def test_parse_command_table(text: str, word: str, detail: int | None) -> None:
    command = parse_command(text)
    assert command is not None and command.word == word
    if word == "snooze":
        assert command.days == detail
    if word == "rating":
        assert command.rating == detail


def test_empty_text_is_no_command() -> None:
    assert parse_command("") is None
    assert parse_command("\n  \n") is None


def test_need_alongside_a_closing_word() -> None:
    command = parse_command("Won! Tom signed.\nneed: a Spanish property lawyer")
    assert command is not None and command.word == "won"
    assert command.need == "a Spanish property lawyer"

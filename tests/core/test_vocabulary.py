"""One vocabulary: the parser, the role check, the help and the README read the same table."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailflow.core.commands import parse_command
from mailflow.core.model import Referral, Role, Status
from mailflow.core.reply_rules import decide_reply
from mailflow.core.vocabulary import BY_WORD, VOCABULARY, Word, help_words, listed_words

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
REFERRAL = Referral(1, Status.OPEN, "alice@firm.example", "jane@gmail.com", "bob@law.example",
                    "Intro", NOW, "i1@firm.example")


def test_a_word_added_to_a_copy_of_the_table_is_parsed_checked_and_listed() -> None:
    finished = Word("done", ("wrapped up",), frozenset({Role.PARTNER}), True, "wrapped up",
                    "closed (done)", frozenset({Role.PARTNER}))
    table = (*VOCABULARY, finished)
    command = parse_command("Hi Alice, wrapped up, thanks!", table)
    assert command is not None and command.word == "done"
    assert parse_command("Hi Alice, wrapped up, thanks!").word == "note"  # not in the real one
    effect = decide_reply(REFERRAL, Role.PARTNER, "bob@law.example", command, NOW,
                          vocabulary=table)
    assert effect.changes["status"] is Status.CLOSED
    assert "wrapped up" in help_words(vocabulary=table)
    assert "wrapped up" in listed_words(Role.PARTNER, vocabulary=table)
    narrower = tuple(replace(w, roles=frozenset({Role.REFERRER})) if w.word == "done" else w
                     for w in VOCABULARY)
    refused = decide_reply(REFERRAL, Role.PARTNER, "bob@law.example", parse_command("done"),
                           NOW, vocabulary=narrower)
    assert refused.refused and not refused.changes


def _readme_row(word: Word) -> str:
    key = word.readme or word.shown
    rows = [line for line in README.splitlines()
            if line.startswith(f"| `{key}`") or (key == "anything else"
                                                 and line.startswith("| anything else"))]
    assert rows, f"README's reply-word table has no row for {key!r}"
    return rows[0]


@pytest.mark.parametrize("word", VOCABULARY, ids=lambda w: w.word)
def test_the_readme_table_matches_the_vocabulary(word: Word) -> None:
    who = _readme_row(word).split("|")[2].strip()
    order = (Role.PARTNER, Role.CLIENT, Role.REFERRER)
    expected = ("anyone" if word.roles == frozenset(Role)
                else ", ".join(r.value for r in order if r in word.roles))
    assert who.startswith(expected), f"{word.word}: README says {who!r}, table {expected!r}"
    for example in re.findall(r"`([^`]+)`", _readme_row(word).split("|")[1]):
        command = parse_command(example)
        assert command is not None and command.word in (word.word, "stop_all", "stop"), example


def test_every_phrase_parses_to_its_word() -> None:
    for word in VOCABULARY:
        for phrase in word.phrases:
            command = parse_command(f"{phrase.capitalize()}, thanks!")
            assert command is not None and command.word == word.word, phrase
    assert set(BY_WORD) == {w.word for w in VOCABULARY}


def test_the_help_email_lists_every_word_but_a_note_and_a_choice() -> None:
    assert help_words() == ["done", "won", "lost", "contacted", "snooze 2 weeks", "stop",
                            "stop all", "forget me", "rating 1-5", "need: WHAT", "reopen", "undo",
                            "follow up"]


def test_the_readme_says_which_languages_are_read() -> None:
    assert "Words are read in English, German, French, Spanish and Dutch" in README


def test_every_word_is_shown_in_every_language_and_grammar_words_have_keywords() -> None:
    for word in VOCABULARY:
        for language in ("de", "fr", "es", "nl"):
            assert word.shown_for(language) != word.shown or word.word == "stop", (
                word.word, language)
        if not word.phrases and word.word not in ("note", "choice"):
            assert all(word.forms.get(lang) for lang in ("en", "de", "fr", "es", "nl")), word
        if word.phrases:
            assert "en" not in word.forms, "English phrases are `phrases`"
            assert all(word.forms.get(lang) for lang in ("de", "fr", "es", "nl")), word

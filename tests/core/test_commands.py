"""Reply words: the fixture corpus end to end, then a table of what people write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mailflow.core.commands import Command, parse_command
from mailflow.core.parse import parse_message
from mailflow.core.reply_text import new_text

CORPUS = Path(__file__).parents[1] / "mail" / "replies"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "expected.yaml").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_reply_word(name: str) -> None:
    expected = EXPECTED[name]
    text = new_text(parse_message((CORPUS / name).read_bytes()))
    command = parse_command(text)
    if expected["word"] is None:
        assert command is None
        return
    assert command is not None, text
    assert command.word == expected["word"], text
    assert command.outcome == expected.get("outcome")
    assert command.days == expected.get("days")
    assert command.rating == expected.get("rating")
    if "text" in expected:
        assert command.text == expected["text"]
    if "text_contains" in expected:
        assert expected["text_contains"] in command.text
    assert command.looks_like_command == expected.get("looks_like_command", False)


def test_quoted_reply_words_never_close() -> None:
    # fixtures whose quoted part carries the words: the reply is a note
    quoted_only = [n for n, e in EXPECTED.items() if "quoted" in n and "only" in n]
    assert len(quoted_only) >= 3
    for name in quoted_only:
        command = parse_command(new_text(parse_message((CORPUS / name).read_bytes())))
        assert command is not None and command.word == "note" and command.outcome is None


D, W, L = "done", "won", "lost"
# (text, word, outcome, days, rating, text of the command)
TABLE: list[tuple[str, str, str | None, int | None, int | None, str]] = [
    ("Done", "done", D, None, None, ""),
    ("done.", "done", D, None, None, ""),
    ("Done!", "done", D, None, None, ""),
    ("DONE - thanks", "done", D, None, None, ""),
    ("Hi Alice, done, thanks!", "done", D, None, None, ""),
    ("Hi Alice,\n\nDone, thanks for the intro!\n\nBob", "done", D, None, None, ""),
    ("Good morning Alice,\nDone", "done", D, None, None, ""),
    ("All done", "done", D, None, None, ""),
    ("Job done!", "done", D, None, None, ""),
    ("Completed.", "done", D, None, None, ""),
    ("complete", "done", D, None, None, ""),
    ("**Done**", "done", D, None, None, ""),
    ("Won", "won", W, None, None, ""),
    ("Thanks! Won \u2014 they signed today", "won", W, None, None, ""),
    ("We're engaged!", "won", W, None, None, ""),
    ("Hired.", "won", W, None, None, ""),
    ("They signed!", "won", W, None, None, ""),
    ("Jane signed today", "won", W, None, None, ""),
    ("Lost", "lost", L, None, None, ""),
    ("no fit", "lost", L, None, None, ""),
    ("Not a fit.", "lost", L, None, None, ""),
    ("No, not a fit", "lost", L, None, None, ""),
    ("It's a no fit, sorry", "lost", L, None, None, ""),
    ("Declined - price", "lost", L, None, None, ""),
    ("Lost them to a competitor", "lost", L, None, None, ""),
    ("Contacted", "contacted", None, None, None, ""),
    ("We've been in touch \u2014 contacted.", "contacted", None, None, None, ""),
    ("Called her today", "contacted", None, None, None, ""),
    ("Met on Tuesday", "contacted", None, None, None, ""),
    ("Spoke to Jane yesterday", "contacted", None, None, None, ""),
    ("Thank you for the introduction, Alice - we spoke today.", "contacted", None, None, None,
     ""),
    ("Bob called me yesterday, all good.", "contacted", None, None, None, ""),
    ("snooze 2 weeks", "snooze", None, 14, None, ""),
    ("snooze 3 days", "snooze", None, 3, None, ""),
    ("snooze for 3 days", "snooze", None, 3, None, ""),
    ("snooze 2w", "snooze", None, 14, None, ""),
    ("snooze a week", "snooze", None, 7, None, ""),
    ("Snooze", "snooze", None, 7, None, ""),
    ("Snooze 10 days please", "snooze", None, 10, None, ""),
    ("Thanks - snooze two weeks, she is away", "snooze", None, 14, None, ""),
    ("stop", "stop", None, None, None, ""),
    ("Please stop sending these", "stop", None, None, None, ""),
    ("Stop all", "stop_all", None, None, None, ""),
    ("STOP ALL emails please", "stop_all", None, None, None, ""),
    ("rating 4", "rating", None, None, 4, ""),
    ("Rating: 4/5", "rating", None, None, 4, ""),
    ("4/5", "rating", None, None, 4, ""),
    ("5 stars", "rating", None, None, 5, ""),
    ("\u2605\u2605\u2605", "rating", None, None, 3, ""),
    ("rating: four", "rating", None, None, 4, ""),
    ("need: estate lawyer", "need", None, None, None, "estate lawyer"),
    ("Hi Alice,\nNeed: a tax adviser for her mother", "need", None, None, None,
     "a tax adviser for her mother"),
    ("Thanks for the intro.\nneed: a mortgage broker", "need", None, None, None,
     "a mortgage broker"),
    ("reopen", "reopen", None, None, None, ""),
    ("Reopen please", "reopen", None, None, None, ""),
    ("undo", "undo", None, None, None, ""),
    ("Oops, undo!", "undo", None, None, None, ""),
    ("2", "choice", None, None, None, "2"),
    ("2.", "choice", None, None, None, "2"),
    ("bob@law.example", "choice", None, None, None, "bob@law.example"),
    ("<Bob@Law.example>", "choice", None, None, None, "bob@law.example"),
    # negatives: never a reply word
    ("I'm not done yet", "note", None, None, None, "I'm not done yet"),
    ("I\u2019m not done yet", "note", None, None, None, "I\u2019m not done yet"),
    ("Haven't contacted them yet", "note", None, None, None, "Haven't contacted them yet"),
    ("Never contacted", "note", None, None, None, "Never contacted"),
    ("not won, sadly", "note", None, None, None, "not won, sadly"),
    ("Won't be able to help", "note", None, None, None, "Won't be able to help"),
    ("Almost done", "note", None, None, None, "Almost done"),
    ("Will be done soon", "note", None, None, None, "Will be done soon"),
    ("Done by Friday", "note", None, None, None, "Done by Friday"),
    ("Done? Not quite.", "note", None, None, None, "Done? Not quite."),
    ("Contacted? Not yet", "note", None, None, None, "Contacted? Not yet"),
    ("The meeting is done", "note", None, None, None, "The meeting is done"),
    ("Meeting tomorrow", "note", None, None, None, "Meeting tomorrow"),
    ("metadata looks fine", "note", None, None, None, "metadata looks fine"),
    ("We met at a conference years ago", "note", None, None, None,
     "We met at a conference years ago"),
    ("Lost contact with her, can you help?", "note", None, None, None,
     "Lost contact with her, can you help?"),
    ("Stop by the office tomorrow", "note", None, None, None, "Stop by the office tomorrow"),
    ("Thanks for the intro, talking next week.", "note", None, None, None,
     "Thanks for the intro, talking next week."),
    ("A star client!", "note", None, None, None, "A star client!"),
    ("rating 9", "note", None, None, None, "rating 9"),
    ("6/5", "note", None, None, None, "6/5"),
    ("Option B", "note", None, None, None, "Option B"),
    ("Thanks!", "note", None, None, None, "Thanks!"),
]


@pytest.mark.parametrize(("text", "word", "outcome", "days", "rating", "detail"), TABLE,
                         ids=[row[0][:40] for row in TABLE])
def test_parse_command_table(text: str, word: str, outcome: str | None, days: int | None,
                             rating: int | None, detail: str) -> None:
    command = parse_command(text)
    assert command is not None
    assert (command.word, command.outcome, command.days, command.rating, command.text) == (
        word, outcome, days, rating, detail)


@pytest.mark.parametrize(("text", "mistyped"), [
    ("dnoe", True), ("wno", True), ("conacted", True), ("snoze 2 weeks", True),
    ("rating 9", True), ("need a lawyer", True),
    ("Thanks!", False), ("ok", False), ("Call booked", False), ("Not done yet", False),
    ("Almost done", False), ("Sounds good, speak Monday", False),
    ("Dnoe. We will talk more next week about the fees.", False),
])
def test_looks_like_command(text: str, mistyped: bool) -> None:
    command = parse_command(text)
    assert command is not None and command.word == "note"
    assert command.looks_like_command is mistyped


@pytest.mark.parametrize("text", ["", "   ", "\n\n \n"])
def test_empty_text_is_no_command(text: str) -> None:
    assert parse_command(text) is None


def test_only_the_start_is_read() -> None:
    long_note = ("We had a good first conversation about her plans for the business and the "
                 "family trust. She wants to think about it over the holidays. I will write "
                 "again in January. Done with the first step, anyway.")
    command = parse_command(long_note)
    assert command == Command("note", text=long_note)


def test_need_alongside_another_word() -> None:
    command = parse_command("Won! Tom signed.\nneed: a Spanish property lawyer")
    assert command is not None and command.word == "won"
    assert command.need == "a Spanish property lawyer"


@pytest.mark.parametrize(("text", "days"), [
    ("snooze 2 months", 60), ("snooze a month", 30), ("snooze 3 weeks", 21),
    ("snooze 10 days", 10), ("snooze", 7), ("snooze 24 months", 365),
])
def test_snooze_lengths(text: str, days: int) -> None:
    command = parse_command(text)
    assert command is not None and (command.word, command.days) == ("snooze", days)


def test_a_long_run_of_stop_words_costs_linear_time() -> None:
    """"emails" matched two of the stop rule's words, so each repeat doubled the work
    (found by the session adding other languages: 28 repeats ran past 100 s)."""
    import time

    def cost(repeats: int) -> float:
        began = time.perf_counter()
        for _ in range(20):
            parse_command("stop " + "emails " * repeats + "x")
        return time.perf_counter() - began

    cost(4)  # warm the regex cache
    small, large = cost(10), cost(20)
    assert large < small * 8, (small, large)  # 2x the words: about 2x, not 1,000x

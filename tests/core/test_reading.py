"""core/reading.py: what a message says before the store is asked."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from mailflow.core.commands import parse_command
from mailflow.core.correlate import narrow_by_tag
from mailflow.core.parse import parse_message
from mailflow.core.reading import may_answer, read_message
from mailflow.core.reply_text import new_text
from mailflow.core.robots import detect_robot
from mailflow.core.text_language import message_language

TRACKERS = ("referrals@firm.example",)
TODAY = date(2026, 11, 23)


def mail(body: str, extra: str = "") -> bytes:
    return (f"From: Bob <bob@law.example>\r\nTo: referrals@firm.example\r\n"
            f"Subject: Re: Introduction\r\nMessage-ID: <r1@law.example>\r\n{extra}\r\n"
            f"{body}").encode()


def test_a_reply_is_read_for_its_new_text_and_its_reply_word() -> None:
    message = parse_message(mail("Done, thanks!\r\n\r\n> Bob, meet Carol\r\n"))
    reading = read_message(message, TRACKERS, TODAY)
    assert reading.message is message and reading.robot is None
    assert reading.text == "Done, thanks!"
    assert reading.command is not None and reading.command.word == "done"
    assert reading.command_in(reading.text) is reading.command  # read once, ahead


def test_a_robot_is_never_read_for_a_reply_word() -> None:
    message = parse_message(mail("I am away. Back on 30 November.",
                                 "Auto-Submitted: auto-replied\r\n"))
    reading = read_message(message, TRACKERS, TODAY)
    assert reading.message is message
    assert reading.robot is not None and reading.robot.kind == "auto-reply"
    assert reading.robot.returns_on == date(2026, 11, 30)  # read against `today`
    assert read_message(message, TRACKERS, date(2026, 12, 1)).robot != reading.robot
    assert (reading.text, reading.command) == ("", None)


def test_a_tag_removed_from_the_text_is_parsed_again() -> None:
    reading = read_message(parse_message(mail("R-5 snooze 2 weeks\r\n")), TRACKERS, TODAY)
    assert reading.command is not None and reading.command.word == "note"  # tag and all
    _, narrowed = narrow_by_tag([], reading.text)  # no R-5 among these: the text stays
    assert reading.command_in(narrowed) == reading.command
    rest = reading.text[len("R-5 "):]
    assert reading.command_in(rest) == parse_command(rest)
    snooze = reading.command_in(rest)
    assert snooze is not None and (snooze.word, snooze.days) == ("snooze", 14)


@given(st.text(max_size=300), st.sampled_from(["", "Auto-Submitted: auto-replied\r\n",
                                                "Precedence: bulk\r\n"]))
def test_reading_is_exactly_what_the_handler_used_to_work_out(body: str, extra: str) -> None:
    message = parse_message(mail(body.replace("\r", ""), extra))
    reading = read_message(message, TRACKERS, TODAY)
    assert reading.robot == detect_robot(message, TRACKERS, TODAY)
    if reading.robot is None:
        assert reading.text == new_text(message)
        assert reading.command == parse_command(new_text(message))
        assert reading.language == message_language(new_text(message),
                                                    message.header("content-language"))


def test_a_reply_word_left_unread_is_read_when_asked_for() -> None:
    message = parse_message(mail("Done, thanks!\r\n"))
    lazy = read_message(message, TRACKERS, TODAY, read_command=False)
    assert lazy.message is message and lazy.command is None and not lazy.command_read
    assert lazy.command_in(lazy.text) == read_message(message, TRACKERS, TODAY).command


def test_the_language_read_ahead_is_the_one_the_handler_would_read() -> None:
    message = parse_message(mail("Erledigt, vielen Dank für die schnelle Hilfe!\r\n"))
    ahead = read_message(message, TRACKERS, TODAY)
    lazy = read_message(message, TRACKERS, TODAY, read_command=False)
    assert ahead.language == "de" and lazy.language is None
    assert lazy.language_in(lazy.text) == ahead.language_in(ahead.text) == "de"
    # a part of the text (a tag taken off) is read again, not taken from the whole
    assert ahead.language_in("Done, many thanks for your quick help") == "en"


def test_only_mail_that_may_answer_earlier_mail_is_read_ahead_for_a_reply_word() -> None:
    fresh = parse_message(mail("Carol, meet Bob.").replace(b"Re: Introduction", b"Intro"))
    assert not may_answer(fresh)
    assert may_answer(parse_message(mail("Done", "In-Reply-To: <i1@firm.example>\r\n")))
    for subject in (b"Fwd: Intro", b"AW: Intro", b"Intro [R-5]"):
        assert may_answer(parse_message(mail("Done").replace(b"Re: Introduction", subject)))

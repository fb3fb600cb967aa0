"""Every intent decided once, as a list of effects (core.decisions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import pytest

from mailflow.core.commands import parse_command
from mailflow.core.decisions import (
    MAX_PAUSE,
    Reply,
    on_ambiguous_reply,
    on_away,
    on_bounce,
    on_operator,
    on_reply,
)
from mailflow.core.effects import (
    AddEvent,
    Effect,
    KeepUndo,
    MarkUndeliverable,
    Notify,
    Pause,
    Plan,
    RestoreUndo,
    SetFields,
)
from mailflow.core.model import Outcome, Referral, Status
from mailflow.core.robots import RobotVerdict

T = TypeVar("T")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
REF = Referral(7, Status.OPEN, "alice@firm.example", "jane@gmail.com", "bob@law.example",
               "Intro", NOW - timedelta(days=1), "<intro@firm.example>")


def _reply(sender: str, text: str, **kw: Any) -> Reply:
    return Reply(REF, sender, parse_command(text), **kw)


def _of(effects: Sequence[Effect], kind: type[T]) -> list[T]:
    return [e for e in effects if isinstance(e, kind)]


def test_a_partners_done_counts_as_contact_keeps_undo_and_confirms() -> None:
    effects = on_reply(_reply("bob@law.example", "Done, thanks!"), NOW)
    sets = _of(effects, SetFields)
    assert sets[0] == SetFields(7, {"status": Status.CONTACTED, "contacted_at": NOW})
    assert sets[1].changes["status"] is Status.CLOSED
    undo = _of(effects, KeepUndo)
    assert len(undo) == 1 and undo[0].before["status"] is Status.CONTACTED
    assert effects.index(undo[0]) < effects.index(sets[1])  # the state before the change
    confirm = [n for n in _of(effects, Notify) if n.kind == "confirm"]
    assert confirm == [Notify(7, "bob@law.example", "confirm",
                              {"change": "closed", "outcome": "done", "undo_offer": True})]
    assert Plan((7,)) in effects


def test_no_confirmation_when_confirm_replies_is_off() -> None:
    effects = on_reply(_reply("bob@law.example", "done", confirm_replies=False), NOW)
    assert not [n for n in _of(effects, Notify) if n.kind == "confirm"]


def test_undo_restores_the_kept_state_or_says_there_was_none() -> None:
    kept = on_reply(_reply("bob@law.example", "undo", last_undo=41), NOW)
    assert RestoreUndo(7, 41) in kept
    assert Notify(7, "bob@law.example", "confirm",
                  {"change": "undone", "undo_offer": False}) in kept
    none = on_reply(_reply("bob@law.example", "undo"), NOW)
    assert not _of(none, RestoreUndo)
    assert [n.data["change"] for n in _of(none, Notify)] == ["nothing-to-undo"]


def test_news_goes_to_the_referrer_unless_they_already_got_the_reply() -> None:
    told = on_reply(_reply("jane@gmail.com", "rating 5"), NOW)
    assert [n.recipient for n in _of(told, Notify)] == ["alice@firm.example"]
    cc = on_reply(_reply("jane@gmail.com", "rating 5", referrer_addressed=True), NOW)
    assert not _of(cc, Notify)
    assert SetFields(7, {"rating": 5}) in cc


def test_a_refused_word_changes_nothing_and_is_answered_once() -> None:
    effects = on_reply(_reply("jane@gmail.com", "won"), NOW)
    assert not _of(effects, SetFields) and not _of(effects, KeepUndo)
    refused = [n for n in _of(effects, Notify) if n.kind == "refused"]
    assert len(refused) == 1 and refused[0].once


def test_an_unproven_change_is_refused_but_stop_is_honoured() -> None:
    unproven = on_reply(_reply("bob@law.example", "done", proven=False), NOW)
    # the partner writing at all is still first contact; the word itself changes nothing
    assert _of(unproven, SetFields) == [SetFields(7, {"status": Status.CONTACTED,
                                                     "contacted_at": NOW})]
    assert [n.kind for n in _of(unproven, Notify)] == ["unproven"]
    stop = on_reply(_reply("jane@gmail.com", "stop", proven=False), NOW)
    assert [n.data for n in _of(stop, Notify)] == [
        {"change": "stopped", "scope": "referral", "undo_offer": False}]


def test_a_word_to_a_combined_email_changes_nothing_and_asks_which() -> None:
    other = replace(REF, id=8)
    effects = on_ambiguous_reply([REF, other], "bob@law.example", "done")
    assert [e.referral_id for e in _of(effects, AddEvent)] == [7, 8]
    assert _of(effects, Notify) == [Notify(7, "bob@law.example", "which", {"word": "done"})]
    assert not _of(effects, SetFields)


def test_the_operator_closes_with_the_same_change_as_a_reply() -> None:
    by_cli = on_operator(REF, "close", NOW, outcome=Outcome.DONE)
    by_reply = on_reply(_reply("alice@firm.example", "done"), NOW)
    assert _of(by_cli, SetFields) == [e for e in _of(by_reply, SetFields)
                                      if "outcome" in e.changes]
    assert AddEvent(7, "closed", "cli", "closed from the command line as done") in by_cli
    closed = replace(REF, status=Status.CLOSED, outcome=Outcome.WON)
    with pytest.raises(ValueError, match="already closed"):
        on_operator(closed, "close", NOW, outcome=Outcome.DONE)
    reopened = on_operator(replace(closed, contacted_at=NOW), "reopen", NOW)
    assert SetFields(7, {"status": Status.CONTACTED, "outcome": None,
                         "closed_at": None}) in reopened
    with pytest.raises(ValueError, match="not closed"):
        on_operator(REF, "reopen", NOW)


def test_an_absence_is_capped_and_never_shortens_a_longer_pause() -> None:
    far = on_away("bob@law.example", date(2027, 6, 1), "away", None, [REF], NOW)
    pause = _of(far, Pause)[0]
    assert pause.until.date() == NOW.date() + MAX_PAUSE
    longer = NOW + timedelta(days=20)
    kept = on_away("bob@law.example", date(2026, 11, 30), "away", longer, [REF], NOW)
    assert not _of(kept, Pause) and Plan((7,)) in kept


def test_a_bounce_tells_the_referrer_about_others_never_about_themselves() -> None:
    robot = RobotVerdict("bounce", "550 no such user", permanent=True, status="5.1.1")
    effects = on_bounce(robot, ["jane@gmail.com", "alice@firm.example"], [REF])
    assert _of(effects, MarkUndeliverable) == [
        MarkUndeliverable("jane@gmail.com", robot.reason),
        MarkUndeliverable("alice@firm.example", robot.reason)]
    notices = _of(effects, Notify)
    assert [n.data["address"] for n in notices] == ["jane@gmail.com"]

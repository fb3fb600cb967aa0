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
    WITHDRAWN,
    PlannedEmail,
    Reply,
    on_ambiguous_reply,
    on_away,
    on_bounce,
    on_intro,
    on_operator,
    on_other_robot,
    on_reply,
    on_unbounce,
    on_unwithdraw,
    on_withdraw,
    state_of,
    undo_offered,
    written_at,
)
from mailflow.core.effects import (
    AddEvent,
    ClearUndeliverable,
    CreateReferral,
    Effect,
    KeepUndo,
    MarkUndeliverable,
    Notify,
    OptOut,
    Pause,
    Plan,
    RememberNames,
    RestoreUndo,
    Resume,
    SetFields,
    StartDigestClock,
    Unwithdraw,
    Withdraw,
)
from mailflow.core.intake import Intro, NewReferral
from mailflow.core.model import Outcome, Referral, Status
from mailflow.core.parse import parse_message
from mailflow.core.robots import RobotVerdict
from mailflow.core.vocabulary import help_words

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
                              {"change": "closed", "outcome": "done", "undo_offer": True,
                               "undo_until": (NOW + timedelta(hours=24)).isoformat()})]
    assert Plan((7,)) in effects


def test_the_answers_to_a_reply_are_dated_by_it() -> None:
    """So a reply read weeks late (a first run) gets no confirmation (`core.send_choice`)."""
    written = NOW - timedelta(days=20)

    def notices(sender: str, text: str, at: datetime | None = written, **kw: Any
                ) -> list[tuple[str, str, datetime | None]]:
        effects = on_reply(_reply(sender, text, message_date=at, **kw), NOW)
        return [(n.recipient, n.kind, n.answering) for n in _of(effects, Notify)]

    assert notices("bob@law.example", "won") == [("bob@law.example", "confirm", written)]
    assert notices("jane@gmail.com", "won") == [("jane@gmail.com", "refused", written)]
    # news for the referrer is not an answer: due when it is read
    assert notices("jane@gmail.com", "rating 5") == [("alice@firm.example", "relay", None)]
    ahead = NOW + timedelta(hours=3)  # the sender's clock is ahead: now
    assert notices("bob@law.example", "won", ahead) == [("bob@law.example", "confirm", NOW)]
    assert notices("bob@law.example", "won", None) == [("bob@law.example", "confirm", None)]
    last_cycle = NOW - timedelta(minutes=5)  # a slow clock: it arrived since the last cycle
    assert notices("bob@law.example", "won", arrived_after=last_cycle) == [
        ("bob@law.example", "confirm", last_cycle)]
    # what is done with their data is confirmed however late the reply is read
    assert notices("bob@law.example", "stop") == [("bob@law.example", "confirm", None)]
    assert notices("jane@gmail.com", "forget me") == [
        ("alice@firm.example", "confirm", None), ("jane@gmail.com", "confirm", None)]
    # a forged Date cannot make the warning to the address's owner lapse
    assert notices("bob@law.example", "won", proven=False) == [
        ("bob@law.example", "unproven", None)]
    which = on_ambiguous_reply([REF, replace(REF, id=8)], "bob@law.example", "done", written)
    assert [(n.kind, n.answering) for n in _of(which, Notify)] == [("which", written)]


def test_written_at_is_the_date_within_the_last_cycle_and_now() -> None:
    cycle = NOW - timedelta(minutes=5)
    assert written_at(None, cycle, NOW) is None
    assert written_at(NOW - timedelta(days=3), None, NOW) == NOW - timedelta(days=3)
    assert written_at(NOW - timedelta(days=3), cycle, NOW) == cycle
    assert written_at(NOW - timedelta(minutes=1), cycle, NOW) == NOW - timedelta(minutes=1)
    assert written_at(NOW + timedelta(days=1), cycle, NOW) == NOW


def test_a_confirmation_offers_undo_only_while_it_can_work() -> None:
    done = on_reply(_reply("bob@law.example", "done"), NOW)
    data = next(n.data for n in _of(done, Notify) if n.kind == "confirm")
    assert undo_offered(data, NOW + timedelta(hours=23, minutes=59))
    assert not undo_offered(data, NOW + timedelta(hours=24))  # held for business hours
    assert undo_offered({"undo_offer": True}, NOW)  # queued before the window was written
    assert not undo_offered({"undo_offer": False, "undo_until": data["undo_until"]}, NOW)


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
    assert refused[0].referral_id == 7 and refused[0].recipient == "jane@gmail.com"


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
    assert AddEvent(7, "closed", "cli", "closed as done from the command line") in by_cli
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


def test_contact_is_dated_by_the_partners_message_unless_it_claims_the_future() -> None:
    earlier = NOW - timedelta(hours=3)
    dated = on_reply(_reply("bob@law.example", "Hi Alice, we spoke.", message_date=earlier), NOW)
    assert SetFields(7, {"status": Status.CONTACTED, "contacted_at": earlier}) in dated
    assert AddEvent(7, "contact-seen", "bob@law.example",
                    "the partner wrote on the thread") in dated
    future = on_reply(_reply("bob@law.example", "Hi", message_date=NOW + timedelta(days=2)), NOW)
    assert SetFields(7, {"status": Status.CONTACTED, "contacted_at": NOW}) in future
    already = on_reply(Reply(replace(REF, status=Status.CONTACTED, contacted_at=earlier),
                             "bob@law.example", parse_command("Hi")), NOW)
    assert not [e for e in _of(already, AddEvent) if e.kind == "contact-seen"]
    closed = on_reply(Reply(replace(REF, status=Status.CLOSED), "bob@law.example",
                            parse_command("Hi")), NOW)
    assert not _of(closed, SetFields)
    client = on_reply(_reply("jane@gmail.com", "Hi Alice, thanks"), NOW)
    assert not [e for e in _of(client, AddEvent) if e.kind == "contact-seen"]


def test_the_event_names_who_did_what() -> None:
    effects = on_reply(_reply("alice@firm.example", "won"), NOW)
    assert AddEvent(7, "closed", "alice@firm.example",
                    "closed as won by alice@firm.example") in effects
    assert KeepUndo(7, "alice@firm.example", {
        "status": Status.OPEN, "outcome": None, "contacted_at": None, "closed_at": None,
        "snoozed_until": None, "partner": "bob@law.example", "client": "jane@gmail.com",
        "history": False, "plan_from": None, "value": None}) in effects


def test_notes_and_needs_reach_the_referrer_with_the_text() -> None:
    note = on_reply(_reply("jane@gmail.com", "We met on Friday, all good."), NOW)
    assert Notify(7, "alice@firm.example", "relay",
                  {"news": "note", "sender": "jane@gmail.com",
                   "text": "We met on Friday, all good."}) in note
    own = on_reply(_reply("alice@firm.example", "Just a note for the file."), NOW)
    assert not _of(own, Notify)  # the referrer is not told what they wrote
    need = on_reply(_reply("bob@law.example", "Contacted!\n\nNeed: a notary in Lyon"), NOW)
    assert AddEvent(7, "need", "bob@law.example", "a notary in Lyon") in need
    assert Notify(7, "alice@firm.example", "relay",
                  {"news": "need", "sender": "bob@law.example",
                   "text": "a notary in Lyon", "suggestions": []}) in need


def test_refusals_say_which_role_and_word_and_help_lists_the_words() -> None:
    refused = on_reply(_reply("jane@gmail.com", "won"), NOW)
    (notice,) = [n for n in _of(refused, Notify) if n.kind == "refused"]
    assert notice.recipient == "jane@gmail.com"
    assert notice.data == {"role": "client", "word": "won"}
    helped = on_reply(Reply(replace(REF, status=Status.NEEDS_PARTNER, client=None, partner=None,
                                    candidates=("a@x.example", "b@y.example")),
                            "alice@firm.example", parse_command("7")), NOW)
    (help_notice,) = [n for n in _of(helped, Notify) if n.kind == "help"]
    assert help_notice.once and "done" in help_notice.data["reply_words"]
    assert not [n for n in _of(helped, Notify) if n.kind == "refused"]


def test_stop_opts_out_of_one_referral_or_all() -> None:
    one = on_reply(_reply("jane@gmail.com", "stop"), NOW)
    assert OptOut("jane@gmail.com", 7) in one
    every = on_reply(_reply("jane@gmail.com", "stop all"), NOW)
    assert OptOut("jane@gmail.com", None) in every


def test_a_bounce_is_an_event_on_each_referral_for_each_address() -> None:
    robot = RobotVerdict("bounce", "550 no such user", permanent=True)
    other = replace(REF, id=8)
    effects = on_bounce(robot, ["jane@gmail.com"], [REF, other])
    assert [e for e in _of(effects, AddEvent)] == [
        AddEvent(7, "bounce", "jane@gmail.com", "550 no such user"),
        AddEvent(8, "bounce", "jane@gmail.com", "550 no such user")]
    assert [n.data for n in _of(effects, Notify)] == [
        {"address": "jane@gmail.com", "smtp_status": "permanent failure"}] * 2
    assert all(n.once and n.kind == "bounce" for n in _of(effects, Notify))
    assert Plan((7, 8)) in effects


def test_an_absence_is_noted_on_each_open_referral_until_midnight_of_the_return() -> None:
    effects = on_away("bob@law.example", date(2026, 11, 30), "auto-reply", None, [REF], NOW)
    (pause,) = _of(effects, Pause)
    assert pause == Pause("bob@law.example", datetime(2026, 11, 30, tzinfo=UTC), "auto-reply")
    assert AddEvent(7, "out-of-office", "bob@law.example", "away until 2026-11-30") in effects


def test_operator_actions_snooze_pick_stop_and_say_who_did_it() -> None:
    snoozed = on_operator(REF, "snooze", NOW, actor="alice@firm.example (via web)", days=10)
    assert SetFields(7, {"snoozed_until": NOW + timedelta(days=10)}) in snoozed
    assert AddEvent(7, "snoozed", "alice@firm.example (via web)",
                    "snoozed 10 days by alice@firm.example (via web)") in snoozed
    for bad in (None, 0, 366):
        with pytest.raises(ValueError, match="snooze for 1 to 365 days"):
            on_operator(REF, "snooze", NOW, days=bad)
    unsure = replace(REF, status=Status.NEEDS_PARTNER, client=None, partner=None,
                     candidates=("lena@vogel.example", "omar@haddad.example"))
    picked = on_operator(unsure, "partner", NOW, partner="omar@haddad.example")
    assert SetFields(7, {"partner": "omar@haddad.example", "client": "lena@vogel.example",
                         "status": Status.OPEN}) in picked
    with pytest.raises(ValueError, match="not one of the people"):
        on_operator(unsure, "partner", NOW, partner="alice@firm.example")
    with pytest.raises(ValueError, match="no client and partner to swap"):
        on_operator(unsure, "swap", NOW)
    swapped = on_operator(REF, "swap", NOW)
    assert SetFields(7, {"partner": "jane@gmail.com", "client": "bob@law.example",
                         "status": Status.OPEN}) in swapped
    with pytest.raises(ValueError, match="closed; reopen it first"):
        on_operator(replace(REF, status=Status.CLOSED), "swap", NOW)
    stopped = on_operator(REF, "stop", NOW, address="jane@gmail.com")
    assert stopped == [OptOut("jane@gmail.com", 7, by="cli"),
                       AddEvent(7, "stopped", "cli",
                                "no more mail to jane@gmail.com from the command line"),
                       Plan((7,))]
    with pytest.raises(ValueError, match="not a party"):
        on_operator(REF, "stop", NOW, address="eve@evil.example")
    with pytest.raises(ValueError, match="needs an outcome"):
        on_operator(REF, "close", NOW)
    with pytest.raises(ValueError, match="unknown action"):
        on_operator(REF, "explode", NOW)
    reopened = on_operator(replace(REF, status=Status.CLOSED), "reopen", NOW)
    assert SetFields(7, {"status": Status.OPEN, "outcome": None, "closed_at": None}) in reopened
    assert AddEvent(7, "reopened", "cli", "reopened from the command line") in reopened
    assert isinstance(reopened[0], KeepUndo) and reopened[-1] == Plan((7,))


def test_the_edges_of_the_operator_actions_and_the_combined_email_refusal() -> None:
    assert _of(on_operator(REF, "snooze", NOW, days=1), SetFields) == [
        SetFields(7, {"snoozed_until": NOW + timedelta(days=1)})]
    assert _of(on_operator(REF, "snooze", NOW, days=365), SetFields) == [
        SetFields(7, {"snoozed_until": NOW + timedelta(days=365)})]
    contacted = replace(REF, status=Status.CONTACTED, contacted_at=NOW)
    swapped = on_operator(contacted, "swap", NOW, actor="ops")
    assert swapped[0] == KeepUndo(7, "ops", state_of(contacted))
    assert SetFields(7, {"partner": "jane@gmail.com", "client": "bob@law.example",
                         "status": Status.CONTACTED}) in swapped  # the state is kept
    assert [e.kind for e in _of(swapped, AddEvent)] == ["partner-chosen"]
    half = replace(REF, client=None)
    with pytest.raises(ValueError, match="no client and partner"):
        on_operator(half, "swap", NOW)
    effects = on_ambiguous_reply([REF], "bob@law.example", "done")
    assert _of(effects, AddEvent) == [AddEvent(7, "refused", "bob@law.example",
                                               "'done' without a tag in a combined email")]
    same = on_away("bob@law.example", date(2026, 11, 30), "away",
                   datetime(2026, 11, 30, tzinfo=UTC), [REF], NOW)
    assert not _of(same, Pause)  # already paused until then: nothing to write
    robot = RobotVerdict("bounce", "550", permanent=True)
    (notice,) = _of(on_bounce(robot, ["jane@gmail.com"], [REF]), Notify)
    assert (notice.referral_id, notice.recipient) == (7, "alice@firm.example")
    seen = on_reply(_reply("bob@law.example", "contacted"), NOW)
    # the partner writing was first contact; "contacted" then finds it already recorded
    assert [e.kind for e in _of(seen, AddEvent)] == ["contact-seen", "reply"]


def test_undo_unproven_and_help_effects_exactly() -> None:
    kept = on_reply(_reply("alice@firm.example", "undo", last_undo=41), NOW)
    assert kept[1:3] == [RestoreUndo(7, 41),
                         AddEvent(7, "undone", "alice@firm.example", "previous state restored")]
    assert not [e for e in _of(kept, AddEvent) if e.kind == "undo"]
    unproven = on_reply(_reply("alice@firm.example", "done", proven=False), NOW)
    assert Notify(7, "alice@firm.example", "unproven", once=True) in unproven
    helped = on_reply(Reply(replace(REF, status=Status.NEEDS_PARTNER, client=None, partner=None,
                                    candidates=("a@x.example", "b@y.example")),
                            "alice@firm.example", parse_command("7")), NOW)
    assert Notify(7, "alice@firm.example", "help", {"reply_words": help_words()},
                  once=True) in helped
    on_time = on_reply(_reply("bob@law.example", "done", message_date=NOW), NOW)
    assert on_time[2] == SetFields(7, {"status": Status.CONTACTED, "contacted_at": NOW})
    (undo,) = _of(on_time, KeepUndo)
    assert undo.before["contacted_at"] == NOW  # the snapshot is after first contact


def test_a_stop_said_for_someone_can_be_resumed_but_never_one_they_said_themselves() -> None:
    by_web = "alice@firm.example (via web)"
    resumed = on_operator(REF, "resume", NOW, actor=by_web, address="jane@gmail.com",
                          stops={"jane@gmail.com": by_web})
    assert resumed == [Resume("jane@gmail.com", 7),
                       AddEvent(7, "resumed", by_web,
                                f"mail to jane@gmail.com again by {by_web}"),
                       Plan((7,))]
    with pytest.raises(ValueError, match="asked for no more mail; only they"):
        on_operator(REF, "resume", NOW, address="jane@gmail.com",
                    stops={"jane@gmail.com": None})
    with pytest.raises(ValueError, match="is not stopped"):
        on_operator(REF, "resume", NOW, address="jane@gmail.com", stops={})
    with pytest.raises(ValueError, match="not a party"):
        on_operator(REF, "resume", NOW, address="eve@evil.example",
                    stops={"eve@evil.example": "cli"})


def test_an_operator_undo_restores_their_own_last_change_and_replans() -> None:
    undone = on_operator(REF, "undo", NOW, actor="cli", last_undo=12)
    assert undone == [RestoreUndo(7, 12),
                      AddEvent(7, "undone", "cli", "previous state restored from the "
                               "command line"),
                      Plan((7,))]
    with pytest.raises(ValueError) as refused:
        on_operator(REF, "undo", NOW, actor="cli", last_undo=None)
    assert str(refused.value) == ("nothing to undo: only your own change of the last 24 hours "
                                  "can be undone")


def test_a_reply_from_someone_no_longer_on_the_referral_changes_nothing() -> None:
    """Their signed reply address still routes to it after the partner was changed."""
    swapped = replace(REF, partner="carol@tax.example")
    effects = on_reply(Reply(swapped, "bob@law.example", parse_command("done")), NOW)
    assert effects == [AddEvent(7, "refused", "bob@law.example",
                                "bob@law.example is no longer a party to R-7; nothing changed")]


def test_unbounce_clears_the_flag_notes_each_open_referral_and_replans_them() -> None:
    other = replace(REF, id=9)
    assert on_unbounce("jane@gmail.com", [REF, other], actor="cli") == [
        ClearUndeliverable("jane@gmail.com"),
        AddEvent(7, "unbounced", "cli", "jane@gmail.com may be written to again"),
        AddEvent(9, "unbounced", "cli", "jane@gmail.com may be written to again"),
        Plan((7, 9))]
    assert on_unbounce("jane@gmail.com", []) == [ClearUndeliverable("jane@gmail.com"),
                                                 Plan(())]
    assert on_unbounce("jane@gmail.com", [REF])[1] == AddEvent(  # the command line's
        7, "unbounced", "cli", "jane@gmail.com may be written to again")


def test_another_robot_is_only_noted_on_each_referral() -> None:
    assert on_other_robot("mailer@x.example", "auto-reply", [REF, replace(REF, id=9)]) == [
        AddEvent(7, "robot", "mailer@x.example", "auto-reply"),
        AddEvent(9, "robot", "mailer@x.example", "auto-reply")]


def test_a_planned_email_is_cancelled_on_record_and_can_be_planned_again() -> None:
    email = PlannedEmail(31, 7, "client_checkin", "jane@gmail.com", "pending")
    assert on_withdraw(email, "cli") == [
        Withdraw(31, "cancelled by cli"),
        AddEvent(7, "withdrawn", "cli", "client check-in to jane@gmail.com cancelled by cli")]
    for done in (replace(email, status="sent"), replace(email, referral_id=0)):
        with pytest.raises(ValueError) as refused:
            on_withdraw(done, "cli")
        assert str(refused.value) == ("only an email still planned for a referral can be "
                                      "cancelled")
    back = on_unwithdraw(replace(email, status=WITHDRAWN), "cli")
    assert back == [Unwithdraw(31),
                    AddEvent(7, "unwithdrawn", "cli",
                             "client check-in to jane@gmail.com planned again by cli"),
                    Plan((7,))]
    with pytest.raises(ValueError) as refused:
        on_unwithdraw(email, "cli")
    assert str(refused.value) == "that email is not cancelled"


def _intro(direction: str = "given") -> Intro:
    message = parse_message(b"From: alice@firm.example\r\nSubject: Jane / Bob\r\n\r\nMeet.\r\n")
    return Intro("alice@firm.example",
                 (NewReferral("jane@gmail.com", "bob@law.example", Status.OPEN),
                  NewReferral(None, None, Status.NEEDS_PARTNER,
                              ("lena@vogel.example", "omar@haddad.example"))),
                 "Jane / Bob", {"jane@gmail.com": "Jane Doe"}, message, direction, "direct")


def test_an_intro_creates_its_referrals_remembers_names_and_starts_the_digest_clock() -> None:
    effects = on_intro(_intro(), "<i1@firm.example>", NOW - timedelta(hours=1), "Meet.",
                       None, NOW)
    assert effects[:2] == [RememberNames({"jane@gmail.com": "Jane Doe"}),
                           StartDigestClock("alice@firm.example")]
    first, second = effects[2:]
    assert isinstance(first, CreateReferral) and isinstance(second, CreateReferral)
    assert first.fields == {
        "status": Status.OPEN, "direction": "given", "referrer": "alice@firm.example",
        "client": "jane@gmail.com", "partner": "bob@law.example", "subject": "Jane / Bob",
        "created_at": NOW - timedelta(hours=1), "intro_message_id": "<i1@firm.example>",
        "context": "Meet.", "candidates": (), "names": {"jane@gmail.com": "Jane Doe"},
        "history": False}
    assert first.actor == "alice@firm.example" and first.plan
    assert first.detail == "given intro (direct): client jane@gmail.com, partner bob@law.example"
    assert second.detail == "needs partner: lena@vogel.example, omar@haddad.example"
    assert second.fields["candidates"] == ("lena@vogel.example", "omar@haddad.example")


def test_an_old_intro_on_a_first_run_is_history_and_a_received_one_has_its_own_plan() -> None:
    old = on_intro(_intro(), "<i1@firm.example>", NOW - timedelta(days=30), "", NOW, NOW)
    created = [e for e in old if isinstance(e, CreateReferral)]
    assert all(e.fields["history"] and not e.plan for e in created)
    assert created[0].detail == ("given intro (direct): client jane@gmail.com, partner "
                                 "bob@law.example (history: found on the first run, not "
                                 "followed up)")
    received = on_intro(_intro("received"), "<i1@firm.example>", None, "", NOW, NOW)
    created = [e for e in received if isinstance(e, CreateReferral)]
    assert all(not e.fields["history"] and e.plan for e in created)  # received_steps
    assert created[0].fields["created_at"] == NOW  # no date: the time it was read
    future = on_intro(_intro(), "<i1@firm.example>", NOW + timedelta(days=2), "", None, NOW)
    assert next(e for e in future if isinstance(e, CreateReferral)).fields["created_at"] == NOW
    at_now = on_intro(_intro(), "<i1@firm.example>", NOW, "", NOW, NOW)
    assert not next(e for e in at_now if isinstance(e, CreateReferral)).fields["history"]


def test_stopping_mail_that_is_already_stopped_is_refused() -> None:
    with pytest.raises(ValueError) as refused:
        on_operator(REF, "stop", NOW, address="jane@gmail.com",
                    stops={"jane@gmail.com": None})
    assert str(refused.value) == "mail to jane@gmail.com about R-7 is already stopped"
    assert on_operator(REF, "stop", NOW, address="jane@gmail.com",
                       stops={"bob@law.example": None})[0] == OptOut("jane@gmail.com", 7,
                                                                     by="cli")

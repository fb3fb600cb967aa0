"""Who may say which reply word, and what each word does to a referral (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from mailflow.core.commands import Command
from mailflow.core.model import Outcome, Referral, Role, Status
from mailflow.core.transitions import TRANSITIONS, Ask, Change, NotNow, Rule, transition
from mailflow.core.vocabulary import CLOSING_WORDS, VOCABULARY, Word, allowed, needs_proof


@dataclass(frozen=True)
class ReplyEffect:
    """What a reply does: field changes, history, who hears about it."""

    changes: dict[str, Any] = field(default_factory=dict)
    event_kind: str = "note"
    event_detail: str = ""
    confirm: dict[str, Any] | None = None  # what the confirmation says (notice_confirm)
    relay: dict[str, Any] | None = None  # news passed on to the referrer (notice_relay)
    refused: str | None = None
    help_needed: bool = False
    opt_out: str | None = None  # "referral" | "all"
    undo: bool = False
    need: str | None = None  # a need reported alongside another word
    unproven: bool = False  # a state-changing word without a token or authenticated sender
    forget: bool = False  # "forget me": stop all now, erase later


def _choice(referral: Referral, answer: str) -> str | None:
    answer = answer.strip().lower()
    if answer.isdigit() and 1 <= int(answer) <= len(referral.candidates):
        return referral.candidates[int(answer) - 1]
    return answer if answer in referral.candidates else None


def decide_reply(referral: Referral, role: Role, sender: str, command: Command | None,
                 now: datetime, proven: bool = True,
                 vocabulary: tuple[Word, ...] = VOCABULARY,
                 table: Mapping[str, Rule] = TRANSITIONS) -> ReplyEffect:
    """The effect of `command` said by `sender` (in `role`) on `referral` at `now`.

    `proven`: the reply came through the sender's signed reply address, or our server
    authenticated its From; without that a state-changing word changes nothing.
    """
    may_say = allowed(role, vocabulary)
    if command is not None and command.word not in may_say:
        return ReplyEffect(event_kind="refused",
                           event_detail=f"{role} may not say {command.word!r}; nothing changed",
                           refused=f"{role} may not say {command.word}")
    # words that change a referral are believed only from a proven sender; "stop" is not
    # among them: a stop is always honoured
    if not proven and command is not None and command.word in needs_proof(vocabulary):
        return ReplyEffect(event_kind="refused", unproven=True,
                           event_detail=f"{command.word!r} not acted on: the reply did not "
                                        "come through a signed reply address")
    effect = _decide(referral, role, sender, command, now, vocabulary, table)
    if command is not None and command.need and "need" in may_say:
        return replace(effect, need=command.need)
    return effect


DEFAULT_SNOOZE_DAYS = 7


def _changed(outcome: Change | NotNow, word: str, sender: str,
             relay: dict[str, Any] | None = None) -> ReplyEffect:
    """A transition as a reply's effect; one that does not apply is kept as a reply."""
    if isinstance(outcome, NotNow):
        return ReplyEffect(event_kind="reply", event_detail=f"{word}: {outcome.reason}")
    return ReplyEffect(dict(outcome.fields), outcome.event, f"{outcome.detail} by {sender}",
                       confirm=dict(outcome.confirm) or None, relay=relay)


def _decide(referral: Referral, role: Role, sender: str, command: Command | None,
            now: datetime, vocabulary: tuple[Word, ...],
            table: Mapping[str, Rule]) -> ReplyEffect:
    if command is None:
        return ReplyEffect(event_kind="reply", event_detail="(empty reply)")
    word = command.word
    intent = next((w.intent for w in vocabulary if w.word == word), None)
    if intent is not None:
        ask = Ask(intent, outcome=Outcome(command.outcome or word)
                  if word in CLOSING_WORDS else None,
                  days=command.days or DEFAULT_SNOOZE_DAYS, rating=command.rating)
        relay = ({"news": "rating", "sender": sender, "given_rating": command.rating}
                 if word == "rating" else None)
        return _changed(transition(referral, ask, now, table), word, sender, relay)
    if word in ("stop", "stop_all"):
        scope = "all" if word == "stop_all" else "referral"
        return ReplyEffect(event_kind="stopped", event_detail=f"{sender} said {word}",
                           confirm={"change": "stopped", "scope": scope}, opt_out=scope)
    if word == "forget":
        return ReplyEffect(event_kind="forget-asked",
                           event_detail=f"{sender} asked to be forgotten",
                           confirm={"change": "forget"}, opt_out="all", forget=True)
    if word == "need":
        return ReplyEffect(event_kind="need", event_detail=command.text,
                           relay={"news": "need", "sender": sender, "text": command.text})
    if word == "undo":
        return ReplyEffect(event_kind="undo", event_detail=f"undo asked by {sender}", undo=True)
    if word == "choice":
        if referral.status is not Status.NEEDS_PARTNER:
            return ReplyEffect(event_kind="note", event_detail=command.text)
        partner = _choice(referral, command.text)
        if partner is None:
            return ReplyEffect(event_kind="refused",
                               event_detail=f"{command.text!r} is not one of the candidates",
                               refused="unknown choice", help_needed=True)
        return _changed(transition(referral, Ask("partner", partner=partner), now, table),
                        word, sender)
    note = command.text
    return ReplyEffect(event_kind="note", event_detail=note,
                       relay=None if role is Role.REFERRER
                       else {"news": "note", "sender": sender, "text": note},
                       help_needed=command.looks_like_command)

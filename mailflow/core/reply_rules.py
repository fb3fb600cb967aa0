"""Who may say which reply word, and what each word does to a referral (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from mailflow.core.commands import Command
from mailflow.core.model import Outcome, Referral, Role, Status
from mailflow.core.vocabulary import CLOSING_WORDS, VOCABULARY, Word, allowed, needs_proof

CLOSING = CLOSING_WORDS


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


def _choice(referral: Referral, answer: str) -> str | None:
    answer = answer.strip().lower()
    if answer.isdigit() and 1 <= int(answer) <= len(referral.candidates):
        return referral.candidates[int(answer) - 1]
    return answer if answer in referral.candidates else None


def decide_reply(referral: Referral, role: Role, sender: str, command: Command | None,
                 now: datetime, proven: bool = True,
                 vocabulary: tuple[Word, ...] = VOCABULARY) -> ReplyEffect:
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
    effect = _decide(referral, role, sender, command, now)
    if command is not None and command.need and "need" in may_say:
        return replace(effect, need=command.need)
    return effect


def _decide(referral: Referral, role: Role, sender: str, command: Command | None,
            now: datetime) -> ReplyEffect:
    if command is None:
        return ReplyEffect(event_kind="reply", event_detail="(empty reply)")
    word = command.word
    closed = referral.status is Status.CLOSED
    if word in CLOSING:
        if closed:
            return ReplyEffect(event_kind="reply", event_detail=f"{word}: already closed")
        outcome = Outcome(command.outcome or word)
        return ReplyEffect({"status": Status.CLOSED, "outcome": outcome, "closed_at": now},
                           "closed", f"closed as {outcome} by {sender}",
                           confirm={"change": "closed", "outcome": str(outcome)})
    if word == "contacted":
        if closed or referral.status is Status.CONTACTED:
            return ReplyEffect(event_kind="reply", event_detail="contacted (already recorded)")
        return ReplyEffect({"status": Status.CONTACTED, "contacted_at": now}, "contacted",
                           f"contact reported by {sender}",
                           confirm={"change": "contacted"})
    if word == "snooze":
        days = command.days or 7
        until = now.timestamp() + days * 86400
        return ReplyEffect({"snoozed_until": datetime.fromtimestamp(until, now.tzinfo)},
                           "snoozed", f"snoozed {days} days by {sender}",
                           confirm={"change": "snoozed", "days": days})
    if word in ("stop", "stop_all"):
        scope = "all" if word == "stop_all" else "referral"
        return ReplyEffect(event_kind="stopped", event_detail=f"{sender} said {word}",
                           confirm={"change": "stopped", "scope": scope}, opt_out=scope)
    if word == "rating":
        return ReplyEffect({"rating": command.rating}, "rating",
                           f"rated {command.rating}/5 by {sender}",
                           relay={"news": "rating", "sender": sender,
                                  "given_rating": command.rating})
    if word == "need":
        return ReplyEffect(event_kind="need", event_detail=command.text,
                           relay={"news": "need", "sender": sender, "text": command.text})
    if word == "reopen":
        if not closed:
            return ReplyEffect(event_kind="reply", event_detail="reopen: not closed")
        status = Status.CONTACTED if referral.contacted_at else Status.OPEN
        return ReplyEffect({"status": status, "outcome": None, "closed_at": None}, "reopened",
                           f"reopened by {sender}", confirm={"change": "reopened"})
    if word == "follow_up":
        if not referral.history:
            return ReplyEffect(event_kind="reply", event_detail="follow up: already followed")
        return ReplyEffect({"history": False, "plan_from": now}, "follow-up",
                           f"followed up from now on, asked by {sender}",
                           confirm={"change": "follow-up"})
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
        client = next((c for c in referral.candidates if c != partner), None)
        return ReplyEffect({"status": Status.OPEN, "partner": partner, "client": client},
                           "partner-chosen", f"partner {partner}, client {client}",
                           confirm={"change": "partner-chosen", "partner_chosen": partner})
    note = command.text
    return ReplyEffect(event_kind="note", event_detail=note,
                       relay=None if role is Role.REFERRER
                       else {"news": "note", "sender": sender, "text": note},
                       help_needed=command.looks_like_command)

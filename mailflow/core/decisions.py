"""Every intent decided once: a reply, a robot's mail, an operator's command → effects (pure).

The shell reads the facts a decision needs (the referral, the sender's last undo, which
of our emails a bounce answers), calls one function here, and hands the returned list
to its executor. Who is told, whether to confirm and what is refused is decided here
and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from mailflow.core.commands import Command
from mailflow.core.consent import Answer
from mailflow.core.effects import (
    AddEvent,
    AskForget,
    ClearUndeliverable,
    CreateReferral,
    Effect,
    KeepUndo,
    LearnLanguage,
    MarkUndeliverable,
    Notify,
    OptOut,
    Pause,
    Plan,
    RememberNames,
    RestoreUndo,
    Resume,
    SaveProfile,
    SetFields,
    StartDigestClock,
    Unwithdraw,
    Withdraw,
)
from mailflow.core.intake import Intro
from mailflow.core.matching import Candidate, mentions, suggest
from mailflow.core.model import Outcome, Referral, Role, Status
from mailflow.core.profiles import Profile
from mailflow.core.reply_rules import ReplyEffect, decide_reply
from mailflow.core.robots import RobotVerdict
from mailflow.core.transitions import TRANSITIONS, Ask, NotNow, Rule, transition
from mailflow.core.vocabulary import help_words
from mailflow.core.wording import step_name

UNDO_WINDOW = timedelta(hours=24)

MAX_PAUSE = timedelta(days=30)  # a longer absence is met again by the next auto-reply
STATE_FIELDS = ("status", "outcome", "contacted_at", "closed_at", "snoozed_until", "partner",
                "client", "history", "plan_from", "value")


@dataclass(frozen=True)
class Reply:
    """A party's reply to one referral, with what the shell looked up for it."""

    referral: Referral
    sender: str
    command: Command | None
    proven: bool = True  # signed reply address, authenticated From, or tokens off
    message_date: datetime | None = None
    referrer_addressed: bool = False  # the referrer got the reply too (reply-all)
    last_undo: int | None = None  # id of the sender's latest undo snapshot within 24 h
    confirm_replies: bool = True
    forget_after_days: int = 7  # privacy.forget_after_days: when a "forget me" is carried out
    language: str | None = None  # the language the reply's own text is written in
    value: float | None = None  # what the reply says the referral was worth (core.amounts)
    profile: Profile | None = None  # a partner's `ideal:` / `not:` lines
    profile_only: bool = False  # ...and nothing else: no note to pass on
    candidates: tuple[Candidate, ...] = ()  # the directory, when the reply names a need
    consent: Answer | None = None  # "yes" / "no" read from the reply (`core.consent`)
    # it answers the intro itself: only its recipients know that Message-ID, so a client's
    # yes or no on it counts like a signed reply (mailflow has not written to them yet)
    answers_intro: bool = False
    # the previous cycle: a message read now arrived after it, whatever its Date says
    arrived_after: datetime | None = None


def state_of(referral: Referral) -> dict[str, Any]:
    """The fields an undo puts back."""
    return {name: getattr(referral, name) for name in STATE_FIELDS}


def _reaches_out(referral: Referral) -> Role:
    """Who is to contact the client: the partner given a referral, or the firm's own person
    given one by a partner."""
    return Role.REFERRER if referral.direction == "received" else Role.PARTNER


def _contact_seen(referral: Referral, message_date: datetime | None,
                  now: datetime) -> tuple[Referral, list[Effect]]:
    """Any message on the referral from whoever reaches out counts as first contact."""
    if referral.contacted_at is not None or referral.status is not Status.OPEN:
        return referral, []
    at = message_date if message_date is not None and message_date <= now else now
    seen = replace(referral, status=Status.CONTACTED, contacted_at=at)
    who = referral.address_of(_reaches_out(referral)) or ""
    return seen, [AddEvent(referral.id, "contact-seen", who,
                           f"the {_reaches_out(referral)} wrote on the thread"),
                  SetFields(referral.id, {"status": Status.CONTACTED, "contacted_at": at})]


def on_reply(reply: Reply, now: datetime) -> list[Effect]:
    """What a reply does: its word's change, history, and who hears about it."""
    referral, sender = reply.referral, reply.sender
    role = referral.role_of(sender)
    if role is None:  # a signed reply address outlived the sender's role (a swapped partner)
        return [AddEvent(referral.id, "refused", sender,
                         f"{sender} is no longer a party to {referral.tag}; nothing changed")]
    effects: list[Effect] = [Plan((referral.id,))]
    if reply.language and role is not Role.REFERRER:  # the firm's people get its language
        effects.append(LearnLanguage(sender, reply.language))
    if (referral.status is Status.AWAITING_CONSENT and role is Role.CLIENT
            and reply.consent is not None and (reply.proven or reply.answers_intro)):
        return effects + on_consent(referral, reply.consent, reply.message_date, now)
    if role is _reaches_out(referral):
        referral, seen = _contact_seen(referral, reply.message_date, now)
        effects += seen
    effect = decide_reply(referral, role, sender, reply.command, now, reply.proven)
    profiled = _profile(reply, role)
    if profiled and reply.profile_only and effect.event_kind in ("note", "reply"):
        effect = ReplyEffect(event_kind="")  # nothing but the profile: no note passed on
    effects += profiled
    confirm = dict(effect.confirm) if effect.confirm else None
    if effect.undo:
        if reply.last_undo is not None:
            effects += [RestoreUndo(referral.id, reply.last_undo),
                        AddEvent(referral.id, "undone", sender, "previous state restored")]
            confirm = {"change": "undone"}
        else:
            confirm = {"change": "nothing-to-undo"}
    if confirm is not None:
        confirm["undo_offer"] = bool(effect.changes)
        if effect.changes:  # the state is kept from now (KeepUndo): undo works until then
            confirm["undo_until"] = (now + UNDO_WINDOW).isoformat()
    changes = dict(effect.changes or {})
    valued = reply.value is not None and role is not Role.CLIENT and reply.proven
    if valued:
        changes["value"] = reply.value
    if changes:
        effects += [KeepUndo(referral.id, sender, state_of(referral)),
                    SetFields(referral.id, changes)]
    if effect.event_kind not in ("undo", ""):  # an undo's and a profile's events are theirs
        effects.append(AddEvent(referral.id, effect.event_kind, sender, effect.event_detail))
    if valued:
        effects.append(AddEvent(referral.id, "value", sender, f"{reply.value:g}"))
    if effect.opt_out:
        effects.append(OptOut(sender, referral.id if effect.opt_out == "referral" else None))
    if effect.forget:
        effects += _forget_me(reply, confirm)
    if confirm is not None and reply.confirm_replies and (effect.changes or effect.undo
                                                          or effect.opt_out):
        effects.append(Notify(referral.id, sender, "confirm", confirm))
    if (effect.relay and sender != referral.referrer and not reply.referrer_addressed):
        effects.append(Notify(referral.id, referral.referrer, "relay",
                              _suggested(effect.relay, reply)))
    if effect.need:
        effects.append(AddEvent(referral.id, "need", sender, effect.need))
        if sender != referral.referrer:
            effects.append(Notify(referral.id, referral.referrer, "relay", _suggested(
                {"news": "need", "sender": sender, "text": effect.need}, reply)))
    if effect.refused and not effect.help_needed:
        # a word that changes nothing is answered, once, rather than ignored in silence
        effects.append(Notify(referral.id, sender, "refused",
                              {"role": str(role), "word": reply.command.word
                               if reply.command else effect.refused}, once=True))
    if effect.unproven:
        effects.append(Notify(referral.id, sender, "unproven", once=True))
    if effect.help_needed:
        effects.append(Notify(referral.id, sender, "help", {"reply_words": help_words()},
                              once=True))
    if effect.opt_out or effect.forget or not reply.proven:
        # what is done with their data is confirmed however late the reply is read, and a
        # forged Date must not silence the warning to an address someone else used
        return effects
    return _answering(effects, sender, written_at(reply.message_date, reply.arrived_after, now))


def undo_offered(data: Mapping[str, Any], now: datetime) -> bool:
    """Whether a confirmation sent now may offer "undo": only while it can still work (one
    held for business hours may go after its window closed)."""
    until = data.get("undo_until")
    return bool(data.get("undo_offer")) and (
        until is None or now < datetime.fromisoformat(str(until)))


def written_at(date: datetime | None, arrived_after: datetime | None,
               now: datetime) -> datetime | None:
    """When a reply was written, as far as mailflow can tell: its Date, but never before the
    previous cycle (a slow clock) nor after now (a fast one); None: it has no Date."""
    if date is None:
        return None
    return min(max(date, arrived_after or date), now)


def _answering(effects: list[Effect], sender: str, written: datetime | None
               ) -> list[Effect]:
    """The notices to the sender answer their reply: dated by it (core.send_choice)."""
    if written is None:
        return effects
    return [replace(e, answering=written) if isinstance(e, Notify) and e.recipient == sender
            else e for e in effects]


CONSENT_ASKED = "consent-asked"  # the event of an intro that asks the client first
CONSENT = "consent"  # the client's answer: its detail starts "yes" or "no"


def on_consent(referral: Referral, answer: Answer, message_date: datetime | None,
               now: datetime) -> list[Effect]:
    """The client's answer to a referral awaiting their consent. Yes: the referral goes on
    as usual from this moment (its introduction to the partner first). No: it is closed as
    lost, the referrer is told, and the partner is never written to."""
    at = message_date if message_date is not None and message_date <= now else now
    client, partner = referral.client or "", referral.partner or ""
    if answer == "yes":
        return [SetFields(referral.id, {"status": Status.OPEN, "plan_from": at}),
                AddEvent(referral.id, CONSENT, client,
                         f"yes: {client} agreed to be introduced to {partner} "
                         f"(at {at.isoformat(timespec='minutes')})")]
    return [SetFields(referral.id, {"status": Status.CLOSED, "outcome": Outcome.LOST,
                                    "closed_at": at}),
            AddEvent(referral.id, CONSENT, client,
                     f"no: {client} declined to be introduced to {partner} "
                     f"(at {at.isoformat(timespec='minutes')})"),
            Notify(referral.id, referral.referrer, "declined", once=True)]


def consent_of(kind: str, detail: str) -> str | None:
    """What a referral's latest consent event says: "asked", "yes", "no" (None: not one)."""
    if kind == CONSENT_ASKED:
        return "asked"
    if kind == CONSENT:
        answer = detail.split(":", 1)[0]
        return answer if answer in ("yes", "no") else None
    return None


def _profile(reply: Reply, role: Role) -> list[Effect]:
    """A partner's `ideal:` / `not:`, kept on them (the latest wins) and confirmed."""
    profile = reply.profile
    if profile is None or role is not Role.PARTNER or not reply.proven:
        return []
    referral, sender = reply.referral, reply.sender
    said = "; ".join(f"{k}: {v}" for k, v in (("ideal", profile.ideal), ("not", profile.avoid))
                     if v)
    effects: list[Effect] = [SaveProfile(sender, profile.ideal, profile.avoid),
                             AddEvent(referral.id, "profile", sender, said)]
    if reply.confirm_replies:
        effects.append(Notify(referral.id, sender, "confirm",
                              {"change": "profile", "ideal": profile.ideal,
                               "avoid": profile.avoid, "undo_offer": False}))
    return effects


def _suggested(relay: Mapping[str, Any], reply: Reply) -> dict[str, Any]:
    """A relayed need with the partners who could meet it (`core.matching`), best first."""
    if relay.get("news") != "need":
        return dict(relay)
    found = suggest(str(relay.get("text", "")), reply.candidates)
    return {**relay, "suggestions": [{"email": c.email, "name": c.name, "niche": c.niche}
                                     for c in found if c.email != reply.sender]}


def _forget_me(reply: Reply, confirm: dict[str, Any] | None) -> list[Effect]:
    """"forget me": all mail stops at once (the stop above); the erasure is recorded to run
    later, from a proven sender only (a forged one stops mail, which is harmless, and the
    referrer is told either way)."""
    referral, sender = reply.referral, reply.sender
    days = reply.forget_after_days
    if confirm is not None:
        confirm.update(days=days, erase=reply.proven)
    effects: list[Effect] = [AskForget(sender, referral.id)] if reply.proven else []
    if sender != referral.referrer:
        effects.append(Notify(referral.id, referral.referrer, "confirm",
                              {"change": "forget", "asked_by": sender, "days": days,
                               "erase": reply.proven, "undo_offer": False}))
    return effects


def on_intro(intro: Intro, message_id: str, message_date: datetime | None, context: str,
             history_before: datetime | None, now: datetime) -> list[Effect]:
    """A recognised intro: its referrals, each with its intake event and, unless it is an
    old intro found on a first run (history) or a received referral, its plan; the names
    it showed; and the referrer's digest clock."""
    created_at = message_date if message_date is not None and message_date <= now else now
    history = (history_before is not None and intro.direction == "given"
               and created_at < history_before)
    effects: list[Effect] = [RememberNames(dict(intro.names)),
                             StartDigestClock(intro.referrer)]
    for new in intro.referrals:
        detail = (f"{intro.direction} intro ({intro.how}): client {new.client}, "
                  f"partner {new.partner}" if new.status is not Status.NEEDS_PARTNER
                  else "needs partner: " + ", ".join(new.candidates))
        if history:
            detail += " (history: found on the first run, not followed up)"
        asked: tuple[tuple[str, str], ...] = ()
        if new.status is Status.AWAITING_CONSENT:
            detail += " (the client is asked first)"
            asked = ((CONSENT_ASKED, f"{new.client} is asked before {new.partner} "
                      "is introduced"),)
        fields = {"status": new.status, "direction": intro.direction,
                  "referrer": intro.referrer, "client": new.client, "partner": new.partner,
                  "subject": intro.subject, "created_at": created_at,
                  "intro_message_id": message_id, "context": context,
                  "candidates": new.candidates, "names": dict(intro.names),
                  "history": history}
        effects.append(CreateReferral(fields, intro.referrer, detail,
                                      plan=not history, events=asked))
    return effects


def on_unwanted(created: Sequence[Referral], avoid: Mapping[str, str],
                context: str) -> list[Effect]:
    """A new referral to a partner whose `not:` the intro's text mentions: one short note
    to the referrer (`avoid`: each partner's `not:`)."""
    return [Notify(r.id, r.referrer, "unwanted", {"partner_avoid": avoid[r.partner]},
                   once=True)
            for r in created if r.partner and avoid.get(r.partner)
            and r.direction == "given" and not r.history
            and mentions(context, avoid[r.partner])]


def on_ambiguous_reply(referrals: Sequence[Referral], sender: str, word: str,
                       written: datetime | None = None) -> list[Effect]:
    """A reply word to an email about several referrals: change nothing, ask which (an
    answer dated by the reply, `written_at`)."""
    effects: list[Effect] = [AddEvent(r.id, "refused", sender,
                                      f"{word!r} without a tag in a combined email")
                             for r in referrals]
    effects.append(Notify(referrals[0].id, sender, "which", {"word": word},
                          answering=written))
    return effects


def on_bounce(robot: RobotVerdict, failed: Sequence[str],
              referrals: Sequence[Referral]) -> list[Effect]:
    """A permanent bounce of our email to `failed`, about `referrals`."""
    effects: list[Effect] = [MarkUndeliverable(a, robot.reason) for a in failed]
    for referral in referrals:
        for address in failed:
            effects.append(AddEvent(referral.id, "bounce", address, robot.reason))
            if address != referral.referrer:
                effects.append(Notify(referral.id, referral.referrer, "bounce",
                                      {"address": address,
                                       "smtp_status": robot.status or "permanent failure"},
                                      once=True))
    effects.append(Plan(tuple(r.id for r in referrals)))
    return effects


def on_away(sender: str, returns_on: date, reason: str, paused_until: datetime | None,
            open_referrals: Sequence[Referral], now: datetime) -> list[Effect]:
    """A dated out-of-office reply to our email: hold steps to the sender until then."""
    until = datetime.combine(min(returns_on, now.date() + MAX_PAUSE), datetime.min.time(),
                             now.tzinfo)
    effects: list[Effect] = []
    if paused_until is None or paused_until < until:
        effects.append(Pause(sender, until, reason))
    effects += [AddEvent(r.id, "out-of-office", sender, f"away until {until.date().isoformat()}")
                for r in open_referrals]
    effects.append(Plan(tuple(r.id for r in open_referrals)))
    return effects


def on_other_robot(sender: str, reason: str, referrals: Sequence[Referral]) -> list[Effect]:
    """Any other robot answering our email: noted on the referral, nothing else."""
    return [AddEvent(r.id, "robot", sender, reason) for r in referrals]


WITHDRAWN = "withdrawn"  # an outbox row's status: a person cancelled it


@dataclass(frozen=True)
class PlannedEmail:
    """The outbox row an operator acts on, as the shell read it."""

    id: int
    referral_id: int
    step: str
    recipient: str
    status: str


def on_withdraw(email: PlannedEmail, actor: str) -> list[Effect]:
    """Cancel a planned email about a referral; it stays on record, never revived."""
    if email.status != "pending" or not email.referral_id:
        raise ValueError("only an email still planned for a referral can be cancelled")
    what = f"{step_name(email.step)} to {email.recipient}"
    return [Withdraw(email.id, f"cancelled by {actor}"),
            AddEvent(email.referral_id, "withdrawn", actor, f"{what} cancelled by {actor}")]


def on_unwithdraw(email: PlannedEmail, actor: str) -> list[Effect]:
    """Plan a cancelled email again (its time is planned anew)."""
    if email.status != WITHDRAWN:
        raise ValueError("that email is not cancelled")
    what = f"{step_name(email.step)} to {email.recipient}"
    return [Unwithdraw(email.id),
            AddEvent(email.referral_id, "unwithdrawn", actor, f"{what} planned again by {actor}"),
            Plan((email.referral_id,))]


def on_language(address: str, language: str | None, open_referrals: Sequence[Referral],
                actor: str) -> list[Effect]:
    """A person's language set by hand (None: learned from their mail again), noted on their
    open referrals."""
    said = f"{address} now gets {language}" if language else (
        f"{address}: language learned from their mail again")
    return [LearnLanguage(address, language, by_hand=True),
            *(AddEvent(r.id, "language", actor, said) for r in open_referrals)]


def on_unbounce(address: str, open_referrals: Sequence[Referral],
                actor: str = "cli") -> list[Effect]:
    """The operator says `address` works again: its open referrals are planned anew."""
    effects: list[Effect] = [ClearUndeliverable(address)]
    effects += [AddEvent(r.id, "unbounced", actor, f"{address} may be written to again")
                for r in open_referrals]
    effects.append(Plan(tuple(r.id for r in open_referrals)))
    return effects


def on_operator(referral: Referral, action: str, now: datetime, actor: str = "cli",
                outcome: Outcome | None = None, days: int | None = None,
                partner: str | None = None, address: str | None = None,
                last_undo: int | None = None,
                stops: Mapping[str, str | None] | None = None,
                table: Mapping[str, Rule] = TRANSITIONS) -> list[Effect]:
    """An operator's or a signed-in referrer's action on a referral.

    Any intent of the transition `table` (`close` with an outcome, `reopen`, `snooze`
    days, `partner`: pick or correct the partner, the other party becoming the client,
    `swap`, `contacted`, `follow_up`), or `stop` (no more mail to `address` about it),
    `resume` (lift such a stop;
    `stops`: who said stop for each stopped party, None when they said it themselves) or
    `undo` (put back the state before the actor's last change, `last_undo`, within 24
    hours). Raises ValueError when the action does not apply, with the sentence to show.
    """
    where = "from the command line" if actor == "cli" else f"by {actor}"
    if action == "stop":
        if address is None or referral.role_of(address) is None:
            raise ValueError(f"{address} is not a party to {referral.tag}")
        if stops is not None and address in stops:
            raise ValueError(f"mail to {address} about {referral.tag} is already stopped")
        return [OptOut(address, referral.id, by=actor),
                AddEvent(referral.id, "stopped", actor, f"no more mail to {address} {where}"),
                Plan((referral.id,))]
    if action == "resume":
        return _resume(referral, address, stops or {}, actor, where)
    if action == "undo":
        if last_undo is None:
            raise ValueError("nothing to undo: only your own change of the last 24 hours "
                             "can be undone")
        return [RestoreUndo(referral.id, last_undo),
                AddEvent(referral.id, "undone", actor, f"previous state restored {where}"),
                Plan((referral.id,))]
    change = transition(referral, Ask(action, outcome=outcome, days=days, partner=partner), now,
                        table)
    if isinstance(change, NotNow):
        raise ValueError(change.reason)
    return [KeepUndo(referral.id, actor, state_of(referral)),
            SetFields(referral.id, dict(change.fields)),
            AddEvent(referral.id, change.event, actor, f"{change.detail} {where}"),
            Plan((referral.id,))]


def _resume(referral: Referral, address: str | None, stops: Mapping[str, str | None],
            actor: str, where: str) -> list[Effect]:
    """A stop said for someone can be lifted; a stop they said themselves never is."""
    if address is None or referral.role_of(address) is None:
        raise ValueError(f"{address} is not a party to {referral.tag}")
    if address not in stops:
        raise ValueError(f"mail to {address} is not stopped")
    if stops[address] is None:
        raise ValueError(f"{address} asked for no more mail; only they can change that")
    return [Resume(address, referral.id),
            AddEvent(referral.id, "resumed", actor, f"mail to {address} again {where}"),
            Plan((referral.id,))]

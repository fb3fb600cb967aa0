"""Applying replies and robot mail to the store (the shell around reply_rules)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from mailflow.adapters.store import Store, from_db, to_db
from mailflow.core.commands import parse_command
from mailflow.core.model import InboundMessage, Referral, Role, Status
from mailflow.core.reply_rules import ReplyEffect, decide_reply
from mailflow.core.robots import RobotVerdict
from mailflow.scheduling import add_notice

log = logging.getLogger("mailflow.replies")
UNDO_WINDOW = timedelta(hours=24)
WORDS_HELP = ("I didn't recognise that as one of the reply words, so nothing changed.\n\n"
              "The words are: done, won, lost (or no fit), contacted, snooze 2 weeks, stop, "
              "stop all, rating 1-5, need: WHAT, reopen, undo.\n"
              "Anything longer is kept as a note and passed on.")
_STATE_FIELDS = ("status", "outcome", "contacted_at", "closed_at", "snoozed_until", "partner",
                 "client")


@dataclass(frozen=True)
class ReplyPolicy:
    confirm_replies: bool = True


def _state(store: Store, referral_id: int) -> dict[str, object]:
    row = store.referral_row(referral_id)
    return {k: row[k] for k in _STATE_FIELDS}


def _undo(store: Store, referral: Referral, sender: str, now: datetime) -> str:
    since = to_db(now - UNDO_WINDOW)
    rows = list(store.db.table("undo").rows_where(
        "referral_id = ? and actor = ? and at >= ?", [referral.id, sender, since],
        order_by="id desc", limit=1))
    if not rows:
        return "There was nothing of yours to undo from the last 24 hours."
    store.db.table("referrals").update(referral.id, json.loads(rows[0]["before"]))
    store.db.table("undo").delete(rows[0]["id"])
    store.add_event(referral.id, now, "undone", sender, "previous state restored")
    return f"Undone: {referral.tag} is back to how it was."


def _contact_seen(store: Store, referral: Referral, message: InboundMessage,
                  now: datetime) -> Referral:
    """Any message of the partner's on the referral counts as first contact."""
    if referral.contacted_at is not None or referral.status is not Status.OPEN:
        return referral
    at = message.date if message.date is not None and message.date <= now else now
    store.add_event(referral.id, now, "contact-seen", referral.partner or "",
                    "the partner wrote on the thread")
    return store.update_referral(referral.id, status=Status.CONTACTED, contacted_at=at)


def apply_reply(store: Store, referral: Referral, message: InboundMessage, text: str,
                sender: str, now: datetime, policy: ReplyPolicy) -> ReplyEffect:
    role = referral.role_of(sender)
    assert role is not None, "correlate only passes referrals the sender is a party to"
    if role is Role.PARTNER:
        referral = _contact_seen(store, referral, message, now)
    effect = decide_reply(referral, role, sender, parse_command(text), now)
    log.info("%s reply from %s: %s", referral.tag, sender, effect.event_kind)
    confirmation = effect.confirmation
    if effect.undo:
        confirmation = _undo(store, referral, sender, now)
    if effect.changes:
        before = _state(store, referral.id)
        store.db.table("undo").insert({"referral_id": referral.id, "actor": sender,
                                       "at": to_db(now), "before": json.dumps(before)})
        store.update_referral(referral.id, **effect.changes)
        if confirmation:
            confirmation += " If that was a mistake, reply \"undo\" within 24 hours."
    if effect.event_kind != "undo":
        store.add_event(referral.id, now, effect.event_kind, sender, effect.event_detail)
    if effect.opt_out:
        store.opt_out(sender, referral.id if effect.opt_out == "referral" else None, now)
    if confirmation and policy.confirm_replies and (effect.changes or effect.undo
                                                    or effect.opt_out):
        add_notice(store, referral.id, sender, "confirm", "Noted", confirmation, now)
    already_told = referral.referrer in {a.email for a in message.recipients}
    if effect.tell_referrer and sender != referral.referrer and not already_told:
        add_notice(store, referral.id, referral.referrer, "relay", "News from the referral",
                   effect.tell_referrer, now)
    if effect.need:
        store.add_event(referral.id, now, "need", sender, effect.need)
        if sender != referral.referrer:
            add_notice(store, referral.id, referral.referrer, "relay", "A new need",
                       f"{sender} spotted a new need: {effect.need}", now)
    if effect.refused and not effect.help_needed:
        # a word that changes nothing is answered, once, rather than ignored in silence
        add_notice(store, referral.id, sender, "refused", "Nothing changed",
                   f"Thanks for your reply. As the {role} on {referral.tag} you can't use "
                   f"that word ({effect.refused}), so nothing changed; "
                   f"{referral.referrer} can. Anything else you write is passed on to them.",
                   now, once=True)
    if effect.help_needed:
        add_notice(store, referral.id, sender, "help", "Reply words", WORDS_HELP, now,
                   once=True)
    return effect


def _referrals_for_robot(store: Store, message: InboundMessage,
                         robot: RobotVerdict) -> list[Referral]:
    ids = list(message.thread_ids)
    if robot.original_message_id:
        ids.insert(0, robot.original_message_id)
    return [store.referral(i) for i in store.referrals_in_thread(tuple(ids))]


def apply_robot(store: Store, message: InboundMessage, robot: RobotVerdict,
                now: datetime) -> list[int]:
    """Bounces mark addresses undeliverable; dated out-of-office replies pause steps."""
    referrals = _referrals_for_robot(store, message, robot)
    sender = message.from_.email if message.from_ else ""
    if robot.kind == "bounce" and robot.permanent:
        for address in robot.failed_recipients:
            store.mark_undeliverable(address, robot.reason)
        for referral in referrals:
            for address in robot.failed_recipients:
                store.add_event(referral.id, now, "bounce", address, robot.reason)
                if address != referral.referrer:
                    add_notice(store, referral.id, referral.referrer, "bounce",
                               f"Email to {address} bounced",
                               f"My email to {address} about {referral.tag} bounced "
                               f"({robot.status or 'permanent failure'}). I won't write to "
                               "that address again; could you check it?", now, once=True)
        return [r.id for r in referrals]
    if robot.kind == "auto-reply" and robot.returns_on is not None and sender:
        until = datetime.combine(robot.returns_on, datetime.min.time(), now.tzinfo)
        current = list(store.db.table("pauses").rows_where("email = ?", [sender]))
        if not current or (from_db(current[0]["until"]) or now) < until:
            store.db.table("pauses").upsert({"email": sender, "until": to_db(until),
                                             "reason": robot.reason}, pk="email")
        touched = [r for r in store.referrals() if r.role_of(sender) is not None
                   and r.status is not Status.CLOSED]
        for referral in touched:
            store.add_event(referral.id, now, "out-of-office", sender,
                            f"away until {robot.returns_on.isoformat()}")
        return [r.id for r in touched]
    for referral in referrals:
        store.add_event(referral.id, now, "robot", sender, robot.reason)
    return []

"""Applying replies and robot mail to the store (the shell around reply_rules)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from mailflow.adapters.store import Store, to_db
from mailflow.core.commands import parse_command
from mailflow.core.model import InboundMessage, Referral, Role, Status
from mailflow.core.reply_rules import ReplyEffect, decide_reply
from mailflow.core.robots import RobotVerdict
from mailflow.core.vocabulary import words_help
from mailflow.scheduling import add_notice

log = logging.getLogger("mailflow.replies")
UNDO_WINDOW = timedelta(hours=24)
MAX_PAUSE = timedelta(days=30)  # a longer absence is met again by the next auto-reply
WORDS_HELP = words_help()
_STATE_FIELDS = ("status", "outcome", "contacted_at", "closed_at", "snoozed_until", "partner",
                 "client", "history", "plan_from")


@dataclass(frozen=True)
class ReplyPolicy:
    confirm_replies: bool = True
    require_tokens: bool = False  # reply_tokens: plus — state changes need a signed address


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
                sender: str, now: datetime, policy: ReplyPolicy,
                proven: bool = True) -> ReplyEffect:
    role = referral.role_of(sender)
    assert role is not None, "correlate only passes referrals the sender is a party to"
    if role is Role.PARTNER:
        referral = _contact_seen(store, referral, message, now)
    effect = decide_reply(referral, role, sender, parse_command(text), now, proven)
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
    if effect.unproven:
        add_notice(store, referral.id, sender, "unproven", "Nothing changed",
                   f"Thanks for your reply about {referral.tag}. To change a referral, please "
                   "reply to an email mailflow sent you: its reply address shows that the "
                   "answer is really yours. Nothing changed this time.", now, once=True)
    if effect.help_needed:
        add_notice(store, referral.id, sender, "help", "Reply words", WORDS_HELP, now,
                   once=True)
    return effect


def _ours_to(store: Store, message_ids: list[str], recipient: str | None) -> list[Referral]:
    """Referrals whose email from mailflow, with one of these Message-IDs, went to `recipient`
    (anyone when None). Robot mail acts only on mail we sent: a stranger cannot know
    those ids, so a forged bounce or out-of-office changes nothing."""
    rows = store.sent_with_message_ids(message_ids)
    ids = dict.fromkeys(r.referral_id for r in rows
                        if recipient is None or r.recipient == recipient)
    return [store.referral(i) for i in ids]


def apply_robot(store: Store, message: InboundMessage, robot: RobotVerdict,
                now: datetime) -> list[int]:
    """Bounces mark addresses undeliverable; dated out-of-office replies pause steps.

    Both only when they answer an email mailflow sent to that very address.
    """
    sender = message.from_.email if message.from_ else ""
    thread = list(message.thread_ids)
    if robot.kind == "bounce" and robot.permanent:
        original = [robot.original_message_id] if robot.original_message_id else []
        sent = store.sent_with_message_ids(original)
        failed = [a for a in robot.failed_recipients if a in {r.recipient for r in sent}]
        referrals = [store.referral(i) for i in dict.fromkeys(r.referral_id for r in sent
                                                               if r.recipient in failed)]
        if not failed:
            log.info("%s: bounce ignored: it names no email mailflow sent to %s",
                     message.message_id, ", ".join(robot.failed_recipients) or "anyone")
            return []
        for address in failed:
            store.mark_undeliverable(address, robot.reason)
        for referral in referrals:
            for address in failed:
                store.add_event(referral.id, now, "bounce", address, robot.reason)
                if address != referral.referrer:
                    add_notice(store, referral.id, referral.referrer, "bounce",
                               f"Email to {address} bounced",
                               f"My email to {address} about {referral.tag} bounced "
                               f"({robot.status or 'permanent failure'}). I won't write to "
                               "that address again; could you check it?", now, once=True)
        return [r.id for r in referrals]
    if robot.kind == "auto-reply" and robot.returns_on is not None and sender:
        if not _ours_to(store, thread, sender):
            log.info("%s: out-of-office ignored: not an answer to our email to %s",
                     message.message_id, sender)
            return []
        until = datetime.combine(min(robot.returns_on, now.date() + MAX_PAUSE),
                                 datetime.min.time(), now.tzinfo)
        current = store.paused_until(sender)
        if current is None or current < until:
            store.pause(sender, until, robot.reason)
        touched = store.open_referrals_of(sender)
        for referral in touched:
            store.add_event(referral.id, now, "out-of-office", sender,
                            f"away until {until.date().isoformat()}")
        return [r.id for r in touched]
    for referral in _ours_to(store, thread, None):
        store.add_event(referral.id, now, "robot", sender, robot.reason)
    return []

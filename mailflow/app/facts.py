"""The facts a reply or a robot's mail needs, read from the store; the core decides."""

from __future__ import annotations

import logging
from datetime import datetime

from mailflow.adapters.store import Store
from mailflow.app.needs import candidates
from mailflow.config import Config
from mailflow.core.amounts import read_value
from mailflow.core.commands import Command
from mailflow.core.consent import read_consent
from mailflow.core.decisions import (
    UNDO_WINDOW,
    Reply,
    on_away,
    on_bounce,
    on_other_robot,
    on_reply,
)
from mailflow.core.effects import Effect
from mailflow.core.model import InboundMessage, Referral, Status
from mailflow.core.profiles import only_profile, read_profile
from mailflow.core.robots import RobotVerdict

log = logging.getLogger("mailflow.app.facts")


def reply_facts(store: Store, referral: Referral, message: InboundMessage,
                command: Command | None, sender: str, now: datetime, proven: bool,
                confirm_replies: bool, forget_after_days: int = 7,
                language: str | None = None, text: str = "",
                config: Config | None = None, arrived_after: datetime | None = None) -> Reply:
    """`text`: the reply's new text (a value and a partner's profile are read from it);
    `config`: to read the directory when the reply names a need; `arrived_after`: the
    previous cycle."""
    profile = read_profile(text) if referral.partner == sender else None
    asked = referral.status is Status.AWAITING_CONSENT and referral.client == sender
    needs = command is not None and (command.word == "need" or bool(command.need))
    return Reply(referral, sender, command, proven, message.date,
                 referral.referrer in {a.email for a in message.recipients},
                 store.latest_undo(referral.id, sender, now - UNDO_WINDOW), confirm_replies,
                 forget_after_days, language,
                 read_value(text, command.word if command else None), profile,
                 profile is not None and only_profile(text),
                 candidates(store, config, referral.referrer, now)
                 if needs and config is not None else (),
                 read_consent(text) if asked else None,
                 bool(referral.intro_message_id)
                 and referral.intro_message_id in message.thread_ids, arrived_after)


def reply_effects(store: Store, referral: Referral, message: InboundMessage,
                  command: Command | None, sender: str, now: datetime, proven: bool,
                  confirm_replies: bool, forget_after_days: int = 7,
                  language: str | None = None, text: str = "",
                  config: Config | None = None, arrived_after: datetime | None = None
                  ) -> list[Effect]:
    effects = on_reply(reply_facts(store, referral, message, command, sender, now, proven,
                                   confirm_replies, forget_after_days, language, text,
                                   config, arrived_after), now)
    log.info("%s reply from %s: %s", referral.tag, sender,
             command.word if command else "(empty)")
    return effects


def _ours_to(store: Store, message_ids: list[str], recipient: str | None) -> list[Referral]:
    """Referrals whose email from mailflow, with one of these Message-IDs, went to `recipient`
    (anyone when None). Robot mail acts only on mail we sent: a stranger cannot know
    those ids, so a forged bounce or out-of-office changes nothing."""
    rows = store.sent_with_message_ids(message_ids)
    ids = dict.fromkeys(r.referral_id for r in rows
                        if r.referral_id and (recipient is None or r.recipient == recipient))
    return [store.referral(i) for i in ids]


def robot_effects(store: Store, message: InboundMessage, robot: RobotVerdict,
                  now: datetime) -> list[Effect]:
    """Bounces mark addresses undeliverable; dated out-of-office replies pause steps.

    Both only when they answer an email mailflow sent to that very address.
    """
    sender = message.from_.email if message.from_ else ""
    thread = list(message.thread_ids)
    if robot.kind == "bounce" and robot.permanent:
        original = [robot.original_message_id] if robot.original_message_id else []
        sent = store.sent_with_message_ids(original)
        failed = [a for a in robot.failed_recipients if a in {r.recipient for r in sent}]
        if not failed:
            log.info("%s: bounce ignored: it names no email mailflow sent to %s",
                     message.message_id, ", ".join(robot.failed_recipients) or "anyone")
            return []
        referrals = [store.referral(i) for i in dict.fromkeys(
            r.referral_id for r in sent if r.recipient in failed and r.referral_id)]
        return on_bounce(robot, failed, referrals)
    if robot.kind == "auto-reply" and robot.returns_on is not None and sender:
        if not _ours_to(store, thread, sender):
            log.info("%s: out-of-office ignored: not an answer to our email to %s",
                     message.message_id, sender)
            return []
        return on_away(sender, robot.returns_on, robot.reason, store.paused_until(sender),
                       store.open_referrals_of(sender), now)
    return on_other_robot(sender, robot.reason, _ours_to(store, thread, None))

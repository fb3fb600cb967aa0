"""What one inbound message does to the store: the shell around the pure decisions."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from mailflow.adapters.store import Store
from mailflow.app.directory import directory_from_store
from mailflow.app.executor import apply_effects
from mailflow.app.facts import reply_effects, robot_effects
from mailflow.app.planning import HistorySummaries
from mailflow.config import Config
from mailflow.core.addressing import Trackers
from mailflow.core.authresults import sender_verified
from mailflow.core.commands import Command
from mailflow.core.correlate import (
    Correlation,
    answers,
    base_subject,
    correlate,
    narrow_by_tag,
    subject_tag,
)
from mailflow.core.decisions import on_ambiguous_reply, on_intro, on_unwanted, written_at
from mailflow.core.effects import CreateReferral
from mailflow.core.intake import Intro, PartnerDirectory, read_intro
from mailflow.core.model import Classification, InboundMessage, Kind, Referral
from mailflow.core.reading import Reading, read_message
from mailflow.core.reply_text import new_text
from mailflow.core.robots import RobotVerdict
from mailflow.core.tokens import TokenCheck, check_token

log = logging.getLogger("mailflow.app.inbound")


@dataclass(frozen=True)
class ReplyPolicy:
    confirm_replies: bool = True
    require_tokens: bool = False  # reply_tokens: plus — state changes need a signed address
    forget_after_days: int = 7  # privacy.forget_after_days


@dataclass
class Handler:
    """Classifies and records messages; marks the referrals they change for planning.

    The mark is a row written in the message's own transaction, so no crash can
    separate a change from the re-planning of its follow-up.
    """

    store: Store
    trackers: Trackers
    referrers: tuple[str, ...]
    secret: str
    policy: ReplyPolicy
    trust_authentication_results: str | None = None
    max_partners_per_intro: int = 5
    history_before: datetime | None = None  # first run: intros older than this are history
    arrived_after: datetime | None = None  # the previous cycle, if any (decisions.written_at)
    config: Config | None = None  # the directory's settings, for a need's suggestions
    _directory: PartnerDirectory | None = None
    _summaries: HistorySummaries | None = None
    _defer_summaries: bool = False

    def defer_summaries(self, on: bool) -> None:
        """For ingest's batches: the first run's history summaries are written once per
        batch (see HistorySummaries), ingest telling of each message's end and of each
        batch's commit."""
        self._defer_summaries = on
        if self._summaries is not None:
            self._summaries.discard()  # ingest flushes each batch: what is left was undone
            self._summaries.deferred = on

    def message_ended(self, kept: bool) -> None:
        """Ingest's message was recorded (`kept`), or undone (quarantined)."""
        if self._summaries is not None:
            self._summaries.message_ended(kept)

    def before_commit(self) -> None:
        """Ingest's batch is about to commit: what waited for it is written."""
        if self._summaries is not None:
            self._summaries.flush()

    def read(self, message: InboundMessage, now: datetime) -> Reading:
        """The store-free half of `handle`, which a parsing process may have done already."""
        return read_message(message, self.trackers.addresses, now.date(), read_command=False)

    def handle(self, message: InboundMessage, now: datetime) -> Classification:
        return self.handle_reading(self.read(message, now), now)

    def handle_reading(self, reading: Reading, now: datetime) -> Classification:
        message = reading.message
        sender = message.from_.email if message.from_ else ""
        if reading.robot is not None:
            return self._robot(message, reading.robot, now)
        if self.trackers.matches(sender):
            return Classification(Kind.IGNORED, "own-mail: sent from the tracking address")
        if self.trust_authentication_results:
            verified, why = sender_verified(message, self.trust_authentication_results)
            if not verified:
                log.warning("%s ignored: From %s not authenticated: %s", message.message_id,
                            sender, why)
                return Classification(Kind.IGNORED, f"unauthenticated: {why}")
        correlation = self._correlate(message, sender)
        if correlation.refused:
            log.warning("%s refused: %s", message.message_id, correlation.refused)
            return Classification(Kind.IGNORED, correlation.refused)
        if correlation.referrals:
            return self._reply(reading, correlation, sender, now)
        if self._directory is None:
            self._directory = directory_from_store(self.store)
        decision = read_intro(message, self.trackers, self.referrers, self._directory,
                              self.max_partners_per_intro)
        if isinstance(decision, Intro):
            same = self._same_received(decision)
            if same is not None:  # the forwarded intro, answered: one referral, not two
                return self._reply(reading, Correlation((same,), "same received referral"),
                                   sender, now)
            return self._intro(reading, decision, now)
        return Classification(Kind.IGNORED, decision.reason)

    def _reply(self, reading: Reading, correlation: Correlation, sender: str,
               now: datetime) -> Classification:
        message = reading.message
        referrals, text = narrow_by_tag(correlation.referrals, reading.text)
        command = reading.command_in(text)
        referrals = self._follow_up_target(referrals, command, sender)
        # one email listed several referrals: a reply word must say which one
        if len(referrals) > 1 and command is not None and command.word != "note":
            # dated by the reply only when it is proven: a forged Date must not silence it
            written = (written_at(message.date, self.arrived_after, now)
                       if self._proven(message, correlation, sender) else None)
            apply_effects(self.store, on_ambiguous_reply(referrals, sender, command.word,
                                                         written), now)
            return Classification(Kind.REPLY, "reply: ambiguous, no tag",
                                  referrals[0].id)
        proven = self._proven(message, correlation, sender)
        language = reading.language_in(text)
        for referral in referrals:
            apply_effects(self.store, reply_effects(
                self.store, referral, message, command, sender, now, proven,
                self.policy.confirm_replies, self.policy.forget_after_days, language, text,
                self.config, self.arrived_after), now)
        return Classification(Kind.REPLY, f"reply: by {correlation.how}", referrals[0].id)

    def _same_received(self, intro: Intro) -> Referral | None:
        """A received referral already open for the same firm person, partner and client:
        the firm person forwarded the partner's intro, then replied to all on it."""
        if intro.direction != "received" or len(intro.referrals) != 1:
            return None
        new = intro.referrals[0]
        if new.client is None or new.partner is None:
            return None
        return self.store.open_received(intro.referrer, new.partner, new.client)

    def _follow_up_target(self, referrals: tuple[Referral, ...], command: Command | None,
                          sender: str) -> tuple[Referral, ...]:
        """`follow up R-7`, said to the first-run summary, picks R-7 (one of the sender's)."""
        if command is None or command.word != "follow_up" or not command.text.isdigit():
            return referrals
        target = self.store.find_referral(int(command.text))
        return (target,) if target is not None and target.referrer == sender else referrals

    def _proven(self, message: InboundMessage, correlation: Correlation, sender: str) -> bool:
        """Whether the sender shows they got our email: a signed reply address, or a reply
        to a Message-ID we sent them (random per installation: a forger cannot know it).
        Also true when our server vouched for From (unauthenticated mail never gets this
        far) or when tokens are off."""
        if (correlation.how == "token" or self.trust_authentication_results is not None
                or not self.policy.require_tokens):
            return True
        return any(row.recipient == sender
                   for row in self.store.sent_with_message_ids(message.thread_ids))

    def _robot(self, message: InboundMessage, robot: RobotVerdict,
               now: datetime) -> Classification:
        touched = apply_effects(self.store, robot_effects(self.store, message, robot, now), now)
        return Classification(Kind.IGNORED, robot.reason, touched[0] if touched else None)

    def _correlate(self, message: InboundMessage, sender: str) -> Correlation:
        token: TokenCheck | None = None
        for address in message.recipients:
            detail = self.trackers.detail(address.email)
            if detail:
                token = check_token(detail, self.secret, sender)
                if token is not None:
                    break
        token_referral = (self.store.find_referral(token.referral_id)
                          if token is not None and token.referral_id is not None else None)
        thread = [self.store.referral(i)
                  for i in self.store.referrals_in_thread(message.thread_ids)]
        tag = subject_tag(message.subject)
        tagged = self.store.find_referral(tag) if tag is not None else None
        same: list[Referral] = []
        if not thread and tagged is None and answers(message.subject):
            same = [r for r in self.store.open_with_subject(base_subject(message.subject))
                    if r.role_of(sender) is not None and r.referrer != sender]
        return correlate(sender, token, token_referral, thread, tagged, same)

    def _intro(self, reading: Reading, intro: Intro, now: datetime) -> Classification:
        message = reading.message
        context = ("" if not intro.source.text
                   else reading.text if intro.source is message else new_text(intro.source))
        intro_id = message.message_id
        original = intro.source
        if original is not message and original.message_id and not original.missing_message_id:
            # a forwarded intro: our emails thread under the original, which the partner
            # and the client have, and their later replies on it find this referral
            known = self.store.referrals_in_thread((original.message_id,))
            if known:
                return Classification(Kind.IGNORED, f"duplicate: the forwarded intro is "
                                      f"R-{known[0]} already", known[0])
            intro_id = original.message_id
        effects = on_intro(intro, intro_id, message.date, context, self.history_before, now)
        ids: list[int] = []
        apply_effects(self.store, effects, now, created=ids)
        created = [e for e in effects if isinstance(e, CreateReferral)]
        # history (old intros a first run found, not followed up): only counted at INFO
        # (ingest's last line), each one at DEBUG; half the lines of a first run
        level = logging.DEBUG if created[0].fields["history"] else logging.INFO
        for referral_id, new in zip(ids, created, strict=True):
            log.log(level, "R-%d created from %s: %s", referral_id, message.message_id,
                    new.detail)
        named = [n.partner for n in intro.referrals if n.partner]
        avoid = self.store.avoid_of(named) if named and context else {}
        if avoid:
            apply_effects(self.store, on_unwanted(
                list(self.store.referrals_by_id(ids).values()), avoid, context), now)
        if self._directory is not None:  # history has grown
            partners = {n.partner for n in intro.referrals if n.partner}
            self._directory = replace(self._directory,
                                      history=self._directory.history | partners)
        if created[0].fields["history"]:
            if self._summaries is None:
                self._summaries = HistorySummaries(self.store, self._defer_summaries)
            self._summaries.add(intro.referrer, ids, created[0].fields["created_at"], now)
            return Classification(Kind.INTRO, f"history: {len(ids)} referral(s)", ids[0])
        return Classification(Kind.INTRO, f"intro: {len(ids)} referral(s)", ids[0])

"""Sending what is due: render, group per recipient, respect the limits, record results."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from mailflow.adapters.mailer import Mailer
from mailflow.adapters.renderer import Renderer
from mailflow.adapters.store import OutboxRow, Store
from mailflow.app.executor import queue_notice
from mailflow.app.send_facts import SendFacts
from mailflow.app.template_context import person, referral_context
from mailflow.config import Config
from mailflow.core.business_time import BusinessCalendar
from mailflow.core.compose import to_bytes
from mailflow.core.effects import Notify
from mailflow.core.message_ids import mint
from mailflow.core.model import Address, Referral
from mailflow.core.outgoing import OutgoingEmail, SendResult
from mailflow.core.tokens import reply_address
from mailflow.core.workflow import ACKNOWLEDGEMENT, PARTNER_QUESTION, StepConfig

log = logging.getLogger("mailflow.app.dispatch")
MAX_BACKOFF = timedelta(hours=6)
RESPONSE_STEPS = frozenset({ACKNOWLEDGEMENT, PARTNER_QUESTION})
# Notices that answer what the person just did go out at once, any hour; the others
# (relayed news, bounce and failure notices, the first-run summary) wait for business hours.
ANSWER_NOTICES = frozenset({"confirm", "help", "refused", "which", "unproven"})
# rendered when queued; about no one referral
STANDALONE = frozenset({"digest", "alert", "signin"})


def _body_only(text: str) -> str:
    """A step's text without its greeting and sign-off, for listing in a combined email."""
    lines = text.strip().splitlines()
    if lines and lines[0].startswith(("Hi ", "Hello ", "Dear ")):
        lines = lines[1:]
    if lines and lines[-1].startswith("\u2014 mailflow"):
        lines = lines[:-1]
    return "\n".join(lines).strip()


@dataclass
class DispatchReport:
    sent: list[tuple[str, str, str]] = field(default_factory=list)  # (recipient, tags, steps)
    deferred: int = 0
    failed: int = 0
    retried: int = 0
    missed: int = 0
    superseded: int = 0


@dataclass
class Dispatcher:
    store: Store
    config: Config
    calendar: BusinessCalendar
    renderer: Renderer
    mailer: Mailer
    secret: str

    _known: SendFacts | None = None

    @property
    def _facts(self) -> SendFacts:
        """What this send read up front (state does not move while it prepares)."""
        assert self._known is not None, "read in send_due"
        return self._known

    def _referral(self, referral_id: int) -> Referral:
        return self._facts.referral(referral_id)

    @cached_property
    def installation(self) -> str:
        return self.store.installation_id()

    @property
    def _steps(self) -> dict[str, StepConfig]:
        return {s.name: s for s in self.config.workflow.steps}

    def send_due(self, now: datetime, keep_copy: Callable[[bytes], None] | None = None,
                 kinds: frozenset[str] | None = None) -> DispatchReport:
        """Send what is due (of `kinds` only, when given); `keep_copy` files each sent email
        (the IMAP Sent folder).

        Each email is recorded as soon as the mailer reports on it, in its own
        transaction: a crash mid-batch resends at most the one email in flight.
        """
        report = DispatchReport()
        groups: dict[str, list[OutboxRow]] = {}
        batch: list[tuple[OutgoingEmail, list[OutboxRow]]] = []
        with self.store.atomic():  # Message-IDs are on record before anything is sent
            due = [r for r in self.store.due(now) if kinds is None or r.kind in kinds]
            if not due:
                return report
            self._known = SendFacts.read(self.store, due, self._day_start(now))
            for row in due:
                if row.kind in STANDALONE:
                    batch.extend(self._standalone(row, now, report))
                else:
                    groups.setdefault(row.recipient, []).append(row)
            for recipient, rows in groups.items():
                batch.extend(self._guarded_emails_for(recipient, rows, now, report))
        if not batch:
            return report

        def record(index: int, result: SendResult) -> None:
            email, rows = batch[index]
            with self.store.atomic():
                self._record(email, rows, result.status, result.detail, now, report)
            if result.status == "sent" and keep_copy is not None:
                try:
                    keep_copy(to_bytes(email, utf8=True))
                except Exception as exc:  # the email went out; only the copy is missing
                    log.warning("could not keep a copy of %s: %s", email.message_id, exc)

        self.mailer.send_batch([email for email, _ in batch], on_result=record)
        return report

    # -- choosing and building ------------------------------------------------
    def _standalone(self, row: OutboxRow, now: datetime,
                    report: DispatchReport) -> list[tuple[OutgoingEmail, list[OutboxRow]]]:
        """A digest, an alert or a sign-in link: rendered when queued, about no referral."""
        if self._facts.contact(row.recipient).get("undeliverable"):
            self.store.update_outbox(row.id, status="skipped", detail="address bounced")
            return []
        if row.kind == "digest" and self._facts.opted_out(row.recipient, 0):
            self.store.update_outbox(row.id, status="skipped", detail="recipient said stop")
            return []
        try:
            content = json.loads(row.payload)
            assert row.message_id, "digests and alerts get their Message-ID when queued"
            email = OutgoingEmail(
                row.message_id, Address(self.config.tracker, "mailflow"),
                (Address(row.recipient),), content["subject"], content["text"], now,
                html=content.get("html"), loop_value=row.kind, outbox_id=row.id)
        except Exception as exc:
            self.store.update_outbox(row.id, status="failed",
                                     detail=f"error: {type(exc).__name__}: {exc}"[:500])
            report.failed += 1
            return []
        return [(email, [row])]

    def _skip(self, row: OutboxRow, why: str, now: datetime, status: str = "skipped") -> None:
        self.store.update_outbox(row.id, status=status, detail=why)
        self.store.add_event(row.referral_id, now, status, "mailflow",
                             f"{row.step} to {row.recipient}: {why}")

    def _sendable(self, rows: list[OutboxRow], now: datetime) -> list[OutboxRow]:
        kept = []
        for row in rows:
            referral = self._referral(row.referral_id)
            if row.recipient not in (referral.referrer, referral.client, referral.partner):
                self._skip(row, "no longer a party to the referral", now)
            elif (self._facts.opted_out(row.recipient, row.referral_id)
                  and not (row.is_notice and row.step == "confirm")):  # the answer to "stop"
                self._skip(row, "recipient said stop", now)
            elif self._facts.contact(row.recipient).get("undeliverable"):
                self._skip(row, "address bounced", now)
            elif (not row.is_notice and self._facts.sent_count(row.referral_id)
                  >= self.config.workflow.max_per_referral):
                self._skip(row, f"send budget of {self.config.workflow.max_per_referral} "
                                "emails for this referral used", now)
            else:
                kept.append(row)
        return kept

    def _grace(self, row: OutboxRow) -> tuple[float, str]:
        step = self._steps.get(row.step)
        return (step.grace_amount, step.grace_unit) if step else (2, "business days")

    def _timely(self, rows: list[OutboxRow], now: datetime,
                report: DispatchReport) -> list[OutboxRow]:
        """Steps still worth sending: not past their grace period, not superseded.

        A step later than its grace is recorded as missed; of several due steps to one
        person about one referral only the latest is sent, the others are superseded.
        """
        fresh = []
        for row in rows:
            amount, unit = self._grace(row)
            deadline = self.calendar.add(row.due_at, amount, unit)
            if now > deadline:
                due = row.due_at.astimezone(self.config.timezone).strftime("%a %d %b %H:%M")
                self._skip(row, f"due {due}, more than {amount:g} {unit} ago", now, "missed")
                report.missed += 1
            else:
                fresh.append(row)
        latest: dict[int, OutboxRow] = {}
        for row in fresh:
            if row.referral_id not in latest or (row.due_at, row.id) >= (
                    latest[row.referral_id].due_at, latest[row.referral_id].id):
                latest[row.referral_id] = row
        for row in fresh:
            if latest[row.referral_id] is not row:
                self._skip(row, f"superseded by {latest[row.referral_id].step}", now,
                           "superseded")
                report.superseded += 1
        return [row for row in fresh if latest[row.referral_id] is row]

    def _day_start(self, now: datetime) -> datetime:
        local = now.astimezone(self.config.timezone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

    def _guarded_emails_for(self, recipient: str, rows: list[OutboxRow], now: datetime,
                            report: DispatchReport
                            ) -> list[tuple[OutgoingEmail, list[OutboxRow]]]:
        """One person's emails; a failure here fails their rows only, with the reason."""
        try:
            with self.store.atomic():
                return self._emails_for(recipient, rows, now, report)
        except Exception as exc:
            log.exception("could not prepare the emails to %s", recipient)
            for row in rows:
                self.store.update_outbox(row.id, status="failed",
                                         detail=f"error: {type(exc).__name__}: {exc}"[:500])
            report.failed += len(rows)
            return []

    def _emails_for(self, recipient: str, rows: list[OutboxRow], now: datetime,
                    report: DispatchReport) -> list[tuple[OutgoingEmail, list[OutboxRow]]]:
        rows = self._sendable(rows, now)
        open_now = self.calendar.is_open(now)
        notices = [r for r in rows if r.is_notice and (open_now or r.step in ANSWER_NOTICES)]
        emails = self._notice_emails(recipient, notices, now, report)
        # answers to what the person just did go out at once, any hour, beyond the daily cap
        responses = self._timely([r for r in rows if r.step in RESPONSE_STEPS], now, report)
        regular = [r for r in rows if not r.is_notice and r.step not in RESPONSE_STEPS]
        if regular and not open_now:
            regular = []  # still pending: they go out when business hours begin
        regular = self._timely(regular, now, report)
        if regular and (self._facts.sent_today.get(recipient, 0)
                        >= self.config.workflow.max_per_recipient_per_day):
            tomorrow = self.calendar.next_opening(self._day_start(now) + timedelta(days=1))
            for row in regular:
                self.store.update_outbox(row.id, due_at=tomorrow)
            report.deferred += len(regular)
            regular = []
        emails.extend(self._one_email(recipient, responses + regular, now))
        return emails

    def _notice_emails(self, recipient: str, notices: list[OutboxRow], now: datetime,
                       report: DispatchReport) -> list[tuple[OutgoingEmail, list[OutboxRow]]]:
        """Notices one by one up to the daily cap; beyond it the rest folded into one email."""
        if not notices:
            return []
        cap = self.config.workflow.max_notices_per_recipient_per_day
        allowed = cap - self._facts.notices_today.get(recipient, 0)
        if allowed <= 0:
            tomorrow = self._day_start(now) + timedelta(days=1)
            for row in notices:
                self.store.update_outbox(row.id, due_at=tomorrow)
            report.deferred += len(notices)
            return []
        singles = notices if len(notices) <= allowed else notices[:allowed - 1]
        emails = [e for e in (self._single(r, now) for r in singles) if e is not None]
        emails.extend(self._one_email(recipient, notices[len(singles):], now))
        return emails

    def _one_email(self, recipient: str, rows: list[OutboxRow],
                   now: datetime) -> list[tuple[OutgoingEmail, list[OutboxRow]]]:
        """`rows` as one email: the step itself when alone, else a combined email."""
        if not rows:
            return []
        email = (self._single(rows[0], now) if len(rows) == 1
                 else self._combined(recipient, rows, now))
        return [email] if email is not None else []

    def _context(self, row: OutboxRow, now: datetime) -> dict[str, Any]:
        referral = self._referral(row.referral_id)
        context = referral_context(self._facts, referral, row.recipient, self.config.tracker,
                                   now, self.config.timezone)
        if row.is_notice:
            context.update(json.loads(row.payload or "{}"))
        return context

    def _template(self, row: OutboxRow) -> str:
        if row.is_notice:
            # a notice queued before templates per kind (an upgraded database) has its text
            return "notice" if '"body"' in row.payload else f"notice_{row.step}"
        step = next((s for s in self.config.workflow.steps if s.name == row.step), None)
        return step.template if step else row.step

    def _render_failed(self, row: OutboxRow, exc: Exception, now: datetime) -> None:
        log.error("R-%s %s to %s: template failed: %s", row.referral_id, row.step,
                  row.recipient, exc)
        self.store.update_outbox(row.id, status="failed", detail=f"template: {exc}")
        self.store.add_event(row.referral_id, now, "send-failed", "mailflow",
                             f"{row.step}: template: {exc}")

    def _single(self, row: OutboxRow,
                now: datetime) -> tuple[OutgoingEmail, list[OutboxRow]] | None:
        referral = self._referral(row.referral_id)
        try:
            rendered = self.renderer.render(self._template(row), self._context(row, now))
        except Exception as exc:  # one email's data or template fails that email alone
            self._render_failed(row, exc, now)
            return None
        subject = rendered.subject
        if f"[{referral.tag}]" not in subject:
            subject = f"[{referral.tag}] {subject}"
        message_id = row.message_id or mint(
            f"r{referral.id}.{self._step_name(row)}.{row.id}", self.installation,
            self.config.tracker)
        email = OutgoingEmail(
            message_id=message_id, sender=Address(self.config.tracker, "mailflow"),
            to=(self._address(referral, row.recipient),), subject=subject, text=rendered.text,
            html=rendered.html, date=now, reply_to=Address(self._reply_to(referral.id,
                                                                          row.recipient)),
            in_reply_to=referral.intro_message_id or None,
            references=(referral.intro_message_id,) if referral.intro_message_id else (),
            loop_value=referral.tag, outbox_id=row.id)
        self.store.update_outbox(row.id, message_id=message_id)
        return email, [row]

    def _combined(self, recipient: str, rows: list[OutboxRow],
                  now: datetime) -> tuple[OutgoingEmail, list[OutboxRow]] | None:
        items, kept = [], []
        for row in rows:
            try:
                rendered = self.renderer.render(self._template(row), self._context(row, now))
            except Exception as exc:
                self._render_failed(row, exc, now)
                continue
            items.append({"tag": f"R-{row.referral_id}", "subject": rendered.subject,
                          "text": _body_only(rendered.text)})
            kept.append(row)
        if not kept:
            return None
        first = self._referral(kept[0].referral_id)
        context = referral_context(self._facts, first, recipient, self.config.tracker, now,
                                   self.config.timezone)
        context["items"] = items
        rendered = self.renderer.render("combined", context)
        digest = hashlib.sha256(",".join(str(r.id) for r in kept).encode()).hexdigest()[:10]
        message_id = kept[0].message_id or mint(f"c{kept[0].id}.{digest}", self.installation,
                                                self.config.tracker)
        for row in kept:
            self.store.update_outbox(row.id, message_id=message_id)
        email = OutgoingEmail(
            message_id=message_id, sender=Address(self.config.tracker, "mailflow"),
            to=(self._address(first, recipient),), subject=rendered.subject,
            text=rendered.text, date=now, reply_to=Address(self.config.tracker),
            loop_value="combined")
        return email, kept

    def _step_name(self, row: OutboxRow) -> str:
        """The step as Message-IDs and logs name it: a notice is `notice.<kind>.<n>`."""
        if not row.is_notice:
            return row.step
        return f"notice.{row.step}.{self.store.notice_number(row.id)}"

    def _address(self, referral: Any, email: str) -> Address:
        who = person(self._facts, referral, email)
        return Address(email, who["name"] if who else "")

    def _reply_to(self, referral_id: int, recipient: str) -> str:
        if self.config.reply_tokens == "plus":
            return reply_address(self.config.tracker, self.secret, referral_id, recipient)
        return self.config.tracker

    # -- results --------------------------------------------------------------
    def _record(self, email: OutgoingEmail, rows: list[OutboxRow], status: str, detail: str,
                now: datetime, report: DispatchReport) -> None:
        for row in rows:  # in the caller's transaction, one per email
            self._record_row(row, status, detail, now, report)
        if status == "sent":
            tags = ", ".join(f"R-{r.referral_id}" for r in rows if r.referral_id)
            report.sent.append((email.to[0].email, tags, ", ".join(r.step for r in rows)))

    def _record_row(self, row: OutboxRow, status: str, detail: str, now: datetime,
                    report: DispatchReport) -> None:
        about = f"R-{row.referral_id} {row.step}" if row.referral_id else row.kind
        if status == "sent":
            self.store.update_outbox(row.id, status="sent", sent_at=now, detail="")
            log.info("%s sent to %s", about, row.recipient)
        elif status == "retry":
            wait = min(timedelta(minutes=5) * 2 ** row.attempts, MAX_BACKOFF)
            self.store.update_outbox(row.id, attempts=row.attempts + 1, due_at=now + wait,
                                     detail=detail)
            report.retried += 1
            log.warning("%s to %s: will retry in %s: %s", about, row.recipient, wait, detail)
        else:
            self.store.update_outbox(row.id, status="failed", detail=detail)
            report.failed += 1
            log.error("%s to %s failed: %s", about, row.recipient, detail)
        if not row.referral_id or status == "retry":
            return
        if status == "sent":
            self.store.add_event(row.referral_id, now, "sent", "mailflow",
                                 f"{row.step} to {row.recipient}")
            return
        self.store.add_event(row.referral_id, now, "send-failed", "mailflow",
                             f"{row.step} to {row.recipient}: {detail}")
        referral = self.store.referral(row.referral_id)
        if row.recipient != referral.referrer:
            queue_notice(self.store, Notify(referral.id, referral.referrer, "send-failed",
                                            {"address": row.recipient, "error": detail},
                                            once=True), now)

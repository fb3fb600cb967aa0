"""Sending what is due: render, group per recipient, respect the limits, record results."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from mailflow.adapters.mailer import Mailer
from mailflow.adapters.renderer import Renderer
from mailflow.adapters.store import OutboxRow, Store
from mailflow.app.executor import queue_notice
from mailflow.app.planning import party_calendars
from mailflow.app.readers import Reader, reader_of
from mailflow.app.send_facts import SendFacts
from mailflow.app.template_context import person, referral_context
from mailflow.config import Config
from mailflow.core.business_time import BusinessCalendar
from mailflow.core.compose import to_bytes
from mailflow.core.decisions import undo_offered
from mailflow.core.message_ids import mint
from mailflow.core.model import Address, Referral
from mailflow.core.outgoing import OutgoingEmail, SendResult
from mailflow.core.send_choice import (
    COMBINE,
    DEFER,
    MISSED,
    SEND,
    STANDALONE,
    SUPERSEDED,
    WAIT,
    Choice,
    SendPolicy,
    Verdict,
    choose,
    failure_notice,
)
from mailflow.core.tokens import reply_address
from mailflow.core.vocabulary import help_words
from mailflow.core.workflow import CONSENT_STEPS, INTRODUCTION, StepConfig
from mailflow.errors import SendError

log = logging.getLogger("mailflow.app.dispatch")
MAX_BACKOFF = timedelta(hours=6)
SLICE_ROWS = 5_000  # due rows a send prepares at a time (some 3 kB of memory each)


def slices_of(due: Sequence[tuple[int, str]], limit: int) -> list[list[int]]:
    """The ids of `due` ((id, recipient) in due order) in slices of whole recipients, taken
    in the order they first come: each slice the next recipients whose rows together stay
    within `limit`, or one recipient's alone when theirs are more."""
    theirs: dict[str, list[int]] = {}
    for row_id, recipient in due:
        theirs.setdefault(recipient, []).append(row_id)
    slices: list[list[int]] = []
    current: list[int] = []
    for ids in theirs.values():
        if current and len(current) + len(ids) > limit:
            slices.append(current)
            current = []
        current.extend(ids)
    return [*slices, current] if current else slices


def _body_only(text: str) -> str:
    """A step's text without its greeting and sign-off, for listing in a combined email."""
    lines = text.strip().splitlines()
    # the greeting, in any language: a short first line ending in a comma or colon, alone
    if (len(lines) > 1 and len(lines[0]) <= 60 and lines[0].rstrip().endswith((",", ":"))
            and not lines[1].strip()):
        lines = lines[1:]
    if lines and lines[-1].startswith("\u2014 mailflow"):
        lines = lines[:-1]
    body = "\n".join(lines).strip()
    # German and Dutch go on in lower case after the greeting's comma: not once it is gone
    return body[:1].upper() + body[1:]


def _html_body(html: str) -> str | None:
    """What lies inside an HTML document's body, to be shown within a combined email."""
    match = re.search(r"<body[^>]*>(.*)</body>", html, re.DOTALL | re.IGNORECASE)
    return (match.group(1) if match else html).strip() or None


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
        workflow = self.config.workflow
        return {s.name: s for s in (*workflow.steps, *workflow.received_steps,
                                    *CONSENT_STEPS)}

    @property
    def _policy(self) -> SendPolicy:
        workflow = self.config.workflow
        partners = self._known.partners if self._known is not None else {}
        return SendPolicy(self.calendar, self._steps, workflow.max_per_referral,
                          workflow.max_per_recipient_per_day,
                          workflow.max_notices_per_recipient_per_day, workflow.answer_within,
                          workflow.grace, party_calendars(self.config, partners))

    def send_due(self, now: datetime, keep_copy: Callable[[bytes], None] | None = None,
                 kinds: frozenset[str] | None = None) -> DispatchReport:
        """Send what is due (of `kinds` only, when given); `keep_copy` files each sent email
        (the IMAP Sent folder).

        The facts are read, `core.send_choice` gives each due row its verdict, the verdicts
        are written, and each email is recorded as soon as the mailer reports on it, in its
        own transaction: a crash mid-batch resends at most the one email in flight.

        A large send goes in slices of whole recipients (their rows are chosen together),
        each read, chosen, prepared and sent before the next is read, so that a backlog's
        many recipients are not all in memory at once (the first run over the 10,000
        messages of bench/ingest.py prepares 6,100 due rows: some 20 MB at once). Which
        rows are due is read once, as ids: at 100,000 messages, reading all due rows again
        for each slice was 0.36 s of the send.
        A slice sees what the slices before it sent, as the next cycle would (a referral's
        send budget, a step another waits for); rows queued meanwhile wait for that cycle.
        Should the mailer become unusable after a slice went, the send stops there and
        what is left stays due.
        """
        report = DispatchReport()
        # the rows due when the send began, read once (ids and recipients only): rows
        # queued meanwhile wait for the next cycle
        slices = slices_of([(row_id, recipient) for row_id, recipient, kind
                            in self.store.due_keys(now) if kinds is None or kind in kinds],
                           SLICE_ROWS)
        for number, ids in enumerate(slices):
            with self.store.atomic():  # Message-IDs are on record before anything is sent
                rows = self.store.still_due(ids, now)
                batch = self._prepare(rows, now, report) if rows else []
            try:
                self._send(batch, now, keep_copy, report)
            except SendError as exc:
                if number == 0:
                    raise  # nothing went before this slice: the cycle fails as it always did
                log.warning("sending stopped after %s emails, the rest waits for the next "
                            "cycle: %s", len(report.sent), exc)
                return report
        return report

    def _prepare(self, due: list[OutboxRow], now: datetime, report: DispatchReport
                 ) -> list[tuple[OutgoingEmail, list[OutboxRow]]]:
        """The verdicts on `due` written, and the emails they make."""
        self._known = SendFacts.read(self.store, due, self._day_start(now))
        choice = self._choose(due, now)
        for row in due:
            self._apply(row, choice.verdicts.get(row.id), now, report)
        rows = {r.id: r for r in due}
        batch: list[tuple[OutgoingEmail, list[OutboxRow]]] = []
        for ids in choice.emails:
            batch.extend(self._guarded_email([rows[i] for i in ids], now, report))
        return batch

    def _send(self, batch: list[tuple[OutgoingEmail, list[OutboxRow]]], now: datetime,
              keep_copy: Callable[[bytes], None] | None, report: DispatchReport) -> None:
        if not batch:
            return

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

    def _choose(self, due: list[OutboxRow], now: datetime) -> Choice:
        """The verdicts; should the choice fail on some row, each person's rows are chosen
        on their own, and a person whose choice fails keeps their rows due for the next
        cycle: one bad row never stops everyone's mail."""
        assert self._known is not None
        try:
            return choose(due, self._known.for_choice(due), self._policy, now)
        except Exception:
            log.exception("the send choice failed; choosing for each person on their own")
        merged = Choice()
        by_person: dict[str, list[OutboxRow]] = {}
        for row in due:
            by_person.setdefault(row.recipient, []).append(row)
        for recipient, rows in by_person.items():
            try:
                alone = choose(rows, self._known.for_choice(rows), self._policy, now)
            except Exception:
                log.exception("no email to %s this cycle: the send choice failed on their "
                              "rows", recipient)
                continue
            merged.verdicts.update(alone.verdicts)
            merged.emails.extend(alone.emails)
        return merged

    # -- applying the choice --------------------------------------------------
    def _apply(self, row: OutboxRow, verdict: Verdict | None, now: datetime,
               report: DispatchReport) -> None:
        """Write what the choice decided about a row that is not sent now."""
        if verdict is None or verdict.action in (SEND, COMBINE, WAIT):
            return
        if verdict.action == DEFER:
            self.store.update_outbox(row.id, due_at=verdict.until)
            report.deferred += 1
            return
        if not row.referral_id:  # a digest: about no referral, so no event
            self.store.update_outbox(row.id, status=verdict.action, detail=verdict.reason)
            return
        self._skip(row, verdict.reason, now, verdict.action)
        report.missed += verdict.action == MISSED
        report.superseded += verdict.action == SUPERSEDED

    def _skip(self, row: OutboxRow, why: str, now: datetime, status: str = "skipped") -> None:
        self.store.update_outbox(row.id, status=status, detail=why)
        self.store.add_event(row.referral_id, now, status, "mailflow",
                             f"{row.step} to {row.recipient}: {why}")

    def _day_start(self, now: datetime) -> datetime:
        local = now.astimezone(self.config.timezone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

    def _guarded_email(self, rows: list[OutboxRow], now: datetime, report: DispatchReport
                       ) -> list[tuple[OutgoingEmail, list[OutboxRow]]]:
        """One email; a failure here fails its rows only, with the reason."""
        try:
            with self.store.atomic():
                if len(rows) == 1 and rows[0].kind in STANDALONE:
                    return self._standalone(rows[0], now, report)
                return self._one_email(rows[0].recipient, rows, now)
        except Exception as exc:
            log.exception("could not prepare the email to %s", rows[0].recipient)
            for row in rows:
                self.store.update_outbox(row.id, status="failed",
                                         detail=f"error: {type(exc).__name__}: {exc}"[:500])
            report.failed += len(rows)
            return []

    # -- building -------------------------------------------------------------
    def _standalone(self, row: OutboxRow, now: datetime,
                    report: DispatchReport) -> list[tuple[OutgoingEmail, list[OutboxRow]]]:
        """A digest, an alert or a sign-in link: rendered when queued, about no referral."""
        try:
            content = json.loads(row.payload)
            assert row.message_id, "digests and alerts get their Message-ID when queued"
            email = OutgoingEmail(
                row.message_id, Address(self.config.tracker, "mailflow"),
                (Address(row.recipient),), content["subject"], content["text"], now,
                html=content.get("html"), loop_value=row.kind, outbox_id=row.id,
                language=str(content.get("language") or "en"))
        except Exception as exc:
            self.store.update_outbox(row.id, status="failed",
                                     detail=f"error: {type(exc).__name__}: {exc}"[:500])
            report.failed += 1
            return []
        return [(email, [row])]

    def _one_email(self, recipient: str, rows: list[OutboxRow],
                   now: datetime) -> list[tuple[OutgoingEmail, list[OutboxRow]]]:
        """`rows` as one email: the step itself when alone, else a combined email."""
        if not rows:
            return []
        email = (self._single(rows[0], now) if len(rows) == 1
                 else self._combined(recipient, rows, now))
        return [email] if email is not None else []

    def _reader(self, referral: Referral | None, email: str) -> Reader:
        return reader_of(self.config, email, referral, self._facts.contact(email),
                         self._facts.partners.get(email))

    def _context(self, row: OutboxRow, now: datetime, reader: Reader,
                 written_in: str) -> dict[str, Any]:
        referral = self._referral(row.referral_id)
        context = referral_context(self._facts, referral, row.recipient, self.config.tracker,
                                   now, reader.zone, written_in, reader.locale(written_in),
                                   self._facts.first_contact(row.recipient))
        if row.is_notice:
            context.update(json.loads(row.payload or "{}"))
            context["undo_offer"] = undo_offered(context, now)
            if "reply_words" in context:  # the help notice: its words in its own language
                context["reply_words"] = help_words(written_in)
        return context

    def _template(self, row: OutboxRow) -> str:
        if row.is_notice:
            # a notice queued before templates per kind (an upgraded database) has its text
            return "notice" if '"body"' in row.payload else f"notice_{row.step}"
        step = self._steps.get(row.step)
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
        reader = self._reader(referral, row.recipient)
        name = self._template(row)
        written_in = self.renderer.language_of(name, reader.language.code)
        try:
            rendered = self.renderer.render(name, self._context(row, now, reader, written_in),
                                            written_in)
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
            loop_value=referral.tag, outbox_id=row.id, language=rendered.language,
            cc=self._copied(referral, row))
        self.store.update_outbox(row.id, message_id=message_id)
        return email, [row]

    def _copied(self, referral: Referral, row: OutboxRow) -> tuple[Address, ...]:
        """Who is copied: on the introduction to the partner, the client and the referrer
        (a reply-all reaches them both, and the tracker through Reply-To)."""
        if row.is_notice or row.step != INTRODUCTION:
            return ()
        return tuple(self._address(referral, e) for e in (referral.client, referral.referrer)
                     if e and e != row.recipient)

    def _combined(self, recipient: str, rows: list[OutboxRow],
                  now: datetime) -> tuple[OutgoingEmail, list[OutboxRow]] | None:
        items, kept = [], []
        about = next((r for r in rows if r.referral_id), None)
        first = self._referral(about.referral_id) if about else None
        reader = self._reader(first, recipient)  # one person, one language for all of it
        language = reader.language.code
        for row in rows:
            if row.kind in STANDALONE:  # the digest, rendered when queued
                content = json.loads(row.payload)
                items.append({"tag": "", "subject": content["subject"],
                              "text": _body_only(content["text"]),
                              "html": _html_body(content.get("html") or "")})
                kept.append(row)
                continue
            name = self._template(row)
            written_in = self.renderer.language_of(name, language)
            try:
                rendered = self.renderer.render(
                    name, self._context(row, now, reader, written_in), written_in)
            except Exception as exc:
                self._render_failed(row, exc, now)
                continue
            tag = f"R-{row.referral_id}"
            items.append({"tag": tag, "subject": rendered.subject.removeprefix(f"[{tag}] "),
                          "text": _body_only(rendered.text), "html": None})
            kept.append(row)
        if not kept:
            return None
        written_in = self.renderer.language_of("combined", language)
        context: dict[str, Any] = {"recipient": {"email": recipient, "first_name": ""}}
        if first is not None:
            context = referral_context(self._facts, first, recipient, self.config.tracker,
                                       now, reader.zone, written_in,
                                       reader.locale(written_in))
        context["items"] = items
        rendered = self.renderer.render("combined", context, written_in)
        digest = hashlib.sha256(",".join(str(r.id) for r in kept).encode()).hexdigest()[:10]
        message_id = kept[0].message_id or mint(f"c{kept[0].id}.{digest}", self.installation,
                                                self.config.tracker)
        for row in kept:
            self.store.update_outbox(row.id, message_id=message_id)
        email = OutgoingEmail(
            message_id=message_id, sender=Address(self.config.tracker, "mailflow"),
            to=(self._address(first, recipient) if first else Address(recipient),),
            subject=rendered.subject, text=rendered.text, html=rendered.html, date=now,
            reply_to=Address(self.config.tracker), loop_value="combined",
            language=rendered.language)
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
        notice = failure_notice(row, self._referral(row.referral_id).referrer, detail)
        if notice is not None:
            queue_notice(self.store, notice, now)

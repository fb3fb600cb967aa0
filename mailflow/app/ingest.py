"""Reading new mail: each message parsed, classified and recorded in one transaction."""

from __future__ import annotations

import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mailflow.adapters.mailbox import RESUMABLE, FetchedMessage, MailboxSource
from mailflow.adapters.store import Store
from mailflow.app.inbound import Handler
from mailflow.app.parse_ahead import Outcome, ParsePool, ReadingRules, fetch_ahead
from mailflow.core.model import Classification, Kind
from mailflow.core.parse import MalformedMessage, parse_message
from mailflow.core.reading import Reading

log = logging.getLogger("mailflow.app.ingest")


PHASES = ("fetch", "parse", "classify", "record", "commit", "move")


@dataclass
class IngestReport:
    fetched: int = 0
    downloaded: int = 0  # bytes of the messages as fetched (large ones: text parts only)
    duplicates: int = 0
    history: int = 0  # intros a first run found old: recorded, never chased
    by_kind: dict[str, int] = field(default_factory=dict)
    # seconds per phase; "fetch" is the time spent waiting for the mailbox and the parsing
    # process (a batch they finished while the previous one was handled costs nothing)
    phases: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PHASES, 0.0))

    def count(self, kind: str) -> None:
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.phases[phase] += time.perf_counter() - started


@dataclass(frozen=True)
class Folders:
    processed: str | None
    quarantine: str


def _raw_id(raw: bytes) -> str:
    return "sha256-" + hashlib.sha256(raw).hexdigest()[:32] + "@mailflow.invalid"


def _history_before(store: Store, first_run: bool, now: datetime,
                    history_after: timedelta) -> datetime | None:
    """On a first run, intros dated before this are history; kept until the run completes,
    so a first run killed half-way goes on with the same rule."""
    stored = store.meta("history_before")
    if stored:
        return datetime.fromisoformat(stored)
    if not first_run:
        return None
    cutoff = now - history_after
    with store.atomic():
        store.set_meta("history_before", cutoff.isoformat())
    return cutoff


def ingest(mailbox: MailboxSource, handler: Handler, folders: Folders, now: datetime,
           batch_size: int = 200, since: datetime | None = None,
           progress: Callable[[int], None] | None = None,
           history_after: timedelta = timedelta(days=14),
           overlap: bool = True, pool: ParsePool | None = None,
           meanwhile: Callable[[], object] | None = None) -> IngestReport:
    """Fetch everything above the stored cursor; record, then move, then advance the cursor.

    A crash between any two of these steps is harmless: a re-fetched message is
    recognised by its Message-ID and only moved. On a first run (no cursor yet) intros
    older than `history_after` are recorded as history. With `overlap`, when there is
    more than one batch, the next ones are fetched and parsed in worker processes
    (`pool`, made here when not given) while this one is handled, and moves are made in
    a thread; bench/ingest.py measures both ways. `meanwhile` (the cycle's planning) runs
    while the last moves are made; the cursor follows them.
    """
    store = handler.store
    report = IngestReport()
    cursor = store.cursor(mailbox.folder)
    # a first run: no cursor and nothing ever read (a Maildir source never has a cursor)
    first_run = cursor is None and not store.has_messages()
    handler.history_before = _history_before(store, first_run, now, history_after)
    resumable = RESUMABLE in mailbox.capabilities
    batches = mailbox.batches(cursor if resumable else None, batch_size)
    parsing = (pool or ParsePool()) if overlap else ParsePool(broken=True)
    rules = ReadingRules(handler.trackers.addresses, now.date())
    stream = fetch_ahead(mailbox, batches, parsing, rules)
    moves = PendingMoves(mailbox, store, report, resumable, background=overlap)
    handler.defer_summaries(True)  # written once per batch, before its commit
    try:
        while True:
            with report.timed("fetch"):  # waiting for the mailbox, or for the parser
                parsed = next(stream, None)
            if parsed is None:
                break
            _handle_batch(parsed.messages, parsed.outcomes, mailbox, handler, folders, now,
                          since, report, moves, parsed.fetched_all)
            if report.fetched == len(parsed.messages):
                log.debug("phase: first batch handled")
            if progress is not None:
                progress(report.fetched)
        log.debug("phase: last message handled")
        moves.flush()
        if meanwhile is not None:
            meanwhile()
        moves.finish()
    finally:
        handler.defer_summaries(False)
        moves.close()
        if parsing is not pool:
            parsing.close()
    if report.history:
        log.info("%s earlier intros recorded as history: not followed up", report.history)
    if handler.history_before is not None:
        with store.atomic():
            store.delete_meta("history_before")
        handler.history_before = None
    return report


class PendingMoves:
    """Moves out of the inbox, and the cursor that may only follow them, gathered over
    batches and made in a thread while the next batches are handled.

    On Dovecot a MOVE costs time that grows with the whole folder (50 ms at 10k messages,
    0.37 s at 100k), so a move per batch made a 100k backlog quadratic (bench/ingest.py
    --scale). Flushing once as many are pending as were moved before keeps the number of
    moves logarithmic. The server does the work of a MOVE (a 4,000-message one: 0.4 s,
    0.05 s of it ours); moves queue behind each other in the thread, and the cursor is
    written here after each has ended, in order (seen at each batch, and waited for at
    the end). A crash before that costs only a re-fetch of what was recorded: each
    message is known by its Message-ID and just moved.

    The first flush waits for AT_LEAST moves: while Dovecot moves, the parsing processes'
    fetches from the same folder wait (at 10k, flushes at 1,000, 2,000, 4,000 and 8,000
    stalled them 0.25 s in all). A backlog of up to 10,000 is now moved once, at the end,
    while the cycle plans (bench/ingest.py: fetch wait 0.44-0.53 -> 0.34-0.38 s).
    """

    AT_LEAST = 10_000

    def __init__(self, mailbox: MailboxSource, store: Store, report: IngestReport,
                 resumable: bool, background: bool = True) -> None:
        self.mailbox, self.store, self.report, self.resumable = (mailbox, store, report,
                                                                 resumable)
        self.by_folder: dict[str, list[str]] = {}
        self.cursor: str | None = None
        self.pending = self.moved = 0
        self._mover = (ThreadPoolExecutor(max_workers=1, thread_name_prefix="mailflow-move")
                       if background else None)
        # moves queued for the thread, in order, each with the cursor that may follow it
        self._in_flight: deque[tuple[Future[None], str | None]] = deque()
        self._moved_early = False

    def add(self, key: str, destination: str | None) -> None:
        if destination:
            self.by_folder.setdefault(destination, []).append(key)
            self.pending += 1

    def batch_done(self, cursor: str | None, fetched_all: bool = False) -> None:
        """`fetched_all`: nothing is left to fetch from the folder, so a move made now
        stalls no fetch: what is pending is moved then, while the last batches are
        handled, instead of after them."""
        self.cursor = cursor or self.cursor
        self._advance_past_ended()
        early = fetched_all and not self._moved_early
        self._moved_early = self._moved_early or fetched_all
        if early or self.pending >= max(self.AT_LEAST, self.moved):
            self.flush()

    def flush(self) -> None:
        """Start moving what is pending, behind the moves still under way."""
        by_folder, cursor = self.by_folder, self.cursor
        self.moved += self.pending
        self.by_folder, self.pending = {}, 0
        if self._mover is None:
            with self.report.timed("move"):
                self._move(by_folder)
            self._advance(cursor)
        else:  # (nothing to move: queued all the same, so that the cursor waits its turn)
            self._in_flight.append((self._mover.submit(self._move, by_folder), cursor))

    def finish(self) -> None:
        """Everything moved and the cursor after it: the end of a run."""
        self.flush()
        self._wait()

    def close(self) -> None:
        """Let a move in flight end (a run that failed: no cursor is written)."""
        if self._mover is not None:
            self._mover.shutdown(wait=True)

    def _move(self, by_folder: dict[str, list[str]]) -> None:
        for destination, keys in by_folder.items():
            self.mailbox.move(keys, destination)

    def _advance_past_ended(self) -> None:
        """The cursor after each move that has ended, in their order."""
        while self._in_flight and self._in_flight[0][0].done():
            self._wait_for_next()

    def _wait(self) -> None:
        with self.report.timed("move"):  # only the time this thread waits for the server
            while self._in_flight:
                self._wait_for_next()

    def _wait_for_next(self) -> None:
        moving, cursor = self._in_flight.popleft()
        moving.result()  # a move that failed is raised here, and no cursor written after it
        self._advance(cursor)

    def _advance(self, cursor: str | None) -> None:
        if self.resumable and cursor:
            with self.store.atomic():
                self.store.set_cursor(self.mailbox.folder, cursor)


@dataclass
class KnownIds:
    """Which Message-IDs are on record, for one batch: those read already were read in one
    query for the whole batch, and this batch's own records are added as they are made.

    Only ingest records messages, and the batch holds the write lock, so this is exactly
    what asking the store for each message would say.
    """

    asked: set[str]  # read from the store at the start of the batch
    before: set[str]  # of those, the ones on record then
    since: set[str] = field(default_factory=set)  # recorded by this batch (savepoint done)

    @classmethod
    def read(cls, store: Store, outcomes: list[Outcome]) -> KnownIds:
        asked = {o.message.message_id for o in outcomes if isinstance(o, Reading)}
        return cls(asked, store.seen_messages(sorted(asked)))

    def seen(self, store: Store, message_id: str) -> bool:
        if message_id in self.since:
            return True
        if message_id in self.asked:
            return message_id in self.before
        return store.seen_message(message_id) is not None  # parsed here: not asked yet


def _handle_batch(batch: list[FetchedMessage], outcomes: list[Outcome],
                  mailbox: MailboxSource, handler: Handler, folders: Folders, now: datetime,
                  since: datetime | None, report: IngestReport, moves: PendingMoves,
                  fetched_all: bool = False) -> None:
    """One commit for the batch (each message in its own savepoint); its moves are queued."""
    store = handler.store
    with store.atomic():
        known = KnownIds.read(store, outcomes)
        for fetched, outcome in zip(batch, outcomes, strict=True):
            report.fetched += 1
            report.downloaded += len(fetched.raw)
            moves.add(fetched.key, handle_fetched(fetched, mailbox, handler, folders, now,
                                                  since, report, outcome, known))
        handler.before_commit()
        committing = time.perf_counter()
    report.phases["commit"] += time.perf_counter() - committing  # the COMMIT itself
    moves.batch_done(batch[-1].cursor, fetched_all)


def handle_fetched(fetched: FetchedMessage, mailbox: MailboxSource, handler: Handler,
                   folders: Folders, now: datetime, since: datetime | None,
                   report: IngestReport, outcome: Outcome = None,
                   known: KnownIds | None = None) -> str | None:
    """Handle one message; whatever goes wrong, it is kept and recorded, never lost.

    The guard starts at the raw bytes: parsing, the duplicate lookup and the handler all
    run inside it, in one savepoint, so a failure anywhere leaves no half-written trace.
    `outcome` is what a parsing process made of the bytes already (None: parse here);
    `known`, the batch's Message-IDs on record (None: the store is asked).
    """
    store = handler.store
    if fetched.parts_omitted:  # logged here: the parsing process may have fetched it
        log.info("%s is large: read in part (its headers and text)", fetched.key)
    try:
        with store.atomic(whole=True):  # the blocks inside take no savepoint of their own
            destination, recorded = _handle(fetched, mailbox, handler, folders, now, since,
                                            report, outcome, known)
        handler.message_ended(kept=True)
        if known is not None and recorded is not None:
            known.since.add(recorded)
        return destination
    except Exception as exc:  # a bug on one message must not stop the queue
        handler.message_ended(kept=False)
        reason = (f"malformed: {exc}" if isinstance(exc, MalformedMessage)
                  else f"error: {type(exc).__name__}: {exc}")
        if isinstance(exc, MalformedMessage):
            log.warning("%s quarantined: %s", fetched.key, reason)
        else:
            log.exception("%s quarantined after an error", fetched.key)
        recorded = _quarantine(fetched, mailbox, store, now, reason[:500])
        if known is not None and recorded is not None:
            known.since.add(recorded)
        report.count(Kind.QUARANTINED)
        return folders.quarantine


def _quarantine(fetched: FetchedMessage, mailbox: MailboxSource, store: Store,
                now: datetime, reason: str) -> str | None:
    """Record a quarantined message under an id made from its bytes (its own may be bad);
    the id, or None when even that failed."""
    message_id = _raw_id(fetched.raw)
    try:
        with store.atomic():
            if store.seen_message(message_id) is None:
                store.record_message(message_id, mailbox.folder, fetched.key,
                                     Kind.QUARANTINED, reason, None, now)
    except Exception:  # even the record failed: the move to quarantine still keeps the mail
        log.exception("%s: could not record the quarantine", fetched.key)
        return None
    return message_id


def _handle(fetched: FetchedMessage, mailbox: MailboxSource, handler: Handler,
            folders: Folders, now: datetime, since: datetime | None, report: IngestReport,
            outcome: Outcome, known: KnownIds | None) -> tuple[str | None, str | None]:
    """Where the message goes, and the Message-ID it was recorded under (None: none)."""
    store = handler.store
    if isinstance(outcome, str):
        raise MalformedMessage(outcome)
    if outcome is not None:
        reading: Reading | None = outcome
        message = outcome.message
    else:
        with report.timed("parse"):
            message = parse_message(fetched.raw)
        reading = None  # read below, with the classification, once it is needed
    if (known.seen(store, message.message_id) if known is not None
            else store.seen_message(message.message_id) is not None):
        report.duplicates += 1
        return folders.processed, None
    if since is not None and message.date is not None and message.date < since:
        store.record_message(message.message_id, mailbox.folder, fetched.key,
                             Kind.IGNORED, "before-since: older than --since", None, now)
        report.count(Kind.IGNORED)
        return None, message.message_id
    # timed by hand: a context manager per phase costs a few microseconds a message
    started = time.perf_counter()
    result: Classification = handler.handle_reading(reading or handler.read(message, now), now)
    classified = time.perf_counter()
    store.record_message(message.message_id, mailbox.folder, fetched.key,
                         result.kind, result.reason, result.referral_id, now,
                         message.from_.email if message.from_ else None)
    report.phases["classify"] += classified - started
    report.phases["record"] += time.perf_counter() - classified
    report.count(result.kind)
    if result.reason.startswith("history:"):
        report.history += 1
    return folders.processed, message.message_id

"""Fetching and parsing the next batches in worker processes while this one handles the
current batch.

Fetching (the IMAP client's response parsing is pure Python), MIME parsing and the
store-free half of classification (core/reading.py: robot or person, the new text of a
reply, its reply word) need nothing but the mailbox, so on a backlog (more than one
batch) they run on other cores, each worker on a connection of its own. Run in this process's
threads instead, they took the GIL from the store's work and doubled its time. What
comes back is only data: the messages, and for each one a message as read, the reason it
is malformed, or None for "parse it yourself" (anything else that went wrong). A batch
the worker could not fetch is fetched here, and one whose worker died is fetched and
parsed here, inside the caller's per-message guard, so a hostile message that kills the
worker is handled exactly as it would have been without one.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import pickle
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date

from mailflow.adapters.mailbox import Batch, FetchedMessage, MailboxSource
from mailflow.core.parse import MalformedMessage, parse_message
from mailflow.core.reading import Reading, may_answer, read_message

log = logging.getLogger("mailflow.app.parse_ahead")

Outcome = Reading | str | None  # a message read, why it is malformed, or "parse it here"
WORKERS = 2
AHEAD = 3  # batches handed to the workers beyond the one being handled


@dataclass(frozen=True)
class ReadingRules:
    """What reading a message needs besides its bytes (Handler.read)."""

    own_addresses: tuple[str, ...]
    today: date


Parser = Callable[[list[bytes], ReadingRules], list[Outcome]]


def parse_outcomes(raws: list[bytes], rules: ReadingRules) -> list[Outcome]:
    """What the worker process does with the messages of one batch."""
    out: list[Outcome] = []
    for raw in raws:
        try:
            message = parse_message(raw)
            # the reply word only where a reply is likely: reading it costs more than the
            # parse on a long intro, and the handler reads it itself when it is missing
            out.append(read_message(message, rules.own_addresses, rules.today,
                                    read_command=may_answer(message)))
        except MalformedMessage as exc:
            out.append(str(exc))
        except Exception:  # reproduced, logged and quarantined by the caller's guard
            out.append(None)
    return out


@dataclass(frozen=True)
class WorkerRead:
    """What the worker sends back: the messages it fetched (None: it was sent them)."""

    messages: list[FetchedMessage] | None
    outcomes: list[Outcome]


def fetch_and_read(source: Batch | list[bytes], rules: ReadingRules,
                   parse: Parser) -> WorkerRead | str:
    """The worker's task: fetch a batch (or take the messages sent) and read them; a
    batch it cannot fetch is the reason why, and the caller fetches it."""
    if isinstance(source, list):
        return WorkerRead(None, parse(source, rules))
    try:
        messages = source.fetch()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return WorkerRead(messages, parse([m.raw for m in messages], rules))


def fetch_and_read_packed(source: Batch | list[bytes], rules: ReadingRules,
                          parse: Parser) -> bytes:
    """`fetch_and_read`, pickled here: the pool's result thread then only passes bytes on,
    and this process unpickles them in its own thread, when it needs them."""
    return pickle.dumps(fetch_and_read(source, rules, parse), pickle.HIGHEST_PROTOCOL)


def _yield_the_cpu() -> None:
    """A worker's niceness raised (deploy/mailflow.service allows setpriority for it)."""
    try:
        os.nice(10)
    except OSError:  # a sandbox that refuses it: the worker works at the usual priority
        log.debug("the parsing process keeps its priority", exc_info=True)


@dataclass(frozen=True)
class PendingAnswer:
    """A worker's answer, pickled there and unpickled by whoever asks for it."""

    future: Future[bytes]

    def done(self) -> bool:
        return self.future.done()

    def result(self) -> WorkerRead | str:
        packed = self.future.result()
        # the cyclic GC ran ~15 times over each batch's new objects while they were
        # unpickled: half of the 0.27 s it took at 10k. What comes out holds no cycles
        collecting = gc.isenabled()
        gc.disable()
        try:
            answer: WorkerRead | str = pickle.loads(packed)
        finally:
            if collecting:
                gc.enable()
        return answer


@dataclass
class ParsedBatch:
    messages: list[FetchedMessage]
    outcomes: list[Outcome]
    fetched_all: bool = False  # every batch after this one fetched already: none is left


@dataclass
class _Ahead:
    batch: Batch
    messages: list[FetchedMessage] | None  # fetched here already
    future: PendingAnswer | None  # None: fetched and parsed here, in its turn


class ParsePool:
    """Worker processes, started on the first batch that has a successor.

    Starting it (a forkserver, then the worker) takes a few hundred milliseconds, so it
    starts in a thread: until the worker has answered once, batches are fetched and
    parsed here. Once the worker failed to fetch a batch (another login refused, say),
    batches are fetched here and only parsed there.
    """

    def __init__(self, parse: Parser = parse_outcomes, broken: bool = False) -> None:
        self._parse = parse
        self._executor: ProcessPoolExecutor | None = None  # set once the worker answered
        self._starter: threading.Thread | None = None
        self.broken = broken  # True: every batch is fetched and parsed by the caller
        self.fetches = True  # False: the caller fetches, the worker only parses
        self.fetched_elsewhere = 0  # batches the worker fetched

    @property
    def ready(self) -> bool:
        return self._executor is not None and not self.broken

    def submit(self, source: Batch | list[FetchedMessage],
               rules: ReadingRules) -> PendingAnswer | None:
        """The batch (or its messages) handed to the worker, or None: do it yourself."""
        if not self.ready:
            self.start_soon()
            return None
        assert self._executor is not None
        task = [m.raw for m in source] if isinstance(source, list) else source
        try:
            return PendingAnswer(self._executor.submit(fetch_and_read_packed, task, rules,
                                                       self._parse))
        except Exception as exc:  # the pool broke meanwhile: parse in this process
            log.warning("parsing in this process only: %s", exc)
            self.broken = True
            return None

    def start_soon(self) -> None:
        """Start the worker in a thread, unless it is started or cannot be."""
        if self._starter is None and not self.broken:
            self._starter = threading.Thread(target=self.start, daemon=True,
                                             name="mailflow-parser-start")
            self._starter.start()

    def start(self) -> bool:
        """Start the process and wait until it answers; False when it cannot work here."""
        executor: ProcessPoolExecutor | None = None
        try:
            # forkserver: a clean child, never a fork of a process with threads running
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["mailflow.core.reading",
                                            "mailflow.adapters.imap_mailbox"])
            # two workers: one parses while the other waits for the server. Niced, so that
            # this process (the store's work, which only it can do) keeps its core: on two
            # cores that took bench/ingest.py at 10k from 4.3-4.8 s to 4.0-4.2 s
            executor = _Workers(max_workers=WORKERS, mp_context=context,
                                initializer=_yield_the_cpu)
            answer = executor.submit(fetch_and_read, [], ReadingRules((), date.min),
                                     self._parse).result()
            if answer != WorkerRead(None, []):
                raise RuntimeError("the parsing process answered nonsense")
        except Exception as exc:  # no second process here: parse in this one
            log.warning("parsing in this process only: %s", exc)
            self.broken = True
            if executor is not None:
                executor.shutdown(wait=False, cancel_futures=True)
            return False
        self._executor = executor
        return True

    def dispatch(self, mailbox: MailboxSource, batch: Batch,
                 rules: ReadingRules) -> _Ahead:
        """A batch queued: with the worker to fetch and read, or fetched here and sent
        to be read, or (no worker yet) left to be done here in its turn."""
        if not self.ready:
            self.start_soon()  # for the batches after this one
            return _Ahead(batch, None, None)
        if self.fetches:
            return _Ahead(batch, None, self.submit(batch, rules))
        messages = mailbox.fetch_batch(batch)
        return _Ahead(batch, messages, self.submit(messages, rules))

    def collect(self, mailbox: MailboxSource, ahead: _Ahead) -> ParsedBatch:
        """A queued batch's messages and outcomes, whatever happened to the worker."""
        answer = self._answer(ahead.future)
        if isinstance(answer, str) and self.fetches:  # said once: the batches in flight
            log.warning("the parsing process could not fetch a batch (%s); fetching in "
                        "this process from now on", answer)  # fail alike
            self.fetches = False
        messages = ahead.messages
        if isinstance(answer, WorkerRead) and answer.messages is not None:
            messages = answer.messages
            self.fetched_elsewhere += 1
        if messages is None:
            messages = mailbox.fetch_batch(ahead.batch)
        if not isinstance(answer, WorkerRead) or len(answer.outcomes) != len(messages):
            return ParsedBatch(messages, [None] * len(messages))
        return ParsedBatch(messages, answer.outcomes)

    def _answer(self, future: PendingAnswer | None) -> WorkerRead | str | None:
        if future is None:
            return None
        try:
            return future.result()
        except Exception as exc:  # the worker died (a crash, the OOM killer): parse here
            log.warning("the parsing process failed (%s); parsing in this process", exc)
            self.broken = True
            return None

    def close(self) -> None:
        if self._starter is not None:
            self._starter.join()
            self._starter = None
        if self._executor is not None:
            if self.broken:
                _kill_workers(self._executor)
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


class _Workers(ProcessPoolExecutor):
    """The pool's workers, started as batches come and never replaced.

    CPython 3.11 starts a worker from the thread that submits, while the pool's own thread
    may be walking its workers to shut a broken pool down: "dictionary changed size during
    iteration" in that thread (test_a_dead_worker_loses_nothing, once in a whole run of the
    suite). Nothing here is lost by never replacing one: a worker that dies breaks the
    pool, and this process parses from then on.
    """

    _spawned = 0

    def _spawn_process(self) -> None:
        if self._spawned < WORKERS:
            self._spawned += 1
            super()._spawn_process()  # type: ignore[misc]  # private in typeshed


def _kill_workers(executor: ProcessPoolExecutor) -> None:
    """The workers left in a pool that broke, killed so that shutting it down cannot hang.

    CPython 3.11 terminates the workers of a broken pool without the lock that spawning
    them takes: one spawned meanwhile (a batch submitted as the other worker died) was
    never told to stop, and the pool's own thread waited for it to exit forever, and so
    did `close` (test_a_dead_worker_loses_nothing, run in a loop: about 1 run in 20).
    """
    processes = getattr(executor, "_processes", None) or {}
    for process in list(processes.values()):
        with contextlib.suppress(ValueError):  # one the pool closed meanwhile
            process.kill()  # a worker gone already is left alone


def fetch_ahead(mailbox: MailboxSource, batches: Iterator[Batch], pool: ParsePool,
                rules: ReadingRules) -> Iterator[ParsedBatch]:
    """Each batch fetched, with its outcomes; from the second batch on, up to AHEAD
    batches are fetched and read by the worker while the caller handles one.

    A mailbox with one batch of news (a daemon's usual cycle) never starts the process;
    on a backlog it starts with the second batch, and batches are fetched and parsed
    here until it has answered once (ParsePool); those queued meanwhile, but for the next
    one, are then handed to it (at 10k the workers were up by the third batch, and the
    fourth to sixth were still done here, at twice the time each). Batches that come
    back empty (their messages moved away meanwhile) are left out.
    """
    first = next(batches, None)
    if first is None:
        return
    pending = deque([_Ahead(first, None, None)])
    listed_all = False
    while pending:
        ahead = pending.popleft()
        if pool.ready:  # batches queued for here before the workers were up: theirs now
            pending = deque(pool.dispatch(mailbox, queued.batch, rules)
                            if queued.future is None and queued.messages is None else queued
                            for queued in pending)
        while not listed_all and len(pending) < AHEAD:
            following = next(batches, None)
            listed_all = following is None
            if following is not None:
                pending.append(pool.dispatch(mailbox, following, rules))
        parsed = pool.collect(mailbox, ahead)
        parsed.fetched_all = listed_all and all(_fetched(queued) for queued in pending)
        if parsed.messages:
            yield parsed


def _fetched(ahead: _Ahead) -> bool:
    """Whether a queued batch needs nothing more from the mailbox."""
    return ahead.messages is not None or (ahead.future is not None and ahead.future.done())

"""Parsing the next batch in a second process while this one handles the current batch.

MIME parsing is a third of ingest time and needs nothing but the bytes, and so does the
store-free half of classification (core/reading.py: robot or person, the new text of a
reply, its reply word). On a backlog (more than one batch) both run on another core.
What comes back is only data: a message as read, the reason it is malformed, or None for
"parse it yourself" (anything else that went wrong, and every message of a batch whose
worker died). The caller parses those again inside its own per-message guard, so a
hostile message that kills the worker is handled exactly as it would have been without
one.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date

from mailflow.adapters.mailbox import FetchedMessage
from mailflow.core.parse import MalformedMessage, parse_message
from mailflow.core.reading import Reading, may_answer, read_message

log = logging.getLogger("mailflow.app.parse_ahead")

Outcome = Reading | str | None  # a message read, why it is malformed, or "parse it here"


@dataclass(frozen=True)
class ReadingRules:
    """What reading a message needs besides its bytes (Handler.read)."""

    own_addresses: tuple[str, ...]
    today: date


Parser = Callable[[list[bytes], ReadingRules], list[Outcome]]


def parse_outcomes(raws: list[bytes], rules: ReadingRules) -> list[Outcome]:
    """What the worker process does with one batch."""
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


@dataclass
class ParsedBatch:
    messages: list[FetchedMessage]
    outcomes: list[Outcome]


class ParsePool:
    """One worker process, started on the first batch that has a successor.

    Starting it (a forkserver, then the worker) takes a few hundred milliseconds, so it
    starts in a thread: until the worker has answered once, batches are parsed here.
    """

    def __init__(self, parse: Parser = parse_outcomes, broken: bool = False) -> None:
        self._parse = parse
        self._executor: ProcessPoolExecutor | None = None  # set once the worker answered
        self._starter: threading.Thread | None = None
        self.broken = broken  # True: every batch is parsed by the caller

    @property
    def ready(self) -> bool:
        return self._executor is not None and not self.broken

    def submit(self, batch: list[FetchedMessage],
               rules: ReadingRules) -> Future[list[Outcome]] | None:
        """The batch handed to the worker, or None: parse it yourself."""
        if self.broken:
            return None
        if self._executor is None:
            if self._starter is None:
                self._starter = threading.Thread(target=self.start, daemon=True,
                                                 name="mailflow-parser-start")
                self._starter.start()
            return None
        try:
            return self._executor.submit(self._parse, [m.raw for m in batch], rules)
        except Exception as exc:  # the pool broke meanwhile: parse in this process
            log.warning("parsing in this process only: %s", exc)
            self.broken = True
            return None

    def start(self) -> bool:
        """Start the process and wait until it answers; False when it cannot work here."""
        executor: ProcessPoolExecutor | None = None
        try:
            # forkserver: a clean child, never a fork of a process with threads running
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["mailflow.core.reading"])
            executor = ProcessPoolExecutor(max_workers=1, mp_context=context)
            if executor.submit(self._parse, [], ReadingRules((), date.min)).result() != []:
                raise RuntimeError("the parsing process answered nonsense")
        except Exception as exc:  # no second process here: parse in this one
            log.warning("parsing in this process only: %s", exc)
            self.broken = True
            if executor is not None:
                executor.shutdown(wait=False, cancel_futures=True)
            return False
        self._executor = executor
        return True

    def outcomes(self, future: Future[list[Outcome]] | None, size: int) -> list[Outcome]:
        if future is None:
            return [None] * size
        try:
            found = future.result()
        except Exception as exc:  # the worker died (a crash, the OOM killer): parse here
            log.warning("the parsing process failed (%s); parsing in this process", exc)
            self.broken = True
            return [None] * size
        return found if len(found) == size else [None] * size

    def close(self) -> None:
        if self._starter is not None:
            self._starter.join()
            self._starter = None
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def parse_ahead(batches: Iterator[list[FetchedMessage]], pool: ParsePool,
                rules: ReadingRules) -> Iterator[ParsedBatch]:
    """Each batch with its outcomes; from the second batch on, parsed one batch ahead.

    A mailbox with one batch of news (a daemon's usual cycle) never starts the process;
    on a backlog it starts with the second batch, and batches are parsed here until it
    has answered once (ParsePool).
    """
    first = next(batches, None)
    if first is None:
        return
    batch = next(batches, None)
    future = pool.submit(batch, rules) if batch is not None else None
    yield ParsedBatch(first, [None] * len(first))
    while batch is not None:
        following = next(batches, None)
        queued = pool.submit(following, rules) if following is not None else None
        yield ParsedBatch(batch, pool.outcomes(future, len(batch)))
        batch, future = following, queued

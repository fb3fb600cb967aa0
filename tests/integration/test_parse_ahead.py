"""Parsing in a second process (app/parse_ahead.py): a real worker process, a real Maildir."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailflow.adapters.mailbox import FetchedMessage
from mailflow.adapters.maildir_mailbox import MaildirBatch, MaildirMailbox, ensure_maildir
from mailflow.app import parse_ahead
from mailflow.app.ingest import (
    IngestReport,
    KnownIds,
    PendingMoves,
    _raw_id,
    handle_fetched,
    ingest,
)
from mailflow.app.parse_ahead import (
    Outcome,
    ParsePool,
    PendingAnswer,
    ReadingRules,
    WorkerRead,
    _Ahead,
    _fetched,
    fetch_ahead,
    parse_outcomes,
)
from mailflow.app.wiring import build_app, folders_of
from mailflow.config import Config, parse_config

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
HOSTILE = b"\x00\x00\x00"  # not a message at all: quarantined, wherever it is parsed
RULES = ReadingRules(("referrals@firm.example",), NOW.date())


def intro(n: int) -> bytes:
    return (f"From: Alice <alice@firm.example>\r\nTo: Client {n} <c{n}@mail.example>, "
            f"bob@law.example\r\nCc: referrals@firm.example\r\nSubject: Introduction {n}\r\n"
            f"Message-ID: <m{n}@firm.example>\r\nDate: Mon, 23 Nov 2026 09:00:00 +0000\r\n"
            f"\r\nClient {n}, meet Bob.\r\n").encode()


def dies_on_the_third_batch(raws: list[bytes], rules: ReadingRules) -> list[Outcome]:
    """A worker that is killed half-way (a crash, the OOM killer)."""
    if any(b"<m9@firm.example>" in raw for raw in raws):
        os._exit(9)
    return parse_outcomes(raws, rules)


def world(tmp_path: Path, count: int) -> tuple[MaildirMailbox, Config]:
    root = tmp_path / "Maildir"
    ensure_maildir(root)
    for n in range(count):
        raw = HOSTILE if n == 5 else intro(n)
        path = root / "new" / f"{n:04d}.msg"
        path.write_bytes(raw)
        os.utime(path, ns=(n * 1_000_000_000, n * 1_000_000_000))  # delivery order
    config = parse_config({"tracker": "referrals@firm.example", "database": "m.db",
                           "maildir": str(root), "outbox_dir": "o",
                           "referrers": ["*@firm.example"],
                           "partners": [{"email": "bob@law.example"}]}, tmp_path / "m.yaml")
    return MaildirMailbox(root), config


def started(pool: ParsePool) -> ParsePool:
    """The worker up and answering, so that every batch goes to it (none parsed here)."""
    assert pool.start()
    return pool


def outcome_of(tmp_path: Path, pool: ParsePool | None, overlap: bool = True
               ) -> tuple[IngestReport, list[tuple[str, str]]]:
    box, config = world(tmp_path, 20)
    app = build_app(config)
    try:
        report = ingest(box, app.handler, folders_of(config), NOW,
                        batch_size=4, overlap=overlap, pool=pool)
        records = sorted((m["message_id"].split("@")[0], m["kind"] + ": " + m["reason"])
                         for m in app.store.messages())
        return report, records
    finally:
        app.close()


def test_a_backlog_parsed_in_a_second_process_is_recorded_as_if_parsed_here(
        tmp_path: Path) -> None:
    pool = started(ParsePool())
    try:
        report, records = outcome_of(tmp_path / "pool", pool)
        assert pool._executor is not None and not pool.broken  # the process did the work
        assert pool.fetched_elsewhere == 4  # every batch but the first, read by the worker
    finally:
        pool.close()
    serial, expected = outcome_of(tmp_path / "serial", None, overlap=False)
    assert records == expected
    assert report.by_kind == serial.by_kind == {"intro": 19, "quarantined": 1}
    assert report.phases["parse"] < serial.phases["parse"]  # most of it happened elsewhere


def test_a_dead_worker_loses_nothing(tmp_path: Path) -> None:
    pool = started(ParsePool(dies_on_the_third_batch))
    try:
        report, records = outcome_of(tmp_path / "dies", pool)
        assert pool.broken
    finally:
        pool.close()
    _, expected = outcome_of(tmp_path / "serial", None, overlap=False)
    assert records == expected
    assert report.fetched == 20


def test_closing_a_broken_pool_kills_its_workers_rather_than_wait_for_them() -> None:
    pool = started(ParsePool())
    assert pool._executor is not None
    workers = list(pool._executor._processes.values())
    pool.broken = True  # as when a worker died: one spawned meanwhile is never told to stop
    pool.close()
    assert workers and all(w.exitcode == -signal.SIGKILL for w in workers)


def test_the_worker_quarantines_with_the_reason_this_process_would_give() -> None:
    here = parse_outcomes([HOSTILE, intro(1)], RULES)
    assert isinstance(here[0], str) and here[0]  # why it is malformed
    pool = started(ParsePool())
    try:
        future = pool.submit([FetchedMessage("1", HOSTILE), FetchedMessage("2", intro(1))],
                             RULES)
        assert future is not None
        answer = future.result()
    finally:
        pool.close()
    assert isinstance(answer, WorkerRead) and answer.messages is None  # it was sent them
    elsewhere = answer.outcomes
    assert elsewhere[0] == here[0]
    assert elsewhere[1] == here[1]  # the same message, read the same way, field by field


def slow_to_start(raws: list[bytes], rules: ReadingRules) -> list[Outcome]:
    time.sleep(3)
    return parse_outcomes(raws, rules)


def test_a_worker_still_starting_is_not_waited_for(tmp_path: Path) -> None:
    box, _ = world(tmp_path, 12)
    pool = ParsePool(slow_to_start)
    try:
        batches = list(fetch_ahead(box, box.batches(None, 4), pool, RULES))
        assert [len(b.messages) for b in batches] == [4, 4, 4]
        assert all(o is None for b in batches for o in b.outcomes)  # all parsed here
        assert not pool.ready
    finally:
        pool.close()


def test_batches_queued_before_the_worker_was_up_are_handed_to_it(tmp_path: Path) -> None:
    box, _ = world(tmp_path, 12)
    pool = ParsePool()
    try:
        stream = fetch_ahead(box, box.batches(None, 2), pool, RULES)
        batches = [next(stream)]  # the next three were queued for here: no worker yet
        assert pool._starter is not None
        pool._starter.join()  # now it is up
        assert pool.ready
        batches += list(stream)
        read_elsewhere = [any(o is not None for o in b.outcomes) for b in batches]
        # the one collected next is done here; the two queued behind it go to the worker
        assert read_elsewhere == [False, False, True, True, True, True]
        assert pool.fetched_elsewhere == 4
    finally:
        pool.close()


def test_the_last_batch_is_the_first_with_nothing_left_to_fetch(tmp_path: Path) -> None:
    box, _ = world(tmp_path, 12)
    batches = list(fetch_ahead(box, box.batches(None, 4), ParsePool(broken=True), RULES))
    assert [b.fetched_all for b in batches] == [False, False, True]  # all fetched here


def test_a_batch_the_worker_has_answered_needs_no_more_fetching(tmp_path: Path) -> None:
    box, _ = world(tmp_path, 4)
    batch = next(iter(box.batches(None, 4)))
    answered: Future[bytes] = Future()
    still_working: Future[bytes] = Future()
    answered.set_result(b"")
    assert _fetched(_Ahead(batch, None, PendingAnswer(answered)))
    assert not _fetched(_Ahead(batch, None, PendingAnswer(still_working)))
    assert not _fetched(_Ahead(batch, None, None))  # left to be fetched here
    assert _fetched(_Ahead(batch, box.fetch_batch(batch), None))


def test_once_nothing_is_left_to_fetch_what_is_pending_is_moved(tmp_path: Path) -> None:
    """A move stalls the fetches from its folder (Dovecot locks it), so moves wait for
    thousands; once the last batches are fetched, what is recorded moves while they are
    handled, and the rest at the end, the cursor after both."""
    box, config = world(tmp_path, 20)
    app = build_app(config)
    moved: list[int] = []
    real_move = box.move

    def counting(keys: list[str], destination: str) -> None:
        moved.append(len(keys))
        real_move(keys, destination)

    box.move = counting  # type: ignore[method-assign]
    batches = list(fetch_ahead(box, box.batches(None, 4), ParsePool(broken=True), RULES))
    moves = PendingMoves(box, app.store, IngestReport(), resumable=False)
    try:
        for number, batch in enumerate(batches):
            for fetched in batch.messages:
                moves.add(fetched.key, "Processed")
            moves.batch_done(batch.messages[-1].cursor, fetched_all=number >= 2)
            if number == 2:
                moves._in_flight[0][0].result()  # the thread has made it
                assert moved == [12]  # while two batches were still to be handled
        moves.finish()
        assert moved == [12, 8]
        assert list(box.fetch_new(None, 100)) == []
    finally:
        moves.close()
        app.close()


def test_one_batch_of_news_starts_no_process(tmp_path: Path) -> None:
    box, _ = world(tmp_path, 3)
    pool = ParsePool()
    batches = list(fetch_ahead(box, box.batches(None, 10), pool, RULES))
    assert [len(b.messages) for b in batches] == [3]
    assert batches[0].outcomes == [None, None, None]  # parsed by the caller
    assert pool._executor is None


def test_a_batch_whose_messages_went_away_meanwhile_is_left_out(tmp_path: Path) -> None:
    box, _ = world(tmp_path, 6)
    planned = [batch for batch in box.batches(None, 2) if isinstance(batch, MaildirBatch)]
    for key in planned[1].keys:
        (box.path / key).unlink()  # another reader moved them after the listing
    batches = list(fetch_ahead(box, iter(planned), ParsePool(broken=True), RULES))
    assert [[m.key for m in b.messages] for b in batches] == [
        list(planned[0].keys), list(planned[2].keys)]


def reports_its_niceness(raws: list[bytes], rules: ReadingRules) -> list[Outcome]:
    return [str(os.nice(0))] * len(raws)


def test_the_workers_yield_the_cpu_to_this_process() -> None:
    """The store's work can be done only here: on a busy machine it goes first."""
    pool = started(ParsePool(reports_its_niceness))
    try:
        future = pool.submit([FetchedMessage("1", intro(1))], RULES)
        assert future is not None
        answer = future.result()
    finally:
        pool.close()
    assert isinstance(answer, WorkerRead)
    assert answer.outcomes == [str(min(os.nice(0) + 10, 19))]


def test_a_message_the_worker_fails_on_is_parsed_again_here(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not malformed, yet reading it raised (a bug): the worker says "parse it here", and
    this process does, inside its own guard, with the reason it finds itself."""
    def buggy(*args: object, **kwargs: object) -> object:
        raise RuntimeError("a bug in reading")

    with monkeypatch.context() as patch:
        patch.setattr(parse_ahead, "read_message", buggy)
        outcomes = parse_outcomes([intro(1), HOSTILE], RULES)
    assert outcomes[0] is None  # no reason invented for it
    assert isinstance(outcomes[1], str)  # still malformed, and why
    box, config = world(tmp_path, 0)
    app = build_app(config)
    fetched_here = [FetchedMessage("new/1", intro(1)), FetchedMessage("new/2", HOSTILE)]
    try:
        report = IngestReport()
        for fetched, outcome in zip(fetched_here, outcomes, strict=True):
            handle_fetched(fetched, box, app.handler, folders_of(config), NOW, None, report,
                           outcome)
        assert report.by_kind == {"intro": 1, "quarantined": 1}
    finally:
        app.close()


def test_what_runs_meanwhile_sees_every_message_recorded(tmp_path: Path) -> None:
    """The cycle plans during the last move: by then every message is on record."""
    box, config = world(tmp_path, 20)
    app = build_app(config)
    seen: list[int] = []
    try:
        report = ingest(box, app.handler, folders_of(config), NOW, batch_size=4,
                        meanwhile=lambda: seen.append(len(app.store.messages())))
        assert seen == [report.fetched] == [20]
        assert len(app.store.marked_for_planning()) == 19  # the intros, for the planning
    finally:
        app.close()


def test_a_batch_knows_each_message_on_record_as_the_store_would_say(
        tmp_path: Path) -> None:
    """The duplicate check reads the batch's Message-IDs in one query, and then counts the
    batch's own records: a message recorded before, one recorded earlier in the batch
    (read by the worker or parsed here) and one quarantined in it are all seen."""
    box, config = world(tmp_path, 0)
    app = build_app(config)
    # a stranger's forgery: the Message-ID under which HOSTILE was just quarantined
    forged = intro(9).replace(b"<m9@firm.example>", f"<{_raw_id(HOSTILE)}>".encode())
    raws = [intro(1), intro(2), intro(2), intro(3), intro(3), HOSTILE, HOSTILE, intro(4),
            forged]
    outcomes = parse_outcomes(raws, RULES)
    outcomes[3] = None  # the first of m3 parsed here: its id is not known ahead
    outcomes[7] = None  # and m4, on record from before, too
    try:
        report = IngestReport()
        with app.store.atomic():
            for old in ("m1@firm.example", "m4@firm.example"):
                app.store.record_message(old, "INBOX", "old", "intro", "", None, NOW)
            known = KnownIds.read(app.store, outcomes)
            places = [handle_fetched(FetchedMessage(f"new/{n}", raw), box, app.handler,
                                     folders_of(config), NOW, None, report, outcome, known)
                      for n, (raw, outcome) in enumerate(zip(raws, outcomes, strict=True))]
        assert report.duplicates == 5  # m1, m4 from before; the second m2, m3; the forgery
        assert report.by_kind == {"intro": 2, "quarantined": 2}
        assert places.count(folders_of(config).quarantine) == 2
        assert len(app.store.messages()) == 2 + 2 + 1  # m1, m4; m2, m3; one quarantine
    finally:
        app.close()

"""Scheduling benchmark: one cycle's "find due + render + send" against a raw smtplib loop.

    python3 bench/schedule.py [--referrals 100000] [--due 1000] [--rounds 5]
                              [--profile /tmp/send.prof]
    python3 bench/schedule.py --referrals 2000 --due 200 --latency 5   # across a network

Builds a store of N open referrals with their pending steps (1,000 of them due now,
each to a different partner), starts a real aiosmtpd peer in a process of its own (as
a real mail server is; `--peer-in-process` shares this process and its GIL with it),
then measures in one run:

  baseline   smtplib: the very emails the cycle sends, rendered and composed ahead
             (from a copy of the store), over one connection
  mailflow   Dispatcher.send_due(now): indexed due query, Jinja2 render, compose, SMTP
  find due   the indexed query alone (best of 5)

and prints the ratio. With `--rounds N` it measures N times, each on a fresh copy of the
store, and prints the median ratio. With `--latency MS` both talk to the peer through a
relay that holds each packet MS ms each way: a real relay is across a network, where
round trips, not this machine's CPU, set the pace (and PIPELINING saves two an email).
With `--no-sync` mailflow records each email without the disk sync (SQLite's
synchronous=NORMAL, which mailflow never runs with): the difference is what the sync
costs that makes each record durable before the next email is handed over. With
`--warm-wal` the store's write-ahead log has already grown to its checkpoint size, as a
daemon's has once it has run a while (SQLite then overwrites the log after each
checkpoint, and a sync of overwritten blocks is cheaper than one that grows the file):
the copy each round starts from is otherwise fresh, as a daemon just started is.
Figures are printed, never asserted: these machines are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import smtplib
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailflow.adapters.mailer import OnResult  # noqa: E402
from mailflow.adapters.renderer import Renderer  # noqa: E402
from mailflow.adapters.smtp_mailer import SmtpMailer  # noqa: E402
from mailflow.adapters.store import Store, to_db  # noqa: E402
from mailflow.app.dispatch import Dispatcher  # noqa: E402
from mailflow.app.planning import calendar_of  # noqa: E402
from mailflow.config import Config, parse_config  # noqa: E402
from mailflow.core.compose import to_bytes  # noqa: E402
from mailflow.core.outgoing import OutgoingEmail, SendResult  # noqa: E402
from tests.integration.smtp_server import Behaviour, start_peer  # noqa: E402

NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)  # a Tuesday, inside business hours


def fill(store: Store, referrals: int, due: int) -> None:
    with store.atomic():  # one transaction: row by row, each insert was a disk sync
        _fill(store, referrals, due)


def _fill(store: Store, referrals: int, due: int) -> None:
    created = to_db(NOW - timedelta(days=1))
    store.db.conn.executemany(
        "insert into referrals (id, status, direction, referrer, client, partner, subject, "
        "created_at, intro_message_id, context, candidates, names) values "
        "(?, 'open', 'given', 'alice@firm.example', ?, ?, ?, ?, ?, '', '[]', ?)",
        [(n, f"client{n}@mail.example", f"partner{n}@firm{n % 5000}.example", f"Intro {n}",
          created, f"intro{n}@firm.example",
          json.dumps({f"client{n}@mail.example": f"Client {n}",
                      f"partner{n}@firm{n % 5000}.example": f"Partner {n}"}))
         for n in range(1, referrals + 1)])
    later = [to_db(NOW + timedelta(days=d)) for d in (3, 6, 6, 20)]
    steps = ("escalation", "partner_checkin", "client_checkin", "feedback_request")
    rows = []
    for n in range(1, referrals + 1):
        partner = f"partner{n}@firm{n % 5000}.example"
        nudge_due = to_db(NOW - timedelta(minutes=5)) if n <= due else later[0]
        rows.append((n, "partner_nudge", partner, nudge_due))
        for step, when in zip(steps, later, strict=True):
            rows.append((n, step, f"client{n}@mail.example" if step == "client_checkin"
                         else partner if step != "escalation" else "alice@firm.example", when))
    store.db.conn.executemany(
        "insert into outbox (referral_id, step, recipient, due_at, status, attempts) "
        "values (?, ?, ?, ?, 'pending', 0)", rows)


class Capture:
    """A mailer that keeps what it is handed: the emails mailflow would send."""

    def __init__(self) -> None:
        self.emails: list[OutgoingEmail] = []

    def check(self) -> None:
        pass

    def send_batch(self, emails: Sequence[OutgoingEmail],
                   on_result: OnResult | None = None) -> list[SendResult]:
        self.emails.extend(emails)
        results = [SendResult(e.message_id, "sent") for e in emails]
        for index, result in enumerate(results):
            if on_result is not None:
                on_result(index, result)
        return results


def prerendered(store: Store, config: Config, copy: Path, host: str,
                port: int) -> list[tuple[str, list[str], bytes]]:
    """The very emails this cycle sends, rendered and composed ahead from a copy of the
    store, as (sender, recipients, bytes): what the raw loop sends."""
    target = sqlite3.connect(copy)
    store.db.conn.backup(target)
    target.close()
    captured = Capture()
    twin = Store(copy)
    Dispatcher(twin, config, calendar_of(config), Renderer(), captured, "secret").send_due(NOW)
    twin.close()
    with smtplib.SMTP(host, port) as probe:
        probe.ehlo()
        utf8 = probe.has_extn("smtputf8")
    return [(e.sender.email, [a.email for a in e.to], to_bytes(e, utf8=utf8))
            for e in captured.emails]


def baseline(host: str, port: int, messages: list[tuple[str, list[str], bytes]]) -> float:
    start = time.perf_counter()
    client = smtplib.SMTP(host, port)
    for sender, recipients, raw in messages:
        client.sendmail(sender, recipients, raw)
    client.quit()
    return time.perf_counter() - start


class DelayingRelay:
    """A TCP relay to the peer that holds every chunk `delay` seconds each way, in order:
    the round trips of a mail server across a network (a relay at Gmail or Microsoft 365
    is some 10-40 ms away), which a peer on this machine does not have."""

    def __init__(self, host: str, port: int, delay: float) -> None:
        self.target, self.delay = (host, port), delay
        self.loop = asyncio.new_event_loop()
        started = threading.Event()
        self.port = 0

        async def listen() -> None:
            server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            started.set()

        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(listen(), self.loop)
        started.wait()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        held: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                at, data = await held.get()
                await asyncio.sleep(max(0.0, at - self.loop.time()))
                if not data:
                    sink.close()
                    return
                sink.write(data)
                await sink.drain()

        delivering = asyncio.create_task(deliver())
        while True:
            data = await source.read(65536)
            held.put_nowait((self.loop.time() + self.delay, data))
            if not data:
                break
        await delivering


def serve_peer(pipelining: bool) -> None:
    """The peer for a separate process: prints its port, runs until stdin closes."""
    controller, peer = start_peer(Behaviour(pipelining=pipelining))
    print(peer.port, flush=True)
    sys.stdin.read()
    controller.stop()


def copy_store(store: Store, path: Path, warm_wal: bool = False) -> Store:
    """A fresh copy of the filled store: each round sends from the same state. `warm_wal`:
    its WAL grown to the autocheckpoint's size and checkpointed, as a running daemon's is."""
    path.unlink(missing_ok=True)
    target = sqlite3.connect(path)
    store.db.conn.backup(target)
    target.close()
    copy = Store(path)
    if warm_wal:
        conn = copy.db.conn
        pages = int(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
        with copy.atomic():
            conn.execute("create table bench_warm (filler blob)")
            conn.executemany("insert into bench_warm values (zeroblob(4000))",
                             [()] * pages)
            conn.execute("drop table bench_warm")
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")  # as the autocheckpoint does
    return copy


def one_round(store: Store, config: Config, path: Path, host: str, port: int,
              messages: list[tuple[str, list[str], bytes]],
              profile: Path | None, sync: bool = True, warm_wal: bool = False
              ) -> tuple[float, float, float, int]:
    """(baseline before, mailflow, baseline after, emails sent) on a fresh copy."""
    copy = copy_store(store, path, warm_wal)
    if not sync:
        copy.db.execute("PRAGMA synchronous = NORMAL")
    before = baseline(host, port, messages)
    mailer = SmtpMailer(host, port, "none", None, None)
    dispatcher = Dispatcher(copy, config, calendar_of(config), Renderer(), mailer, "secret")
    profiler = cProfile.Profile() if profile is not None else None
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    report = dispatcher.send_due(NOW)
    if profiler is not None:
        profiler.disable()
    ours = time.perf_counter() - started
    # the baseline again, after: on a shared machine one run of it varies by 1.5x
    after = baseline(host, port, messages)
    copy.close()
    if profiler is not None and profile is not None:
        profiler.dump_stats(profile)
    return before, ours, after, len(report.sent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--referrals", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure this many times, each on a fresh copy of the store, "
                        "and report the median ratio")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="cProfile the main thread of the last round's send into FILE")
    parser.add_argument("--peer-in-process", action="store_true")
    parser.add_argument("--latency", type=float, default=0.0, metavar="MS",
                        help="hold every packet this many ms each way between the sender and "
                        "the peer (both the baseline's and mailflow's), as a network does")
    parser.add_argument("--no-pipelining", action="store_true",
                        help="the peer does not offer PIPELINING (RFC 2920)")
    parser.add_argument("--no-sync", action="store_true",
                        help="record each sent email without the disk sync, to measure what "
                        "the sync costs (mailflow itself never runs so)")
    parser.add_argument("--warm-wal", action="store_true",
                        help="send from a store whose WAL has already grown to its "
                        "checkpoint size, as a running daemon's has")
    parser.add_argument("--serve-peer", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_peer:
        serve_peer(not args.no_pipelining)
        return
    with tempfile.TemporaryDirectory() as tmp:
        config = parse_config({"tracker": "referrals@firm.example", "database": "b.db",
                               "maildir": "mail", "outbox_dir": "o",
                               "referrers": ["*@firm.example"]}, Path(tmp) / "m.yaml")
        store = Store(config.database)
        started = time.perf_counter()
        fill(store, args.referrals, args.due)
        print(f"store: {args.referrals} referrals, {args.referrals * 5} pending steps, "
              f"{args.due} due (built in {time.perf_counter() - started:.1f} s)")
        finds = []
        for _ in range(5):
            started = time.perf_counter()
            found = store.due(NOW)
            finds.append(time.perf_counter() - started)
        assert len(found) == args.due
        print(f"find due (indexed query, best of 5): {min(finds) * 1000:.1f} ms")
        stop: Callable[[], object]
        if args.peer_in_process:
            controller, peer = start_peer(Behaviour(pipelining=not args.no_pipelining))
            host, port, stop = peer.host, peer.port, controller.stop
        else:
            server = subprocess.Popen([sys.executable, __file__, "--serve-peer",
                                       *(["--no-pipelining"] if args.no_pipelining else [])],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            assert server.stdout is not None and server.stdin is not None
            host, port = "127.0.0.1", int(server.stdout.readline())
            stop = server.stdin.close
        if args.latency:
            port = DelayingRelay(host, port, args.latency / 1000).port
            print(f"every packet held {args.latency:g} ms each way (a round trip of "
                  f"{2 * args.latency:g} ms)")
        ratios = []
        try:
            messages = prerendered(store, config, Path(tmp) / "copy.db", host, port)
            assert len(messages) == args.due
            size = sum(len(raw) for _, _, raw in messages) / len(messages)
            print(f"baseline: raw smtplib, the same {args.due} emails pre-rendered, "
                  f"{size:.0f} bytes each on average, one connection; mailflow: find due + "
                  "render + compose + send + record")
            for number in range(1, args.rounds + 1):
                last = number == args.rounds
                before, ours, after, sent = one_round(
                    store, config, Path(tmp) / "round.db", host, port, messages,
                    args.profile if last else None, sync=not args.no_sync,
                    warm_wal=args.warm_wal)
                base = (before + after) / 2
                ratios.append(ours / base)
                print(f"round {number}: baseline {base:.2f} s (mean of {before:.2f} s before "
                      f"and {after:.2f} s after), mailflow {ours:.2f} s ({sent} sent): "
                      f"ratio {ours / base:.2f}x", flush=True)
        finally:
            stop()
        store.close()
    if args.rounds > 1:
        print(f"ratios: {' '.join(f'{r:.2f}' for r in sorted(ratios))}")
    print(f"ratio mailflow / baseline: {statistics.median(ratios):.2f}x"
          + (f" (median of {args.rounds} rounds)" if args.rounds > 1 else ""))


if __name__ == "__main__":
    main()

"""Scheduling benchmark: one cycle's "find due + render + send" against a raw smtplib loop.

    python3 bench/schedule.py [--referrals 100000] [--due 1000]

Builds a store of N open referrals with their pending steps (1,000 of them due now,
each to a different partner), starts a real aiosmtpd peer in a process of its own (as
a real mail server is; `--peer-in-process` shares this process and its GIL with it),
then measures in one run:

  baseline   smtplib: the very emails the cycle sends, rendered and composed ahead
             (from a copy of the store), over one connection
  mailflow   Dispatcher.send_due(now): indexed due query, Jinja2 render, compose, SMTP
  find due   the indexed query alone (best of 5)

and prints the ratio. Figures are printed, never asserted: these machines are noisy.
"""

from __future__ import annotations

import argparse
import json
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
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
    store.db.conn.commit()


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


def serve_peer() -> None:
    """The peer for a separate process: prints its port, runs until stdin closes."""
    controller, peer = start_peer(Behaviour())
    print(peer.port, flush=True)
    sys.stdin.read()
    controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--referrals", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--peer-in-process", action="store_true")
    parser.add_argument("--serve-peer", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_peer:
        serve_peer()
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
        stop: Callable[[], object]
        if args.peer_in_process:
            controller, peer = start_peer(Behaviour())
            host, port, stop = peer.host, peer.port, controller.stop
        else:
            server = subprocess.Popen([sys.executable, __file__, "--serve-peer"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            assert server.stdout is not None and server.stdin is not None
            host, port = "127.0.0.1", int(server.stdout.readline())
            stop = server.stdin.close
        try:
            messages = prerendered(store, config, Path(tmp) / "copy.db", host, port)
            assert len(messages) == args.due
            before = baseline(host, port, messages)
            mailer = SmtpMailer(host, port, "none", None, None)
            dispatcher = Dispatcher(store, config, calendar_of(config), Renderer(), mailer,
                                    "secret")
            started = time.perf_counter()
            report = dispatcher.send_due(NOW)
            ours = time.perf_counter() - started
            # the baseline again, after: on a shared machine one run of it varies by 1.5x
            after = baseline(host, port, messages)
        finally:
            stop()
        store.close()
    print(f"find due (indexed query, best of 5): {min(finds) * 1000:.1f} ms")
    base = (before + after) / 2
    size = sum(len(raw) for _, _, raw in messages) / len(messages)
    print(f"baseline (raw smtplib, the same {args.due} emails pre-rendered, {size:.0f} bytes "
          "each on average, one connection): "
          f"{base:.2f} s (mean of {before:.2f} s before and {after:.2f} s after)")
    print(f"mailflow (find due + render + compose + send + record): {ours:.2f} s, "
          f"{len(report.sent)} sent")
    print(f"ratio mailflow / baseline: {ours / base:.2f}x")


if __name__ == "__main__":
    main()

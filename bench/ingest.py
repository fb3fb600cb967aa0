"""Ingest benchmark: mailflow's IMAP ingest against a raw imapclient fetch of the same mail.

    python3 bench/ingest.py [--count 2000] [--attachment-share 0.02] [--attachment-mb 1]
    python3 bench/ingest.py --scale 1000,10000,100000   # is the cost per message flat?
    python3 bench/ingest.py --rounds 5   # the median ratio over five fresh mailboxes

Starts a private Dovecot (like the tests), fills a mailbox with intros (a share of
them carrying a large attachment), then measures, each in its own process:

  baseline   imapclient: SEARCH + batched FETCH BODY.PEEK[] of every message
  baseline-parse   the same, plus email.message_from_bytes on each (the floor of any
             importer that reads the mail)
  mailflow   ingest(): fetch, parse, classify, record, move to the processed folder

and prints mailflow's time as a ratio of the baseline, the bytes each downloaded,
peak memory, and the duplicates created when the same messages arrive again.
Figures are printed, never asserted: these machines are noisy.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

from imapclient import IMAPClient  # noqa: E402

from bench import realistic  # noqa: E402
from tests.integration.dovecot_server import (  # noqa: E402
    DovecotServer,
    account,
    dovecot_binary,
    running_dovecot,
)

PARTNERS = ["bob@law.example", "carol@tax.example", "dan@it.example"]


def intro(n: int, attachment: bytes | None) -> bytes:
    partner = PARTNERS[n % len(PARTNERS)]
    head = (f"From: Alice Adams <alice@firm.example>\r\nTo: Client {n} <client{n}@mail.example>,"
            f" {partner}\r\nCc: referrals@firm.example\r\nSubject: Introduction {n}\r\n"
            f"Date: Mon, 16 Nov 2026 09:00:00 +0000\r\nMessage-ID: <bench{n}@firm.example>\r\n"
            "MIME-Version: 1.0\r\n")
    text = f"Client {n}, meet our partner. Partner, client {n} needs help.\r\n\r\nAlice\r\n"
    if attachment is None:
        return (head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text).encode()
    body = base64.encodebytes(attachment).replace(b"\n", b"\r\n")
    return (head + 'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text + "--b\r\n"
            'Content-Type: application/pdf; name="scan.pdf"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n").encode() + body + b"--b--\r\n"


def fill(host: str, port: int, user: str, password: str, count: int, share: float,
         megabytes: float, fresh: bool = False) -> int:
    client = IMAPClient(host, port=port, ssl=False)
    client.login(user, password)
    total = 0
    chunk: list[bytes] = []
    for raw in mailbox(count, share, megabytes, fresh):
        total += len(raw)
        chunk.append(raw)
        if len(chunk) >= 200 or sum(map(len, chunk)) > 20_000_000:
            client.multiappend("INBOX", chunk)  # one command for many: a 100k fill in minutes
            chunk = []
    if chunk:
        client.multiappend("INBOX", chunk)
    client.logout()
    return total


def mailbox(count: int, share: float, megabytes: float, fresh: bool) -> Iterator[bytes]:
    """The realistic mailbox (bench/realistic.py) or, with `fresh`, fresh intros only."""
    if not fresh:
        return realistic.messages(count, attachment_share=share, attachment_mb=megabytes)[1]
    rng = random.Random(7)
    blob = rng.randbytes(int(megabytes * 1024 * 1024))
    return (intro(n, blob if rng.random() < share else None) for n in range(count))


def partner_entries(fresh: bool) -> list[dict[str, object]]:
    if fresh:
        return [{"email": p} for p in PARTNERS]
    return realistic.directory(300, random.Random(7)).partners


def phase_baseline(host: str, port: int, user: str, password: str, batch: int,
                   parse: bool = False) -> dict[str, float]:
    import email

    start = time.perf_counter()
    client = IMAPClient(host, port=port, ssl=False)
    client.login(user, password)
    client.select_folder("INBOX", readonly=True)
    uids = client.search(["ALL"])
    downloaded = 0
    for i in range(0, len(uids), batch):
        for data in client.fetch(uids[i:i + batch], ["BODY.PEEK[]"]).values():
            downloaded += len(data[b"BODY[]"])
            if parse:
                email.message_from_bytes(data[b"BODY[]"])
    client.logout()
    return {"seconds": time.perf_counter() - start, "messages": len(uids),
            "downloaded": downloaded}


def phase_mailflow(host: str, port: int, user: str, password: str, batch: int,
                   workdir: str, fresh: bool = False, overlap: bool = True) -> dict[str, Any]:
    from mailflow.adapters.imap_mailbox import ImapMailbox
    from mailflow.app.cycle import plan_marked
    from mailflow.app.ingest import ingest
    from mailflow.app.parse_ahead import ParsePool
    from mailflow.app.wiring import build_app, folders_of
    from mailflow.config import parse_config
    from mailflow.core.model import Status

    config = parse_config({
        "tracker": "referrals@firm.example", "database": "bench.db",
        "referrers": ["*@firm.example"], "outbox_dir": "outbox",
        "partners": partner_entries(fresh),
        "imap": {"host": host, "port": port, "tls": "none", "username": user,
                 "password": password, "batch_size": batch},
    }, Path(workdir) / "mailflow.yaml")
    app = build_app(config)
    start = time.perf_counter()
    box = ImapMailbox.connect(host, port, "none", user, password, "INBOX")
    pool = ParsePool()
    planning = 0.0

    def plan() -> None:  # ingest's follow-up, made as run_cycle makes it: during the last move
        nonlocal planning
        planned = time.perf_counter()
        plan_marked(app, datetime(2026, 11, 16, 10, tzinfo=UTC))
        planning = time.perf_counter() - planned

    report = ingest(box, app.handler, folders_of(config), datetime(2026, 11, 16, 10, tzinfo=UTC),
                    batch, overlap=overlap, pool=pool, meanwhile=plan)
    worker_rss = _peak_rss_mb(pool)
    pool.close()
    box.close()
    seconds = time.perf_counter() - start
    # counted by the index: loading 65,000 referrals here was most of the 100k peak RSS
    counts = app.store.counts()
    referrals = sum(counts[status.value] for status in Status)
    app.close()
    return {"seconds": seconds, "messages": report.fetched, "downloaded": report.downloaded,
            "referrals": referrals, "planning_seconds": planning,
            "worker_peak_rss_mb": worker_rss, "fetched_elsewhere": pool.fetched_elsewhere,
            "batches": -(-report.fetched // batch),
            "phases": {**report.phases, "plan": planning}}


def _peak_rss_mb(pool: Any) -> float:
    """The parsing process's own peak memory (it is not our child: the forkserver's)."""
    executor = pool._executor
    peak = 0.0
    for pid in (executor._processes if executor is not None else {}):
        status = Path(f"/proc/{pid}/status").read_text()
        peak = max(peak, int(status.split("VmHWM:")[1].split()[0]) / 1024)
    return peak


def child(phase: str, args: argparse.Namespace, workdir: str | None = None) -> dict[str, Any]:
    """Run a phase in a fresh process so its peak memory is its own."""
    command = [sys.executable, __file__, "--phase", phase, "--host", args.host, "--port",
               str(args.port), "--user", args.user, "--password", args.password, "--batch",
               str(args.batch), "--workdir", workdir or args.workdir,
               *(["--fresh"] if args.fresh else [])]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--attachment-share", type=float, default=0.02)
    parser.add_argument("--attachment-mb", type=float, default=1.0)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--fresh", action="store_true",
                        help="fresh intros to three partners (the old toy mailbox) instead of "
                        "the realistic one")
    parser.add_argument("--scale", metavar="COUNTS",
                        help="comma-separated message counts (e.g. 1000,10000,100000): for "
                        "each, a fresh mailbox, the raw fetch and mailflow's ingest; prints "
                        "the cost per message and its ratio to the smallest count's")
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat the raw fetch and mailflow's ingest on this many fresh "
                        "mailboxes and print the median ratio (one run here varies by 1.3x)")
    parser.add_argument("--phase", choices=("baseline", "baseline-parse", "mailflow",
                                            "mailflow-serial"))
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--workdir")
    args = parser.parse_args()
    if args.phase:
        if args.phase.startswith("baseline"):
            result = phase_baseline(args.host, args.port, args.user, args.password, args.batch,
                                    parse=args.phase == "baseline-parse")
        else:
            result = phase_mailflow(args.host, args.port, args.user, args.password, args.batch,
                                    args.workdir, args.fresh,
                                    overlap=args.phase == "mailflow")
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    binary = dovecot_binary()
    if binary is None:
        sys.exit("dovecot is not installed: apt-get install -y dovecot-imapd")
    if args.scale:
        scale(binary, args, [int(c) for c in args.scale.split(",")])
        return
    with running_dovecot(binary) as server, tempfile.TemporaryDirectory() as workdir:
        user = account(server, 1)
        args.host, args.port, args.user, args.password = (user.host, user.port,
                                                          user.username, user.password)
        args.workdir = workdir
        kind = "fresh intros" if args.fresh else "realistic messages (bench/realistic.py)"
        print(f"filling a Dovecot mailbox with {args.count} {kind} "
              f"({args.attachment_share:.0%} with {args.attachment_mb} MB attachments)...")
        size = fill(user.host, user.port, user.username, user.password, args.count,
                    args.attachment_share, args.attachment_mb, args.fresh)
        base = child("baseline", args)
        parsed = child("baseline-parse", args)
        ours = child("mailflow", args)
        fill(user.host, user.port, user.username, user.password, args.count,
             args.attachment_share, args.attachment_mb, args.fresh)  # a second mailbox's worth
        serial_dir = Path(workdir) / "serial"
        serial_dir.mkdir()
        # the same, into a database of its own, all in this process
        serial = child("mailflow-serial", args, str(serial_dir))
        fill(user.host, user.port, user.username, user.password, args.count,
             args.attachment_share, args.attachment_mb, args.fresh)  # the same messages again
        again = child("mailflow", args)
        ratios = [ours["seconds"] / base["seconds"]] + [
            more_round(server, number, args, workdir) for number in range(2, args.rounds + 1)]
    print(f"mailbox: {args.count} messages, {size / 1e6:.1f} MB")
    print(f"baseline (raw imapclient batched fetch): {base['seconds']:.2f} s, "
          f"{base['downloaded'] / 1e6:.1f} MB downloaded, peak RSS {base['peak_rss_mb']:.0f} MB")
    print(f"mailflow ingest (fetch+parse+classify+store+move): {ours['seconds']:.2f} s, "
          f"{ours['downloaded'] / 1e6:.1f} MB downloaded, peak RSS {ours['peak_rss_mb']:.0f} MB"
          f" (the parsing process: {ours['worker_peak_rss_mb']:.0f} MB),"
          f" {ours['referrals']} referrals")
    print(f"baseline + stdlib parse of every message: {parsed['seconds']:.2f} s, "
          f"peak RSS {parsed['peak_rss_mb']:.0f} MB")
    print(f"ratio mailflow / raw fetch: {ours['seconds'] / base['seconds']:.2f}x time, "
          f"{ours['downloaded'] / max(base['downloaded'], 1):.2f}x bytes")
    print(f"ratio mailflow / fetch+parse: {ours['seconds'] / parsed['seconds']:.2f}x time")
    per_message = ours["seconds"] / max(ours["messages"], 1) * 1000
    print(f"per message: {per_message:.2f} ms ingest; planning the follow-up of what changed: "
          f"{ours['planning_seconds']:.2f} s; batches fetched by the parsing processes: "
          f"{ours['fetched_elsewhere']} of {ours['batches']}")
    print("where the time goes (s): " + ", ".join(
        f"{k} {v:.2f}" for k, v in ours["phases"].items()))
    print(f"all in one process (no parsing process, no move thread): "
          f"{serial['seconds']:.2f} s "
          f"({serial['seconds'] / base['seconds']:.2f}x the raw fetch; fetch waited "
          f"{serial['phases']['fetch']:.2f} s against {ours['phases']['fetch']:.2f} s)")
    print(f"same {args.count} messages delivered again: "
          f"{again['referrals'] - ours['referrals']} duplicate referrals created")
    if len(ratios) > 1:
        print(f"ratio mailflow / raw fetch over {len(ratios)} rounds (each a fresh mailbox): "
              f"median {statistics.median(ratios):.2f}x, from {min(ratios):.2f}x to "
              f"{max(ratios):.2f}x ({', '.join(f'{r:.2f}' for r in ratios)})")


def more_round(server: DovecotServer, number: int, args: argparse.Namespace,
               workdir: str) -> float:
    """One more raw fetch and ingest, on a fresh mailbox in an account of its own."""
    user = account(server, 100 + number)
    args.host, args.port, args.user, args.password = (user.host, user.port, user.username,
                                                      user.password)
    fill(user.host, user.port, user.username, user.password, args.count,
         args.attachment_share, args.attachment_mb, args.fresh)
    base = child("baseline", args, workdir)
    own = Path(workdir) / f"round{number}"
    own.mkdir()
    ours = child("mailflow", args, str(own))
    print(f"round {number}: raw fetch {base['seconds']:.2f} s, mailflow {ours['seconds']:.2f} s "
          f"({ours['seconds'] / base['seconds']:.2f}x)", flush=True)
    return float(ours["seconds"]) / float(base["seconds"])


def scale(binary: str, args: argparse.Namespace, counts: list[int]) -> None:
    """Per-message cost at each size, each mailbox in an account and a database of its own."""
    rows = []
    with running_dovecot(binary) as server, tempfile.TemporaryDirectory() as workdir:
        for number, count in enumerate(counts, start=1):
            user = account(server, number)
            args.host, args.port, args.user, args.password = (user.host, user.port,
                                                              user.username, user.password)
            fill(user.host, user.port, user.username, user.password, count,
                 args.attachment_share, args.attachment_mb, args.fresh)
            base = child("baseline", args, workdir)
            own = Path(workdir) / str(count)
            own.mkdir()
            ours = child("mailflow", args, str(own))
            rows.append((count, base, ours))
            print(f"{count} messages: raw fetch {base['seconds']:.2f} s, mailflow "
                  f"{ours['seconds']:.2f} s ({ours['seconds'] / base['seconds']:.2f}x), "
                  f"{ours['seconds'] / count * 1000:.2f} ms per message, peak RSS "
                  f"{ours['peak_rss_mb']:.0f} MB (the parsing process: "
                  f"{ours['worker_peak_rss_mb']:.0f} MB); " + ", ".join(
                      f"{k} {v:.2f}" for k, v in ours["phases"].items()), flush=True)
    first_count, _, first = rows[0]
    for count, base, ours in rows[1:]:
        ratio = (ours["seconds"] / count) / (first["seconds"] / first_count)
        fetch_ratio = (base["seconds"] / count) / (rows[0][1]["seconds"] / first_count)
        print(f"per-message cost at {count} against {first_count}: {ratio:.2f}x "
              f"(the raw fetch's own: {fetch_ratio:.2f}x)")


if __name__ == "__main__":
    main()

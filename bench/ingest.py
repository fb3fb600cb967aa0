"""Ingest benchmark: mailflow's IMAP ingest against a raw imapclient fetch of the same mail.

    python3 bench/ingest.py [--count 2000] [--attachment-share 0.02] [--attachment-mb 1]
    python3 bench/ingest.py --scale 1000,10000,100000   # is the cost per message flat?
    python3 bench/ingest.py --rounds 5   # the median ratio over five fresh mailboxes

    python3 bench/ingest.py --style plain   # the short plain messages of earlier runs
    python3 bench/ingest.py --detail        # also in-process ingest, one process, stdlib parse

Starts a private Dovecot (like the tests), fills a mailbox (bench/realistic.py: by
default mail as clients write it, multipart with HTML, quoted history and signatures,
1-40 KB; a share with a large attachment), then measures, each in its own process:

  baseline   imapclient: SEARCH + batched FETCH BODY.PEEK[] of every message
             (and the same with imaplib's debug formatting off, as mailflow runs it)
  command    `mailflow run --once` as a subprocess, from its start to its exit: start-up
             and imports, login, fetch, parse, classify, record, move, plan, send, close
             (its phases read from the time stamps of its debug log)
  (--detail) baseline-parse: the raw fetch plus email.message_from_bytes on each;
             mailflow: ingest() called in-process, with where its time goes; the same
             all in one process (no parsing process, no move thread)

and prints the command's time as a ratio of the baseline, its phases, peak memory, and
the duplicates created when the same messages arrive again.
Figures are printed, never asserted: these machines are noisy.
"""

from __future__ import annotations

import argparse
import base64
import compileall
import json
import os
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
from bench.process_cpu import TreeSampler  # noqa: E402
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
         megabytes: float, fresh: bool = False, style: str = "rich") -> int:
    client = IMAPClient(host, port=port, ssl=False)
    client.login(user, password)
    total = 0
    chunk: list[bytes] = []
    for raw in mailbox(count, share, megabytes, fresh, style):
        total += len(raw)
        chunk.append(raw)
        if len(chunk) >= 200 or sum(map(len, chunk)) > 20_000_000:
            client.multiappend("INBOX", chunk)  # one command for many: a 100k fill in minutes
            chunk = []
    if chunk:
        client.multiappend("INBOX", chunk)
    client.logout()
    return total


def mailbox(count: int, share: float, megabytes: float, fresh: bool,
            style: str = "rich") -> Iterator[bytes]:
    """The realistic mailbox (bench/realistic.py, in `style`) or, with `fresh`, fresh
    intros only."""
    if not fresh:
        return realistic.messages(count, attachment_share=share, attachment_mb=megabytes,
                                  style=style)[1]
    rng = random.Random(7)
    blob = rng.randbytes(int(megabytes * 1024 * 1024))
    return (intro(n, blob if rng.random() < share else None) for n in range(count))


def partner_entries(fresh: bool) -> list[dict[str, object]]:
    if fresh:
        return [{"email": p} for p in PARTNERS]
    return realistic.directory(300, random.Random(7)).partners


def phase_baseline(host: str, port: int, user: str, password: str, batch: int,
                   parse: bool = False, quiet: bool = False) -> dict[str, float]:
    """`quiet`: with imaplib's debug formatting off, as mailflow runs imapclient (which
    sets imaplib's debug level to 5: the repr of every message is formatted for a log
    line no one keeps)."""
    import email

    start = time.perf_counter()
    cpu = time.process_time()
    client = IMAPClient(host, port=port, ssl=False)
    if quiet:
        client._imap.debug = 0
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
            "downloaded": downloaded, "cpu_seconds": time.process_time() - cpu}


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


COMMAND_PHASES = (  # (name, the log line that ends it); from the process's start to its exit
    ("start-up and imports", "phase: cycle started"),
    ("login", "phase: mailbox open"),
    ("first batch", "phase: first batch handled"),
    ("handling", "phase: last message handled"),
    ("moves and planning", "phase: moved and planned"),
    ("digests and sending", "phase: sent"),
    ("commit, checkpoint and close", "phase: closed"),
    ("exit", None),
)


def compile_bytecode() -> None:
    """Compile mailflow's bytecode next to its modules, as pip does when it installs a
    package: a checkout run with PYTHONDONTWRITEBYTECODE (as on these machines) would
    otherwise compile every module from source at each start (0.2 s of start-up). The
    installed libraries have theirs already."""
    compileall.compile_dir(ROOT / "mailflow", quiet=1)


def phase_command(host: str, port: int, user: str, password: str, batch: int, workdir: str,
                  fresh: bool = False) -> dict[str, Any]:
    """`mailflow run --once` as a subprocess, from its start to its exit, its phases read
    from the time stamps of its debug log."""
    config = {
        "tracker": "referrals@firm.example", "database": "command.db",
        "referrers": ["*@firm.example"], "outbox_dir": "outbox",
        "partners": partner_entries(fresh),
        "imap": {"host": host, "port": port, "tls": "none", "username": user,
                 "password": password, "batch_size": batch},
    }
    path = Path(workdir) / "command.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    command = [sys.executable, "-m", "mailflow", "--config", str(path), "-v", "run", "--once",
               "--now", "2026-11-16T10:00:00+00:00"]
    compile_bytecode()
    started = time.time()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(process.pid).start()
    out, err = process.communicate()
    ended = time.time()
    tree = sampler.stop()
    if process.returncode != 0:
        raise SystemExit(f"mailflow run --once failed ({process.returncode}):\n{err[-3000:]}")
    marks: dict[str, float] = {}
    peak = 0.0
    for line in err.splitlines():
        stamp = line[:23]
        message = line.split(": ", 1)[1] if ": " in line else ""
        if message.startswith("phase: ") and message.split(" (")[0] not in marks:
            marks[message.split(" (")[0]] = datetime.strptime(
                stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if "peak RSS" in message:
                peak = float(message.split("peak RSS ")[1].split()[0])
    phases: dict[str, float] = {}
    previous = started
    for name, mark in COMMAND_PHASES:
        at = marks.get(mark, previous) if mark is not None else ended
        phases[name] = max(0.0, at - previous)
        previous = max(previous, at)
    summary = out.strip().splitlines()[-1] if out.strip() else ""
    # the command itself, waited for: exact. Its parsing processes are the forkserver's
    # children, never waited for by us: sampled (bench/process_cpu.py)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"seconds": ended - started, "phases": phases, "main_peak_rss_mb": peak,
            "tree_peak_rss_mb": max(usage.ru_maxrss / 1024, tree.largest_descendant_mb),
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "workers_cpu_seconds": tree.descendants_seconds,
            "dovecot_cpu_seconds": tree.server_seconds, "summary": summary}


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
    parser.add_argument("--style", choices=realistic.STYLES, default="rich",
                        help="rich: multipart with HTML, quoted history and signatures, "
                        "1-40 KB (the default); plain: the short plain-text messages of "
                        "earlier benchmarks")
    parser.add_argument("--fresh", action="store_true",
                        help="fresh intros to three partners (the old toy mailbox) instead of "
                        "the realistic one")
    parser.add_argument("--detail", action="store_true",
                        help="also the raw fetch with a stdlib parse, ingest() in-process "
                        "with where its time goes, and the same all in one process")
    parser.add_argument("--scale", metavar="COUNTS",
                        help="comma-separated message counts (e.g. 1000,10000,100000): for "
                        "each, a fresh mailbox, the raw fetch and the whole command; prints "
                        "the cost per message and its ratio to the smallest count's")
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat the raw fetch and the command on this many fresh "
                        "mailboxes and print the median ratio")
    parser.add_argument("--phase", choices=("baseline", "baseline-parse", "baseline-quiet",
                                            "command",
                                            "mailflow", "mailflow-serial"))
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--workdir")
    args = parser.parse_args()
    if args.phase:
        if args.phase.startswith("baseline"):
            result = phase_baseline(args.host, args.port, args.user, args.password, args.batch,
                                    parse=args.phase == "baseline-parse",
                                    quiet=args.phase == "baseline-quiet")
        elif args.phase == "command":
            result = phase_command(args.host, args.port, args.user, args.password, args.batch,
                                   args.workdir, args.fresh)
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
        kind = ("fresh intros" if args.fresh else
                f"realistic messages (bench/realistic.py, {args.style} style)")
        print(f"filling a Dovecot mailbox with {args.count} {kind} "
              f"({args.attachment_share:.0%} with {args.attachment_mb} MB attachments)...",
              flush=True)
        size = refill(args)
        base = child("baseline", args)
        quiet = child("baseline-quiet", args)
        ours = child("command", args)
        report_command(args, size, base, ours, quiet)
        if args.detail:
            detail(args, workdir, base)
        refill(args)  # the same messages again
        again = child("command", args)
        ratios = [ours["seconds"] / base["seconds"]] + [
            more_round(server, number, args, workdir) for number in range(2, args.rounds + 1)]
    print(f"same {args.count} messages delivered again: {again['seconds']:.2f} s, "
          f"{again['summary']}")
    if len(ratios) > 1:
        print(f"ratio command / raw fetch over {len(ratios)} rounds (each a fresh mailbox): "
              f"median {statistics.median(ratios):.2f}x, from {min(ratios):.2f}x to "
              f"{max(ratios):.2f}x ({', '.join(f'{r:.2f}' for r in ratios)})")


def refill(args: argparse.Namespace) -> int:
    return fill(args.host, args.port, args.user, args.password, args.count,
                args.attachment_share, args.attachment_mb, args.fresh, args.style)


def report_command(args: argparse.Namespace, size: int, base: dict[str, Any],
                   ours: dict[str, Any], quiet: dict[str, Any] | None = None) -> None:
    count = args.count
    print(f"mailbox: {count} messages, {size / 1e6:.1f} MB")
    print(f"baseline (raw imapclient batched fetch): {base['seconds']:.2f} s, "
          f"{base['downloaded'] / 1e6:.1f} MB downloaded, peak RSS {base['peak_rss_mb']:.0f} MB")
    print(f"mailflow run --once (the whole command, process start to exit): "
          f"{ours['seconds']:.2f} s, peak RSS {ours['main_peak_rss_mb']:.0f} MB "
          f"(largest of its processes: {ours['tree_peak_rss_mb']:.0f} MB); {ours['summary']}")
    print(f"ratio command / raw fetch: {ours['seconds'] / base['seconds']:.2f}x; "
          f"per message {ours['seconds'] / count * 1000:.2f} ms "
          f"(raw fetch {base['seconds'] / count * 1000:.2f} ms)")
    if quiet is not None:
        print(f"the raw fetch with imaplib's debug formatting off, as mailflow fetches: "
              f"{quiet['seconds']:.2f} s, CPU {quiet['cpu_seconds']:.2f} s; ratio command / "
              f"that fetch: {ours['seconds'] / quiet['seconds']:.2f}x")
    print("the command's phases (s): " + ", ".join(
        f"{k} {v:.2f}" for k, v in ours["phases"].items()), flush=True)
    mine = ours["cpu_seconds"] + ours["workers_cpu_seconds"]
    used = mine + ours["dovecot_cpu_seconds"]
    print(f"CPU time: the command's main process {ours['cpu_seconds']:.2f} s, its parsing "
          f"processes {ours['workers_cpu_seconds']:.2f} s ({mine / count * 1000:.2f} ms per "
          f"message in all), Dovecot's imap processes {ours['dovecot_cpu_seconds']:.2f} s: "
          f"{used:.1f} s in {ours['seconds']:.1f} s on {os.cpu_count()} cores; the raw "
          f"fetch's client {base['cpu_seconds']:.2f} s", flush=True)


def detail(args: argparse.Namespace, workdir: str, base: dict[str, Any]) -> None:
    """The in-process measurements: where ingest's own time goes, and one process."""
    refill(args)
    parsed = child("baseline-parse", args)
    own = Path(workdir) / "detail"
    own.mkdir()
    ours = child("mailflow", args, str(own))
    refill(args)
    serial_dir = Path(workdir) / "serial"
    serial_dir.mkdir()
    serial = child("mailflow-serial", args, str(serial_dir))
    print(f"baseline + stdlib parse of every message: {parsed['seconds']:.2f} s, "
          f"peak RSS {parsed['peak_rss_mb']:.0f} MB")
    print(f"ingest() in-process (fetch+parse+classify+store+move, plan during the last "
          f"move): {ours['seconds']:.2f} s ({ours['seconds'] / base['seconds']:.2f}x the raw "
          f"fetch), peak RSS {ours['peak_rss_mb']:.0f} MB (the parsing process: "
          f"{ours['worker_peak_rss_mb']:.0f} MB), {ours['referrals']} referrals; batches "
          f"fetched by the parsing processes: {ours['fetched_elsewhere']} of {ours['batches']}")
    print("where ingest's time goes (s): " + ", ".join(
        f"{k} {v:.2f}" for k, v in ours["phases"].items()))
    print(f"all in one process (no parsing process, no move thread): "
          f"{serial['seconds']:.2f} s "
          f"({serial['seconds'] / base['seconds']:.2f}x the raw fetch; fetch waited "
          f"{serial['phases']['fetch']:.2f} s against {ours['phases']['fetch']:.2f} s)",
          flush=True)


def more_round(server: DovecotServer, number: int, args: argparse.Namespace,
               workdir: str) -> float:
    """One more raw fetch and command, on a fresh mailbox in an account of its own."""
    user = account(server, 100 + number)
    args.host, args.port, args.user, args.password = (user.host, user.port, user.username,
                                                      user.password)
    refill(args)
    base = child("baseline", args, workdir)
    own = Path(workdir) / f"round{number}"
    own.mkdir()
    ours = child("command", args, str(own))
    print(f"round {number}: raw fetch {base['seconds']:.2f} s, command {ours['seconds']:.2f} s "
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
            args.count = count
            size = refill(args)
            base = child("baseline", args, workdir)
            own = Path(workdir) / str(count)
            own.mkdir()
            ours = child("command", args, str(own))
            rows.append((count, base, ours))
            print(f"{count} messages ({size / 1e6:.0f} MB): raw fetch {base['seconds']:.2f} s, "
                  f"command {ours['seconds']:.2f} s ({ours['seconds'] / base['seconds']:.2f}x), "
                  f"{ours['seconds'] / count * 1000:.2f} ms per message, peak RSS "
                  f"{ours['main_peak_rss_mb']:.0f} MB (largest of its processes: "
                  f"{ours['tree_peak_rss_mb']:.0f} MB); " + ", ".join(
                      f"{k} {v:.2f}" for k, v in ours["phases"].items()), flush=True)
    first_count, _, first = rows[0]
    for count, base, ours in rows[1:]:
        ratio = (ours["seconds"] / count) / (first["seconds"] / first_count)
        fetch_ratio = (base["seconds"] / count) / (rows[0][1]["seconds"] / first_count)
        print(f"per-message cost at {count} against {first_count}: {ratio:.2f}x "
              f"(the raw fetch's own: {fetch_ratio:.2f}x)")


if __name__ == "__main__":
    main()

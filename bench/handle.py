"""Handling benchmark: what ingest's main process does per message, without IMAP.

    python3 bench/handle.py [--count 3000] [--rounds 3] [--style rich|plain]

Reads a realistic mailbox (bench/realistic.py, no attachments; rich by default) the way the parsing
process does (parse and read each message), then times, in this process, the part
ingest cannot hand to another one: the duplicate check, classification against the
store and the record, in batches of 200 with a commit each, into a fresh database per
round. The baseline, measured in the same run, is the parse and read itself: the
work already moved off the main process. Also counts the SQL statements per message.
Also times what detecting the language of each reply's new text costs (Lingua, as the
handler does at ingest; the intros' is read when an email is written), and loading it.
Figures are printed, never asserted: these machines are noisy.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import realistic  # noqa: E402
from mailflow.adapters.mailbox import FetchedMessage  # noqa: E402
from mailflow.app.ingest import Folders, IngestReport, KnownIds, handle_fetched  # noqa: E402
from mailflow.app.parse_ahead import Outcome, ReadingRules, parse_outcomes  # noqa: E402
from mailflow.app.wiring import App, build_app  # noqa: E402
from mailflow.config import parse_config  # noqa: E402

NOW = datetime(2026, 11, 16, 10, tzinfo=UTC)
BATCH = 200


class Inbox:
    folder = "INBOX"


def fresh_app(workdir: Path) -> App:
    config = parse_config({
        "tracker": "referrals@firm.example", "database": "handle.db",
        "referrers": ["*@firm.example"], "outbox_dir": "outbox",
        "partners": realistic.directory(300, random.Random(7)).partners,
        "imap": {"host": "localhost", "port": 1, "tls": "none", "username": "u",
                 "password": "p"}}, workdir / "mailflow.yaml")
    return build_app(config)


def handle_all(app: App, raws: list[bytes], outcomes: list[Outcome]) -> IngestReport:
    report = IngestReport()
    folders = Folders("done", "quarantine")
    handler = app.handler  # one per run, as ingest has: it keeps the partner directory
    for start in range(0, len(raws), BATCH):
        with app.store.atomic():
            known = KnownIds.read(app.store, outcomes[start:start + BATCH])  # as ingest does
            for n in range(start, min(start + BATCH, len(raws))):
                handle_fetched(FetchedMessage(str(n), raws[n], None), Inbox(),  # type: ignore[arg-type]
                               handler, folders, NOW, None, report, outcomes[n], known)
    return report


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, _: str) -> None:
        self.count += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--style", choices=realistic.STYLES, default="rich",
                        help="the realistic mailbox's style (bench/realistic.py)")
    args = parser.parse_args()
    _, generated = realistic.messages(args.count, attachment_share=0.0, style=args.style)
    raws = list(generated)
    rules = ReadingRules(("referrals@firm.example",), NOW.date())
    reads, handles = [], []
    statements = 0
    for round_ in range(args.rounds):
        started = time.perf_counter()
        outcomes = parse_outcomes(raws, rules)
        reads.append(time.perf_counter() - started)
        with tempfile.TemporaryDirectory() as workdir:
            app = fresh_app(Path(workdir))
            counter = StatementCounter()
            if round_ == 0:  # counting costs a little: only in the first round
                app.store.db.conn.set_trace_callback(counter)
            started = time.perf_counter()
            report = handle_all(app, raws, outcomes)
            handles.append(time.perf_counter() - started)
            if round_ == 0:
                statements = counter.count
                kinds = report.by_kind
            app.close()
    read, handle = statistics.median(reads), statistics.median(handles)
    print(f"{args.count} realistic messages ({', '.join(f'{k} {v}' for k, v in kinds.items())})")
    print(f"parse and read (the parsing process's share): {read:.2f} s, "
          f"{read / args.count * 1000:.3f} ms per message")
    print(f"handle here (duplicate check, classify, record, commit): {handle:.2f} s, "
          f"{handle / args.count * 1000:.3f} ms per message, "
          f"{statements / args.count:.1f} SQL statements per message")
    print(f"ratio handle / parse and read: {handle / read:.2f}x "
          f"(medians of {args.rounds} rounds)")
    language_cost(outcomes)


def language_cost(outcomes: list[Outcome]) -> None:
    """What the handler's language detection of replies costs: once, then per reply."""
    import subprocess

    from mailflow.core import text_language
    from mailflow.core.reading import Reading

    loading = float(subprocess.run(  # in a fresh process: loaded here already
        [sys.executable, "-c", "import time; started = time.perf_counter(); "
         "from mailflow.core.text_language import language_of; "
         "language_of('Danke, wir haben telefoniert.'); "
         "print(time.perf_counter() - started)"], cwd=ROOT, capture_output=True, text=True,
        check=True).stdout)
    replies = [o.text for o in outcomes if isinstance(o, Reading) and o.robot is None
               and o.message.in_reply_to]
    started = time.process_time()
    for text in replies:
        text_language.message_language(text, None)
    each = (time.process_time() - started) / max(len(replies), 1)
    print(f"language of a reply (Lingua, low accuracy): {each * 1000:.3f} ms of CPU each "
          f"over {len(replies)} replies, {loading * 1000:.0f} ms once to import and load it")


if __name__ == "__main__":
    main()

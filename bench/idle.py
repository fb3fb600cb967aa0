"""Idle-cycle benchmark: one daemon cycle with nothing new, in-process, on a full store.

    python3 bench/idle.py [--referrals 100000] [--cycles 50]

Builds a store of N referrals with their pending steps (bench/schedule.py's filler),
an empty Maildir, then times `run_cycle` with nothing to read and nothing due, the
median of `--cycles` runs, against the floor of the same work done by hand: one
indexed due query and one meta write. Also `python3 -m mailflow --version` and
`status` as whole processes (start-up), against `python3 -c pass`. Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.schedule import NOW, fill  # noqa: E402
from mailflow.adapters.store import Store, to_db  # noqa: E402
from mailflow.app.cycle import run_cycle  # noqa: E402
from mailflow.app.wiring import build_app, open_mailbox  # noqa: E402
from mailflow.config import parse_config  # noqa: E402


def median_ms(action: object, times: int) -> float:
    spent = []
    for _ in range(times):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        spent.append((time.perf_counter() - start) * 1000)
    return statistics.median(spent)


def process_ms(command: list[str], cwd: Path, times: int = 5) -> float:
    return median_ms(lambda: subprocess.run(command, cwd=cwd, capture_output=True, check=True),
                     times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--referrals", type=int, default=100_000)
    parser.add_argument("--cycles", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        root = Path(workdir)
        for sub in ("new", "cur", "tmp"):
            (root / "mail" / sub).mkdir(parents=True)
        store = Store(root / "bench.db")
        fill(store, args.referrals, 0)  # nothing due now
        store.close()
        (root / "mailflow.yaml").write_text(
            "tracker: referrals@firm.example\ndatabase: bench.db\nmaildir: mail\n"
            "outbox_dir: outbox\nreferrers: ['*@firm.example']\n"
            "workflow: {digest_every_days: 0}\n")
        config = parse_config({"tracker": "referrals@firm.example", "database": "bench.db",
                               "maildir": "mail", "outbox_dir": "outbox",
                               "referrers": ["*@firm.example"],
                               "workflow": {"digest_every_days": 0}}, root / "mailflow.yaml")
        app = build_app(config)
        box = open_mailbox(config)
        clock = [NOW]

        def cycle() -> None:
            clock[0] += timedelta(minutes=1)
            run_cycle(app, clock[0], box)

        cycle()  # the first cycle settles the workflow fingerprint and the cursor
        ours = median_ms(cycle, args.cycles)

        def floor() -> None:
            app.store.due(clock[0])
            with app.store.atomic():
                app.store.set_meta("last_poll", to_db(clock[0]) or "")

        base = median_ms(floor, args.cycles)
        box.close()
        app.close()
        print(f"store: {args.referrals} referrals with their pending steps, nothing due")
        print(f"idle cycle in the daemon: {ours:.2f} ms (median of {args.cycles}); floor "
              f"(due query + one committed write): {base:.2f} ms; ratio {ours / base:.2f}x")
        python = process_ms([sys.executable, "-c", "pass"], root)
        version = process_ms([sys.executable, "-m", "mailflow", "--version"], root)
        status = process_ms([sys.executable, "-m", "mailflow", "status"], root)
        print(f"start-up: python -c pass {python:.0f} ms; mailflow --version {version:.0f} ms "
              f"({version / python:.1f}x); mailflow status {status:.0f} ms "
              f"({status / python:.1f}x)")


if __name__ == "__main__":
    main()

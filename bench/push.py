"""IDLE push latency: from the APPEND of an intro to its referral being in the database.

    python3 bench/push.py [--intros 10]

Starts a private Dovecot and `mailflow run` (the daemon, IDLE on, polling every 300 s),
then appends one intro at a time and reads the database every 10 ms until the referral
is there. Prints each latency, the median and the worst, against Dovecot's own
notification delay (`imap_idle_notify_interval`, 1 s in the test configuration; about
0.5 s is typical in production). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.dovecot_server import account, dovecot_binary, running_dovecot  # noqa: E402


def intro(n: int) -> bytes:
    return (f"From: Alice <alice@firm.example>\r\nTo: Client {n} <c{n}@gmail.example>, "
            f"Bob <bob@law.example>\r\nCc: referrals@firm.example\r\nSubject: Intro {n}\r\n"
            f"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <push{n}@firm.example>\r\n"
            "\r\nClient, meet Bob. Bob, the client needs a will.\r\n").encode()


def referrals(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute("select count(*) from referrals").fetchone()[0])
    except sqlite3.OperationalError:  # not created or migrated yet
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--intros", type=int, default=10)
    args = parser.parse_args()
    binary = dovecot_binary()
    if binary is None:
        sys.exit("dovecot is not installed: apt-get install -y dovecot-imapd")
    with running_dovecot(binary) as server, tempfile.TemporaryDirectory() as workdir:
        imap = account(server, 1)
        root = Path(workdir)
        (root / "mailflow.yaml").write_text(
            "tracker: referrals@firm.example\ndatabase: mailflow.db\noutbox_dir: outbox\n"
            "referrers: ['*@firm.example']\npartners: [{email: bob@law.example}]\n"
            f"imap: {{host: {imap.host}, port: {imap.port}, tls: none, username: "
            f"{imap.username}, password_env: PUSH_PASSWORD, idle: true, poll_interval: 300}}\n")
        env = {**os.environ, "PUSH_PASSWORD": imap.password}
        daemon = subprocess.Popen([sys.executable, "-m", "mailflow", "run"], cwd=root, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            imap.deliver(intro(0))  # the first cycle: start-up, migrations, first IDLE
            deadline = time.monotonic() + 60
            while referrals(root / "mailflow.db") < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            latencies = []
            for n in range(1, args.intros + 1):
                time.sleep(1.5)  # back in IDLE
                before = referrals(root / "mailflow.db")
                sent = time.monotonic()
                imap.deliver(intro(n))
                while referrals(root / "mailflow.db") == before:
                    if time.monotonic() - sent > 30:
                        sys.exit(f"intro {n} was not stored within 30 s")
                    time.sleep(0.01)
                latencies.append(time.monotonic() - sent)
                print(f"intro {n}: stored {latencies[-1] * 1000:.0f} ms after the APPEND")
        finally:
            daemon.terminate()
            daemon.wait(timeout=30)
    print(f"median {statistics.median(latencies) * 1000:.0f} ms, worst "
          f"{max(latencies) * 1000:.0f} ms (Dovecot notifies IDLE clients every 1 s here)")


if __name__ == "__main__":
    main()

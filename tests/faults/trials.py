"""kill -9 at random points of real cycles, compared with the same scenario run cleanly.

A scenario: intros, replies and a few weeks of cycles against Dovecot and aiosmtpd,
each cycle a separate `mailflow run --once --now T` process. A faulty run kills some
of those processes with SIGKILL at a random moment after interpreter start-up (where
most of a short cycle's time goes) and then runs the same cycle again, as a restart
would. The faulty run must end exactly where the clean one does: every intro recorded
once, the same steps sent, and no step sent twice under different Message-IDs.

    python3 -m tests.faults.trials --trials 200      # the long run (figures in the notes)

CI runs a few trials through tests/faults/test_faults.py.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mailflow.core.parse import parse_message
from tests.integration.dovecot_server import DovecotServer, ImapAccount, account
from tests.integration.smtp_server import Behaviour, SmtpPeer, start_peer

TIMES = ["2026-11-23T10:00:00+00:00", "2026-11-23T11:00:00+00:00", "2026-11-24T10:00:00+00:00",
         "2026-11-26T10:00:00+00:00", "2026-11-30T10:00:00+00:00", "2026-11-30T15:00:00+00:00",
         "2026-12-07T10:00:00+00:00", "2026-12-14T10:00:00+00:00"]
INTROS = 6


def intro(n: int) -> bytes:
    return (f"From: Alice Adams <alice@firm.example>\r\n"
            f"To: Client {n} <client{n}@gmail.example>, Bob Smith <bob@law.example>\r\n"
            f"Cc: referrals@firm.example\r\nSubject: Introduction {n}\r\n"
            f"Date: Mon, 23 Nov 2026 09:{n:02d}:00 +0000\r\n"
            f"Message-ID: <intro{n}@firm.example>\r\n\r\nClient {n}, meet Bob.\r\n").encode()


def reply(n: int) -> bytes:
    return (f"From: Bob Smith <bob@law.example>\r\nTo: referrals@firm.example\r\n"
            f"Subject: Re: [R-{n}] Introduction {n}\r\n"
            f"Date: Tue, 24 Nov 2026 11:{n:02d}:00 +0000\r\n"
            f"Message-ID: <reply{n}@law.example>\r\nIn-Reply-To: <intro{n}@firm.example>\r\n"
            f"\r\n{'done' if n % 2 else 'contacted'}\r\n").encode()


@dataclass
class Outcome:
    referrals: list[tuple[str, str, str | None]]
    sent_keys: Counter[tuple[str, str]]          # (recipient, step key) -> emails
    ids_per_key: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    kills: int = 0


def _config(workdir: Path, imap: ImapAccount, smtp: SmtpPeer) -> Path:
    path = workdir / "mailflow.yaml"
    path.write_text(f"""
tracker: referrals@firm.example
database: mailflow.db
timezone: Europe/London
referrers: ["*@firm.example"]
partners: [{{email: bob@law.example, name: Bob Smith}}]
imap: {{host: {imap.host}, port: {imap.port}, tls: none, username: {imap.username},
        password_env: TRIAL_IMAP_PASSWORD, idle: false}}
smtp: {{host: {smtp.host}, port: {smtp.port}, tls: none}}
""")
    return path


def _cycle(config: Path, now: str, env: dict[str, str], kill_after: float | None) -> bool:
    """One `run --once`; True when it was killed before it finished."""
    process = subprocess.Popen([sys.executable, "-m", "mailflow", "--config", str(config),
                                "run", "--once", "--now", now], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if kill_after is None:
        if process.wait(timeout=120) != 0:
            raise RuntimeError(f"the cycle at {now} failed after a restart (see {config.parent})")
        return False
    try:
        process.wait(timeout=kill_after)
        return False
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return True


def _step_key(message_id: str) -> str:
    """What was sent, without the parts that make the Message-ID unique.

    Every id mailflow mints ends in the installation id (random per database), which
    is dropped; `r3.partner_nudge.17` → `r3.partner_nudge` (and the row id);
    `r3.notice.confirm.1.20` → `r3.notice.confirm.1`; `c12.<digest>` (a combined
    email) → `c12`; `digest.<who>.<day>` and `alert.<time>` stay as they are.
    """
    parts = message_id.split("@")[0].split(".")[:-1]
    if parts and parts[0][:1] in ("r", "c") and parts[0][1:].isdigit():
        return ".".join(parts[:-1]) if parts[0][0] == "r" else parts[0]
    return ".".join(parts)


def run_scenario(server: DovecotServer, user: int, workdir: Path, rng: random.Random | None,
                 kill_chance: float = 0.5) -> Outcome:
    imap = account(server, user)
    controller, smtp = start_peer(Behaviour())
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        config = _config(workdir, imap, smtp)
        env = {**os.environ, "TRIAL_IMAP_PASSWORD": imap.password}
        for n in range(1, INTROS + 1):
            imap.deliver(intro(n))
        kills = 0
        for index, now in enumerate(TIMES):
            if index == 2:
                for n in range(1, INTROS + 1):
                    imap.deliver(reply(n))
            if rng is not None and rng.random() < kill_chance:
                kills += _cycle(config, now, env, rng.uniform(0.3, 1.6))
            _cycle(config, now, env, None)  # the restart: the same cycle to the end
        listed = subprocess.run([sys.executable, "-m", "mailflow", "--config", str(config),
                                 "list", "--json"], env=env, capture_output=True, text=True,
                                check=True)
        referrals = sorted((r["subject"], r["status"], r["outcome"])
                           for r in json.loads(listed.stdout))
        sent: Counter[tuple[str, str]] = Counter()
        ids: dict[tuple[str, str], set[str]] = {}
        for received in smtp.messages:
            message = parse_message(received.content)
            key = (message.to[0].email, _step_key(message.message_id))
            sent[key] += 1
            ids.setdefault(key, set()).add(message.message_id)
        return Outcome(referrals, sent, ids, kills)
    finally:
        controller.stop()


@dataclass
class Tally:
    trials: int = 0
    kills: int = 0
    lost_intros: int = 0
    duplicate_referrals: int = 0
    twice_under_new_ids: int = 0
    resent_same_id: int = 0
    differing_outcomes: int = 0


def compare(clean: Outcome, faulty: Outcome, tally: Tally) -> None:
    tally.trials += 1
    tally.kills += faulty.kills
    subjects = Counter(s for s, _, _ in faulty.referrals)
    tally.lost_intros += INTROS - len(subjects)
    tally.duplicate_referrals += sum(c - 1 for c in subjects.values())
    tally.twice_under_new_ids += sum(len(v) - 1 for v in faulty.ids_per_key.values())
    tally.resent_same_id += sum(faulty.sent_keys.values()) - sum(
        len(v) for v in faulty.ids_per_key.values())
    if faulty.referrals != clean.referrals or set(faulty.sent_keys) != set(clean.sent_keys):
        tally.differing_outcomes += 1


def main() -> None:
    from tests.integration.dovecot_server import dovecot_binary, running_dovecot

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mailflow-faults"))
    args = parser.parse_args()
    binary = dovecot_binary()
    assert binary, "install dovecot-imapd"
    tally = Tally()
    started = time.monotonic()
    with running_dovecot(binary) as server:
        clean = run_scenario(server, 1, args.workdir / "clean", None)
        for trial in range(args.trials):
            faulty = run_scenario(server, 2 + trial % 498, args.workdir / f"t{trial}",
                                  random.Random(args.seed * 1000 + trial))
            compare(clean, faulty, tally)
            print(f"trial {trial + 1}/{args.trials}: {tally}", flush=True)
    print(f"{tally.trials} trials, {tally.kills} kills in {time.monotonic() - started:.0f} s: "
          f"{tally.lost_intros} lost intros, {tally.duplicate_referrals} duplicate referrals, "
          f"{tally.twice_under_new_ids} steps sent twice under different Message-IDs, "
          f"{tally.resent_same_id} resent with the same Message-ID, "
          f"{tally.differing_outcomes} runs ending elsewhere than the clean one")


if __name__ == "__main__":
    main()

"""kill -9 in the middle of a real SMTP send batch, then the same send again (a restart):
no email is lost, and at most the one in flight when the process died goes twice."""

from __future__ import annotations

import email
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from mailflow.adapters.store import Store, to_db
from tests.integration.send_due_process import NOW, config_in
from tests.integration.smtp_server import Behaviour, SmtpPeer, start_peer

pytestmark = pytest.mark.smtp
ROOT = Path(__file__).resolve().parents[2]
EMAILS = 40


def fill(directory: Path) -> None:
    """EMAILS open referrals, each with a partner nudge due now to a partner of its own."""
    store = Store(config_in(directory).database)
    created, due = to_db(NOW - timedelta(days=1)), to_db(NOW - timedelta(minutes=5))
    with store.atomic():
        store.db.conn.executemany(
            "insert into referrals (id, status, direction, referrer, client, partner, "
            "subject, created_at, intro_message_id, context, candidates, names) values "
            "(?, 'open', 'given', 'alice@firm.example', ?, ?, ?, ?, ?, '', '[]', ?)",
            [(n, f"client{n}@mail.example", f"partner{n}@law.example", f"Intro {n}", created,
              f"intro{n}@firm.example",
              json.dumps({f"client{n}@mail.example": f"Client {n}",
                          f"partner{n}@law.example": f"Partner {n}"}))
             for n in range(1, EMAILS + 1)])
        store.db.conn.executemany(
            "insert into outbox (referral_id, step, recipient, due_at, status, attempts) "
            "values (?, 'partner_nudge', ?, ?, 'pending', 0)",
            [(n, f"partner{n}@law.example", due) for n in range(1, EMAILS + 1)])
    store.close()


def send_due(directory: Path, peer: SmtpPeer) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.send_due_process", str(directory),
         peer.host, str(peer.port)], cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})


def kill_after(process: subprocess.Popen[bytes], peer: SmtpPeer, received: int) -> None:
    """SIGKILL the sending process as soon as the peer has taken `received` emails."""
    deadline = time.monotonic() + 60
    while len(peer.messages) < received:
        assert process.poll() is None, "the send ended before it could be killed"
        assert time.monotonic() < deadline, "the peer never got that many emails"
        time.sleep(0.0005)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)


@pytest.mark.parametrize("received", [1, EMAILS // 2])
def test_kill_9_mid_batch_loses_nothing_and_resends_at_most_one(tmp_path: Path,
                                                               received: int) -> None:
    fill(tmp_path)
    controller, peer = start_peer(Behaviour())
    try:
        kill_after(send_due(tmp_path, peer), peer, received)
        taken_before_restart = len(peer.messages)
        restart = send_due(tmp_path, peer)
        _, errors = restart.communicate(timeout=120)
        assert restart.returncode == 0, errors.decode()
    finally:
        controller.stop()
    assert received <= taken_before_restart < EMAILS  # it died in the middle of the batch
    store = Store(config_in(tmp_path).database)
    try:
        rows = store.query("select status, message_id from outbox")
        sent_events = store.query("select referral_id from events where kind = 'sent'")
    finally:
        store.close()
    assert [r["status"] for r in rows] == ["sent"] * EMAILS
    delivered = Counter(email.message_from_bytes(m.content)["Message-ID"].strip("<>")
                        for m in peer.messages)
    assert set(delivered) == {r["message_id"] for r in rows}  # every email arrived
    assert sum(delivered.values()) - EMAILS <= 1  # at most the one in flight, twice
    assert sorted(r["referral_id"] for r in sent_events) == list(range(1, EMAILS + 1))

"""`mailflow run` as a process: IDLE wakes it, SIGTERM ends it cleanly; alerts once per incident."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailflow.app.daemon import Daemon
from mailflow.app.wiring import build_app
from mailflow.config import load_config
from mailflow.core.parse import parse_message
from tests.integration.dovecot_server import ImapAccount
from tests.integration.smtp_server import SmtpPeer

pytestmark = pytest.mark.dovecot
INTRO = (b"From: Alice <alice@firm.example>\r\nTo: jane@gmail.com, bob@law.example\r\n"
         b"Cc: referrals@firm.example\r\nSubject: Jane / Bob\r\n"
         b"Message-ID: <d1@firm.example>\r\n\r\nJane, meet Bob.\r\n")


def write_config(tmp_path: Path, imap: ImapAccount, extra: str = "") -> Path:
    path = tmp_path / "mailflow.yaml"
    path.write_text(f"""
tracker: referrals@firm.example
referrers: ["*@firm.example"]
partners: [{{email: bob@law.example}}]
imap: {{host: {imap.host}, port: {imap.port}, tls: none, username: {imap.username},
        password_env: TEST_IMAP_PASSWORD, idle: true, poll_interval: 300}}
{extra or "outbox_dir: outbox"}
""")
    return path


def referrals(config: Path) -> list[dict[str, object]]:
    done = subprocess.run([sys.executable, "-m", "mailflow.cli.parser", "--config", str(config),
                           "list", "--json"], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@contextmanager
def running_daemon(tmp_path: Path, config: Path,
                   env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """`mailflow run` as a process logging to tmp_path/daemon.log, once it says it runs;
    killed afterwards if the test did not stop it."""
    with (tmp_path / "daemon.log").open("wb") as log:
        daemon = subprocess.Popen([sys.executable, "-m", "mailflow.cli.parser", "--config",
                                   str(config), "run"], env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and b"running" not in (tmp_path / "daemon.log"
                                                                  ).read_bytes():
            time.sleep(0.2)
        yield daemon
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()


def test_idle_ingests_within_seconds_and_sigterm_exits_zero(tmp_path: Path,
                                                            imap_account: ImapAccount) -> None:
    config = write_config(tmp_path, imap_account)
    env = {**os.environ, "TEST_IMAP_PASSWORD": imap_account.password}
    with running_daemon(tmp_path, config, env) as daemon:
        time.sleep(1.0)  # let it enter IDLE
        delivered = time.monotonic()
        imap_account.deliver(INTRO)
        found: list[dict[str, object]] = []
        while time.monotonic() < delivered + 30 and not found:
            found = referrals(config)
            time.sleep(0.3)
        assert found, (tmp_path / "daemon.log").read_text()
        waited = time.monotonic() - delivered
        assert waited < 30  # polling alone would take 300 s; IDLE brought it in
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=20) == 0
    assert "mailflow stopped" in (tmp_path / "daemon.log").read_text()


@pytest.mark.smtp
def test_login_failure_alerts_once_and_recovery_once(
        tmp_path: Path, imap_account: ImapAccount, smtp_server: SmtpPeer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_config(tmp_path, imap_account, f"""admin: ops@firm.example
smtp: {{host: {smtp_server.host}, port: {smtp_server.port}, tls: none}}""")
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "expired-password")
    clock = [datetime(2026, 11, 23, 10, tzinfo=UTC)]
    app = build_app(load_config(config))
    daemon = Daemon(app, now=lambda: clock[0])
    for _ in range(3):
        daemon.cycle()
        clock[0] += timedelta(minutes=5)
    alerts = [parse_message(m.content) for m in smtp_server.messages]
    assert [a.subject for a in alerts] == [
        "mailflow needs attention: IMAP login failed for "
        f"{imap_account.username} at {imap_account.host}: wrong username or password"]
    assert app.store.meta("incident")
    monkeypatch.setenv("TEST_IMAP_PASSWORD", imap_account.password)
    daemon.cycle()
    daemon.cycle()
    subjects = [parse_message(m.content).subject for m in smtp_server.messages]
    assert subjects[1:] == ["mailflow recovered"]
    assert app.store.meta("incident") is None and app.store.meta("last_success")
    daemon.close()
    app.close()


def _intro(n: int) -> bytes:
    return INTRO.replace(b"<d1@firm.example>", f"<d{n}.busy@firm.example>".encode())


def test_the_cli_beside_the_idle_daemon_never_meets_a_locked_database(
        tmp_path: Path, imap_account: ImapAccount) -> None:
    config = write_config(tmp_path, imap_account)
    env = {**os.environ, "TEST_IMAP_PASSWORD": imap_account.password}
    with running_daemon(tmp_path, config, env) as daemon:
        commands = [["list", "--json"], ["show", "R-1", "--json"], ["partners", "--json"],
                    ["status", "--json"], ["outbox", "--json"], ["close", "R-1"],
                    ["reopen", "R-1"]]
        failures = []
        for n in range(6):
            imap_account.deliver(_intro(n))
            for command in commands:
                done = subprocess.run([sys.executable, "-m", "mailflow.cli.parser", "--config",
                                       str(config), *command], capture_output=True, text=True,
                                      env=env, timeout=60, check=False)
                if "locked" in done.stderr or "Traceback" in done.stderr:
                    failures.append((command, done.stderr))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(referrals(config)) < 6:
            time.sleep(0.3)
        assert not failures, failures[0]
        assert len(referrals(config)) == 6
        assert daemon.poll() is None, (tmp_path / "daemon.log").read_text()
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=20) == 0
    log_text = (tmp_path / "daemon.log").read_text()
    assert "locked" not in log_text and "Traceback" not in log_text, log_text


def test_the_daemon_survives_a_bug_in_a_cycle(tmp_path: Path, imap_account: ImapAccount,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import mailflow.app.daemon as daemon_module

    monkeypatch.setenv("TEST_IMAP_PASSWORD", imap_account.password)
    app = build_app(load_config(write_config(tmp_path, imap_account)))
    calls: list[int] = []

    def broken(*args: object, **kwargs: object) -> None:
        calls.append(1)
        raise UnicodeEncodeError("utf-8", "x", 0, 1, "a bug nobody foresaw")

    try:
        with monkeypatch.context() as patch:
            patch.setattr(daemon_module, "run_cycle", broken)
            daemon = Daemon(app, now=lambda: datetime(2026, 11, 23, 10, tzinfo=UTC))
            daemon.cycle()  # logged, counted, no exception out of the loop
            daemon.cycle()
        assert daemon.failures == 2 and len(calls) == 2
        assert app.store.meta("failing_since")
        imap_account.deliver(INTRO)
        daemon.cycle()  # the bug is gone: the next cycle works and the failure is cleared
        assert daemon.failures == 0 and len(app.store.referrals()) == 1
    finally:
        daemon.close()
        app.close()


@pytest.mark.smtp
def test_an_alert_refused_for_now_is_retried_from_the_outbox(
        tmp_path: Path, imap_account: ImapAccount, smtp_server: SmtpPeer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Alerts are outbox rows: a 451 keeps the alert queued, and it goes out later."""
    config = write_config(tmp_path, imap_account, f"""admin: ops@firm.example
smtp: {{host: {smtp_server.host}, port: {smtp_server.port}, tls: none}}""")
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "expired-password")
    smtp_server.behaviour.reject["ops@firm.example"] = "451 4.3.0 try again later"
    clock = [datetime(2026, 11, 23, 10, tzinfo=UTC)]
    app = build_app(load_config(config))
    daemon = Daemon(app, now=lambda: clock[0])
    daemon.cycle()
    queued = [r for r in app.store.pending() if r.kind == "alert"]
    assert len(queued) == 1 and queued[0].attempts == 1 and "451" in queued[0].detail
    assert not smtp_server.messages
    smtp_server.behaviour.reject.clear()
    monkeypatch.setenv("TEST_IMAP_PASSWORD", imap_account.password)
    clock[0] += timedelta(minutes=10)  # past the first backoff
    daemon.cycle()
    got = [parse_message(m.content) for m in smtp_server.messages]
    assert sorted(m.subject for m in got) == [
        "mailflow needs attention: IMAP login failed for "
        f"{imap_account.username} at {imap_account.host}: wrong username or password",
        "mailflow recovered"]
    assert len(got) == 2 and queued[0].message_id in {m.message_id for m in got}
    assert not [r for r in app.store.pending() if r.kind == "alert"]
    daemon.close()
    app.close()

"""The systemd units: valid, and hardened until systemd rates their exposure OK (<= 2.5)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).parents[2] / "deploy"
UNITS = ["mailflow.service", "mailflow@.service"]


def _analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        message = "systemd-analyze is not installed (apt-get install systemd)"
        if os.environ.get("MAILFLOW_REQUIRE_DOVECOT") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


def _installable(unit: str, tmp_path: Path) -> Path:
    """The unit as installed: ExecStart pointing at a program that exists here."""
    name = unit.replace("@.", "@referrals-firm.")
    text = (DEPLOY / unit).read_text().replace("/usr/local/bin/mailflow", "/bin/true")
    target = tmp_path / name
    target.write_text(text)
    return target


@pytest.mark.parametrize("unit", UNITS)
def test_the_unit_verifies(unit: str, tmp_path: Path) -> None:
    done = subprocess.run([_analyze(), "verify", str(_installable(unit, tmp_path))],
                          capture_output=True, text=True, timeout=60, check=False)
    problems = [line for line in (done.stdout + done.stderr).splitlines()
                if "Unknown" in line or "Invalid" in line]
    assert done.returncode == 0 and not problems, done.stdout + done.stderr


@pytest.mark.parametrize("unit", UNITS)
def test_the_unit_is_hardened(unit: str, tmp_path: Path) -> None:
    done = subprocess.run([_analyze(), "security", "--offline=yes", "--no-pager",
                           str(_installable(unit, tmp_path))],
                          capture_output=True, text=True, timeout=60, check=False)
    match = re.search(r"Overall exposure level for \S+: ([\d.]+)", done.stdout + done.stderr)
    assert match, done.stdout + done.stderr
    assert float(match.group(1)) <= 2.5, done.stdout


def test_the_daemon_speaks_the_notify_protocol(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from mailflow.adapters import systemd

    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        monkeypatch.setenv("WATCHDOG_USEC", "1200000000")
        monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
        assert systemd.notify("READY=1")
        assert server.recv(64) == b"READY=1"
        assert systemd.watchdog_seconds() == 1200
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert not systemd.notify("WATCHDOG=1")

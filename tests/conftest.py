"""Suite-wide rules: in CI (MAILFLOW_REQUIRE_DOVECOT=1) a skipped real-server test fails the run."""

from __future__ import annotations

import os

import pytest

REAL_SERVER_MARKS = ("dovecot", "smtp")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in item.nodeid.split("/"):
            item.add_marker(pytest.mark.integration)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("MAILFLOW_REQUIRE_DOVECOT") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = [r for r in reporter.stats.get("skipped", [])
               if any(mark in getattr(r, "keywords", {}) for mark in REAL_SERVER_MARKS)]
    if skipped:
        reporter.write_line(f"FAILED: {len(skipped)} real-server tests were skipped in CI")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

"""One `Dispatcher.send_due` in a process of its own, to be killed mid-batch by a test.

    python3 -m tests.integration.send_due_process DIR HOST PORT

DIR holds the database (`mailflow.db`); the emails go to the SMTP peer at HOST:PORT.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from mailflow.adapters.renderer import Renderer
from mailflow.adapters.smtp_mailer import SmtpMailer
from mailflow.adapters.store import Store
from mailflow.app.dispatch import Dispatcher
from mailflow.app.planning import calendar_of
from mailflow.config import Config, parse_config

NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)  # a Tuesday, inside business hours


def config_in(directory: Path) -> Config:
    return parse_config({"tracker": "referrals@firm.example", "database": "mailflow.db",
                         "maildir": "mail", "outbox_dir": "outbox",
                         "referrers": ["*@firm.example"]}, directory / "mailflow.yaml")


def main(directory: Path, host: str, port: int) -> None:
    config = config_in(directory)
    store = Store(config.database)
    try:
        mailer = SmtpMailer(host, port, "none", None, None, timeout=10)
        Dispatcher(store, config, calendar_of(config), Renderer(), mailer,
                   "secret").send_due(NOW)
    finally:
        store.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]))

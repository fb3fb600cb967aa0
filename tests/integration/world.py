"""A mailflow world for end-to-end tests: a config on Dovecot and aiosmtpd, driven by the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mailflow.cli.parser import main
from mailflow.core.model import InboundMessage
from mailflow.core.parse import parse_message
from mailflow.core.tokens import reply_address
from tests.integration.dovecot_server import ImapAccount
from tests.integration.smtp_server import SmtpPeer

INTRO = b"""From: Alice Adams <alice@firm.example>
To: Jane Doe <jane@gmail.com>, Bob Smith <bob@law.example>
Cc: referrals@firm.example
Subject: Introduction: Jane / Bob
Date: Mon, 23 Nov 2026 09:30:00 +0000
Message-ID: <intro1@firm.example>

Jane, meet Bob, the best estate planner I know. Bob, Jane is updating her will.

Alice
"""


@dataclass
class World:
    config: Path
    imap: ImapAccount
    smtp: SmtpPeer
    capsys: pytest.CaptureFixture[str]

    def run(self, now: str) -> None:
        assert main(["--config", str(self.config), "run", "--once", "--now", now]) == 0

    def cli_json(self, *args: str) -> object:
        self.capsys.readouterr()
        assert main(["--config", str(self.config), *args, "--json"]) == 0
        return json.loads(self.capsys.readouterr().out)

    def sent(self) -> list[InboundMessage]:
        return [parse_message(m.content) for m in self.smtp.messages]

    def sent_to(self, address: str) -> list[InboundMessage]:
        return [m for m in self.sent() if address in [a.email for a in m.to]]

    def reply_address(self, sender: str, referral_id: int = 1) -> str:
        """The signed Reply-To mailflow gives `sender` on that referral (reply_tokens: plus)."""
        return reply_address("referrals@firm.example", "a-test-secret", referral_id, sender)

    def deliver(self, raw: bytes) -> None:
        self.imap.deliver(raw.replace(b"\n", b"\r\n"))


@pytest.fixture
def world(tmp_path: Path, imap_account: ImapAccount, smtp_server: SmtpPeer,
          capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", imap_account.password)
    monkeypatch.setenv("TEST_SECRET", "a-test-secret")
    config = tmp_path / "mailflow.yaml"
    config.write_text(f"""
tracker: referrals@firm.example
database: mailflow.db
timezone: Europe/London
referrers: ["*@firm.example"]
partners:
  - {{email: bob@law.example, name: Bob Smith, niche: estate planning}}
reply_tokens: plus
secret_env: TEST_SECRET
imap:
  host: {imap_account.host}
  port: {imap_account.port}
  tls: none
  username: {imap_account.username}
  password_env: TEST_IMAP_PASSWORD
  idle: false
  sent_folder: Sent
smtp:
  host: {smtp_server.host}
  port: {smtp_server.port}
  tls: none
""")
    yield World(config, imap_account, smtp_server, capsys)

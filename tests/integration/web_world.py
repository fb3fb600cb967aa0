"""A mailflow with referrals from two referrers, its web view, and aiosmtpd for sign-in mail."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.applications import Starlette

from mailflow.app.wiring import App, build_app
from mailflow.cli.parser import main
from mailflow.config import load_config
from mailflow.core.parse import parse_message
from mailflow.web.app import create_app
from tests.integration.smtp_server import SmtpPeer

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday, business hours
LINK = re.compile(r"https?://\S+/auth\?t=\S+")


def intro(n: int, referrer: str, client: str, partner: str, subject: str) -> bytes:
    return (f"From: {referrer}\r\nTo: {client}, {partner}\r\nCc: referrals@firm.example\r\n"
            f"Subject: {subject}\r\nDate: Mon, 23 Nov 2026 09:{n:02d}:00 +0000\r\n"
            f"Message-ID: <web{n}@firm.example>\r\n\r\n"
            f"{client.split('@')[0].title()}, meet my partner. Thanks!\r\n").encode()


@dataclass
class WebWorld:
    root: Path
    config: Path
    smtp: SmtpPeer
    clock: list[datetime]
    sites: list[Starlette] = field(default_factory=list)

    def serve(self, app: App, public_url: str) -> Starlette:
        """The web view of `app`, remembered so that its sign-in sender can be waited for."""
        site = create_app(app, now=self.now, public_url=public_url)
        self.sites.append(site)
        return site

    def wait_for_signins(self) -> None:
        """Until each site's sender thread has handled every sign-in request so far."""
        for site in self.sites:
            site.state.site.signins.wait_idle()

    def app(self) -> App:
        return build_app(load_config(self.config))

    def now(self) -> datetime:
        return self.clock[0]

    def links_to(self, address: str) -> list[str]:
        self.wait_for_signins()
        found = []
        for message in self.smtp.messages:
            parsed = parse_message(message.content)
            if address in [a.email for a in parsed.to]:
                found += LINK.findall(parsed.text)
        return found


@pytest.fixture
def web_world(tmp_path: Path, smtp_server: SmtpPeer) -> Iterator[WebWorld]:
    mail = tmp_path / "mail"
    for sub in ("new", "cur", "tmp"):
        (mail / sub).mkdir(parents=True)
    config = tmp_path / "mailflow.yaml"
    config.write_text(f"""
tracker: referrals@firm.example
database: mailflow.db
timezone: Europe/London
referrers: ["*@firm.example"]
admin: ops@firm.example
maildir: mail
partners:
  - {{email: bob@law.example, name: Bob Smith, niche: estate planning}}
  - {{email: carol@tax.example, name: Carol Jones, niche: tax}}
smtp:
  host: {smtp_server.host}
  port: {smtp_server.port}
  tls: none
""")
    mails = [
        intro(1, "alice@firm.example", "jane@gmail.com", "bob@law.example", "Jane / Bob"),
        intro(2, "alice@firm.example", "tom@bakery.example", "carol@tax.example", "Tom / Carol"),
        # mailflow takes Bob (a known partner) for the partner; Alice meant Dan
        intro(3, "alice@firm.example", "dan@it.example", "bob@law.example",
              "Bob / Dan (the other way round)"),
        intro(4, "zoe@firm.example", "max@shop.example", "bob@law.example", "Max / Bob"),
    ]
    for n, raw in enumerate(mails):
        (mail / "new" / f"{n}.eml").write_bytes(raw)
    assert main(["--config", str(config), "run", "--once", "--now", NOW.isoformat()]) == 0
    smtp_server.handler.messages.clear()
    world = WebWorld(tmp_path, config, smtp_server, [NOW + timedelta(minutes=5)])
    yield world
    for site in world.sites:
        site.state.site.signins.stop()

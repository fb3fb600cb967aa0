"""XOAUTH2 over IMAP: Dovecot's oauth2 passdb asks a token-introspection server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs

import pytest

from mailflow.cli.parser import main
from tests.integration.dovecot_server import (
    DovecotServer,
    ImapAccount,
    _missing,
    account,
    dovecot_binary,
    running_dovecot,
)
from tests.integration.smtp_server import SmtpPeer
from tests.integration.world import INTRO

USERNAME = "user1"
GOOD_TOKEN = "ya29.good-token"


class Introspection(BaseHTTPRequestHandler):
    """RFC 7662 introspection: POST token=… answers whether it is active and whose it is."""

    seen: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        token = parse_qs(self.rfile.read(length).decode()).get("token", [""])[0]
        Introspection.seen.append(token)
        body = ({"active": True, "username": USERNAME} if token == GOOD_TOKEN
                else {"active": False})
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def oauth2_dovecot() -> Iterator[DovecotServer]:
    binary = dovecot_binary()
    if binary is None:
        _missing("the dovecot binary is not installed (apt-get install dovecot-imapd)")
    assert binary is not None
    server = ThreadingHTTPServer(("127.0.0.1", 0), Introspection)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/introspect"
    try:
        with running_dovecot(binary, introspection_url=url) as dovecot:
            yield dovecot
    finally:
        server.shutdown()
        server.server_close()


def _config(tmp_path: Path, imap: ImapAccount, smtp: SmtpPeer, token_command: str) -> Path:
    config = tmp_path / "mailflow.yaml"
    config.write_text(f"""
tracker: referrals@firm.example
database: mailflow.db
timezone: Europe/London
referrers: ["*@firm.example"]
partners:
  - {{email: bob@law.example, name: Bob Smith, niche: estate planning}}
imap:
  host: {imap.host}
  port: {imap.port}
  tls: none
  username: {USERNAME}
  oauth2_token_command: {json.dumps(token_command)}
  idle: false
smtp:
  host: {smtp.host}
  port: {smtp.port}
  tls: none
""")
    return config


def test_a_token_from_the_command_logs_in_and_mail_is_read(
        oauth2_dovecot: DovecotServer, smtp_server: SmtpPeer, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    imap = account(oauth2_dovecot, 1)
    config = _config(tmp_path, imap, smtp_server, f"echo {GOOD_TOKEN}")
    Introspection.seen.clear()
    # delivering needs a login too: XOAUTH2 is the only mechanism this Dovecot offers
    from imapclient import IMAPClient
    client = IMAPClient(imap.host, port=imap.port, ssl=False, timeout=10)
    client.oauth2_login(USERNAME, GOOD_TOKEN)
    client.append("INBOX", INTRO.replace(b"\n", b"\r\n"))
    client.logout()

    assert main(["--config", str(config), "check"]) == 0
    assert main(["--config", str(config), "run", "--once",
                 "--now", "2026-11-23T10:00:00+00:00"]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "list", "--json"]) == 0
    referrals = json.loads(capsys.readouterr().out)
    assert [r["client"] for r in referrals] == ["jane@gmail.com"]
    assert GOOD_TOKEN in Introspection.seen


def test_a_refused_token_is_one_line_naming_the_token(
        oauth2_dovecot: DovecotServer, smtp_server: SmtpPeer, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, account(oauth2_dovecot, 1), smtp_server, "echo ya29.expired")
    assert main(["--config", str(config), "check"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"IMAP login failed for {USERNAME}" in err
    assert "token" in err and "password" not in err


def test_a_failing_token_command_is_one_line(
        oauth2_dovecot: DovecotServer, smtp_server: SmtpPeer, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, account(oauth2_dovecot, 1), smtp_server,
                     "sh -c 'echo refresh token revoked >&2; exit 3'")
    assert main(["--config", str(config), "run", "--once"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "imap.oauth2_token_command" in err[0] and "refresh token revoked" in err[0]

"""A real Dovecot on loopback, started from a temp dir for the test session.

Dovecot runs in the foreground (`-F`) with its output in a file: it keeps
inherited pipes open, so capturing its output would hang. Each test gets a
fresh user in a passwd-file, which Dovecot re-reads on its own.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import pytest
from imapclient import IMAPClient

MAIL_USER = "nobody"
USERS = 500
STARTUP_SECONDS = 20.0
_users = count(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _missing(reason: str) -> None:
    if os.environ.get("MAILFLOW_REQUIRE_DOVECOT") == "1":
        pytest.fail(f"Dovecot is required (MAILFLOW_REQUIRE_DOVECOT=1) but {reason}")
    pytest.skip(reason)


@dataclass(frozen=True)
class DovecotServer:
    host: str
    port: int
    root: Path
    passwd_file: Path
    log: Path
    tls_port: int | None = None   # implicit TLS (imaps), when started with a certificate
    certificate: Path | None = None


@dataclass(frozen=True)
class ImapAccount:
    host: str
    port: int
    username: str
    password: str
    dovecot_log: Path

    def client(self) -> IMAPClient:
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(self.username, self.password)
        return client

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        client = self.client()
        try:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.append(folder, raw)
        finally:
            client.logout()


def _tls_settings(root: Path) -> str:
    """A self-signed certificate for 127.0.0.1: clients must be given it (ca_file) to trust it."""
    key, cert = root / "key.pem", root / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\nssl_min_protocol = TLSv1.2\n"


def _passdb(root: Path, passwd: Path, introspection_url: str | None) -> str:
    """passwd-file users, or (XOAUTH2 tests) tokens checked by an introspection server."""
    if introspection_url is None:
        return f"""auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}"""
    oauth2 = root / "dovecot-oauth2.conf.ext"
    oauth2.write_text(f"introspection_mode = post\nintrospection_url = {introspection_url}\n"
                      "username_attribute = username\nactive_attribute = active\n"
                      "active_value = true\n")
    return f"""auth_mechanisms = xoauth2 oauthbearer
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {oauth2}
}}"""


def _config(root: Path, port: int, passwd: Path, log: Path,
            tls_port: int | None = None, introspection_url: str | None = None) -> str:
    mail_user = pwd.getpwnam(MAIL_USER)
    return f"""
base_dir = {root}/run
state_dir = {root}/state
instance_name = mailflow-test-{port}
listen = 127.0.0.1
protocols = imap
{_tls_settings(root) if tls_port else "ssl = no"}
disable_plaintext_auth = no
auth_failure_delay = 0
log_path = {log}
info_log_path = {log}
mail_location = maildir:~/Maildir
mail_plugins =
first_valid_uid = 1
default_internal_user = dovecot
default_login_user = dovenull
{_passdb(root, passwd, introspection_url)}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port or 0}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
protocol imap {{
  imap_idle_notify_interval = 1 secs
}}
"""


def account(server: DovecotServer, number: int) -> ImapAccount:
    return ImapAccount(server.host, server.port, f"user{number}", f"pw-user{number}",
                       server.log)


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    process.kill()
    raise RuntimeError(f"Dovecot did not start on port {port}:\n{tail}")


def dovecot_binary() -> str | None:
    found = shutil.which("dovecot")
    return found or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)


@contextmanager
def running_dovecot(binary: str, tls: bool = False,
                    introspection_url: str | None = None) -> Iterator[DovecotServer]:
    """Dovecot in the foreground from a fresh temp dir; stopped and removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="mailflow-dovecot-"))
    root.chmod(0o755)
    for sub in ("run", "state", "home"):
        (root / sub).mkdir()
    mail_user = pwd.getpwnam(MAIL_USER)
    os.chown(root / "home", mail_user.pw_uid, mail_user.pw_gid)
    passwd = root / "passwd"
    # all users up front: Dovecot notices passwd-file changes by mtime, too coarse to add per test
    passwd.write_text("".join(f"user{n}:{{PLAIN}}pw-user{n}::::::\n" for n in range(1, USERS + 1)))
    log = root / "dovecot.log"
    port = free_port()
    conf = root / "dovecot.conf"
    tls_port = free_port() if tls else None
    conf.write_text(_config(root, port, passwd, log, tls_port, introspection_url))
    with (root / "stdout.log").open("wb") as out:
        process = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_for(port, process, log)
        yield DovecotServer("127.0.0.1", port, root, passwd, log, tls_port,
                            root / "cert.pem" if tls else None)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    binary = dovecot_binary()
    if binary is None:
        _missing("the dovecot binary is not installed (apt-get install dovecot-imapd)")
    assert binary is not None
    with running_dovecot(binary) as server:
        yield server


@pytest.fixture(scope="session")
def dovecot_tls() -> Iterator[DovecotServer]:
    """A second Dovecot with a self-signed certificate: STARTTLS on `port`, TLS on `tls_port`."""
    binary = dovecot_binary()
    if binary is None or shutil.which("openssl") is None:
        _missing("dovecot and openssl are needed for the TLS tests")
    assert binary is not None
    with running_dovecot(binary, tls=True) as server:
        yield server


@pytest.fixture
def imap_account(dovecot: DovecotServer) -> ImapAccount:
    """A user nobody else has used in this session: an empty mailbox."""
    number = next(_users)
    assert number <= USERS, "raise USERS in dovecot_server.py"
    return account(dovecot, number)

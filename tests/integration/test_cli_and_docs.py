"""The command line as a contract: demo, init + check against real servers, docs kept honest."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from mailflow.cli.parser import cli, main
from tests.integration.dovecot_server import DovecotServer, ImapAccount, account, free_port
from tests.integration.smtp_server import SmtpPeer

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text()
EXAMPLE = (ROOT / "config.example.yaml").read_text()


def test_demo_tells_the_four_week_story(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    timeline = [line for line in out.splitlines() if re.match(r"^\w{3} \d\d \w{3} \d\d:\d\d", line)]
    assert timeline[0].startswith("Mon 02 Nov") and timeline[-1] >= "Mon 23 Nov"
    for expected in ("partner nudge to carol@tax.example", "escalation to alice@firm.example",
                     "contact seen     R-1", "rated 5/5", "closed as lost", "closed as won",
                     "closed as done", "partner chosen", "client thank-you to"):
        assert expected in out, expected
    listing = out.split("mailflow list:")[1]
    assert "R-1    closed/done" in listing and "R-4    closed/lost" in listing
    assert "R-2    closed/won" in listing
    # a partner who reads German, a client who reads Spanish, and a German reply that closes
    assert "klaus@steuer.example: Deutsch (set by hand)" in listing
    assert "lucia@correo.example: español (from the intro's text)" in listing
    assert "R-6    closed/done" in listing


def test_demo_keep_leaves_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--keep", str(tmp_path / "d")]) == 0
    assert (tmp_path / "d" / "mailflow.db").exists()
    assert len(list((tmp_path / "d" / "outbox").glob("*.eml"))) > 20


def test_every_command_is_in_the_readme() -> None:
    for name in cli.commands:
        assert f"`{name}" in README, f"command {name} is not documented in README.md"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
    return found


@pytest.mark.parametrize("command", _commands(cli), ids=" ".join)
def test_every_command_and_option_explains_itself(command: tuple[str, ...],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--help"]) == 0
    page = capsys.readouterr().out
    assert page.startswith(f"Usage: mailflow {' '.join(command)}")
    target: click.Command = cli
    for name in command:
        assert isinstance(target, click.Group)
        target = target.commands[name]
    assert target.help, f"{command} has no description"
    for param in target.params:
        if isinstance(param, click.Option):
            assert param.help, f"{command} {param.opts} has no help text"
    # the README's command table names each option of the top-level commands
    if len(command) == 1:
        row = " ".join(line for line in README.splitlines()
                       if line.startswith((f"| `{command[0]} ", f"| `{command[0]}`")))
        for param in target.params:
            if isinstance(param, click.Option) and param.opts[0] != "--help":
                assert param.opts[0] in row, f"README's row for {command[0]} lacks {param.opts[0]}"


def test_exit_codes_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0 and "mailflow" in capsys.readouterr().out
    assert main(["no-such-command"]) == 2
    assert main(["list", "--status", "bogus"]) == 2
    assert main(["--config", "/nonexistent/mailflow.yaml", "list"]) == 1
    assert "no such file" in capsys.readouterr().err


def test_every_config_key_is_in_the_example() -> None:
    source = (ROOT / "mailflow" / "config.py").read_text()
    keys = set(re.findall(r'\.(?:string|integer|number|boolean|choice|strings|section|items|'
                          r'convert|raw|has)\(\s*"(\w+)"', source))
    keys |= {f"{k}_{s}" for k in ("password", "secret") for s in ("env", "file", "command")}
    keys.discard("secret")
    missing = sorted(k for k in keys if not re.search(rf"^\s*#?\s*-?\s*{k}:", EXAMPLE, re.M))
    assert not missing, f"keys missing from config.example.yaml: {missing}"


def test_init_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "mailflow.yaml"
    assert main(["init", str(target)]) == 0
    assert target.read_text() == EXAMPLE
    assert main(["init", str(target)]) != 0
    assert "already exists" in capsys.readouterr().err


def _config(tmp_path: Path, imap: ImapAccount, smtp: SmtpPeer, **over: object) -> Path:
    """`init`, then the edits an operator makes: host, port, TLS, user, password source."""
    path = tmp_path / "mailflow.yaml"
    assert main(["init", str(path)]) == 0
    text = path.read_text()
    values = {"imap_host": imap.host, "imap_port": imap.port, "imap_user": imap.username,
              "folder": "INBOX", "smtp_port": smtp.port, **over}
    text = text.replace("host: imap.firm.example", f"host: {values['imap_host']}")
    text = text.replace("port: 993 ", f"port: {values['imap_port']} ", 1)
    text = text.replace("tls: ssl    ", "tls: none    ", 1)
    text = text.replace("username: referrals@firm.example\n  # The password",
                        f"username: {values['imap_user']}\n  # The password")
    text = text.replace("folder: INBOX ", f"folder: {values['folder']} ")
    text = text.replace("host: smtp.firm.example", f"host: {smtp.host}")
    text = text.replace("port: 587 ", f"port: {values['smtp_port']} ")
    text = text.replace("tls: starttls                   #", "tls: none                   #")
    text = text.replace("username: referrals@firm.example\n  password_env: MAILFLOW_SMTP",
                        "# no SMTP auth on the test peer\n  # password_env: MAILFLOW_SMTP")
    path.write_text(text)
    return path


@pytest.mark.dovecot
@pytest.mark.smtp
def test_init_then_check_passes(tmp_path: Path, imap_account: ImapAccount,
                                smtp_server: SmtpPeer, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MAILFLOW_IMAP_PASSWORD", imap_account.password)
    config = _config(tmp_path, imap_account, smtp_server)
    assert main(["--config", str(config), "check"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "templates:" in out and "mailbox: logged in" in out and "sending: SMTP" in out


@pytest.mark.dovecot
@pytest.mark.smtp
@pytest.mark.parametrize(("change", "expected"), [
    ({"password": "wrong"}, "wrong username or password"),
    ({"imap_port": "closed"}, "connection refused"),
    ({"folder": "Referrals"}, "folder Referrals does not exist"),
    ({"imap_host": "no-such-host.invalid"}, "unknown host no-such-host.invalid"),
    ({"smtp_port": "closed"}, "sending: cannot connect"),
    ({"password": None}, "environment variable MAILFLOW_IMAP_PASSWORD is not set"),
])
def test_check_says_what_is_wrong_in_one_line(
        tmp_path: Path, imap_account: ImapAccount, smtp_server: SmtpPeer,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        change: dict[str, object], expected: str) -> None:
    password = change.pop("password", imap_account.password)
    if password is None:
        monkeypatch.delenv("MAILFLOW_IMAP_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("MAILFLOW_IMAP_PASSWORD", str(password))
    for key in ("imap_port", "smtp_port"):
        if change.get(key) == "closed":
            change[key] = free_port()
    config = _config(tmp_path, imap_account, smtp_server, **change)
    assert main(["--config", str(config), "check"]) != 0
    err = capsys.readouterr().err
    matching = [line for line in err.splitlines() if expected in line]
    assert len(matching) == 1, err


def test_config_errors_name_file_and_key(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mailflow.yaml"
    path.write_text("tracker: referrals@firm.example\nmaildir: m\noutbox_dir: o\n"
                    "timezone: Mars/Olympus\n")
    assert main(["--config", str(path), "list"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"mailflow: {path}: timezone:") and "\n" not in err
    path.write_text("tracker: referrals@firm.example\nmaildir: m\noutbox_dir: o\ntrackr: x\n")
    assert main(["--config", str(path), "list"]) == 1
    assert "trackr" in capsys.readouterr().err


def test_unknown_referral_is_a_usage_error(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mailflow.yaml"
    path.write_text("tracker: referrals@firm.example\nmaildir: m\noutbox_dir: o\n")
    assert main(["--config", str(path), "show", "R-99"]) == 2
    assert "no referral R-99" in capsys.readouterr().err


@pytest.mark.dovecot
def test_check_names_an_untrusted_certificate(tmp_path: Path, dovecot_tls: DovecotServer,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    user = account(dovecot_tls, 2)
    path = tmp_path / "mailflow.yaml"
    path.write_text(f"""tracker: referrals@firm.example
outbox_dir: outbox
imap: {{host: {user.host}, port: {dovecot_tls.tls_port}, tls: ssl, username: {user.username},
        password: {user.password}}}
""")
    assert main(["--config", str(path), "check"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "TLS failed" in err[0] and "certificate verify failed: self-signed" in err[0]
    path.write_text(path.read_text().replace("}\n", f", ca_file: {dovecot_tls.certificate}}}\n"))
    assert main(["--config", str(path), "check"]) == 0


def test_demo_keep_refuses_a_file_a_busy_directory_and_a_foreign_config(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("mine")
    assert main(["demo", "--keep", str(a_file)]) == 2
    assert "is a file" in capsys.readouterr().err and a_file.read_text() == "mine"
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mailflow.yaml").write_text("tracker: me@mine.example\n")
    assert main(["demo", "--keep", str(busy)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["demo", "--keep", str(busy), "--force"]) == 2
    assert "not the demo's" in capsys.readouterr().err
    assert (busy / "mailflow.yaml").read_text() == "tracker: me@mine.example\n"
    again = tmp_path / "again"
    assert main(["demo", "--keep", str(again)]) == 0
    assert main(["demo", "--keep", str(again), "--force"]) == 0  # its own demo: fine


def test_demo_timeline_wraps_and_never_cuts_a_word(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "erin@wealth.example" in out and "Are you free Thursday" in " ".join(out.split())
    assert all(len(line) <= 100 or " " not in line[40:] for line in out.splitlines()
               if line[:3] in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))


def test_demo_counts_agree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--keep", str(tmp_path / "d")]) == 0
    out = capsys.readouterr().out
    sent = re.compile(r"^\w{3} \d\d \w{3} \d\d:\d\d  sent")
    lines = [line for line in out.splitlines() if sent.match(line)]
    files = list((tmp_path / "d" / "outbox").glob("*.eml"))
    assert f"{len(files)} emails sent" in out and len(lines) == len(files)
    assert sum("digest" in line for line in lines) == 3  # alone, or with the day's other mail


def test_version_and_help_start_without_the_config_the_parser_or_the_store() -> None:
    """Start-up is the imports: what a command does not need is not imported."""
    import subprocess
    import sys

    probe = ("import sys\nfrom mailflow.cli.parser import main\n"
             "for argv in (['--version'], ['--help'], ['status', '--help']):\n"
             "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
             "heavy = ('mailflow.config', 'mailflow.core.parse', 'mailflow.adapters.store',"
             " 'mailflow.cli.commands', 'yaml', 'lxml')\n"
             "print(sorted(m for m in heavy if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"

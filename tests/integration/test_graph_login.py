"""`mailflow login` (MSAL's device-code flow) and `check` against the local identity platform."""

from __future__ import annotations

import stat

from mailflow.adapters.ms_identity import token_cache_path
from tests.integration.graph_server import make_client_certificate
from tests.integration.graph_world import GraphWorld, graph_server, world_fixture

__all__ = ["graph_server", "world_fixture"]


def test_login_shows_the_code_waits_and_keeps_the_cache_owner_only(world: GraphWorld) -> None:
    world.server.state.device_answers = ["authorization_pending", "authorization_pending"]
    status, out, err = world.main("login")
    assert status == 0, err
    assert "https://microsoft.com/devicelogin" in err and "FGQ9ZH7AK" in err
    assert "signed in as referrals@firm.example" in out
    assert world.server.state.grants == ["device_code"] * 3
    # Graph's scopes, as the app registration must grant them (MSAL adds offline_access)
    asked = world.server.state.scopes_asked[0].split()
    assert f"{world.server.url}/Mail.ReadWrite" in asked
    assert f"{world.server.url}/Mail.Send" in asked and "offline_access" in asked
    cache = token_cache_path(world.config.parent / "mailflow.db")
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert "refresh" in cache.read_text()
    assert not [p for p in cache.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_a_code_not_entered_in_time_is_one_line(world: GraphWorld) -> None:
    world.server.state.device_answers = ["authorization_pending", "expired_token"]
    status, _, err = world.main("login")
    assert status == 1
    lines = [line for line in err.splitlines() if line.startswith("mailflow:")]
    assert lines == ["mailflow: sign-in failed: the code was not entered in time: run "
                     "`mailflow login` again"]
    assert "Traceback" not in err


def test_login_without_a_microsoft_section_says_so(world: GraphWorld) -> None:
    world.config.write_text(world.config.read_text().split("microsoft:")[0]
                            + "maildir: mail\noutbox_dir: outbox\n")
    status, _, err = world.main("login")
    assert status == 2 and "no `microsoft:` section" in err


def test_check_signs_in_and_reaches_the_mailbox(world: GraphWorld) -> None:
    world.login()
    status, out, err = world.main("check")
    assert status == 0, err
    assert "microsoft: signed in" in out
    assert "mailbox: logged in, Microsoft Graph me folder inbox exists" in out
    assert "sending: Microsoft Graph accepts our sign-in" in out


def _check_problems(world: GraphWorld) -> list[str]:
    status, _, err = world.main("check")
    assert status == 1 and "Traceback" not in err
    return err.removeprefix("mailflow: ").strip().splitlines()


def test_check_before_login(world: GraphWorld) -> None:
    problems = _check_problems(world)
    assert problems == ["microsoft: not signed in to Microsoft 365: run `mailflow login` "
                        f"(the sign-in is kept in {world.config.parent}/mailflow.db."
                        "microsoft-token.json)"]


def test_check_says_a_lapsed_sign_in_in_one_line(world: GraphWorld) -> None:
    world.login()
    world.server.state.lapse()
    problems = _check_problems(world)
    assert len(problems) == 1
    assert problems[0].startswith("microsoft: the sign-in has lapsed (refresh token expired "
                                  "after inactivity): run `mailflow login` again")
    assert "AADSTS700082" in problems[0]


def test_check_says_consent_is_missing(world: GraphWorld) -> None:
    world.server.state.consent_missing = True
    world.server.state.device_answers = []
    status, _, err = world.main("login")
    assert status == 1
    assert "consent missing: an administrator must grant the app's permissions" in err
    assert "AADSTS65001" in err and len(err.strip().splitlines()) == 2  # code, then the line


def test_check_says_permission_missing(world: GraphWorld) -> None:
    world.login()
    world.server.state.denied = True
    problems = _check_problems(world)
    assert len(problems) == 2  # reading and sending both need a permission
    assert problems[0].startswith("mailbox: permission missing: Graph refused to open the "
                                  "folder inbox (ErrorAccessDenied")
    assert problems[1].startswith("sending: permission missing")


def test_check_says_mailbox_not_found(world: GraphWorld) -> None:
    world.write(microsoft="  mailbox: nobody@firm.example")
    world.login()
    problems = [p for p in _check_problems(world) if p.startswith("mailbox:")]
    assert problems[0].startswith("mailbox: mailbox not found: Graph could not open the "
                                  "folder inbox (ErrorInvalidUser")
    assert "microsoft.mailbox" in problems[0]


def test_check_says_folder_missing(world: GraphWorld) -> None:
    world.write(microsoft="  folder: Referrals")
    world.login()
    problems = _check_problems(world)
    assert problems == ["mailbox: folder Referrals does not exist in the signed-in mailbox; "
                        "create it or set microsoft.folder"]


def test_a_certificate_signs_in_app_only(world: GraphWorld) -> None:
    certificate, key = make_client_certificate(world.config.parent)
    world.write(microsoft=f"  certificate: {certificate}\n  certificate_key: {key}\n"
                          "  mailbox: referrals@firm.example")
    status, out, err = world.main("check")
    assert status == 0, err
    assert world.server.state.grants == ["client_credentials"]
    assert "Microsoft Graph referrals@firm.example folder inbox exists" in out


def test_the_readme_names_every_microsoft_key_and_the_lines_check_says() -> None:
    import re
    from pathlib import Path
    root = Path(__file__).parents[2]
    readme = (root / "README.md").read_text()
    section = readme.split("## Microsoft 365\n")[1].split("\n## ")[0]
    source = (root / "mailflow" / "config.py").read_text()
    body = source.split("def _microsoft(")[1].split("\ndef ")[0]
    keys = set(re.findall(r'section\.\w+\(\s*"(\w+)"', body)) | {"authority", "graph_url"}
    listed = {k for k in keys if re.search(rf"(`|`microsoft\.|^  ){k}\b", section, re.M)}
    settings_only = {"folder", "processed_folder", "quarantine_folder", "batch_size",
                     "timeout", "ca_file"}  # in config.example.yaml, with comments
    assert keys - listed <= settings_only, keys - listed - settings_only
    for permission in ("IMAP.AccessAsUser.All", "SMTP.Send", "Mail.ReadWrite", "Mail.Send",
                       "offline_access"):
        assert f"`{permission}`" in section
    troubleshooting = readme.split("## Troubleshooting")[1].split("\n## ")[0]
    code = "".join(p.read_text() for p in (root / "mailflow").rglob("*.py"))
    for phrase in ("not signed in to Microsoft 365", "the sign-in has lapsed",
                   "consent missing: an administrator must grant the app's permissions",
                   "permission missing: Graph refused to", "mailbox not found",
                   "does not exist in"):
        assert phrase in troubleshooting and phrase in code, phrase


def test_a_wrong_tenant_or_an_unreachable_host_is_one_line(world: GraphWorld) -> None:
    world.config.write_text(world.config.read_text().replace(
        "tenant: contoso.onmicrosoft.com", "tenant: nosuch.onmicrosoft.com"))
    problems = _check_problems(world)
    assert len(problems) == 1
    assert problems[0].startswith("microsoft: cannot use the tenant nosuch.onmicrosoft.com at "
                                  f"{world.server.url}: check microsoft.tenant")
    from tests.integration.dovecot_server import free_port
    closed = f"https://127.0.0.1:{free_port()}"
    world.config.write_text(world.config.read_text().replace(
        f"authority: {world.server.url}", f"authority: {closed}"))
    from mailflow.app import wiring
    wiring._identity.cache_clear()
    assert _check_problems(world) == [f"microsoft: cannot reach {closed}: connection refused"]


def test_a_cache_that_cannot_be_written_is_one_line(world: GraphWorld) -> None:
    world.config.write_text(world.config.read_text().replace(
        "database: mailflow.db", "database: missing/dir/mailflow.db"))
    world.server.state.device_answers = []
    status, _, err = world.main("login")
    assert status == 1 and "Traceback" not in err
    assert "cannot keep the sign-in in" in err and "No such file or directory" in err

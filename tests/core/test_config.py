"""The config file: frozen values, and errors that name the file, the key and what was expected."""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from mailflow.config import load_config, parse_config
from mailflow.errors import ConfigError

BASE = {"tracker": "referrals@firm.example", "maildir": "mail", "outbox_dir": "outbox"}
IMAP = {"host": "imap.firm.example", "username": "referrals@firm.example",
        "password_env": "X_PASSWORD"}


def parse(extra: dict[str, Any], path: str = "/etc/mailflow.yaml") -> Any:
    return parse_config({**BASE, **extra}, Path(path))


@pytest.mark.parametrize(("data", "message"), [
    ({"maildir": None, "imap": {**IMAP, "port": "abc"}},
     '/etc/mailflow.yaml: imap.port: expected an integer, got "abc"'),
    ({"trackr": "x"}, "/etc/mailflow.yaml: trackr: unknown key"),
    ({"maildir": None, "imap": {**IMAP, "tls": "tls"}},
     '/etc/mailflow.yaml: imap.tls: expected one of ssl | starttls | none, got "tls"'),
    ({"timezone": "Mars/Olympus"}, "/etc/mailflow.yaml: timezone: expected an IANA time zone"),
    ({"imap": IMAP}, "/etc/mailflow.yaml: maildir: give either imap or maildir, not both"),
    ({"maildir": None}, "/etc/mailflow.yaml: imap: is required"),
    ({"maildir": None, "imap": {k: v for k, v in IMAP.items() if k != "password_env"}},
     "/etc/mailflow.yaml: imap.password_env: is required"),
    ({"maildir": None, "imap": {**IMAP, "oauth2_token_command": "oama access x"}},
     "imap.oauth2_token_command: give either a password or oauth2_token_command"),
    ({"reply_tokens": "plus"}, "/etc/mailflow.yaml: secret_env: is required when reply_tokens"),
    ({"business_hours": {"opens": "17:00", "closes": "09:00"}},
     "/etc/mailflow.yaml: business_hours.closes: must be later than opens"),
    ({"business_hours": {"days": ["mon", "funday"]}},
     '/etc/mailflow.yaml: business_hours.days: expected day names like mon, tue, got "funday"'),
    ({"workflow": {"steps": [{"name": "x", "to": "partner", "after": "soon"}]}},
     "/etc/mailflow.yaml: workflow.steps[0].after: expected a delay like"),
    ({"workflow": {"steps": [{"name": "x", "to": "boss"}]}},
     "workflow.steps[0].to: expected one of referrer | client | partner"),
    ({"workflow": {"answer_within": "2 business hours"}},
     "/etc/mailflow.yaml: workflow.answer_within: expected hours or days"),
    ({"workflow": {"steps": [{"name": "x", "to": "referrer", "presumes": "nudge"}]}},
     '/etc/mailflow.yaml: workflow.steps: x presumes "nudge", which is not a step'),
    ({"partners": [{"email": "not-an-address"}]},
     '/etc/mailflow.yaml: partners[0].email: expected an email address, got "not-an-address"'),
])
def test_errors_name_file_and_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(data)  # a key set to None here means "left out" (null in YAML reads as absent)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_answer_window_and_what_a_step_presumes() -> None:
    assert parse({}).workflow.answer_within == timedelta(hours=2)
    config = parse({"workflow": {"answer_within": "1 day", "steps": [
        {"name": "nudge", "to": "partner"},
        {"name": "escalate", "to": "referrer", "presumes": "nudge"}]}})
    assert config.workflow.answer_within == timedelta(days=1)
    assert [s.presumes for s in config.workflow.steps] == ["", "nudge"]
    defaults = {s.name: s.presumes for s in parse({}).workflow.steps}
    assert defaults["escalation"] == defaults["partner_checkin"] == "partner_nudge"


def test_values_are_frozen_and_typed(tmp_path: Path) -> None:
    path = tmp_path / "mailflow.yaml"
    path.write_text(yaml.safe_dump({**BASE, "business_hours": {"opens": "08:30"},
                                    "partners": [{"email": ["Erin@Wealth.example",
                                                            "erin.k@wealth.example"],
                                                  "name": "Erin"}]})
                    + "reply_tokens: off\nworkflow:\n  acknowledge_referrer: no\n")
    config = load_config(path)
    assert config.database == tmp_path / "mailflow.db"  # relative to the config file
    assert config.maildir == tmp_path / "mail"
    assert config.business_hours.opens == time(8, 30)
    assert config.partners[0].email == ("erin@wealth.example", "erin.k@wealth.example")
    assert config.reply_tokens == "off" and config.workflow.acknowledge_referrer is False
    with pytest.raises(AttributeError):
        config.tracker = "x@y.example"  # type: ignore[misc]


def test_unquoted_times_and_days(tmp_path: Path) -> None:
    path = tmp_path / "mailflow.yaml"
    path.write_text("tracker: referrals@firm.example\nmaildir: m\noutbox_dir: o\n"
                    "business_hours:\n  opens: 09:00\n  closes: 17:30\n  days: [Mon, Tue]\n")
    hours = load_config(path).business_hours
    assert (hours.opens, hours.closes, hours.days) == (time(9), time(17, 30), frozenset({0, 1}))


@pytest.mark.parametrize("source", ["env", "file", "command"])
def test_password_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    (tmp_path / "pw").write_text("s3cret\n")
    monkeypatch.setenv("X_PASSWORD", "s3cret")
    value = {"env": "X_PASSWORD", "file": "pw", "command": "echo s3cret"}[source]
    imap = {**{k: v for k, v in IMAP.items() if k != "password_env"}, f"password_{source}": value}
    config = parse_config({"tracker": "referrals@firm.example", "outbox_dir": "o", "imap": imap},
                          tmp_path / "mailflow.yaml")
    assert config.imap is not None and config.imap.password is not None
    assert config.imap.password.reveal() == "s3cret"


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no such file .*mailflow init"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("tracker: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: line 2 \(in what starts at line 1\): "
                                          "not valid YAML"):
        load_config(bad)
    bad.write_text("tracker: a@b.example\nimap:\n  host: x\n port: 1\n  user: y\n")
    with pytest.raises(ConfigError, match=rf"^{tmp_path}/bad.yaml: line 4 "):  # absolute
        load_config(bad)


@pytest.mark.parametrize(("data", "message"), [
    ({**BASE, "outbox_dir": None}, "smtp: no way to send: add an `smtp:` section"),
    ({**{k: v for k, v in BASE.items() if k != "outbox_dir"},
      "smtp": {"host": "s.example", "port": 99999}}, "smtp.port: expected an integer <= 65535"),
])
def test_sending_is_configured_and_ports_are_ports(tmp_path: Path, data: dict[str, Any],
                                                   message: str) -> None:
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(data, tmp_path / "mailflow.yaml")


def test_a_hanging_password_command_is_one_clear_error(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import mailflow.config as config_module
    monkeypatch.setattr(config_module, "COMMAND_TIMEOUT", 0.5)
    imap = {**{k: v for k, v in IMAP.items() if k != "password_env"},
            "password_command": "sleep 30"}
    config = parse_config({"tracker": "referrals@firm.example", "outbox_dir": "o", "imap": imap},
                          tmp_path / "mailflow.yaml")
    assert config.imap is not None and config.imap.password is not None
    with pytest.raises(ConfigError, match=r"imap.password_command: command did not finish"):
        config.imap.password.reveal()


MICROSOFT = {"tenant": "firm.onmicrosoft.com", "client_id": "6731de76-14a6-49ae-97bc-6eba6914391e"}


def test_microsoft_alone_reads_and_sends_through_graph() -> None:
    config = parse_config({"tracker": "referrals@firm.example", "microsoft": MICROSOFT},
                          Path("/etc/mailflow.yaml"))
    assert config.imap is None and config.smtp is None and config.maildir is None
    assert config.microsoft is not None and not config.microsoft.app_only
    assert config.microsoft.authority == "https://login.microsoftonline.com"
    assert config.microsoft.graph_url == "https://graph.microsoft.com"
    assert config.microsoft.folder == "inbox"


def test_with_microsoft_imap_needs_no_password() -> None:
    imap = {k: v for k, v in IMAP.items() if k != "password_env"}
    config = parse({"maildir": None, "imap": imap, "microsoft": MICROSOFT})
    assert config.imap is not None and config.imap.password is None
    with pytest.raises(ConfigError, match=r"imap.password_env: is required"):
        parse({"maildir": None, "imap": imap})


@pytest.mark.parametrize(("microsoft", "message"), [
    ({"client_id": "x"}, "/etc/mailflow.yaml: microsoft.tenant: is required"),
    ({**MICROSOFT, "authority": "http://login.example"},
     'microsoft.authority: expected an https:// address, got "http://login.example"'),
    ({**MICROSOFT, "certificate": "app.pem"},
     "microsoft.certificate_key: give both certificate and certificate_key"),
    ({**MICROSOFT, "mailbox": "not an address"},
     'microsoft.mailbox: expected an email address, got "not an address"'),
    ({**MICROSOFT, "scopes": ["x"]}, "microsoft.scopes: unknown key"),
])
def test_a_microsoft_mistake_is_one_line_naming_the_key(microsoft: dict[str, Any],
                                                         message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse({"microsoft": microsoft})


def test_privacy_and_retention() -> None:
    default = parse({})
    assert default.privacy.forget_after_days == 7
    assert default.privacy.retention_closed_months is None  # retention is off by default
    set_ = parse({"privacy": {"forget_after_days": 0}, "retention": {"closed_months": 24}})
    assert (set_.privacy.forget_after_days, set_.privacy.retention_closed_months) == (0, 24)
    for extra, message in (
            ({"retention": {"closed_months": 0}},
             "retention.closed_months: expected an integer >= 1, got 0"),
            ({"retention": {"closed_month": 24}}, "retention.closed_month: unknown key"),
            ({"privacy": {"forget_after_days": "a week"}},
             'privacy.forget_after_days: expected an integer, got "a week"')):
        with pytest.raises(ConfigError, match=re.escape(message)):
            parse(extra)

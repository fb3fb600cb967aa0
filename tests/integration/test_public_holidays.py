"""Public holidays from the `holidays` package: the time zone's country by default, or the
one `business_hours.country` names; nothing is planned for Christmas Day any more."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from mailflow.app.planning import calendar_of
from mailflow.cli.parser import main
from mailflow.config import load_config
from mailflow.errors import ConfigError

BASE = """tracker: referrals@firm.example
database: mailflow.db
maildir: mail
outbox_dir: out
referrers: ["*@firm.example"]
"""


def _config(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "mailflow.yaml"
    path.write_text(BASE + extra)
    return path


def test_the_time_zones_country_gives_its_public_holidays(tmp_path: Path) -> None:
    calendar = calendar_of(load_config(_config(tmp_path, "timezone: Europe/London\n")))
    assert not calendar.is_business_day(date(2026, 12, 25))  # Christmas Day
    assert not calendar.is_business_day(date(2026, 12, 28))  # Boxing Day, observed
    assert calendar.is_business_day(date(2026, 12, 29))
    christmas_eve = datetime(2026, 12, 24, 16, 0, tzinfo=UTC)
    assert calendar.add_business_days(christmas_eve, 1).date() == date(2026, 12, 29)


def test_a_country_can_be_named_or_turned_off(tmp_path: Path) -> None:
    german = calendar_of(load_config(_config(
        tmp_path, "timezone: Europe/London\nbusiness_hours:\n  country: DE\n"
                  "  subdivision: BY\n")))
    assert not german.is_business_day(date(2026, 5, 14))  # Christi Himmelfahrt (a Thursday)
    assert not german.is_business_day(date(2026, 1, 6))  # Heilige Drei Könige, Bavaria
    assert german.is_business_day(date(2026, 12, 28))  # no Boxing Day in Germany
    plain = calendar_of(load_config(_config(
        tmp_path, "timezone: Europe/London\nbusiness_hours:\n  country: none\n"
                  "  holidays: [2026-12-24]\n")))
    assert plain.is_business_day(date(2026, 12, 25)) is True  # weekday, no country
    assert not plain.is_business_day(date(2026, 12, 24))  # the config's own list still holds
    utc = calendar_of(load_config(_config(tmp_path, "timezone: UTC\n")))
    assert utc.is_business_day(date(2026, 12, 25))  # UTC belongs to no country


def test_an_unknown_country_is_one_line_naming_the_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _config(tmp_path, "timezone: Europe/London\nbusiness_hours:\n  country: XQ\n")
    with pytest.raises(ConfigError, match=r"business_hours\.country: no public holidays"):
        calendar_of(load_config(path))
    assert main(["--config", str(path), "list"]) != 0
    err = capsys.readouterr().err
    assert "business_hours.country" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1

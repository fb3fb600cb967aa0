"""Public holidays from the `holidays` package: a country's days off, computed per year as
they are asked about, and the country a time zone belongs to (the system's zone.tab)."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import holidays as library


def supported(country: str) -> bool:
    return country.upper() in library.list_supported_countries()


@lru_cache(maxsize=64)
def country_of_zone(zone: str) -> str | None:
    """The country code zone.tab gives `zone` (Europe/London: GB); None when it gives none
    (UTC) or no zone.tab is installed."""
    for folder in zoneinfo.TZPATH:
        table = Path(folder) / "zone.tab"
        if not table.is_file():
            continue
        for line in table.read_text(encoding="utf-8", errors="replace").splitlines():
            fields = line.split("\t")
            if len(fields) >= 3 and not line.startswith("#") and fields[2] == zone:
                return fields[0]
        return None
    return None


@lru_cache(maxsize=32)
def _days_off(country: str, subdivision: str | None) -> library.HolidayBase:
    return library.country_holidays(country, subdiv=subdivision)


@dataclass(frozen=True)
class Holidays:
    """The days nothing is sent: the config's own list, and the public holidays of
    `country` (each year computed the first time a day of it is asked about)."""

    listed: frozenset[date]
    country: str | None = None
    subdivision: str | None = None

    def __contains__(self, day: object) -> bool:
        if day in self.listed:
            return True
        return (self.country is not None and isinstance(day, date)
                and day in _days_off(self.country, self.subdivision))

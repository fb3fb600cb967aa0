"""Business days and hours in a time zone (pure; DST-correct through zoneinfo).

Wall-clock arithmetic is done on local dates and times and turned into an
instant only at the end, so "+1 business day" from 10:00 is 10:00 the next
business day whether or not the clocks changed overnight. A local time that
does not exist (the spring-forward gap) moves forward to the first valid
instant; an ambiguous one (fall-back) takes the first occurrence.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

SEARCH_LIMIT_DAYS = 3660


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: pass a timezone-aware one")


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant of local `day` `at`; a time in a DST gap moves forward past the gap."""
    return _local_instant(day, at, at.fold, zone)


@lru_cache(maxsize=4096)  # planning asks for the same few openings and closings many times
def _local_instant(day: date, at: time, fold: int, zone: ZoneInfo) -> datetime:
    """`fold` is part of the key: times that differ only in it are equal, yet name the two
    instants of an ambiguous hour."""
    candidate = datetime.combine(day, at, tzinfo=zone)  # fold=0: first of an ambiguous pair
    round_trip = candidate.astimezone(UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != candidate.replace(tzinfo=None):
        # In the gap: read with the offset from before it, the instant lies just after it.
        return round_trip
    return candidate


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: ZoneInfo
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    holidays: Container[date] = frozenset()  # a set, or anything that answers `in`

    def __post_init__(self) -> None:
        if not self.workdays:
            raise ValueError("a business calendar needs at least one working day")
        if not self.opens < self.closes:
            raise ValueError("opening time must be before closing time")

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.workdays and day not in self.holidays

    def _local(self, moment: datetime) -> datetime:
        _require_aware(moment)
        return moment.astimezone(self.timezone)

    def _opening(self, day: date) -> datetime:
        return local_instant(day, self.opens, self.timezone)

    def _closing(self, day: date) -> datetime:
        return local_instant(day, self.closes, self.timezone)

    def _next_business_day(self, day: date) -> date:
        for _ in range(SEARCH_LIMIT_DAYS):
            day += timedelta(days=1)
            if self.is_business_day(day):
                return day
        raise ValueError(f"no business day within {SEARCH_LIMIT_DAYS} days of {day}")

    def is_open(self, moment: datetime) -> bool:
        local = self._local(moment)
        day = local.date()
        return (self.is_business_day(day)
                and self._opening(day) <= local < self._closing(day))

    def next_opening(self, moment: datetime) -> datetime:
        """`moment` itself when open, else the next opening instant."""
        local = self._local(moment)
        day = local.date()
        if self.is_business_day(day):
            if local < self._opening(day):
                return self._opening(day)
            if local < self._closing(day):
                return local
        return self._opening(self._next_business_day(day))

    def add_business_days(self, moment: datetime, days: int) -> datetime:
        """From the next opening, `days` business days on at the same local time of day.

        Friday 10:00 + 1 → Monday 10:00; Friday 18:00 (closed) starts Monday 09:00 → Tuesday 09:00.
        """
        start = self.next_opening(moment)
        day = start.date()
        for _ in range(days):
            day = self._next_business_day(day)
        result = local_instant(day, start.time(), self.timezone)
        return self.next_opening(result)

    def add_business_hours(self, moment: datetime, hours: float) -> datetime:
        """Count only open time: Friday 16:00 + 2 h → Monday 10:00."""
        remaining = timedelta(hours=hours)
        current = self.next_opening(moment)
        while True:
            closing = self._closing(current.date())
            available = closing - current
            if remaining < available or (remaining == available and remaining == timedelta()):
                return (current.astimezone(UTC) + remaining).astimezone(self.timezone)
            remaining -= available
            current = self._opening(self._next_business_day(current.date()))
            if remaining == timedelta():
                return current

    def add_calendar_days(self, moment: datetime, days: float) -> datetime:
        """The same local wall time `days` later (fractions are elapsed hours)."""
        local = self._local(moment)
        whole = int(days)
        shifted = local_instant(local.date() + timedelta(days=whole), local.time(),
                                self.timezone)
        rest = timedelta(days=days - whole)
        return (shifted.astimezone(UTC) + rest).astimezone(self.timezone)

    def add(self, moment: datetime, amount: float, unit: str) -> datetime:
        """`amount` of `unit` after `moment`, then moved into business hours."""
        if unit == "business days":
            result = self.add_business_days(moment, int(amount))
        elif unit == "business hours":
            result = self.add_business_hours(moment, amount)
        elif unit == "days":
            result = self.add_calendar_days(moment, amount)
        elif unit == "hours":
            result = (self._local(moment).astimezone(UTC)
                      + timedelta(hours=amount)).astimezone(self.timezone)
        else:
            raise ValueError(f"unknown unit {unit!r}")
        return self.next_opening(result)

    def business_days_between(self, start: datetime, end: datetime) -> int:
        """Business days after `start`'s day up to and including `end`'s day."""
        first, last = self._local(start).date(), self._local(end).date()
        count, day = 0, first
        while day < last:
            day += timedelta(days=1)
            count += self.is_business_day(day)
        return count

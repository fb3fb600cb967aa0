"""Business time, worked out by hand, including DST weekends in two zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from mailflow.core.business_time import BusinessCalendar

LON = ZoneInfo("Europe/London")
NYC = ZoneInfo("America/New_York")
LONDON = BusinessCalendar(LON, holidays=frozenset({date(2026, 12, 25), date(2026, 12, 28)}))
NEW_YORK = BusinessCalendar(NYC)


def at(zone: ZoneInfo, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


@pytest.mark.parametrize(("moment", "expected"), [
    ("2026-11-23 10:00", "2026-11-23 10:00"),   # Monday, open
    ("2026-11-23 08:59", "2026-11-23 09:00"),   # before opening
    ("2026-11-23 17:00", "2026-11-24 09:00"),   # closing time is closed
    ("2026-11-27 18:00", "2026-11-30 09:00"),   # Friday evening -> Monday
    ("2026-11-28 12:00", "2026-11-30 09:00"),   # Saturday
    ("2026-12-24 17:30", "2026-12-29 09:00"),   # Christmas + Boxing Day substitute + weekend
])
def test_next_opening_london(moment: str, expected: str) -> None:
    assert LONDON.next_opening(at(LON, moment)) == at(LON, expected)


@pytest.mark.parametrize(("moment", "days", "expected"), [
    ("2026-11-23 10:00", 1, "2026-11-24 10:00"),
    ("2026-11-27 10:00", 1, "2026-11-30 10:00"),   # Friday -> Monday
    ("2026-11-27 18:00", 1, "2026-12-01 09:00"),   # closed: starts Monday 09:00
    ("2026-11-25 16:30", 3, "2026-11-30 16:30"),
    ("2026-12-23 11:00", 2, "2026-12-29 11:00"),   # over Christmas holidays
    ("2026-10-23 10:00", 1, "2026-10-26 10:00"),   # across London's fall-back weekend
    ("2026-03-27 10:00", 1, "2026-03-30 10:00"),   # across London's spring-forward weekend
])
def test_add_business_days_london(moment: str, days: int, expected: str) -> None:
    result = LONDON.add_business_days(at(LON, moment), days)
    assert result == at(LON, expected)
    assert result.utcoffset() == at(LON, expected).utcoffset()


@pytest.mark.parametrize(("moment", "days", "expected"), [
    ("2026-03-06 10:00", 1, "2026-03-09 10:00"),   # New York spring-forward on Sunday 8 March
    ("2026-10-30 15:00", 1, "2026-11-02 15:00"),   # fall-back on Sunday 1 November
])
def test_add_business_days_new_york(moment: str, days: int, expected: str) -> None:
    result = NEW_YORK.add_business_days(at(NYC, moment), days)
    assert result == at(NYC, expected)
    assert result.hour == int(expected[11:13])


@pytest.mark.parametrize(("moment", "hours", "expected"), [
    ("2026-11-23 10:00", 2, "2026-11-23 12:00"),
    ("2026-11-27 16:00", 2, "2026-11-30 10:00"),   # Friday 16:00 + 2h -> Monday 10:00
    ("2026-11-23 16:00", 1, "2026-11-24 09:00"),   # exactly to closing -> next opening
    ("2026-11-23 16:30", 8.5, "2026-11-25 09:00"),
    ("2026-11-23 07:00", 1.5, "2026-11-23 10:30"),
    ("2026-10-23 16:00", 3, "2026-10-26 11:00"),   # over the fall-back weekend
])
def test_add_business_hours_london(moment: str, hours: float, expected: str) -> None:
    assert LONDON.add_business_hours(at(LON, moment), hours) == at(LON, expected)


@pytest.mark.parametrize(("calendar", "zone", "moment", "days", "expected", "elapsed_hours"), [
    (LONDON, LON, "2026-03-28 10:00", 1, "2026-03-29 10:00", 23),   # short day
    (LONDON, LON, "2026-10-24 10:00", 1, "2026-10-25 10:00", 25),   # long day
    (NEW_YORK, NYC, "2026-03-07 10:00", 7, "2026-03-14 10:00", 167),
    (NEW_YORK, NYC, "2026-10-31 10:00", 1, "2026-11-01 10:00", 25),
])
def test_calendar_days_keep_wall_time_across_dst(calendar: BusinessCalendar, zone: ZoneInfo,
                                                 moment: str, days: int, expected: str,
                                                 elapsed_hours: int) -> None:
    start = at(zone, moment)
    result = calendar.add_calendar_days(start, days)
    assert result == at(zone, expected)
    # same-zone subtraction is wall-clock in Python; compare elapsed time in UTC
    assert result.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=elapsed_hours)


def test_add_moves_calendar_results_into_business_hours() -> None:
    # 7 days after a Saturday intro is a Saturday: goes out Monday at opening.
    assert LONDON.add(at(LON, "2026-11-21 11:00"), 7, "days") == at(LON, "2026-11-30 09:00")
    assert LONDON.add(at(LON, "2026-11-23 15:00"), 4, "hours") == at(LON, "2026-11-24 09:00")


def test_spring_forward_gap_moves_past_the_gap() -> None:
    night = BusinessCalendar(LON, workdays=frozenset(range(7)), opens=time(1, 30),
                             closes=time(5, 0))
    opening = night.next_opening(at(LON, "2026-03-29 00:10"))
    assert opening == datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("UTC"))
    assert opening.astimezone(LON).hour == 2 and opening.astimezone(LON).minute == 30


def test_business_days_between() -> None:
    assert LONDON.business_days_between(at(LON, "2026-11-27 10:00"),
                                        at(LON, "2026-11-30 10:00")) == 1
    assert LONDON.business_days_between(at(LON, "2026-12-24 10:00"),
                                        at(LON, "2026-12-29 10:00")) == 1


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        LONDON.next_opening(datetime(2026, 11, 23, 10))


def test_invalid_calendars_are_refused() -> None:
    with pytest.raises(ValueError):
        BusinessCalendar(LON, workdays=frozenset())
    with pytest.raises(ValueError):
        BusinessCalendar(LON, opens=time(17), closes=time(9))


@pytest.mark.parametrize("calendar", [LONDON, NEW_YORK], ids=["london", "new-york"])
def test_every_hour_of_2026_lands_open_and_later(calendar: BusinessCalendar) -> None:
    moment = datetime(2026, 1, 1, tzinfo=calendar.timezone)
    end = datetime(2027, 1, 1, tzinfo=calendar.timezone)
    while moment < end:
        for unit, amount in (("business days", 1), ("business hours", 3), ("days", 7)):
            result = calendar.add(moment, amount, unit)
            assert calendar.is_open(result), (moment, unit)
            assert result > moment
        assert calendar.next_opening(moment) >= moment
        moment += timedelta(hours=1)


@pytest.mark.parametrize("first", [0, 1])
def test_the_two_instants_of_an_ambiguous_hour_stay_apart(first: int) -> None:
    """local_instant remembers its answers; 01:30 on the night the clocks go back names two
    instants, told apart only by fold, which equality of times ignores."""
    from mailflow.core.business_time import _local_instant, local_instant

    _local_instant.cache_clear()
    london, night = ZoneInfo("Europe/London"), date(2026, 10, 25)
    answers = {fold: local_instant(night, time(1, 30, fold=fold), london)
               for fold in (first, 1 - first)}  # asked in both orders
    assert answers[0].astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # BST
    assert answers[1].astimezone(UTC) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # GMT

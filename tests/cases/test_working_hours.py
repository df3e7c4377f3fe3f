"""Working-hours deadlines: evenings, weekends, bank holidays and clock changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cases.working_hours import WorkingHours, describe_duration
from bot.errors import SettingsError
from bot.language.flow_model import Duration

LONDON = {
    "days": ["mon", "tue", "wed", "thu", "fri"],
    "start": "09:00",
    "end": "17:00",
    "timezone": "Europe/London",
    "bank_holidays": ["2026-12-25", "2026-12-28"],
}


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def hours() -> WorkingHours:
    return WorkingHours.from_settings(LONDON)


@pytest.mark.parametrize(
    ("start", "seconds", "due"),
    [
        (utc(2026, 11, 23, 10, 0), 2 * 3600, utc(2026, 11, 23, 12, 0)),  # inside one day
        (utc(2026, 11, 23, 16, 0), 2 * 3600, utc(2026, 11, 24, 10, 0)),  # over the evening
        (utc(2026, 11, 23, 20, 0), 4 * 3600, utc(2026, 11, 24, 13, 0)),  # starting after hours
        (utc(2026, 11, 27, 15, 0), 4 * 3600, utc(2026, 11, 30, 11, 0)),  # over a weekend
        (utc(2026, 11, 28, 12, 0), 1 * 3600, utc(2026, 11, 30, 10, 0)),  # starting at the weekend
        (utc(2026, 12, 24, 16, 0), 2 * 3600, utc(2026, 12, 29, 10, 0)),  # Christmas and the Boxing Day holiday
        (utc(2026, 11, 23, 9, 0), 8 * 3600, utc(2026, 11, 23, 17, 0)),  # exactly one working day
        (utc(2026, 11, 23, 10, 0), 0, utc(2026, 11, 23, 10, 0)),
    ],
)
def test_working_hours_are_counted_in_the_organisations_week(
    hours: WorkingHours, start: datetime, seconds: int, due: datetime
) -> None:
    assert hours.add(start, seconds) == due


def test_clock_changes_neither_lose_nor_gain_an_hour(hours: WorkingHours) -> None:
    # Friday 26 March 2027 16:00 GMT; the clocks go forward on Sunday 28 March.
    # One working hour on Friday, one on Monday from 09:00 BST (08:00 UTC).
    assert hours.add(utc(2027, 3, 26, 16, 0), 2 * 3600) == utc(2027, 3, 29, 9, 0)
    # Friday 23 October 2026 16:00 BST (15:00 UTC); the clocks go back on Sunday 25 October.
    # One working hour on Friday, one on Monday from 09:00 GMT (09:00 UTC).
    assert hours.add(utc(2026, 10, 23, 15, 0), 2 * 3600) == utc(2026, 10, 26, 10, 0)
    assert hours.is_working_time(utc(2027, 3, 29, 8, 0))  # 09:00 BST
    assert not hours.is_working_time(utc(2027, 3, 26, 17, 0))  # 17:00 GMT, closed


def test_plain_hours_count_the_clock_and_working_hours_do_not(hours: WorkingHours) -> None:
    friday = utc(2026, 11, 27, 15, 0)
    assert hours.deadline(friday, Duration.parse("4h")) == utc(2026, 11, 27, 19, 0)
    assert hours.deadline(friday, Duration.parse("4wh")) == utc(2026, 11, 30, 11, 0)
    assert hours.deadline(friday, Duration.parse("1d")) == utc(2026, 11, 28, 15, 0)
    assert describe_duration(Duration.parse("4wh")) == "4 working hours"
    assert describe_duration(Duration.parse("1wh")) == "1 working hour"
    assert describe_duration(Duration.parse("2h")) == "2 hours"
    assert describe_duration(Duration.parse("30m")) == "30 minutes"
    assert describe_duration(Duration.parse("1d")) == "1 day"


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31)).map(
        lambda d: d.replace(tzinfo=UTC)
    ),
    minutes=st.integers(min_value=1, max_value=60 * 80),
)
def test_the_deadline_is_in_working_time_and_exactly_that_much_work_later(start: datetime, minutes: int) -> None:
    hours = WorkingHours.from_settings(LONDON)
    due = hours.add(start, minutes * 60)
    assert due > start
    assert hours.working_seconds(start, due) == pytest.approx(minutes * 60)
    # It lands inside working time (or exactly at closing), never in an evening or at a weekend.
    assert hours.is_working_time(due) or hours.is_working_time(due - timedelta(seconds=1))


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"days": []}, "working_hours.days is empty"),
        ({"start": "17:00", "end": "09:00"}, "must be later than"),
        ({"timezone": "Europe/Londn"}, "is not a timezone name"),
        ({"bank_holidays": ["2026-13-40"]}, "is not a date like 2026-12-25"),
        ({"start": "9am"}, "should be a time like 09:00"),
    ],
)
def test_unusable_settings_are_explained(block: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        WorkingHours.from_settings(block)

"""Deadlines that count only working hours.

A policy's "tell your line manager today" means a working day: a case opened at 16:30 on a
Friday with a four-working-hour deadline is due at 12:30 on Monday, not at 20:30 on Friday when
nobody is there to read it. The organisation settings say which days are working days, the
opening and closing time, the timezone and the bank holidays (``working_hours`` in
policybot.yaml). Everything is computed in UTC from the local calendar through zoneinfo, so
clock changes (BST/GMT) neither lose nor gain an hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import SettingsError
from bot.language.flow_model import Duration

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SEARCH_DAYS = 3700  # ten years: a deadline further than that means the settings leave no working time


def _clock_time(text: str, key: str) -> time:
    try:
        hours, minutes = (int(part) for part in text.split(":"))
        return time(hours, minutes)
    except ValueError:
        raise SettingsError(f"working_hours.{key} is '{text}' but should be a time like 09:00") from None


@dataclass(frozen=True)
class WorkingHours:
    """The organisation's working week: ``days`` are weekday numbers (Monday is 0)."""

    days: frozenset[int]
    start: time
    end: time
    timezone: ZoneInfo
    bank_holidays: frozenset[date]

    @classmethod
    def from_settings(cls, block: dict[str, Any]) -> WorkingHours:
        """Build from the ``working_hours`` settings block; unusable values are a SettingsError."""
        days = frozenset(DAY_NAMES.index(d) for d in block.get("days", DAY_NAMES[:5]))
        if not days:
            raise SettingsError("working_hours.days is empty: list at least one working day, such as mon")
        start = _clock_time(str(block.get("start", "09:00")), "start")
        end = _clock_time(str(block.get("end", "17:00")), "end")
        if end <= start:
            raise SettingsError(
                f"working_hours.end ({end:%H:%M}) must be later than working_hours.start ({start:%H:%M})"
            )
        zone_name = str(block.get("timezone", "Europe/London"))
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(
                f"working_hours.timezone '{zone_name}' is not a timezone name; use one like Europe/London"
            ) from None
        holidays: set[date] = set()
        for raw in block.get("bank_holidays", []):
            try:
                holidays.add(date.fromisoformat(str(raw)))
            except ValueError:
                raise SettingsError(
                    f"working_hours.bank_holidays has '{raw}', which is not a date like 2026-12-25"
                ) from None
        return cls(days, start, end, zone, frozenset(holidays))

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.days and day not in self.bank_holidays

    def _window(self, day: date) -> tuple[datetime, datetime]:
        """The day's opening and closing times, in UTC."""
        opens = datetime.combine(day, self.start, self.timezone).astimezone(UTC)
        closes = datetime.combine(day, self.end, self.timezone).astimezone(UTC)
        return opens, closes

    def is_working_time(self, when: datetime) -> bool:
        day = when.astimezone(self.timezone).date()
        if not self.is_working_day(day):
            return False
        opens, closes = self._window(day)
        return opens <= when.astimezone(UTC) < closes

    def add(self, start: datetime, seconds: float) -> datetime:
        """The moment ``seconds`` of working time after ``start`` (UTC in, UTC out)."""
        remaining = timedelta(seconds=seconds)
        cursor = start.astimezone(UTC)
        if remaining <= timedelta(0):
            return cursor
        day = cursor.astimezone(self.timezone).date()
        for _ in range(_SEARCH_DAYS):
            if self.is_working_day(day):
                opens, closes = self._window(day)
                begin = max(cursor, opens)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
            day += timedelta(days=1)
        raise SettingsError("the working_hours settings leave no working time in the next ten years")

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """How much working time lies between two moments (0 when ``end`` is not after ``start``)."""
        begin, finish = start.astimezone(UTC), end.astimezone(UTC)
        total = timedelta(0)
        day = begin.astimezone(self.timezone).date()
        while day <= finish.astimezone(self.timezone).date():
            if self.is_working_day(day):
                opens, closes = self._window(day)
                low, high = max(begin, opens), min(finish, closes)
                if high > low:
                    total += high - low
            day += timedelta(days=1)
        return total.total_seconds()

    def deadline(self, start: datetime, duration: Duration) -> datetime:
        """When a flow's ``unacknowledged_after`` runs out: working hours for ``wh``, else the clock."""
        if duration.working_hours:
            return self.add(start, duration.seconds)
        return start.astimezone(UTC) + timedelta(seconds=duration.seconds)


def describe_duration(duration: Duration) -> str:
    """'4 working hours', '2 hours', '30 minutes', '1 day', for messages to people."""
    seconds = duration.seconds
    if duration.working_hours:
        hours = seconds / 3600
        return f"{hours:g} working hour{'s' if hours != 1 else ''}"
    if seconds % 86400 == 0:
        days = seconds // 86400
        return f"{days} day{'s' if days != 1 else ''}"
    if seconds % 3600 == 0:
        hours_whole = seconds // 3600
        return f"{hours_whole} hour{'s' if hours_whole != 1 else ''}"
    minutes = max(1, seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"

"""Business calendars: which local days count as working days, per country.

Public holidays, each country's weekend and make-up working days (China's 调休,
e.g. Saturday 2026-02-14) come from the maintained ``holidays`` library; a
store or warehouse may add closed days of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

import holidays

WEEKEND = frozenset({5, 6})  # Saturday, Sunday
MAX_SCAN_DAYS = 366  # no calendar closes for a whole year; a longer scan is a bad calendar


@cache
def _country_calendar(country: str) -> holidays.HolidayBase | None:
    """The holidays library's calendar for a country, or None where it has none."""
    if country not in holidays.list_supported_countries():
        return None
    return holidays.country_holidays(country)


def has_public_holidays(country: str) -> bool:
    """Whether public holidays are known for this country (else weekends only)."""
    return _country_calendar(country) is not None


@dataclass(frozen=True)
class BusinessCalendar:
    """Working days of one place: its country's calendar, minus closed days, plus extra working days."""

    country: str | None = None
    closed: frozenset[date] = field(default_factory=frozenset)
    extra_working: frozenset[date] = field(default_factory=frozenset)

    def is_business_day(self, day: date) -> bool:
        """Whether work happens on this local day."""
        if day in self.closed:
            return False
        if day in self.extra_working:
            return True
        official = _country_calendar(self.country) if self.country else None
        if official is not None:
            return bool(official.is_working_day(day))
        return day.weekday() not in WEEKEND

    def why_not_working(self, day: date) -> str | None:
        """Why a day is not a business day (a holiday's name, weekend, closed); None if it is."""
        if day in self.closed:
            return "closed by the store or warehouse"
        if self.is_business_day(day):
            return None
        official = _country_calendar(self.country) if self.country else None
        name = official.get(day) if official is not None else None
        return f"public holiday: {name}" if name else "weekend"

    def why_working(self, day: date) -> str:
        """How a business day reads: a plain working day, or a make-up one (调休) on a weekend."""
        if day.weekday() in WEEKEND:
            return "make-up working day (调休)" if day not in self.extra_working else "opened"
        return "working day"

    def add_business_days(self, day: date, count: int) -> date:
        """The ``count``-th business day strictly after ``day`` (the day itself never counts)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        current = day
        remaining = count
        for _ in range(MAX_SCAN_DAYS * count):
            current += timedelta(days=1)
            if self.is_business_day(current):
                remaining -= 1
                if not remaining:
                    return current
        raise ValueError(f"no {count} business days within a year after {day}")

    def next_business_day(self, day: date) -> date:
        """The first business day after ``day``."""
        return self.add_business_days(day, 1)

    @classmethod
    def with_days(
        cls,
        closed: Iterable[date] = (),
        extra_working: Iterable[date] = (),
        country: str | None = None,
    ) -> BusinessCalendar:
        """Build a calendar from iterables of dates."""
        return cls(country, frozenset(closed), frozenset(extra_working))


WEEKDAYS = BusinessCalendar()


def calendar_for(country: str, closed: Iterable[date] = ()) -> BusinessCalendar:
    """The business calendar of a country (ISO 3166 alpha-2), with a place's own closed days."""
    return BusinessCalendar(country.upper(), frozenset(closed))

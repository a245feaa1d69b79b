"""Business calendars: which local days count as working days."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

WEEKEND = frozenset({5, 6})  # Saturday, Sunday


@dataclass(frozen=True)
class BusinessCalendar:
    """Working days of one place: weekdays, minus closed days, plus make-up working days.

    The foundation uses weekends only; public holidays and make-up working days
    (调休) arrive through ``closed`` and ``extra_working`` from the SLA engine.
    """

    closed: frozenset[date] = field(default_factory=frozenset)
    extra_working: frozenset[date] = field(default_factory=frozenset)

    def is_business_day(self, day: date) -> bool:
        """Whether work happens on this local day."""
        if day in self.extra_working:
            return True
        return day.weekday() not in WEEKEND and day not in self.closed

    def add_business_days(self, day: date, count: int) -> date:
        """The ``count``-th business day strictly after ``day`` (the day itself never counts)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        current = day
        remaining = count
        while remaining:
            current += timedelta(days=1)
            if self.is_business_day(current):
                remaining -= 1
        return current

    @classmethod
    def with_days(
        cls, closed: Iterable[date] = (), extra_working: Iterable[date] = ()
    ) -> BusinessCalendar:
        """Build a calendar from iterables of dates."""
        return cls(frozenset(closed), frozenset(extra_working))


WEEKDAYS = BusinessCalendar()

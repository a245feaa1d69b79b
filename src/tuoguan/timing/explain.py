"""How each deadline of an order was computed, step by step (``tuoguan sla explain``).

Pure: it re-runs the same rules as ``timing.deadlines`` over the order's facts
and says which days counted and why the others did not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tuoguan.timing import deadlines
from tuoguan.timing.calendar import MAX_SCAN_DAYS, BusinessCalendar


@dataclass
class Explanation:
    """One deadline, its rule, its value and the reasoning behind it."""

    kind: str
    rule: str
    at: datetime | None
    steps: list[str] = field(default_factory=list)


def count_days(calendar: BusinessCalendar, after: date, count: int) -> tuple[date, list[str]]:
    """Walk the days after ``after`` until ``count`` business days are counted, saying why."""
    steps = []
    counted = 0
    day = after
    for _ in range(MAX_SCAN_DAYS * count):
        day += timedelta(days=1)
        skipped = calendar.why_not_working(day)
        label = f"{day.isoformat()} {day.strftime('%a')}"
        if skipped:
            steps.append(f"{label}: skipped ({skipped})")
            continue
        counted += 1
        steps.append(f"{label}: business day {counted} of {count} ({calendar.why_working(day)})")
        if counted == count:
            return day, steps
    raise ValueError(f"no {count} business days within a year after {after}")


def confirm_by(placed_at: datetime, tz: ZoneInfo) -> Explanation:
    """O2: 24 natural hours."""
    at = deadlines.confirm_by(placed_at).astimezone(tz)
    return Explanation(
        "confirm_by",
        "O2",
        at,
        [
            f"placed {placed_at.astimezone(tz).isoformat()} ({tz.key})",
            "plus 24 natural hours: weekends and holidays do not stop this clock",
        ],
    )


def ship_by(
    placed_at: datetime, promise_days: int, tz: ZoneInfo, calendar: BusinessCalendar, country: str
) -> Explanation:
    """F1: the end of the Nth business day after the local order day."""
    local = placed_at.astimezone(tz)
    steps = [
        f"placed {local.isoformat()} in the store's zone {tz.key}; "
        f"local order day {local.date().isoformat()} never counts",
        f"promise: {promise_days} business day(s), calendar of {country}"
        + (f" with {len(calendar.closed)} closed day(s) of the store" if calendar.closed else ""),
    ]
    day, walked = count_days(calendar, local.date(), promise_days)
    at = deadlines.end_of_day(day, tz)
    steps += [*walked, f"ship by the end of {day.isoformat()}: {at.isoformat()}"]
    return Explanation("ship_by", "F1", at, steps)


def deliver_by(
    ship_by_at: datetime,
    transit: int,
    origin: str,
    destination: str,
    tz: ZoneInfo,
    calendar: BusinessCalendar,
) -> Explanation:
    """F2: transit business days of the destination after the ship-by day."""
    ship_day = ship_by_at.date()
    lane = "domestic" if origin == destination else "international"
    steps = [
        f"ship-by day {ship_day.isoformat()}; {lane} lane {origin} → {destination}: "
        f"{transit} transit business days on the calendar of {destination}"
    ]
    day, walked = count_days(calendar, ship_day, transit)
    at = deadlines.end_of_day(day, tz)
    steps += [*walked, f"delivered by the end of {day.isoformat()} in {tz.key}: {at.isoformat()}"]
    return Explanation("deliver_by", "F2", at, steps)


def auto_complete(delivered_at: datetime, days: int, tz: ZoneInfo) -> Explanation:
    """O3 decision: receipt confirms itself ``days`` after delivery."""
    at = deadlines.auto_complete_at(delivered_at, days).astimezone(tz)
    return Explanation(
        "auto_complete_at",
        "O3",
        at,
        [f"delivered {delivered_at.astimezone(tz).isoformat()}", f"plus {days} natural days"],
    )

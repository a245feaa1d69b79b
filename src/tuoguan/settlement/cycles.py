"""Settlement cycles (结算周期, M3): how often each store mode is paid and where a cycle ends.

Pure arithmetic on the settings, no database. A cycle of ``days`` days ends at 00:00 in the
platform's zone on the dates ``anchor + k * days`` (k any whole number): with the default
anchor, Monday 5 January 2026, a weekly cycle ends every Monday, a fortnightly one every other
Monday. Full-managed stores are paid weekly, the others fortnightly, by default (M3: the
full-managed cycle is the shorter).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tuoguan.config import Settings
from tuoguan.kit.clock import as_utc
from tuoguan.stores.models import StoreMode


def cycle_days(settings: Settings, mode: StoreMode) -> int:
    """The length of a mode's settlement cycle, in days."""
    return {
        StoreMode.full_managed: settings.settlement_cycle_days_full_managed,
        StoreMode.semi_managed: settings.settlement_cycle_days_semi_managed,
        StoreMode.self_run: settings.settlement_cycle_days_self_run,
    }[mode]


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return as_utc(datetime.combine(day, time(0), tzinfo=zone))


def boundary_at_or_before(at: datetime, *, days: int, anchor: date, zone: str) -> datetime:
    """The last cycle boundary at or before ``at`` (an instant, UTC)."""
    tz = ZoneInfo(zone)
    local_day = as_utc(at).astimezone(tz).date()
    cycles = (local_day - anchor).days // days
    found = _midnight(anchor + timedelta(days=cycles * days), tz)
    if found > as_utc(at):  # only where a zone's midnight is skipped or repeated
        found = _midnight(anchor + timedelta(days=(cycles - 1) * days), tz)
    return found


def next_boundary_after(at: datetime, *, days: int, anchor: date, zone: str) -> datetime:
    """The first cycle boundary after ``at``."""
    last = boundary_at_or_before(at, days=days, anchor=anchor, zone=zone)
    tz = ZoneInfo(zone)
    return _midnight(last.astimezone(tz).date() + timedelta(days=days), tz)


def latest_boundary(settings: Settings, mode: StoreMode, now: datetime) -> datetime:
    """The last boundary of the mode's cycle that has passed at ``now``."""
    return boundary_at_or_before(
        now,
        days=cycle_days(settings, mode),
        anchor=settings.settlement_anchor,
        zone=settings.settlement_zone,
    )


def next_boundary(settings: Settings, mode: StoreMode, after: datetime) -> datetime:
    """The first boundary of the mode's cycle after ``after``."""
    return next_boundary_after(
        after,
        days=cycle_days(settings, mode),
        anchor=settings.settlement_anchor,
        zone=settings.settlement_zone,
    )

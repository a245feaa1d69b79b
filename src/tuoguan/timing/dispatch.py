"""The platform's own ship deadline from a warehouse (F11): intake day, cut-off, ship days.

**Decision** (how the warehouse's "ships within N business days" reads): work that reaches
the warehouse before its pickup cut-off on a business day (warehouse-local) is taken in that
day; work that arrives at or after the cut-off, or on a day the warehouse does not work, is
taken in on the next business day. The deadline is the end (23:59:59 warehouse-local) of the
Nth business day after the intake day. So a later instant never gets an earlier deadline: an
order at 17:00 on Friday and one on Saturday are both taken in on Monday.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from tuoguan.timing.calendar import WEEKDAYS, BusinessCalendar
from tuoguan.timing.deadlines import end_of_day

WAREHOUSE_SHIP_DAYS = (1, 2, 3)  # seed 002: 物流发货 1-3天
DEFAULT_CUTOFF = time(16, 0)


def intake_day(
    at: datetime,
    tz: ZoneInfo,
    calendar: BusinessCalendar = WEEKDAYS,
    cutoff: time = DEFAULT_CUTOFF,
) -> date:
    """The business day on which work arriving at ``at`` is taken in (see the module)."""
    local = at.astimezone(tz)
    day = local.date()
    if calendar.is_business_day(day) and local.time().replace(tzinfo=None) < cutoff:
        return day
    return calendar.next_business_day(day)


def dispatch_by(
    at: datetime,
    ship_days: int,
    tz: ZoneInfo,
    calendar: BusinessCalendar = WEEKDAYS,
    cutoff: time = DEFAULT_CUTOFF,
) -> datetime:
    """F11: end of the ``ship_days``-th business day after the intake day of ``at``."""
    if ship_days not in WAREHOUSE_SHIP_DAYS:
        raise ValueError(f"a warehouse ships within {WAREHOUSE_SHIP_DAYS} business days")
    day = intake_day(at, tz, calendar, cutoff)
    return end_of_day(calendar.add_business_days(day, ship_days), tz)

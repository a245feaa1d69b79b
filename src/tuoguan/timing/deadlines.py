"""Order deadlines: confirm_by (O2), ship_by (F1), deliver_by (F2), auto-complete (O3)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tuoguan.timing.calendar import WEEKDAYS, BusinessCalendar

CONFIRM_WINDOW = timedelta(hours=24)
SHIP_PROMISES = (1, 2)
END_OF_DAY = time(23, 59, 59)
# Transit business days by lane until shipping zones arrive: 2 at home, 5 abroad (F2: 2-5).
DOMESTIC_TRANSIT_DAYS = 2
INTERNATIONAL_TRANSIT_DAYS = 5


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """23:59:59 local time on a day."""
    return datetime.combine(day, END_OF_DAY, tzinfo=tz)


def confirm_by(placed_at: datetime) -> datetime:
    """O2: a full-managed order must be confirmed within 24 natural hours of creation."""
    return placed_at + CONFIRM_WINDOW


def ship_by(
    placed_at: datetime,
    promise_days: int,
    tz: ZoneInfo,
    calendar: BusinessCalendar = WEEKDAYS,
) -> datetime:
    """F1: end of the Nth business day after the local day the order was placed."""
    if promise_days not in SHIP_PROMISES:
        raise ValueError(f"ship promise must be one of {SHIP_PROMISES} business days")
    local_day = placed_at.astimezone(tz).date()
    return end_of_day(calendar.add_business_days(local_day, promise_days), tz)


def transit_days(origin_country: str, destination_country: str) -> int:
    """Business days a parcel spends in transit on a lane."""
    if origin_country == destination_country:
        return DOMESTIC_TRANSIT_DAYS
    return INTERNATIONAL_TRANSIT_DAYS


def deliver_by(
    ship_day: date,
    transit: int,
    destination_tz: ZoneInfo,
    destination_calendar: BusinessCalendar = WEEKDAYS,
) -> datetime:
    """F2: end of the day, destination-local, ``transit`` business days after the ship-by day.

    ``ship_day`` is the local date of the ship-by deadline where the parcel leaves.
    """
    return end_of_day(destination_calendar.add_business_days(ship_day, transit), destination_tz)


PICKUP_CUTOFF = time(15, 0)
SELF_DROP_WINDOW = timedelta(hours=48)


def pickup_day(scanned_at: datetime, tz: ZoneInfo, calendar: BusinessCalendar = WEEKDAYS) -> date:
    """F4: the ship day a carrier pickup counts for.

    A scan before 15:00 warehouse-local on a business day counts for that day;
    a scan at or after 15:00, or on a non-business day, for the next business day.
    """
    local = scanned_at.astimezone(tz)
    day = local.date()
    if calendar.is_business_day(day) and local.time() < PICKUP_CUTOFF:
        return day
    return calendar.next_business_day(day)


def self_drop_by(label_created_at: datetime) -> datetime:
    """F4: a self-dropped parcel must be scanned in within 48 natural hours of its label."""
    return label_created_at + SELF_DROP_WINDOW


def auto_complete_at(delivered_at: datetime, days: int) -> datetime:
    """O3 decision: receipt is confirmed automatically this long after delivery."""
    return delivered_at + timedelta(days=days)


# S2: the typical longest stay in each audit stage, in business days (seed 002:
# onboarding 1-3 days, listing 1 day, review 1-2 days). Longer is "stuck".
AUDIT_STAGE_DAYS = {"onboarding": 3, "listing": 1, "review": 2}
DISPUTE_TARGET = timedelta(days=3)
REFUND_ARRIVAL_DAYS = (3, 5)


def audit_stuck_after(
    entered_at: datetime, stage: str, tz: ZoneInfo, calendar: BusinessCalendar = WEEKDAYS
) -> datetime:
    """S2: when a stay in an audit stage exceeds its typical duration (then it is flagged).

    Read like F1: the end of the Nth business day after the local day the stage
    was entered, on the platform's calendar.
    """
    if stage not in AUDIT_STAGE_DAYS:
        raise ValueError(f"stage must be one of {', '.join(AUDIT_STAGE_DAYS)}")
    local_day = entered_at.astimezone(tz).date()
    return end_of_day(calendar.add_business_days(local_day, AUDIT_STAGE_DAYS[stage]), tz)


def dispute_resolve_by(opened_at: datetime) -> datetime:
    """G4: the target for deciding a dispute, 3 natural days after it was opened."""
    return opened_at + DISPUTE_TARGET


def refund_arrival(
    sent_at: datetime, tz: ZoneInfo, calendar: BusinessCalendar = WEEKDAYS
) -> tuple[datetime, datetime]:
    """S3: a deposit refund arrives between the 3rd and the 5th business day after it is sent.

    Returns the ends of those two days, on the payout's calendar (the seller's country).
    """
    local_day = sent_at.astimezone(tz).date()
    first, last = REFUND_ARRIVAL_DAYS
    return (
        end_of_day(calendar.add_business_days(local_day, first), tz),
        end_of_day(calendar.add_business_days(local_day, last), tz),
    )

"""Deadline arithmetic (O2, F1, F2) on a weekend-only calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuoguan.timing import deadlines
from tuoguan.timing.calendar import WEEKDAYS, BusinessCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
MADRID = ZoneInfo("Europe/Madrid")


def test_confirm_by_is_24_natural_hours() -> None:  # O2
    placed = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # a Friday
    assert deadlines.confirm_by(placed) == placed + timedelta(hours=24)


def test_ship_by_counts_business_days_after_the_local_order_day() -> None:  # F1
    # Friday 16:00 in Shanghai: the 1st business day after is Monday, the 2nd Tuesday.
    placed = datetime(2026, 11, 20, 16, 0, tzinfo=SHANGHAI)
    assert deadlines.ship_by(placed, 1, SHANGHAI) == datetime(
        2026, 11, 23, 23, 59, 59, tzinfo=SHANGHAI
    )
    assert deadlines.ship_by(placed, 2, SHANGHAI) == datetime(
        2026, 11, 24, 23, 59, 59, tzinfo=SHANGHAI
    )


def test_ship_by_uses_the_warehouse_local_day_not_utc() -> None:  # F1
    # 2026-11-19 20:00 UTC is Friday 04:00 in Shanghai but Thursday 21:00 in Madrid.
    placed = datetime(2026, 11, 19, 20, 0, tzinfo=UTC)
    assert deadlines.ship_by(placed, 1, SHANGHAI).date() == date(2026, 11, 23)
    assert deadlines.ship_by(placed, 1, MADRID).date() == date(2026, 11, 20)


def test_order_day_never_counts_even_if_it_is_a_working_day() -> None:  # F1 decision
    saturday = date(2026, 2, 14)
    calendar = BusinessCalendar.with_days(extra_working=[saturday])
    placed = datetime(2026, 2, 14, 10, 0, tzinfo=SHANGHAI)
    assert deadlines.ship_by(placed, 1, SHANGHAI, calendar).date() == date(2026, 2, 16)


def test_only_one_or_two_day_promises_exist() -> None:  # F1
    with pytest.raises(ValueError):
        deadlines.ship_by(datetime(2026, 11, 20, tzinfo=UTC), 3, SHANGHAI)


def test_deliver_by_adds_transit_business_days_in_the_destination() -> None:  # F2
    ship_day = date(2026, 11, 24)  # Tuesday
    result = deadlines.deliver_by(ship_day, 5, MADRID)
    assert result == datetime(2026, 12, 1, 23, 59, 59, tzinfo=MADRID)


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
    st.sampled_from([1, 2]),
    st.integers(2, 5),
)
def test_order_to_delivery_stays_within_about_4_to_9_days(
    placed: datetime, promise: int, transit: int
) -> None:  # F2
    ship = deadlines.ship_by(placed, promise, SHANGHAI)
    deliver = deadlines.deliver_by(ship.date(), transit, SHANGHAI)
    local_days = (deliver.date() - placed.astimezone(SHANGHAI).date()).days
    assert 3 <= local_days <= 11
    assert WEEKDAYS.is_business_day(ship.date()) and WEEKDAYS.is_business_day(deliver.date())

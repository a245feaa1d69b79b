"""The platform's ship deadline from a warehouse (F11): intake day, cut-off, business days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuoguan.inventory.models import Warehouse, WarehouseKind, WarehouseOwner
from tuoguan.inventory.warehouses import ship_by, warehouse_calendar
from tuoguan.timing.calendar import calendar_for
from tuoguan.timing.dispatch import dispatch_by, intake_day

SHANGHAI = ZoneInfo("Asia/Shanghai")
CN = calendar_for("CN")


def _end(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("local", "days", "deadline"),
    [
        # F11 decision: before the 16:00 cut-off on a business day, taken in that day
        (datetime(2026, 11, 18, 10, 0), 1, date(2026, 11, 19)),
        (datetime(2026, 11, 18, 15, 59), 3, date(2026, 11, 23)),
        # at or after the cut-off: taken in on the next business day
        (datetime(2026, 11, 18, 16, 0), 1, date(2026, 11, 20)),
        (datetime(2026, 11, 20, 17, 0), 1, date(2026, 11, 24)),
        # on a weekend: taken in on Monday, so no earlier than Friday evening's
        (datetime(2026, 11, 21, 9, 0), 1, date(2026, 11, 24)),
        # Spring Festival 2026: Saturday 14 Feb is a make-up working day (调休), 15-23 are off
        (datetime(2026, 2, 13, 10, 0), 1, date(2026, 2, 14)),
        (datetime(2026, 2, 13, 17, 0), 1, date(2026, 2, 24)),
        (datetime(2026, 2, 16, 10, 0), 2, date(2026, 2, 26)),  # taken in on the 24th
    ],
)
def test_the_platforms_ship_deadline_counts_from_the_intake_day(
    local: datetime, days: int, deadline: date
) -> None:  # F11
    at = local.replace(tzinfo=SHANGHAI)
    assert dispatch_by(at, days, SHANGHAI, CN) == _end(deadline)


def test_the_cut_off_and_the_day_are_the_warehouses_local_ones() -> None:  # F11
    # 07:30 UTC is 15:30 in Shanghai (before a 16:00 cut-off), but after a 15:00 one
    at = datetime(2026, 11, 18, 7, 30, tzinfo=UTC)
    assert intake_day(at, SHANGHAI, CN) == date(2026, 11, 18)
    assert intake_day(at, SHANGHAI, CN, time(15, 0)) == date(2026, 11, 19)


def test_a_warehouse_ships_within_one_to_three_business_days() -> None:  # F11
    at = datetime(2026, 11, 18, 10, 0, tzinfo=SHANGHAI)
    for days in (0, 4):
        with pytest.raises(ValueError):
            dispatch_by(at, days, SHANGHAI, CN)


@given(
    first=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 20)),
    gap=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10)),
    days=st.integers(1, 3),
)
def test_a_later_instant_never_gets_an_earlier_deadline(
    first: datetime, gap: timedelta, days: int
) -> None:  # F11 decision
    early = first.replace(tzinfo=UTC)
    late = early + gap
    assert early < dispatch_by(early, days, SHANGHAI, CN) <= dispatch_by(late, days, SHANGHAI, CN)


def _warehouse(**fields: object) -> Warehouse:
    values: dict[str, object] = {
        "id": "whs_01JTEST00000000000000000000",
        "code": "DG1",
        "name": "Dongguan",
        "owner": WarehouseOwner.platform,
        "kind": WarehouseKind.consolidation,
        "address": {},
        "country": "CN",
        "timezone": "Asia/Shanghai",
        "closed_days": [],
        "pickup_cutoff": time(16, 0),
        "ship_days": 1,
    }
    values.update(fields)
    return Warehouse(**values)


def test_a_warehouse_deadline_uses_its_own_calendar_cut_off_and_ship_days() -> None:  # F11, M5
    at = datetime(2026, 11, 18, 15, 30, tzinfo=SHANGHAI)  # Wednesday
    assert ship_by(_warehouse(), at) == _end(date(2026, 11, 19))
    # closed on Thursday (stocktake): the Nth business day skips it
    closed = _warehouse(closed_days=["2026-11-19"])
    assert not warehouse_calendar(closed).is_business_day(date(2026, 11, 19))
    assert ship_by(closed, at) == _end(date(2026, 11, 20))
    # an earlier cut-off moves the intake to Thursday; three ship days from there
    assert ship_by(_warehouse(pickup_cutoff=time(15, 0), ship_days=3), at) == _end(
        date(2026, 11, 24)
    )
    # an overseas warehouse counts on its own country's days and zone
    madrid = ZoneInfo("Europe/Madrid")
    spain = _warehouse(country="ES", timezone="Europe/Madrid")
    friday = datetime(2026, 12, 4, 12, 0, tzinfo=madrid)  # Tuesday 8 Dec: Inmaculada Concepción
    assert ship_by(spain, friday).astimezone(madrid).date() == date(2026, 12, 7)
    assert ship_by(spain, friday.replace(hour=17)).astimezone(madrid).date() == date(2026, 12, 9)

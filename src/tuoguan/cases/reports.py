"""What the cases say over time (R4, G4): receiving exception rates by week, seller, carrier and
cause, with the repeat offenders flagged; and how long disputes take to decide, p50 and p95 per
week, and the share decided within the 3-day target.

A receiving exception's rate is its count over the inbound notices that arrived in the same
span (by the notice's arrival; a notice's carrier is the name on it). Weeks start on Monday,
00:00 China time. A seller or carrier with ``REPEAT_MIN`` exceptions or more in the last 30 days
is a repeat offender. A dispute's time is from its opening to its decision; the week is the one
it was opened in; one still open past the target counts as not within it.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.cases.kinds import PLATFORM_ZONE, CaseKind
from tuoguan.cases.models import Case
from tuoguan.fulfilment.models import InboundNotice
from tuoguan.kit.clock import as_utc
from tuoguan.stores.models import Seller
from tuoguan.timing.deadlines import DISPUTE_TARGET

REPEAT_MIN = 3
REPEAT_DAYS = 30
MAX_WEEKS = 52


def week_of(at: datetime) -> date:
    """The Monday (China time) of the week an instant falls in."""
    local = as_utc(at).astimezone(PLATFORM_ZONE).date()
    return local - timedelta(days=local.weekday())


def _start(weeks: int, now: datetime) -> tuple[list[date], datetime]:
    last = week_of(now)
    days = [last - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    begin = datetime.combine(days[0], time(0), tzinfo=PLATFORM_ZONE)
    return days, as_utc(begin)


@dataclass
class Rate:
    """Exceptions over notices for one seller, carrier or week."""

    key: str
    label: str
    notices: int = 0
    exceptions: int = 0
    recent: int = 0  # exceptions in the last 30 days
    repeat: bool = False

    @property
    def rate(self) -> float | None:
        return self.exceptions / self.notices if self.notices else None


@dataclass
class ReceivingReport:
    weeks: list[Rate]
    sellers: list[Rate]
    carriers: list[Rate]
    causes: list[tuple[str, int]]


async def receiving(session: AsyncSession, *, now: datetime, weeks: int) -> ReceivingReport:
    """R4: the receiving exception rates of the last ``weeks`` weeks (this one included)."""
    days, begin = _start(min(max(weeks, 1), MAX_WEEKS), now)
    recent_from = now - timedelta(days=REPEAT_DAYS)
    notices = (
        await session.execute(
            select(
                InboundNotice.id,
                InboundNotice.seller_id,
                InboundNotice.carrier_name,
                InboundNotice.arrived_at,
            ).where(InboundNotice.arrived_at >= begin, InboundNotice.arrived_at <= now)
        )
    ).all()
    cases = (
        await session.execute(
            select(Case.seller_id, Case.cause, Case.opened_at, InboundNotice.carrier_name)
            .join(InboundNotice, InboundNotice.id == Case.notice_id)
            .where(
                Case.kind == CaseKind.receiving_exception,
                Case.opened_at >= begin,
                Case.opened_at <= now,
            )
        )
    ).all()
    by_week = {d: Rate(d.isoformat(), d.isoformat()) for d in days}
    sellers: dict[str, Rate] = {}
    carriers: dict[str, Rate] = {}
    causes: Counter[str] = Counter()

    def carrier_of(name: str | None) -> str:
        return (name or "").strip() or "-"

    for _, seller_id, carrier, arrived in notices:
        week = by_week.get(week_of(arrived)) if arrived is not None else None
        if week is not None:
            week.notices += 1
        sellers.setdefault(seller_id, Rate(seller_id, seller_id)).notices += 1
        name = carrier_of(carrier)
        carriers.setdefault(name, Rate(name, name)).notices += 1
    for seller_id, cause, opened, carrier in cases:
        week = by_week.get(week_of(opened))
        if week is not None:
            week.exceptions += 1
        causes[cause] += 1
        for row in (
            sellers.setdefault(seller_id, Rate(seller_id, seller_id)),
            carriers.setdefault(
                carrier_of(carrier), Rate(carrier_of(carrier), carrier_of(carrier))
            ),
        ):
            row.exceptions += 1
            if as_utc(opened) >= recent_from:
                row.recent += 1
    names = dict(
        (
            await session.execute(
                select(Seller.id, Seller.name).where(Seller.id.in_(list(sellers) or [""]))
            )
        ).all()
    )
    for row in sellers.values():
        row.label = str(names.get(row.key, row.key))
    for row in (*sellers.values(), *carriers.values()):
        row.repeat = row.recent >= REPEAT_MIN

    def ranked(rows: dict[str, Rate]) -> list[Rate]:
        return sorted(rows.values(), key=lambda r: (-r.exceptions, -(r.rate or 0), r.label))

    return ReceivingReport(
        weeks=list(by_week.values()),
        sellers=ranked(sellers),
        carriers=ranked(carriers),
        causes=sorted(causes.items(), key=lambda c: (-c[1], c[0])),
    )


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` in 0-1) of the values; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class DisputeWeek:
    week: date
    opened: int = 0
    decided: int = 0
    within: int = 0  # decided within the target
    late: int = 0  # decided after it, or still open past it
    hours: list[float] = field(default_factory=list)

    @property
    def p50_hours(self) -> float | None:
        return percentile(self.hours, 0.5)

    @property
    def p95_hours(self) -> float | None:
        return percentile(self.hours, 0.95)

    @property
    def share_within(self) -> float | None:
        settled = self.within + self.late
        return self.within / settled if settled else None


async def disputes(session: AsyncSession, *, now: datetime, weeks: int) -> list[DisputeWeek]:
    """G4: time to decision of the disputes opened in each of the last ``weeks`` weeks."""
    days, begin = _start(min(max(weeks, 1), MAX_WEEKS), now)
    rows = (
        await session.execute(
            select(Case.opened_at, Case.decided_at).where(
                Case.kind == CaseKind.dispute, Case.opened_at >= begin, Case.opened_at <= now
            )
        )
    ).all()
    by_week = {d: DisputeWeek(d) for d in days}
    for opened, decided in rows:
        week = by_week.get(week_of(opened))
        if week is None:
            continue
        week.opened += 1
        if decided is not None:
            took = as_utc(decided) - as_utc(opened)
            week.decided += 1
            week.hours.append(took.total_seconds() / 3600)
            if took <= DISPUTE_TARGET:
                week.within += 1
            else:
                week.late += 1
        elif now - as_utc(opened) > DISPUTE_TARGET:
            week.late += 1
    return list(by_week.values())

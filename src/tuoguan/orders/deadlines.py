"""An order's deadlines: computed when it enters a state, shown in the zone each applies to,
explained, found missed, and scored for the risk of missing them (G5) from the pace records.

The arithmetic itself is pure and lives in ``tuoguan.timing``; this module applies it to
orders. ``service.py`` (the actions) calls ``enter_state``; the SLA sweeps and the views call
the rest.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.kit.clock import as_utc
from tuoguan.kit.ids import new_ids
from tuoguan.orders import listing, pace, repository
from tuoguan.orders.models import Order
from tuoguan.orders.repository import Overdue, RiskCheck
from tuoguan.orders.schemas import Deadline
from tuoguan.orders.states import DEADLINE_OF, OrderStatus
from tuoguan.principal import Principal
from tuoguan.stores.models import Store
from tuoguan.stores.modes import Party, rules
from tuoguan.stores.service import store_calendar
from tuoguan.timing import deadlines as arithmetic
from tuoguan.timing import explain, risk
from tuoguan.timing.calendar import calendar_for
from tuoguan.timing.places import country_timezone

DEADLINE_KINDS = ("confirm_by", "ship_by", "deliver_by", "auto_complete_at")
# Deadlines about the parcel's arrival are read in the buyer's zone; the rest in the store's.
_AT_DESTINATION = frozenset({"deliver_by", "auto_complete_at"})


def enter_state(order: Order, store: Store, status: OrderStatus, now: datetime, ctx: Ctx) -> None:
    """Compute the deadlines a state starts, then point deadline_at at the running one."""
    # Stored and returned in UTC, whatever zone they were computed in; views localise them.
    if status is OrderStatus.awaiting_confirmation:
        order.confirm_by = as_utc(arithmetic.confirm_by(order.placed_at))
    elif status is OrderStatus.awaiting_shipment and order.ship_by is not None:
        pass  # re-entered (F10 unship, a refused void): the deadline is the one first computed
    elif status is OrderStatus.awaiting_shipment and rules(order.mode).ships is Party.platform:
        pass  # F11: the platform's clock starts when its warehouse holds the stock
    elif status is OrderStatus.awaiting_shipment:
        ship_by = ship_by_for(store, as_utc(order.placed_at))
        order.ship_by = as_utc(ship_by)
        order.deliver_by = as_utc(
            arithmetic.deliver_by(
                ship_by.date(),
                arithmetic.transit_days(store.country, order.country),
                country_timezone(order.country),
                calendar_for(order.country),
            )
        )
    elif status is OrderStatus.delivered:
        order.auto_complete_at = as_utc(
            arithmetic.auto_complete_at(now, ctx.settings.auto_confirm_days)
        )
    field = DEADLINE_OF.get(status)
    order.deadline_at = getattr(order, field) if field else None
    order.deadline_missed_at = None
    # G5: a new state's risk is unknown until the worker scores it, at the window's start.
    order.risk_score = order.risk_reasons = order.risk_scored_at = None
    start = window_start(order)
    order.risk_check_at = start if order.deadline_at is not None else None


def ship_by_for(store: Store, placed: datetime) -> datetime:
    """F1: when an order the store ships itself, placed at ``placed``, must ship by: the end
    of the Nth business day after, store-local (N: the store's promise)."""
    return arithmetic.ship_by(
        placed, store.ship_promise_days, ZoneInfo(store.timezone), store_calendar(store)
    )


def start_ship_clock(
    session: AsyncSession, *, ctx: Ctx, order: Order, ship_by: datetime, origin: str
) -> None:
    """F11: the platform's warehouse holds the stock: its ship deadline (``ship_by``, from the
    warehouse's calendar) and the delivery deadline from its country (``origin``) start now."""
    local = ship_by.astimezone(country_timezone(origin))
    order.ship_by = as_utc(ship_by)
    order.deliver_by = as_utc(
        arithmetic.deliver_by(
            local.date(),
            arithmetic.transit_days(origin, order.country),
            country_timezone(order.country),
            calendar_for(order.country),
        )
    )
    if DEADLINE_OF.get(order.status) == "ship_by":
        order.deadline_at = order.ship_by
        order.deadline_missed_at = None
        order.risk_score = order.risk_reasons = order.risk_scored_at = None
        order.risk_check_at = window_start(order)


def window_start(order: Order) -> datetime | None:
    """When the running deadline's window opened (G5 scores how much of it is gone)."""
    if order.status in (OrderStatus.awaiting_confirmation, OrderStatus.awaiting_shipment):
        return as_utc(order.placed_at)
    if order.status is OrderStatus.shipped and order.shipped_at is not None:
        return as_utc(order.shipped_at)
    return None


def _deadline(order: Order, kind: str, store_tz: str, now: datetime) -> Deadline | None:
    at: datetime | None = getattr(order, kind)
    if at is None:
        return None
    zone = country_timezone(order.country) if kind in _AT_DESTINATION else ZoneInfo(store_tz)
    return Deadline(
        kind=kind,
        at=at.astimezone(zone),
        timezone=zone.key,
        seconds_left=int((at - now).total_seconds()),
    )


def next_deadline(order: Order, store_tz: str, now: datetime) -> Deadline | None:
    """O5: the deadline running now, in the zone of the place it applies to, with time left."""
    kind = DEADLINE_OF.get(order.status)
    return _deadline(order, kind, store_tz, now) if kind else None


def all_deadlines(order: Order, store_tz: str, now: datetime) -> list[Deadline]:
    """Every deadline the order has, each in its own zone."""
    found = (_deadline(order, kind, store_tz, now) for kind in DEADLINE_KINDS)
    return [deadline for deadline in found if deadline is not None]


def explain_all(order: Order, store: Store, settings: Settings) -> list[explain.Explanation]:
    """How each of the order's deadlines was computed, with the days counted and skipped."""
    tz = ZoneInfo(store.timezone)
    placed = as_utc(order.placed_at)
    found: list[explain.Explanation] = []
    if order.confirm_by is not None:
        found.append(explain.confirm_by(placed, tz))
    if order.ship_by is not None:
        found.append(
            explain.ship_by(
                placed, store.ship_promise_days, tz, store_calendar(store), store.country
            )
        )
    if order.deliver_by is not None:
        found.append(
            explain.deliver_by(
                as_utc(order.ship_by or order.deliver_by).astimezone(tz),
                arithmetic.transit_days(store.country, order.country),
                store.country,
                order.country,
                country_timezone(order.country),
                calendar_for(order.country),
            )
        )
    if order.delivered_at is not None:
        found.append(
            explain.auto_complete(
                as_utc(order.delivered_at),
                settings.auto_confirm_days,
                country_timezone(order.country),
            )
        )
    for item in found:
        stored: datetime | None = getattr(order, item.kind)
        if stored is not None and item.at is not None and as_utc(stored) != as_utc(item.at):
            item.steps.append(
                f"stored deadline {as_utc(stored).isoformat()} differs: it was computed under "
                "the store's settings at the time (promise, closed days, or configuration)"
            )
            item.at = as_utc(stored)
    return found


async def overdue(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> list[Overdue]:
    """Orders whose confirm or ship deadline passed and is not yet recorded as missed, locked
    (leaving out those set aside, ``exclude``; or just ``only`` these, when retried one by one)."""
    rows = await repository.overdue_unmissed(
        session, now=now, limit=limit, skip_locked=skip_locked, exclude=exclude, only=only
    )
    return [Overdue(r.id, r.store_id, r.seller_id, r.status, as_utc(r.deadline_at)) for r in rows]


def _missed_fields(order: Order | Overdue, kind: str) -> dict[str, Any]:
    deadline = order.deadline_at.isoformat() if order.deadline_at else None
    return {
        "subject_type": "order",
        "subject_id": order.id,
        "store_id": order.store_id,
        "action": "deadline_missed",
        "from_state": order.status.value,
        "to_state": order.status.value,
        "reason": kind,
        "data": {"deadline_at": deadline},
    }


def mark_deadline_missed(session: AsyncSession, *, ctx: Ctx, order: Order, kind: str) -> None:
    """Flag the order's running deadline as missed, with its audit event."""
    order.deadline_missed_at = ctx.clock.now()
    audit.record(session, ctx=ctx, **_missed_fields(order, kind))


async def flag_missed(
    session: AsyncSession, *, ctx: Ctx, missed: list[tuple[Overdue, str]]
) -> None:
    """Flag many orders' deadlines as missed in two statements, an audit event each."""
    if not missed:
        return
    await repository.flag_missed(session, ids=[o.id for o, _ in missed], now=ctx.clock.now())
    event_ids = new_ids("event", len(missed))
    await audit.record_many(
        session,
        [
            audit.event_row(ctx=ctx, event_id=event_id, **_missed_fields(o, kind))
            for (o, kind), event_id in zip(missed, event_ids, strict=True)
        ],
    )


async def set_risk_checks(session: AsyncSession, checks: list[RiskCheck]) -> None:
    """Store orders' risk scores and next checkpoints (G5) without bumping their versions."""
    await repository.set_risk_checks(session, checks)


async def at_risk_page(
    session: AsyncSession,
    *,
    principal: Principal,
    min_score: int,
    store_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
    seller_id: str | None = None,
) -> tuple[list[Order], str | None]:
    """The principal's scored orders, highest stored score first, and the next page's cursor."""
    return await listing.at_risk_page(
        session,
        principal,
        min_score=min_score,
        store_id=store_id,
        cursor=cursor,
        limit=limit,
        seller_id=seller_id,
    )


async def seller_pace(
    session: AsyncSession, *, seller_id: str, kind: str, since: date
) -> risk.History:
    """How long the seller took to confirm or ship (``kind``) since a day, as a histogram."""
    return await pace.history(session, kind=kind, key=seller_id, since=since)


async def lane_pace(
    session: AsyncSession, *, origin: str, destination: str, since: date
) -> risk.History:
    """How long parcels on a lane took to arrive since a day, as a histogram."""
    return await pace.history(
        session, kind="deliver_by", key=pace.lane(origin, destination), since=since
    )


async def prune_pace(session: AsyncSession, *, now: datetime) -> int:
    """Drop the oldest day of pace aggregates that no window reads any more (G5)."""
    return await pace.prune(session, now=now)


async def rebuild_pace(session: AsyncSession, *, now: datetime) -> int:
    """Recount the pace aggregates from the orders (after a bulk load or a repair)."""
    return await pace.rebuild(session, now=now)

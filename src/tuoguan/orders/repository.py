"""Queries for orders."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    String,
    and_,
    any_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts.principal import Principal, Role
from tuoguan.db import table_of
from tuoguan.kit.clock import as_utc
from tuoguan.kit.pagination import decode_cursor, encode_cursor
from tuoguan.orders.models import Order
from tuoguan.orders.states import OrderStatus
from tuoguan.stores.models import Store


@dataclass(frozen=True)
class OrderFilter:
    """What an order list asks for."""

    statuses: Sequence[OrderStatus] = ()
    store_id: str | None = None
    due_before: datetime | None = None
    sort: str = "newest"
    cursor: str | None = None
    limit: int = 50


@dataclass(frozen=True)
class Overdue:
    """An order whose running confirm or ship deadline passed unrecorded (just the keys)."""

    id: str
    store_id: str
    seller_id: str
    status: OrderStatus
    deadline_at: datetime


def visible_orders(principal: Principal) -> Select[Order]:
    """Orders a principal may see: sellers their stores', carriers those they carry."""
    query = select(Order)
    if principal.role in (Role.operator, Role.buyer_channel, Role.system):
        return query
    if principal.role is Role.seller and principal.seller_id:
        return query.where(Order.seller_id == principal.seller_id)
    if principal.role is Role.carrier and principal.carrier_code:
        return query.where(Order.carrier_code == principal.carrier_code)
    return query.where(Order.id.is_(None))


async def get_for_update(
    session: AsyncSession, principal: Principal, order_id: str
) -> Order | None:
    """Load a visible order fresh and lock its row until the transaction ends.

    PostgreSQL takes a row lock; SQLite has none, and there the write
    transaction (BEGIN IMMEDIATE) already excludes every other writer. Changes
    this transaction has not flushed yet are flushed first: reading the row
    afresh would otherwise drop them (a use case that locks the order twice).
    """
    await session.flush()
    return await session.scalar(
        visible_orders(principal)
        .where(Order.id == order_id)
        .with_for_update(of=Order)
        .execution_options(populate_existing=True)
    )


async def page(
    session: AsyncSession, principal: Principal, flt: OrderFilter
) -> tuple[list[Order], str | None]:
    """One page of orders and the cursor of the next, keyset-paginated."""
    query = visible_orders(principal)
    if flt.statuses:
        query = query.where(Order.status.in_(list(flt.statuses)))
    if flt.store_id:
        query = query.where(Order.store_id == flt.store_id)
    if flt.due_before:
        query = query.where(Order.deadline_at <= flt.due_before)
    if flt.sort == "deadline":
        # Deadline order lists the orders that have a deadline running.
        query = query.where(Order.deadline_at.is_not(None))
        if flt.cursor:
            at, last_id = decode_cursor(flt.cursor, ("instant", "id"))
            query = query.where(
                or_(
                    Order.deadline_at > at,
                    and_(Order.deadline_at == at, Order.id > last_id),
                )
            )
        query = query.order_by(Order.deadline_at, Order.id)
    else:
        if flt.cursor:
            (last_id,) = decode_cursor(flt.cursor, ("id",))
            query = query.where(Order.id < last_id)
        query = query.order_by(Order.id.desc())
    rows = list(await session.scalars(query.limit(flt.limit + 1)))
    if len(rows) <= flt.limit:
        return rows, None
    rows = rows[: flt.limit]
    last = rows[-1]
    key: list[object] = [last.id]
    if flt.sort == "deadline":
        assert last.deadline_at is not None
        key = [as_utc(last.deadline_at), last.id]
    return rows, encode_cursor(key)


_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


def scoped(
    session: AsyncSession,
    query: _Query,
    column: Any,
    *,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> _Query:
    """A sweep's query narrowed to the rows it may take: never those set aside (``exclude``),
    and when retrying one by one, only the given ones. Unchanged when neither is given."""
    if only is not None:
        query = query.where(column.in_(list(only)))
    if exclude:
        query = query.where(~id_in(session, column, list(exclude)))
    return query


async def due_for_auto_complete(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> list[Order]:
    """Delivered orders past their auto-complete time, locked for this worker (O3)."""
    query = (
        select(Order)
        .where(Order.status == OrderStatus.delivered, Order.deadline_at <= now)
        .order_by(Order.deadline_at, Order.id)
        .limit(limit)
    )
    query = scoped(session, query, Order.id, exclude=exclude, only=only)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return list(await session.scalars(query))


async def overdue_unmissed(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> list[Row[tuple[str, str, str, OrderStatus, datetime]]]:
    """Keys of orders whose running confirm or ship deadline passed unrecorded, locked.

    Reads the partial index ix_orders_deadline_unmissed, so the cost follows the
    due work, not the number of open orders; columns only, no ORM objects, so a
    sweep of thousands stays cheap.
    """
    query = (
        select(Order.id, Order.store_id, Order.seller_id, Order.status, Order.deadline_at)
        .where(
            Order.deadline_missed_at.is_(None),
            Order.status.in_([OrderStatus.awaiting_confirmation, OrderStatus.awaiting_shipment]),
            # A deadline is met up to and including its instant.
            Order.deadline_at < now,
        )
        .order_by(Order.deadline_at)
        .limit(limit)
    )
    query = scoped(session, query, Order.id, exclude=exclude, only=only)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return list(await session.execute(query))


def id_in(session: AsyncSession, column: Any, ids: list[str]) -> ColumnElement[bool]:
    """``column IN ids`` bound as one parameter, not one per id (cheap for thousands).

    PostgreSQL: ``= ANY(:ids)`` with a text array; SQLite: ``IN (SELECT value
    FROM json_each(:ids))``. Both engines run the sweep tests that use it.
    """
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", ids, type_=ARRAY(String)))
    listed: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam("ids", json.dumps(ids)))
    )
    return column.in_(listed.scalar_subquery())


async def flag_missed(session: AsyncSession, *, ids: list[str], now: datetime) -> None:
    """Set deadline_missed_at on many orders at once, bumping their version."""
    await session.execute(
        update(Order)
        .where(id_in(session, Order.id, ids), Order.deadline_missed_at.is_(None))
        .values(deadline_missed_at=now, version=Order.version + 1)
        .execution_options(synchronize_session=False)
    )


OPEN_WITH_DEADLINE = (
    OrderStatus.awaiting_confirmation,
    OrderStatus.awaiting_shipment,
    OrderStatus.shipped,
)


async def due_risk_checks(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> list[Order]:
    """Orders due a fresh risk score (G5), from the partial index ix_orders_risk_check."""
    query = (
        select(Order)
        .where(Order.risk_check_at.is_not(None), Order.risk_check_at <= now)
        .order_by(Order.risk_check_at)
        .limit(limit)
    )
    query = scoped(session, query, Order.id, exclude=exclude, only=only)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return list(await session.scalars(query))


async def set_risk_checks(session: AsyncSession, next_checks: dict[str, datetime | None]) -> None:
    """Set risk_check_at per order in one executemany, outside the ORM's versioning."""
    if not next_checks:
        return
    orders = table_of(Order)
    await session.execute(
        update(orders)
        .where(orders.c.id == bindparam("order_id"))
        .values(risk_check_at=bindparam("next_check")),
        [{"order_id": k, "next_check": v} for k, v in next_checks.items()],
    )


async def open_by_deadline(
    session: AsyncSession, principal: Principal, *, store_id: str | None, limit: int
) -> list[Order]:
    """The principal's open orders with a running deadline, soonest first."""
    query = visible_orders(principal).where(
        Order.status.in_(OPEN_WITH_DEADLINE), Order.deadline_at.is_not(None)
    )
    if store_id:
        query = query.where(Order.store_id == store_id)
    return list(await session.scalars(query.order_by(Order.deadline_at, Order.id).limit(limit)))


async def seller_work(
    session: AsyncSession, *, seller_id: str, done_field: str, deadline_field: str, since: datetime
) -> list[tuple[datetime, datetime, datetime]]:
    """(placed, done, deadline) of a seller's work finished since an instant (confirm or ship)."""
    done = getattr(Order, done_field)
    rows = await session.execute(
        select(Order.placed_at, done, getattr(Order, deadline_field)).where(
            Order.seller_id == seller_id, done >= since, getattr(Order, deadline_field).is_not(None)
        )
    )
    return [(as_utc(p), as_utc(d), as_utc(x)) for p, d, x in rows]


async def lane_deliveries(
    session: AsyncSession, *, origin: str, destination: str, since: datetime
) -> list[tuple[datetime, datetime, datetime]]:
    """(shipped, delivered, deliver_by) of parcels on a lane delivered since an instant."""
    rows = await session.execute(
        select(Order.shipped_at, Order.delivered_at, Order.deliver_by)
        .join(Store, Store.id == Order.store_id)
        .where(
            Order.country == destination,
            Order.delivered_at >= since,
            Store.country == origin,
            Order.shipped_at.is_not(None),
            Order.deliver_by.is_not(None),
        )
    )
    return [(as_utc(s), as_utc(d), as_utc(b)) for s, d, b in rows if s and d and b]

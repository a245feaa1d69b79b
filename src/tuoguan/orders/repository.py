"""Queries for orders: one order read and locked, the rows each sweep finds due (auto-complete,
missed deadlines, risk checkpoints) and their bulk updates. Lists and search: ``listing.py``."""

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
    any_,
    bindparam,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.db import table_of
from tuoguan.orders.models import Order
from tuoguan.orders.states import OrderStatus
from tuoguan.principal import Principal, Role


@dataclass(frozen=True)
class OrderFilter:
    """What an order list asks for."""

    statuses: Sequence[OrderStatus] = ()
    store_id: str | None = None
    # One seller's orders (operators, the buyer channel; a seller's own, else none).
    seller_id: str | None = None
    due_before: datetime | None = None
    # A search: an order number, a tracking number, the buyer's name or phone, a product's
    # name or a SKU's code (``search``); it narrows by store and seller only.
    q: str | None = None
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


async def set_risk_checks(session: AsyncSession, checks: Sequence[RiskCheck]) -> None:
    """Store each order's score and next checkpoint in one executemany, outside the ORM's
    versioning."""
    if not checks:
        return
    orders = table_of(Order)
    await session.execute(
        update(orders)
        .where(orders.c.id == bindparam("order_id"))
        .values(
            risk_check_at=bindparam("next_check"),
            risk_score=bindparam("score"),
            risk_reasons=bindparam("reasons", type_=orders.c.risk_reasons.type),
            risk_scored_at=bindparam("scored_at", type_=orders.c.risk_scored_at.type),
        ),
        [
            {
                "order_id": c.order_id,
                "next_check": c.next_check,
                "score": c.score,
                "reasons": c.reasons,
                "scored_at": c.scored_at,
            }
            for c in checks
        ],
    )


@dataclass(frozen=True)
class RiskCheck:
    """What one look at an order's risk found (G5): the score, its reasons, the next look."""

    order_id: str
    next_check: datetime | None
    score: int | None
    reasons: list[dict[str, Any]] | None
    scored_at: datetime

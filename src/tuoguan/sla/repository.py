"""Queries for breaches."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.orders.models import Order
from tuoguan.orders.repository import id_in, scoped
from tuoguan.sla.models import LATE_STATUS, Breach
from tuoguan.stores.modes import Party
from tuoguan.timing.kinds import BreachKind


async def ready_to_assess(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> list[tuple[Breach, Order]]:
    """Unassessed breaches whose lateness is settled, with their orders, locked for this worker.

    Settled means the order has left the late state (the work was done or the
    order cancelled) or the fine can no longer grow (``assess_by`` passed).
    Reads the partial index ix_breaches_unassessed: only open breaches.
    """
    left_late_state = or_(
        *(and_(Breach.kind == kind, Order.status != status) for kind, status in LATE_STATUS.items())
    )
    query = (
        select(Breach, Order)
        .join(Order, Order.id == Breach.order_id)
        .where(Breach.assessed_at.is_(None), or_(Breach.assess_by <= now, left_late_state))
        .order_by(Breach.assess_by, Breach.id)
        .limit(limit)
    )
    query = scoped(session, query, Breach.id, exclude=exclude, only=only)
    if skip_locked:
        query = query.with_for_update(of=Breach, skip_locked=True)
    return [(breach, order) for breach, order in await session.execute(query)]


async def breach_of(session: AsyncSession, *, order_id: str, kind: BreachKind) -> Breach | None:
    """The order's breach of this kind, if it has one."""
    return await session.scalar(
        select(Breach).where(Breach.order_id == order_id, Breach.kind == kind)
    )


async def breached(session: AsyncSession, order_ids: list[str]) -> set[tuple[str, BreachKind]]:
    """(order, kind) of the breaches these orders already have (uq_breaches_order_kind)."""
    if not order_ids:
        return set()
    rows = await session.execute(
        select(Breach.order_id, Breach.kind).where(id_in(session, Breach.order_id, order_ids))
    )
    return {(order_id, BreachKind(kind)) for order_id, kind in rows}


async def count_by_kind(
    session: AsyncSession, *, seller_id: str, since: datetime
) -> dict[str, int]:
    """How many breaches of each kind a seller had since an instant (its own: not those of the
    platform's warehouse shipping its goods, F11)."""
    rows = await session.execute(
        select(Breach.kind, func.count())
        .where(
            Breach.seller_id == seller_id,
            Breach.detected_at >= since,
            Breach.responsible == Party.seller,
        )
        .group_by(Breach.kind)
    )
    counts = {kind.value: 0 for kind in BreachKind}
    counts.update({BreachKind(kind).value: int(n) for kind, n in rows})
    return counts

"""Breaches: find missed deadlines, record each once, flag the order, tell the seller."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts.principal import Principal, Role
from tuoguan.context import Ctx
from tuoguan.errors import Forbidden
from tuoguan.kit.ids import new_id
from tuoguan.notify import service as notify
from tuoguan.orders import service as orders
from tuoguan.orders.states import OrderStatus
from tuoguan.sla.models import Breach, BreachKind

BREACH_OF: dict[OrderStatus, BreachKind] = {
    OrderStatus.awaiting_confirmation: BreachKind.confirm_late,
    OrderStatus.awaiting_shipment: BreachKind.ship_late,
}
MESSAGES = {
    BreachKind.confirm_late: "Order {order} was not confirmed within 24 hours (O2).",
    BreachKind.ship_late: "Order {order} was not shipped by its ship-by deadline (F1).",
}


async def record_due_breaches(
    session: AsyncSession, *, ctx: Ctx, limit: int, skip_locked: bool
) -> list[Breach]:
    """Record a breach for each order whose confirm or ship deadline has passed, once.

    The caller commits; the rows are locked (SKIP LOCKED on PostgreSQL), so
    concurrent workers take disjoint batches, and the order's flag and the
    unique (order, kind) pair keep a breach from being recorded twice.
    """
    now = ctx.clock.now()
    recorded = []
    for order in await orders.overdue(session, now=now, limit=limit, skip_locked=skip_locked):
        kind = BREACH_OF[order.status]
        assert order.deadline_at is not None
        breach = Breach(
            id=new_id("breach"),
            order_id=order.id,
            store_id=order.store_id,
            seller_id=order.seller_id,
            kind=kind,
            deadline_at=order.deadline_at,
            detected_at=now,
        )
        session.add(breach)
        orders.mark_deadline_missed(session, ctx=ctx, order=order, kind=kind.value)
        notify.notify(
            session,
            ctx=ctx,
            seller_id=order.seller_id,
            kind=kind.value,
            subject_type="order",
            subject_id=order.id,
            message=MESSAGES[kind].format(order=order.id),
            data={"deadline_at": order.deadline_at.isoformat()},
        )
        recorded.append(breach)
    return recorded


async def list_breaches(
    session: AsyncSession, *, principal: Principal, order_id: str | None = None, limit: int = 100
) -> list[Breach]:
    """Breaches the principal may see: operators all, a seller its own; newest first."""
    query = select(Breach)
    if principal.role is Role.seller and principal.seller_id:
        query = query.where(Breach.seller_id == principal.seller_id)
    elif principal.role is not Role.operator:
        raise Forbidden("this role cannot read breaches")
    if order_id:
        query = query.where(Breach.order_id == order_id)
    return list(
        await session.scalars(query.order_by(Breach.detected_at.desc(), Breach.id).limit(limit))
    )

"""Recording a breach: one missed confirm or ship deadline of one order, once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.finance import policy as arithmetic
from tuoguan.finance import service as finance
from tuoguan.finance.models import PenaltyPolicy
from tuoguan.kit.clock import as_utc
from tuoguan.kit.ids import new_id
from tuoguan.notify import service as notify
from tuoguan.orders.models import Order
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


def is_missed(order: Order, now: datetime) -> bool:
    """Whether the order's running confirm or ship deadline passed with no breach recorded yet."""
    return (
        order.status in BREACH_OF
        and order.deadline_at is not None
        and order.deadline_missed_at is None
        and as_utc(order.deadline_at) < now
    )


def record(
    session: AsyncSession, *, ctx: Ctx, order: Order, versions: list[PenaltyPolicy]
) -> Breach:
    """Add the breach of the order's running deadline and tell the seller; the caller flags it.

    ``versions`` are the penalty policies (finance.all_policies): the one in force
    at the deadline says when the fine stops growing, which is when the breach
    must be assessed at the latest.
    """
    kind = BREACH_OF[order.status]
    assert order.deadline_at is not None
    deadline = as_utc(order.deadline_at)
    now = ctx.clock.now()
    governing = finance.in_force(versions, kind, deadline)
    # With no policy in force the breach is still recorded and rated, but never fined.
    assess_by = deadline + arithmetic.final_after(governing.tier_list()) if governing else now
    breach = Breach(
        id=new_id("breach"),
        order_id=order.id,
        store_id=order.store_id,
        seller_id=order.seller_id,
        kind=kind,
        deadline_at=deadline,
        detected_at=now,
        assess_by=assess_by,
    )
    session.add(breach)
    notify.notify(
        session,
        ctx=ctx,
        seller_id=order.seller_id,
        kind=kind.value,
        subject_type="order",
        subject_id=order.id,
        message=MESSAGES[kind].format(order=order.id),
        data={"deadline_at": deadline.isoformat()},
    )
    return breach

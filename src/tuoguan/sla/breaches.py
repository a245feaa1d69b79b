"""Recording a breach: one missed confirm or ship deadline of one order, once.

Once means once per order and kind, even when the order re-enters the late
state (a shipment the carrier cancelled sends it back to awaiting shipment
with the same ship-by): the breach it has stands, and its lateness runs on
until the work is done (docs/sla.md).

Whose breach it is (F11): a ship deadline of an order the platform ships from
its warehouse is the platform's (``responsible``, with the warehouse): the
seller is not told and never fined for it. Confirm deadlines are the seller's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.db import bulk_insert, table_of
from tuoguan.finance import policy as arithmetic
from tuoguan.finance import service as finance
from tuoguan.finance.models import PenaltyPolicy
from tuoguan.fulfilment import service as fulfilment
from tuoguan.kit import i18n
from tuoguan.kit.clock import as_utc
from tuoguan.kit.ids import new_id, new_ids
from tuoguan.notify import service as notify
from tuoguan.notify.models import Notification
from tuoguan.orders import deadlines
from tuoguan.orders import service as orders
from tuoguan.orders.models import Order
from tuoguan.orders.repository import Overdue
from tuoguan.orders.states import OrderAction
from tuoguan.sla import repository
from tuoguan.sla.models import BREACH_OF, Breach
from tuoguan.stores.modes import Party
from tuoguan.timing.kinds import BreachKind

# What the seller is told (catalog keys; the notification links the order).
MESSAGES = {
    BreachKind.confirm_late: i18n.N_("note_confirm_late"),
    BreachKind.ship_late: i18n.N_("note_ship_late"),
}


def is_missed(order: Order, now: datetime) -> bool:
    """Whether the order's running confirm or ship deadline passed with no breach recorded yet."""
    return (
        order.status in BREACH_OF
        and order.deadline_at is not None
        and order.deadline_missed_at is None
        and as_utc(order.deadline_at) < now
    )


async def owners(
    session: AsyncSession, orders_due: Sequence[Order | Overdue]
) -> dict[str, tuple[Party, str | None]]:
    """F11: whose each order's missed running deadline is: the platform's (and its warehouse's)
    for the ship deadline of an order the platform ships, else the seller's."""
    shipping = [o.id for o in orders_due if BREACH_OF.get(o.status) is BreachKind.ship_late]
    platform = await fulfilment.platform_shipped(session, shipping)
    return {
        o.id: (Party.platform, platform[o.id]) if o.id in platform else (Party.seller, None)
        for o in orders_due
    }


def rows_for(
    *,
    ctx: Ctx,
    order: Order | Overdue,
    versions: list[PenaltyPolicy],
    ids: tuple[str, str] | None = None,
    responsible: Party = Party.seller,
    warehouse_id: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The breach and the seller's notification for an order's missed running deadline.

    ``versions`` are the penalty policies (finance.all_policies): the one in force
    at the deadline says when the fine stops growing, which is when the breach
    must be assessed at the latest. The platform's breach (F11, ``warehouse_id``
    the warehouse whose deadline it was) is timed the same way but never fined,
    and the seller is not told.
    """
    kind = BREACH_OF[order.status]
    assert order.deadline_at is not None
    deadline = as_utc(order.deadline_at)
    now = ctx.clock.now()
    governing = finance.in_force(versions, kind, deadline)
    # With no policy in force the breach is still recorded and rated, but never fined.
    assess_by = deadline + arithmetic.final_after(governing.tier_list()) if governing else now
    breach_id, notification_id = ids or (new_id("breach"), new_id("notification"))
    breach = {
        "id": breach_id,
        "order_id": order.id,
        "store_id": order.store_id,
        "seller_id": order.seller_id,
        "kind": kind,
        "deadline_at": deadline,
        "detected_at": now,
        "assess_by": assess_by,
        "responsible": responsible,
        "warehouse_id": warehouse_id,
    }
    if responsible is Party.platform:
        return breach, None
    note = notify.notification_row(
        ctx=ctx,
        seller_id=order.seller_id,
        kind=kind.value,
        subject_type="order",
        subject_id=order.id,
        key=MESSAGES[kind],
        params={"deadline": i18n.when(deadline)},
        data={"deadline_at": deadline.isoformat()},
        notification_id=notification_id,
    )
    return breach, note


async def record(
    session: AsyncSession, *, ctx: Ctx, order: Order, versions: list[PenaltyPolicy]
) -> Breach:
    """Add the breach of one order's running deadline and tell the seller; the caller flags it.

    A deadline the order re-entered (its shipment cancelled by the carrier, F10)
    keeps the breach it already has: that one is returned and nothing is added.
    """
    kind = BREACH_OF[order.status]
    existing = await repository.breach_of(session, order_id=order.id, kind=kind)
    if existing is not None:
        return existing
    responsible, warehouse_id = (await owners(session, [order]))[order.id]
    breach_values, note = rows_for(
        ctx=ctx,
        order=order,
        versions=versions,
        responsible=responsible,
        warehouse_id=warehouse_id,
    )
    breach = Breach(**breach_values)
    session.add(breach)
    if note is not None:
        session.add(Notification(**note))
    return breach


async def record_many(
    session: AsyncSession, *, ctx: Ctx, due: list[Overdue], versions: list[PenaltyPolicy]
) -> list[BreachKind]:
    """Insert the breaches and notifications of many orders in two statements; their kinds."""
    pairs = zip(new_ids("breach", len(due)), new_ids("notification", len(due)), strict=True)
    owned = await owners(session, due)
    made = [
        rows_for(
            ctx=ctx,
            order=order,
            versions=versions,
            ids=ids,
            responsible=owned[order.id][0],
            warehouse_id=owned[order.id][1],
        )
        for order, ids in zip(due, pairs, strict=True)
    ]
    if made:
        await bulk_insert(session, table_of(Breach), [breach for breach, _ in made])
        await notify.notify_many(session, [note for _, note in made if note is not None])
    return [breach["kind"] for breach, _ in made]


@orders.guard("sla.breaches")
async def _record_when_done_late(
    session: AsyncSession, ctx: Ctx, order: Order, action: OrderAction, body: Any
) -> None:
    """An order acted on after its deadline, before a sweep noticed: the breach is recorded all
    the same, in the action's transaction (O2, F1)."""
    if is_missed(order, ctx.clock.now()):
        breach = await record(session, ctx=ctx, order=order, versions=await finance.all_policies(session))
        deadlines.mark_deadline_missed(session, ctx=ctx, order=order, kind=breach.kind.value)

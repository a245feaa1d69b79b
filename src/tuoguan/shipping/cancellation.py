"""Cancelling an order whose parcel is booked (O4 with F10). Never commits.

An order awaiting shipment may already have a shipment: the carrier assigned
a tracking number and the label can be printed. Cancelling the order then
voids the parcel first, through the shipment's own cancellation, and the order
waits in ``cancel_requested`` until the carrier answers: confirmed, the order
is cancelled; refused, it awaits shipment again. Without a live parcel the
order is cancelled at once. This use case spans orders and shipping, so it
lives here, in the higher of the two layers.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.errors import Conflict
from tuoguan.orders import service as orders
from tuoguan.orders.models import Order
from tuoguan.orders.schemas import CancelBody
from tuoguan.orders.states import OrderAction, OrderStatus, next_state
from tuoguan.shipping import repository, shipments, tracking
from tuoguan.shipping.models import ShipmentStatus
from tuoguan.shipping.shipment_schemas import CancelReason, ShipmentCancel
from tuoguan.shipping.states import ShipmentAction


async def cancel_order(
    session: AsyncSession,
    *,
    ctx: Ctx,
    order_id: str,
    body: CancelBody,
    expected_version: int | None = None,
) -> Order:
    """O4: cancel an order; with a booked parcel, ask the carrier to void it first (F10)."""
    order = await orders.lock_order(session, principal=ctx.principal, order_id=order_id)
    if order.status is OrderStatus.cancel_requested:
        raise Conflict(
            f"order {order.id} is already being cancelled: the carrier has been asked to void "
            "its parcel, and the order is cancelled when it confirms",
            field="order_id",
            rule="cancel_pending",
        )
    live = await repository.live_shipment(session, order.id)
    if live is None or order.status is not OrderStatus.awaiting_shipment:
        # No parcel to void, or a state the order table refuses with its own reason.
        return await orders.act(
            session,
            ctx=ctx,
            order_id=order_id,
            action=OrderAction.cancel,
            body=body,
            expected_version=expected_version,
        )
    # Refuse a role that may not cancel before the carrier is asked anything.
    next_state(order.mode, order.status, OrderAction.request_cancel, ctx.principal.role)
    order = await orders.act(
        session,
        ctx=ctx,
        order_id=order_id,
        action=OrderAction.request_cancel,
        body=body,
        expected_version=expected_version,
    )
    if live.status is not ShipmentStatus.cancel_requested:
        # The carrier's answer, when it comes at once, lands on the waiting order.
        await shipments.act(
            session,
            ctx=tracking.as_platform(ctx),
            shipment_id=live.id,
            action=ShipmentAction.cancel,
            body=ShipmentCancel(reason=CancelReason.buyer_cancelled, note=body.reason[:500]),
        )
    return order

"""Cancelling an order whose parcel is booked or shipped (O4 with F10). Never commits.

An order awaiting shipment may already have a shipment: the carrier assigned
a tracking number and the label can be printed. Cancelling the order then
voids the parcel first, through the shipment's own cancellation, and the order
waits in ``cancel_requested`` until the carrier answers: confirmed, the order
is cancelled; refused, it awaits shipment again. Without a live parcel the
order is cancelled at once.

After shipment the buyer's cancel (or an operator's for it) becomes a request
to stop the parcel: the same request, made while the carrier can still stop
it (``states.STOPPABLE``). Confirmed, the order is cancelled; refused, it stays
shipped and the buyer's cancel becomes a return, opened by the listeners of
``cancel_listeners``. A parcel out for delivery or done, or an order shipped
under the seller's own tracking number, cannot be stopped: 409
``parcel_unstoppable``. This use case spans orders and shipping, so it lives
here, in the higher of the two layers.
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
from tuoguan.shipping.models import Shipment, ShipmentStatus
from tuoguan.shipping.shipment_schemas import CancelReason, ShipmentCancel
from tuoguan.shipping.states import STOPPABLE, ShipmentAction


async def cancel_order(
    session: AsyncSession,
    *,
    ctx: Ctx,
    order_id: str,
    body: CancelBody,
    expected_version: int | None = None,
) -> Order:
    """O4: cancel an order; with a booked or shipped parcel, ask the carrier to void (stop) it
    first (F10)."""
    order = await orders.lock_order(session, principal=ctx.principal, order_id=order_id)
    if order.status is OrderStatus.cancel_requested:
        raise Conflict(
            f"order {order.id} is already being cancelled: the carrier has been asked to void "
            "its parcel, and the order is cancelled when it confirms",
            field="order_id",
            rule="cancel_pending",
        )
    live = await repository.live_shipment(session, order.id)
    shipped = order.status is OrderStatus.shipped
    if not shipped and (live is None or order.status is not OrderStatus.awaiting_shipment):
        # No parcel to void, or a state the order table refuses with its own reason.
        return await orders.act(
            session,
            ctx=ctx,
            order_id=order_id,
            action=OrderAction.cancel,
            body=body,
            expected_version=expected_version,
        )
    # Refuse a role that may not cancel before the carrier is asked anything (after shipment:
    # only the buyer's side, the table says).
    next_state(order.mode, order.status, OrderAction.request_cancel, ctx.principal.role)
    if shipped:
        live = _stoppable(order.id, live)
    assert live is not None
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


def _stoppable(order_id: str, live: Shipment | None) -> Shipment:
    """O4: the shipped order's parcel, if the carrier can still stop it; else the 409 that says
    the buyer's way from here is a return."""
    if live is not None and (
        live.status in STOPPABLE or live.status is ShipmentStatus.cancel_requested
    ):
        # A cancellation the seller asked for already waits on the carrier: its answer serves.
        return live
    where = (
        f"its parcel is {live.status.value}"
        if live is not None
        else "it was shipped under a tracking number typed in by hand, not a parcel booked here"
    )
    raise Conflict(
        f"order {order_id} has shipped and {where}: the carrier can no longer be asked to stop "
        "it; once it is delivered, the buyer should ask for a return",
        field="order_id",
        rule="parcel_unstoppable",
        current_state=OrderStatus.shipped.value,
        parcel_status=live.status.value if live is not None else None,
    )

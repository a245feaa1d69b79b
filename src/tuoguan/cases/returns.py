"""After-sales returns (G6, M3, O4): a buyer's return of a delivered order, authorized with a
return label booked through the shipping module's carriers, received at the platform's
warehouse that shipped the order (full-managed goods go back on its books) or at the seller's,
then refunded on the case's decision, borne as ``shipping.refunds`` says (the platform within a
full-managed order's exemption, else the seller). Never commits: each call is one transaction
of the caller's, with the case row locked, its timeline entry and its audit event.

A return is opened three ways: the storefront asks for one within ``RETURN_WINDOW_DAYS`` of
delivery; a dispute is decided ``return_and_refund``; or the carrier refused to stop a parcel
the buyer cancelled after shipment (O4: the buyer's cancel becomes a return).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.cases import service
from tuoguan.cases.kinds import RETURN_WINDOW_DAYS, CaseKind, CaseState
from tuoguan.cases.models import Case, CaseReturn
from tuoguan.cases.return_schemas import ReturnCreate
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden
from tuoguan.kit import i18n
from tuoguan.kit.clock import as_utc
from tuoguan.orders import service as orders
from tuoguan.orders.models import Order
from tuoguan.orders.states import OrderStatus
from tuoguan.principal import Role
from tuoguan.shipping import cancel_listeners
from tuoguan.shipping import repository as shipping_reads

DELIVERED = (OrderStatus.delivered, OrderStatus.completed)


async def _one_open(session: AsyncSession, order_id: str) -> str | None:
    return await session.scalar(
        select(Case.id).where(
            Case.order_id == order_id,
            Case.kind == CaseKind.after_sale,
            Case.state != CaseState.closed,
        )
    )


def _new(order: Order, cause: str, summary: str, origin: str | None = None) -> Case:
    return Case(
        kind=CaseKind.after_sale,
        cause=cause,
        store_id=order.store_id,
        seller_id=order.seller_id,
        mode=order.mode,
        order_id=order.id,
        currency=order.currency,
        summary=summary,
        origin_case_id=origin,
    )


async def open_return(session: AsyncSession, ctx: Ctx, data: ReturnCreate) -> Case:
    """G6: the storefront asks to return a delivered order, within ``RETURN_WINDOW_DAYS`` of
    its delivery (409 ``return_window``); one open return per order (409 ``one_open_return``);
    an order refunded in full has nothing left to return for (409 ``nothing_to_refund``)."""
    if ctx.principal.role is not Role.buyer_channel:
        raise Forbidden("returns are asked by the storefront, for its buyer")
    order = await orders.lock_order(session, principal=ctx.principal, order_id=data.order_id)
    if order.status not in DELIVERED or order.delivered_at is None:
        raise Conflict(
            f"order {order.id} is {order.status.value}: a return follows delivery (before it, "
            "the buyer cancels, or opens a dispute if the parcel is lost)",
            field="order_id",
            rule="return_after_delivery",
            current_state=order.status.value,
        )
    taken = await _one_open(session, order.id)
    if taken is not None:
        raise Conflict(
            f"order {order.id} has an open return, {taken}: add to it instead",
            field="order_id",
            rule="one_open_return",
            case_id=taken,
        )
    closes = as_utc(order.delivered_at) + timedelta(days=RETURN_WINDOW_DAYS)
    if ctx.clock.now() > closes:
        raise Conflict(
            f"order {order.id} was delivered more than {RETURN_WINDOW_DAYS} days ago: the "
            "return window has closed (a dispute may still be opened)",
            field="order_id",
            rule="return_window",
        )
    await _refundable(session, order)
    await _returned_once(session, order.id, "order_id")
    return await service.open_case(session, ctx, _new(order, data.cause, data.summary))


async def _returned_once(session: AsyncSession, order_id: str, field: str) -> None:
    """An order's goods go back once: a return whose label was booked ends the returns."""
    sent = await session.scalar(
        select(CaseReturn.case_id).where(CaseReturn.order_id == order_id).limit(1)
    )
    if sent is not None:
        raise Conflict(
            f"order {order_id} was sent back once already (return {sent}): its goods are "
            "returned once",
            field=field,
            rule="returned_already",
            case_id=sent,
        )


async def _refundable(session: AsyncSession, order: Order) -> None:
    if order.total_minor - await shipping_reads.refunded_minor(session, order.id) <= 0:
        raise Conflict(
            f"order {order.id} was refunded in full already: there is nothing to return for",
            field="order_id",
            rule="nothing_to_refund",
        )


async def check_from_dispute(session: AsyncSession, ctx: Ctx, dispute: Case) -> None:
    """Before a dispute is decided ``return_and_refund``: its order was delivered and has no
    open return (409 ``return_after_delivery``, ``one_open_return``)."""
    assert dispute.order_id is not None
    order = await orders.lock_order(session, principal=ctx.principal, order_id=dispute.order_id)
    if order.status not in DELIVERED:
        raise Conflict(
            f"order {order.id} is {order.status.value}: the buyer can send back only what "
            "was delivered; refund or reject instead",
            field="decision",
            rule="return_after_delivery",
            current_state=order.status.value,
        )
    await _refundable(session, order)
    await _returned_once(session, order.id, "decision")
    taken = await _one_open(session, order.id)
    if taken is not None:
        raise Conflict(
            f"order {order.id} has an open return already, {taken}",
            field="decision",
            rule="one_open_return",
            case_id=taken,
        )


async def open_from_dispute(session: AsyncSession, ctx: Ctx, dispute: Case) -> Case:
    """A dispute decided ``return_and_refund``: the return opens, linked, for the platform to
    authorize; the refund follows its receipt."""
    assert dispute.order_id is not None
    order = await orders.get_order(session, principal=ctx.principal, order_id=dispute.order_id)
    cause = "not_as_described" if dispute.cause == "not_received" else dispute.cause
    case = await service.open_case(
        session, ctx, _new(order, cause, dispute.summary, origin=dispute.id)
    )
    await _told(session, ctx, case)
    return case


async def _told(session: AsyncSession, ctx: Ctx, case: Case) -> None:
    """The storefront hears of a return it did not ask for itself."""
    await service.tell_buyer(
        session,
        ctx,
        case,
        "return_opened",
        i18n.N_("buyer_return_opened"),
        cause=i18n.label(f"case_cause_{case.cause}"),
    )


async def withdraw_linked(session: AsyncSession, ctx: Ctx, dispute: Case, why: str) -> None:
    """A dispute's return_and_refund overturned on appeal: the return it opened is withdrawn
    while nothing was sent back yet (still awaiting authorization); one whose label was booked
    goes on, since the parcel may be on its way."""
    linked = await session.scalar(
        select(Case)
        .where(
            Case.origin_case_id == dispute.id,
            Case.kind == CaseKind.after_sale,
            Case.state == CaseState.return_requested,
        )
        .with_for_update()
    )
    if linked is None:
        return
    service.enter(linked, CaseState.closed, ctx.clock.now())
    said: dict[str, object] = {"why": "dispute_overturned", "case_id": dispute.id}
    service.append(session, ctx, linked, "closed", party=None, text=why, data=said)
    service.audit_case(
        session, ctx, linked, "withdraw", CaseState.return_requested, reason=why, data=said
    )


@cancel_listeners.register
async def open_after_refusal(session: AsyncSession, ctx: Ctx, order: Order, why: str) -> None:
    """O4: the buyer cancelled after shipment and the carrier would not stop the parcel: the
    cancel becomes a return, opened for the platform (once per order)."""
    if await _one_open(session, order.id) is not None:
        return
    summary = f"the buyer cancelled after shipment; the carrier could not stop the parcel: {why}"
    case = await service.open_case(
        session,
        ctx,
        _new(order, "cancelled_in_transit", summary[:2000]),
    )
    await _told(session, ctx, case)

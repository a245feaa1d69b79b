"""Refunds to buyers, for the after-sales work to call (G6, M3). Never commits.

A refund gives the buyer back part or all of what it paid for an order that shipped (an order
not shipped yet is cancelled instead, O4), at most what it paid less what was refunded
already, in the order's currency. Who bears it:

- a full-managed order, until ``refund_exemption_months`` calendar months (3) after its
  delivery (or before it is delivered at all): the platform (``refund_borne_by_platform``),
  the after-sales exemption (3个月售后免责期, M3, G6);
- any other: the seller (``refund_charged_to_seller``, on the store's payable), who is told.

The refund row, its journal entry and the order's audit event are written in the caller's
transaction, under the order's row lock, so two refunds of one order never overdraw it.
"""

from __future__ import annotations

from datetime import datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput
from tuoguan.kit import i18n
from tuoguan.kit.clock import as_utc
from tuoguan.kit.ids import new_id
from tuoguan.ledger import service as ledger
from tuoguan.ledger.kinds import EntryKind
from tuoguan.notify import service as notify
from tuoguan.orders import service as orders
from tuoguan.orders.models import Order
from tuoguan.orders.states import OrderStatus
from tuoguan.principal import Principal, Role
from tuoguan.shipping import repository
from tuoguan.shipping.money_models import Refund
from tuoguan.shipping.refund_schemas import REFUND_VIEWS, BuyerRefundRead, RefundCreate
from tuoguan.stores.models import StoreMode
from tuoguan.stores.modes import Party

# After it shipped: before, the buyer cancels the order (O4); a cancelled order was not paid.
REFUNDABLE = (OrderStatus.shipped, OrderStatus.delivered, OrderStatus.completed)
_REFUNDERS = (Role.operator, Role.buyer_channel, Role.system)


def exemption_ends(delivered_at: datetime, months: int) -> datetime:
    """The end of the after-sales exemption: ``months`` calendar months after the delivery
    instant (a delivery on 30 November is exempt until 28 February, 29 in a leap year)."""
    return as_utc(delivered_at) + relativedelta(months=months)


def bearer_of(order: Order, now: datetime, months: int) -> Party:
    """M3, G6: the platform within a full-managed order's exemption, else the seller."""
    if order.mode is not StoreMode.full_managed:
        return Party.seller
    if order.delivered_at is None or now <= exemption_ends(order.delivered_at, months):
        return Party.platform
    return Party.seller


async def refund(session: AsyncSession, *, ctx: Ctx, order_id: str, data: RefundCreate) -> Refund:
    """G6, M3: refund the buyer, charged to the seller or borne by the platform (see the module).

    Refused, with nothing written: another currency than the order's (422 ``order_currency``),
    an order that has not shipped or was cancelled (409 ``refundable_state``), more than the
    buyer paid less its refunds (422 ``within_refundable``)."""
    if ctx.principal.role not in _REFUNDERS:
        raise Forbidden("only the storefront's after-sales or an operator refunds a buyer")
    order = await orders.lock_order(session, principal=ctx.principal, order_id=order_id)
    currency = data.currency.upper()
    if currency != order.currency:
        raise InvalidInput(
            f"order {order.id} was paid in {order.currency}; refund it in {order.currency}, "
            f"not {currency}",
            field="currency",
            rule="order_currency",
        )
    if order.status not in REFUNDABLE:
        raise Conflict(
            f"order {order.id} is {order.status.value}: only an order that shipped is refunded "
            "(one not shipped yet is cancelled instead)",
            field="order_id",
            rule="refundable_state",
            current_state=order.status.value,
            allowed=[status.value for status in REFUNDABLE],
        )
    refunded = await repository.refunded_minor(session, order.id)
    left = order.total_minor - refunded
    if data.amount_minor > left:
        raise InvalidInput(
            f"the buyer paid {order.total_minor} and was refunded {refunded} ({order.currency} "
            f"minor units): at most {left} can be refunded",
            field="amount_minor",
            rule="within_refundable",
            refundable_minor=left,
        )
    now = ctx.clock.now()
    bearer = bearer_of(order, now, ctx.settings.refund_exemption_months)
    refund_id = new_id("refund")
    platform = bearer is Party.platform
    entry = await ledger.post(
        session,
        ctx,
        EntryKind.refund_borne_by_platform if platform else EntryKind.refund_charged_to_seller,
        currency=currency,
        parts={"amount": data.amount_minor},
        store_id=None if platform else order.store_id,
        subject=("order", order.id),
        idem_key=f"refund:{refund_id}",
        memo=f"refund {refund_id}: {data.reason}"[:500],
    )
    row = Refund(
        id=refund_id,
        order_id=order.id,
        store_id=order.store_id,
        seller_id=order.seller_id,
        amount_minor=data.amount_minor,
        currency=currency,
        reason=data.reason,
        bearer=bearer,
        entry_id=entry.id,
        created_at=now,
        created_by=ctx.principal.actor_id,
    )
    session.add(row)
    audit.record(
        session,
        ctx=ctx,
        subject_type="order",
        subject_id=order.id,
        store_id=order.store_id,
        action="refund",
        from_state=order.status.value,
        to_state=order.status.value,
        reason=data.reason,
        data={
            "refund_id": refund_id,
            "refunded_minor": data.amount_minor,
            "currency": currency,
            "bearer": bearer.value,
            "entry_id": entry.id,
        },
    )
    if not platform:
        notify.notify(
            session,
            ctx=ctx,
            seller_id=order.seller_id,
            kind="refund_charged",
            subject_type="order",
            subject_id=order.id,
            key=i18n.N_("note_refund_charged"),
            params={"amount": i18n.money(data.amount_minor, currency), "reason": data.reason},
        )
    await session.flush()
    return row


async def list_refunds(
    session: AsyncSession, *, principal: Principal, order_id: str
) -> list[Refund]:
    """The refunds of an order the principal may see (a seller its own orders'), oldest first."""
    if principal.role not in REFUND_VIEWS:
        raise Forbidden(f"a {principal.role.value} does not read refunds")
    await orders.get_order(session, principal=principal, order_id=order_id)
    return await repository.refunds_of(session, order_id)


def present(refund: Refund, principal: Principal) -> BuyerRefundRead:
    """A refund as the caller's role reads it (``REFUND_VIEWS``)."""
    model = REFUND_VIEWS[principal.role]
    fields = {
        "id": refund.id,
        "order_id": refund.order_id,
        "refunded_minor": refund.amount_minor,
        "currency": refund.currency,
        "reason": refund.reason,
        "created_at": refund.created_at,
        "store_id": refund.store_id,
        "bearer": refund.bearer,
        "entry_id": refund.entry_id,
        "created_by": refund.created_by,
    }
    return model.model_validate({name: fields[name] for name in model.model_fields})

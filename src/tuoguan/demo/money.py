"""The demo's money beyond its sales (M3, G6): two buyer refunds, one the seller bears (a
semi-managed order) and one the platform bears (a full-managed order, within the after-sales
exemption from its delivery), so the Money and Ledger pages show a debt and the platform's
side as well as sales."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.orders.models import Order
from tuoguan.orders.states import OrderStatus
from tuoguan.shipping import refunds
from tuoguan.shipping.refund_schemas import RefundCreate
from tuoguan.stores.models import Store, StoreMode

REASONS = {
    StoreMode.semi_managed: "外壳有划痕，部分退款 / the case arrived scratched: a partial refund",
    StoreMode.full_managed: "少发一个配件，部分退款 / an accessory was missing: a partial refund",
}


async def refund_some(session: AsyncSession, operator: Ctx) -> None:
    """A quarter of one delivered or completed order refunded in each of the two modes."""
    for mode, reason in REASONS.items():
        order = await session.scalar(
            select(Order)
            .join(Store, Store.id == Order.store_id)
            .where(
                Store.mode == mode,
                Order.status.in_([OrderStatus.delivered, OrderStatus.completed]),
            )
            .order_by(Order.id)
            .limit(1)
        )
        if order is None:
            continue
        amount = max(1, order.total_minor // 4)
        await refunds.refund(
            session,
            ctx=operator,
            order_id=order.id,
            data=RefundCreate(amount_minor=amount, currency=order.currency, reason=reason),
        )
        await session.flush()

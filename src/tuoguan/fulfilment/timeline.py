"""Fulfilment's audit events: each step on its own object and on the buyer order's timeline, so
the seller follows a full-managed order from the order's page (supply order made, confirmed,
in transit, received; stock reserved, released)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.fulfilment.models import FulfilmentOrder, SupplyOrder
from tuoguan.orders.models import Order

REF = "fulfilment_order"  # the subject type of its events, the stock ledger's ref_type


def note(
    session: AsyncSession, ctx: Ctx, order: Order, action: str, data: dict[str, Any]
) -> None:
    """A fulfilment step on the buyer order's timeline (the order's state does not move)."""
    audit.record(
        session,
        ctx=ctx,
        subject_type="order",
        subject_id=order.id,
        store_id=order.store_id,
        action=action,
        from_state=order.status.value,
        to_state=order.status.value,
        data=data,
    )


def record(
    session: AsyncSession,
    ctx: Ctx,
    subject: FulfilmentOrder | SupplyOrder,
    action: str,
    source: str | None,
    reason: str | None = None,
) -> None:
    """A move of a fulfilment or supply order, on its own timeline."""
    audit.record(
        session,
        ctx=ctx,
        subject_type=REF if isinstance(subject, FulfilmentOrder) else "supply_order",
        subject_id=subject.id,
        store_id=subject.store_id,
        action=action,
        from_state=source,
        to_state=subject.status.value,
        reason=reason,
        data={"order_id": subject.order_id, "warehouse_id": subject.warehouse_id},
    )

"""The moves a buyer order's actions bring to its fulfilment and supply orders, and the stock
they hold (called by ``fulfilment.guards`` and by the service when stock arrives).

A confirmation is the supply order's (O2 × M5); a cancellation cancels the supply order and
releases what was held; a shipment takes the held units off the ledger (``inventory.ledger``:
on hand and reserved go down together); a parcel the carrier voided after it left (F10) puts
them back and holds them again.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.fulfilment.models import FulfilmentOrder, SupplyOrder
from tuoguan.fulfilment.states import (
    HOLDS_STOCK,
    FulfilmentAction,
    SupplyAction,
    fulfilment_next,
    supply_next,
)
from tuoguan.fulfilment.timeline import REF, note, record
from tuoguan.inventory import service as inventory
from tuoguan.inventory.models import MoveKind
from tuoguan.orders.models import Order


def move_supply(
    session: AsyncSession,
    ctx: Ctx,
    order: Order,
    supply: SupplyOrder,
    action: SupplyAction,
    step: str,
) -> None:
    """A supply order's move, with ``step`` on the buyer order's timeline."""
    source = supply.status.value
    supply.status = supply_next(supply.status, action)
    supply.updated_at = ctx.clock.now()
    record(session, ctx, supply, action.value, source)
    note(session, ctx, order, step, {"supply_order_id": supply.id})


def confirm_supply(session: AsyncSession, ctx: Ctx, order: Order, supply: SupplyOrder) -> None:
    """O2: the order's confirmation is its supply order's."""
    supply.confirmed_at = ctx.clock.now()
    move_supply(session, ctx, order, supply, SupplyAction.confirm, "supply_confirmed")


def cancel_supply(
    session: AsyncSession, ctx: Ctx, order: Order, supply: SupplyOrder, reason: str
) -> None:
    """The supply order is no longer wanted (the order cancelled, or served from stock)."""
    source = supply.status.value
    supply.status = supply_next(supply.status, SupplyAction.cancel)
    supply.cancelled_at = supply.updated_at = ctx.clock.now()
    supply.cancel_reason = reason
    record(session, ctx, supply, "cancel", source, reason)
    note(session, ctx, order, "supply_order_cancelled", {"supply_order_id": supply.id})


async def release(session: AsyncSession, ctx: Ctx, order: Order, fo: FulfilmentOrder) -> None:
    """The order is cancelled: the stock held for it is available again, and the fulfilment
    order is cancelled."""
    source = fo.status
    if source in HOLDS_STOCK:
        assert fo.warehouse_id is not None
        for line in fo.lines:
            await inventory.move(
                session,
                ctx=ctx,
                kind=MoveKind.release,
                warehouse_id=fo.warehouse_id,
                sku_id=line.sku_id,
                quantity=line.quantity,
                reason="the buyer order was cancelled",
                ref_type=REF,
                ref_id=fo.id,
            )
    fo.status = fulfilment_next(source, FulfilmentAction.cancel)
    fo.updated_at = ctx.clock.now()
    record(session, ctx, fo, "cancel", source.value)
    note(
        session,
        ctx,
        order,
        "fulfilment_cancelled",
        {"fulfilment_order_id": fo.id, "released": source in HOLDS_STOCK},
    )


async def ship_out(session: AsyncSession, ctx: Ctx, fo: FulfilmentOrder) -> None:
    """The parcel leaves the warehouse: the held units leave the ledger (on hand and reserved
    go down together, ``inventory.ledger``)."""
    assert fo.warehouse_id is not None
    source = fo.status.value
    fo.status = fulfilment_next(fo.status, FulfilmentAction.ship)
    for line in fo.lines:
        await inventory.move(
            session,
            ctx=ctx,
            kind=MoveKind.ship,
            warehouse_id=fo.warehouse_id,
            sku_id=line.sku_id,
            quantity=line.quantity,
            ref_type=REF,
            ref_id=fo.id,
        )
    fo.shipped_at = fo.updated_at = ctx.clock.now()
    record(session, ctx, fo, "ship", source)


async def back_on_shelf(session: AsyncSession, ctx: Ctx, fo: FulfilmentOrder) -> None:
    """F10: the carrier voided a parcel that had left: its units are back and held again."""
    assert fo.warehouse_id is not None
    source = fo.status.value
    fo.status = fulfilment_next(fo.status, FulfilmentAction.unship)
    for line in fo.lines:
        for kind in (MoveKind.receipt, MoveKind.reserve):
            await inventory.move(
                session,
                ctx=ctx,
                kind=kind,
                warehouse_id=fo.warehouse_id,
                sku_id=line.sku_id,
                quantity=line.quantity,
                reason="the carrier cancelled the shipment (F10)",
                ref_type=REF,
                ref_id=fo.id,
            )
    fo.shipped_at = None
    fo.updated_at = ctx.clock.now()
    record(session, ctx, fo, "unship", source)

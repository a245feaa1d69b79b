"""Queries for fulfilment orders and supply orders, and the warehouse and stock facts routing reads.

Routing reads warehouses and stock balances directly (inventory keeps them; nothing here writes
them: every stock change goes through ``inventory.service``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.fulfilment.models import (
    FulfilmentLine,
    FulfilmentOrder,
    FulfilmentStatus,
    SupplyOrder,
    SupplyStatus,
)
from tuoguan.inventory.models import StockBalance, Warehouse, WarehouseKind, WarehouseOwner
from tuoguan.kit.keyset import Keyset
from tuoguan.stores.modes import Party

SUPPLY_NEWEST = Keyset((SupplyOrder.id,), ("id",), descending=True)


# -- fulfilment orders -------------------------------------------------------------------------


async def fulfilment_of(
    session: AsyncSession, order_id: str, *, lock: bool = False
) -> FulfilmentOrder | None:
    """The buyer order's fulfilment order (with ``lock``: row-locked and read afresh)."""
    found: FulfilmentOrder | None = await _one(
        session, select(FulfilmentOrder).where(FulfilmentOrder.order_id == order_id), lock
    )
    return found


async def _one(session: AsyncSession, query: Select[Any], lock: bool) -> Any:
    """The query's row; locked and read afresh (this transaction's changes flushed first, so
    reading afresh keeps them) with ``lock``."""
    if lock:
        await session.flush()
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def waiting_for(
    session: AsyncSession, *, warehouse_id: str, sku_ids: Collection[str]
) -> list[str]:
    """The buyer orders whose fulfilment orders wait for stock in the warehouse and need one
    of these SKUs, oldest first (``ix_fulfilment_orders_warehouse``)."""
    needs = exists().where(
        FulfilmentLine.fulfilment_order_id == FulfilmentOrder.id,
        FulfilmentLine.sku_id.in_(list(sku_ids)),
    )
    rows = await session.scalars(
        select(FulfilmentOrder.order_id)
        .where(
            FulfilmentOrder.warehouse_id == warehouse_id,
            FulfilmentOrder.status == FulfilmentStatus.awaiting_stock,
            needs,
        )
        .order_by(FulfilmentOrder.id)
    )
    return list(rows)


async def platform_shipped(session: AsyncSession, order_ids: Sequence[str]) -> dict[str, str | None]:
    """Of these buyer orders, those the platform ships: order id -> its warehouse (F11)."""
    if not order_ids:
        return {}
    rows = await session.execute(
        select(FulfilmentOrder.order_id, FulfilmentOrder.warehouse_id).where(
            FulfilmentOrder.order_id.in_(list(order_ids)),
            FulfilmentOrder.shipper == Party.platform,
        )
    )
    return {order_id: warehouse_id for order_id, warehouse_id in rows}


# -- warehouses and stock (read only) ----------------------------------------------------------


async def platform_warehouses(
    session: AsyncSession, kinds: Collection[WarehouseKind]
) -> list[Warehouse]:
    """The platform's active warehouses of these kinds, by code."""
    rows = await session.scalars(
        select(Warehouse)
        .where(
            Warehouse.owner == WarehouseOwner.platform,
            Warehouse.kind.in_(list(kinds)),
            Warehouse.active.is_(True),
        )
        .order_by(Warehouse.code)
    )
    return list(rows)


async def seller_warehouses(
    session: AsyncSession, *, seller_id: str, kinds: Collection[WarehouseKind]
) -> list[Warehouse]:
    """A seller's own active warehouses of these kinds (``ix_warehouses_seller``)."""
    rows = await session.scalars(
        select(Warehouse).where(
            Warehouse.seller_id == seller_id,
            Warehouse.kind.in_(list(kinds)),
            Warehouse.active.is_(True),
        )
    )
    return list(rows)


async def available(
    session: AsyncSession, *, warehouse_ids: Sequence[str], sku_ids: Sequence[str]
) -> dict[tuple[str, str], int]:
    """Units available (on hand less reserved) per (warehouse, SKU) that has a balance."""
    if not warehouse_ids or not sku_ids:
        return {}
    rows = await session.execute(
        select(
            StockBalance.warehouse_id,
            StockBalance.sku_id,
            StockBalance.on_hand - StockBalance.reserved,
        ).where(
            StockBalance.warehouse_id.in_(list(warehouse_ids)),
            StockBalance.sku_id.in_(list(sku_ids)),
        )
    )
    return {(w, s): int(n) for w, s, n in rows}


async def get_warehouse(session: AsyncSession, warehouse_id: str) -> Warehouse | None:
    """A warehouse by id."""
    return await session.get(Warehouse, warehouse_id)


# -- supply orders -----------------------------------------------------------------------------


async def supply_of(
    session: AsyncSession, order_id: str, *, lock: bool = False
) -> SupplyOrder | None:
    """The buyer order's supply order, the latest if there were several."""
    query = (
        select(SupplyOrder)
        .where(SupplyOrder.order_id == order_id)
        .order_by(SupplyOrder.id.desc())
        .limit(1)
    )
    found: SupplyOrder | None = await _one(session, query, lock)
    return found


async def get_supply(
    session: AsyncSession, supply_order_id: str, *, lock: bool = False
) -> SupplyOrder | None:
    """A supply order by id, whoever's."""
    found: SupplyOrder | None = await _one(
        session, select(SupplyOrder).where(SupplyOrder.id == supply_order_id), lock
    )
    return found


async def supply_page(
    session: AsyncSession,
    *,
    seller_id: str | None,
    store_id: str | None,
    statuses: Sequence[SupplyStatus],
    cursor: str | None,
    limit: int,
) -> tuple[list[SupplyOrder], str | None]:
    """Supply orders newest first: one index range per status, merged (``ix_supply_orders_store``
    by store, ``_seller`` by seller, ``_status`` by status alone, else the primary key)."""
    base: Select[Any] = select(SupplyOrder)
    if store_id is not None:
        base = base.where(SupplyOrder.store_id == store_id)
    elif seller_id is not None:
        base = base.where(SupplyOrder.seller_id == seller_id)
    if statuses:
        wanted: Sequence[SupplyStatus] = statuses
    elif store_id is not None or seller_id is not None:
        wanted = list(SupplyStatus)  # the index leads with the status after the store or seller
    else:
        return await SUPPLY_NEWEST.page(session, [base], cursor=cursor, limit=limit)
    queries = [base.where(SupplyOrder.status == status) for status in dict.fromkeys(wanted)]
    return await SUPPLY_NEWEST.page(session, queries, cursor=cursor, limit=limit)

"""Builders for warehouses and stock: made through the API, SKUs taken from the catalog."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.market import Market, as_system
from tuoguan.catalog.models import Product, Sku
from tuoguan.context import Ctx

_codes = itertools.count(1)

DONGGUAN = {
    "name": "优选仓 东莞一号",
    "phone": "+86 769 2233 4455",
    "line1": "松山湖园区 工业北路 8 号",
    "city": "Dongguan",
    "region": "Guangdong",
    "postcode": "523808",
    "country": "CN",
}


def warehouse_body(**fields: Any) -> dict[str, Any]:
    """A platform consolidation warehouse in Dongguan (优选仓), unless told otherwise."""
    return {
        "code": f"DG{next(_codes)}",
        "name": "Dongguan consolidation",
        "owner": "platform",
        "kind": "consolidation",
        "address": DONGGUAN,
        "country": "CN",
        "pickup_cutoff": "16:00",
        "ship_days": 2,
        **fields,
    }


def make_warehouse(m: Market, token: str | None = None, **fields: Any) -> dict[str, Any]:
    """Register a warehouse (as the operator unless a token is given)."""
    return dict(m.ok(m.post("/warehouses", token or m.operator, warehouse_body(**fields)), 201))


def sku_of(m: Market, store_key: str) -> str:
    """The first SKU of the store's seeded product (C3: every product has one)."""
    product_id = m.products[store_key]
    answer = m.get(f"/products/{product_id}/skus", m.operator)
    if answer.status_code == 200 and answer.json():
        return str(answer.json()[0]["id"])

    async def first_or_new(session: AsyncSession, _: Ctx) -> str:
        found = await session.scalar(select(Sku.id).where(Sku.product_id == product_id))
        if found is not None:
            return str(found)
        product = await session.get(Product, product_id)
        assert product is not None
        now = datetime.now(UTC)
        sku = Sku(
            id=f"sku_{product_id.removeprefix('prd_')}",
            product_id=product_id,
            store_id=product.store_id,
            code=product_id,
            attributes={},
            created_at=now,
            updated_at=now,
        )
        session.add(sku)
        return sku.id

    return as_system(m.db_url, first_or_new)


def adjust(m: Market, warehouse_id: str, sku_id: str, reason: str = "count", **deltas: int) -> Any:
    """An operator's stock adjustment; the raw response."""
    body = {"warehouse_id": warehouse_id, "sku_id": sku_id, "reason": reason, **deltas}
    return m.post("/stock/adjustments", m.operator, body)


def stocked(m: Market, store_key: str, on_hand: int, **fields: Any) -> tuple[str, str]:
    """A platform warehouse holding ``on_hand`` units of the store's SKU: (warehouse, SKU)."""
    warehouse = make_warehouse(m, **fields)
    sku = sku_of(m, store_key)
    m.ok(adjust(m, warehouse["id"], sku, reason="opening stock", on_hand=on_hand), 201)
    return warehouse["id"], sku

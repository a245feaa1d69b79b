"""Restock suggestions (根据平台提示备货, M5): how many units of each SKU a full-managed seller
should send to each platform warehouse, from its recent sales and the stock that covers them.

For every SKU of the seller's full-managed stores (the mode table: the platform holds the stock)
and every warehouse the platform shipped it from in the last ``days`` days:

- ``sold``: units of the fulfilment orders the platform ships from that warehouse, not
  cancelled, created in the window (one GROUP BY);
- daily rate = sold / days; cover = (available + inbound) / rate, in days;
- suggested = max(0, ceil(rate x cover_days) - (available + inbound)).

Only rows with something to send are shown, the most urgent (least cover) first. The seller
accepts some of them as a draft inbound notice (``accept``), made by ``inbound.create`` so every
check of a notice applies.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from math import ceil

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.catalog.models import Product, Sku
from tuoguan.context import Ctx
from tuoguan.fulfilment import inbound
from tuoguan.fulfilment.inbound_schemas import (
    MAX_LINES,
    Cartons,
    InboundLineCreate,
    InboundNoticeCreate,
    ObjectId,
)
from tuoguan.fulfilment.models import (
    FulfilmentLine,
    FulfilmentOrder,
    FulfilmentStatus,
    InboundNotice,
)
from tuoguan.inventory.models import StockBalance, Warehouse
from tuoguan.principal import Principal, Role
from tuoguan.stores.models import Store
from tuoguan.stores.modes import Party, rules
from tuoguan.stores.schemas import Strict

MIN_DAYS, MAX_DAYS, DEFAULT_DAYS = 7, 90, 30
MIN_COVER, MAX_COVER, DEFAULT_COVER = 1, 60, 14


# -- the arithmetic ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Numbers:
    """One SKU in one warehouse: its sales rate, the days its stock covers, what to send."""

    daily_rate: Fraction
    cover_days: Fraction | None  # None: nothing sold, the stock lasts for ever
    suggested: int


def compute(
    *, sold: int, days: int, on_hand: int, reserved: int, inbound: int, cover_days: int
) -> Numbers:
    """M5: rate = sold / days; cover = (on_hand - reserved + inbound) / rate;
    suggested = max(0, ceil(rate x cover_days) - (available + inbound)). Exact fractions, so
    14 days at 30/30 a day is 14 units, never 15."""
    if days <= 0 or cover_days < 0:
        raise ValueError("days must be positive and cover_days not negative")
    rate = Fraction(max(sold, 0), days)
    supply = max(on_hand - reserved, 0) + max(inbound, 0)
    if rate == 0:
        return Numbers(daily_rate=rate, cover_days=None, suggested=0)
    return Numbers(
        daily_rate=rate,
        cover_days=supply / rate,
        suggested=max(0, ceil(rate * cover_days) - supply),
    )


# -- shapes -----------------------------------------------------------------------------------


class RestockSuggestion(BaseModel):
    """A SKU to send to a platform warehouse, and why: its sales and the stock that covers them."""

    store_id: str
    store_name: str
    warehouse_id: str
    warehouse_code: str
    warehouse_name: str
    sku_id: str
    sku_code: str
    product_name: str
    attributes: dict[str, str]
    days: int = Field(description="The sales window, in days.")
    sold: int = Field(description="Units the platform shipped or holds for orders in the window.")
    daily_rate: float = Field(description="sold / days, rounded to 2 decimals.")
    available: int = Field(description="on_hand - reserved in the warehouse.")
    inbound: int = Field(description="Units announced under sent inbound notices.")
    cover_days: float = Field(description="(available + inbound) / daily rate, 1 decimal.")
    suggested: int = Field(description="Units to send to cover the target days.")


class RestockAccept(Strict):
    """Suggestions the seller accepts, with its own quantities: a draft inbound notice."""

    store_id: ObjectId
    warehouse_id: ObjectId
    lines: list[InboundLineCreate] = Field(min_length=1, max_length=MAX_LINES)
    cartons: Cartons = 1


# -- reading ----------------------------------------------------------------------------------


def _held(found: Iterable[Store]) -> dict[str, Store]:
    """The stores whose stock the platform holds (the mode table: full-managed)."""
    return {s.id: s for s in found if rules(s.mode).stock_held_by is Party.platform}


async def _stores(
    session: AsyncSession, principal: Principal, store_id: str | None
) -> dict[str, Store] | None:
    """The full-managed stores the principal reads (a seller: its own), or None for an
    operator's every store, which the sales themselves name."""
    if principal.role is Role.seller and principal.seller_id:
        query = select(Store).where(Store.seller_id == principal.seller_id)  # ix_stores_seller
    elif principal.is_operator or principal.role is Role.system:
        if store_id is None:
            return None
        query = select(Store)
    else:
        return {}
    if store_id is not None:
        query = query.where(Store.id == store_id)
    return _held(await session.scalars(query))


async def _sales(
    session: AsyncSession,
    *,
    store_ids: Collection[str] | None,
    warehouse_id: str | None,
    since: datetime,
    now: datetime,
) -> list[tuple[str, str | None, str, int]]:
    """Units sold per (store, warehouse, SKU) in the window: one GROUP BY over the window's
    fulfilment orders, read off ``(store_id, created_at)`` per store, or for every store off
    ``(shipper, created_at)``."""
    sold_units = func.sum(FulfilmentLine.quantity)
    query = (
        select(
            FulfilmentOrder.store_id,
            FulfilmentOrder.warehouse_id,
            FulfilmentLine.sku_id,
            sold_units,
        )
        .join(FulfilmentLine, FulfilmentLine.fulfilment_order_id == FulfilmentOrder.id)
        .where(
            FulfilmentOrder.shipper == Party.platform,
            FulfilmentOrder.status != FulfilmentStatus.cancelled,
            FulfilmentOrder.warehouse_id.is_not(None),
            FulfilmentOrder.created_at >= since,
            FulfilmentOrder.created_at <= now,
        )
        .group_by(FulfilmentOrder.store_id, FulfilmentOrder.warehouse_id, FulfilmentLine.sku_id)
    )
    if store_ids is not None:
        query = query.where(FulfilmentOrder.store_id.in_(sorted(store_ids)))
    if warehouse_id is not None:
        query = query.where(FulfilmentOrder.warehouse_id == warehouse_id)
    return [(s, w, k, int(n or 0)) for s, w, k, n in (await session.execute(query)).all()]


async def suggest(
    session: AsyncSession,
    *,
    principal: Principal,
    now: datetime,
    store_id: str | None = None,
    warehouse_id: str | None = None,
    days: int = DEFAULT_DAYS,
    cover_days: int = DEFAULT_COVER,
) -> list[RestockSuggestion]:
    """M5: what to send where (see the module), the most urgent first. Another seller's store
    or anyone else's filter gives nothing."""
    stores = await _stores(session, principal, store_id)
    if stores is not None and not stores:
        return []
    since = now - timedelta(days=days)
    sales = await _sales(session, store_ids=stores, warehouse_id=warehouse_id, since=since, now=now)
    if sales and stores is None:  # an operator's: the full-managed stores of those that sold
        named = sorted({s for s, _, _, _ in sales})
        stores = _held(await session.scalars(select(Store).where(Store.id.in_(named))))
        sales = [row for row in sales if row[0] in stores]
    if not sales or stores is None:
        return []
    sku_ids = sorted({k for _, _, k, _ in sales})
    warehouse_ids = sorted({w for _, w, _, _ in sales if w})
    balances = {
        (b.warehouse_id, b.sku_id): b
        for b in await session.scalars(
            select(StockBalance).where(
                StockBalance.sku_id.in_(sku_ids), StockBalance.warehouse_id.in_(warehouse_ids)
            )
        )
    }
    skus = {
        sku.id: (sku, name)
        for sku, name in (
            await session.execute(
                select(Sku, Product.name)
                .join(Product, Product.id == Sku.product_id)
                .where(Sku.id.in_(sku_ids))
            )
        ).all()
    }
    places = {
        w.id: w
        for w in await session.scalars(select(Warehouse).where(Warehouse.id.in_(warehouse_ids)))
    }
    rows: list[tuple[Fraction, RestockSuggestion]] = []
    for store_key, place_id, sku_id, sold in sales:
        if place_id is None or sku_id not in skus or place_id not in places:
            continue
        balance = balances.get((place_id, sku_id))
        on_hand, reserved, coming = (
            (balance.on_hand, balance.reserved, balance.inbound) if balance else (0, 0, 0)
        )
        numbers = compute(
            sold=sold,
            days=days,
            on_hand=on_hand,
            reserved=reserved,
            inbound=coming,
            cover_days=cover_days,
        )
        if numbers.suggested <= 0 or numbers.cover_days is None:
            continue
        sku, product_name = skus[sku_id]
        place = places[place_id]
        rows.append(
            (
                numbers.cover_days,
                RestockSuggestion(
                    store_id=store_key,
                    store_name=stores[store_key].name,
                    warehouse_id=place.id,
                    warehouse_code=place.code,
                    warehouse_name=place.name,
                    sku_id=sku.id,
                    sku_code=sku.code,
                    product_name=product_name,
                    attributes={str(k): str(v) for k, v in (sku.attributes or {}).items()},
                    days=days,
                    sold=sold,
                    daily_rate=round(float(numbers.daily_rate), 2),
                    available=max(on_hand - reserved, 0),
                    inbound=coming,
                    cover_days=round(float(numbers.cover_days), 1),
                    suggested=numbers.suggested,
                ),
            )
        )
    rows.sort(
        key=lambda r: (r[0], r[1].store_name, r[1].product_name, r[1].sku_code, r[1].warehouse_code)
    )
    return [row for _, row in rows]


# -- accepting --------------------------------------------------------------------------------


async def accept(session: AsyncSession, *, ctx: Ctx, data: RestockAccept) -> InboundNotice:
    """M5, R1: the accepted lines as a draft inbound notice, through ``inbound.create`` (the
    store the seller's own, the warehouse one that takes stock, each SKU the store's, once)."""
    return await inbound.create(
        session,
        ctx=ctx,
        data=InboundNoticeCreate(
            store_id=data.store_id,
            warehouse_id=data.warehouse_id,
            lines=data.lines,
            cartons=data.cartons,
        ),
    )

"""Queries for products and their SKUs."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.catalog.models import Product, ProductStatus, Sku
from tuoguan.kit.keyset import Keyset
from tuoguan.principal import Principal, Role
from tuoguan.stores.models import Store

NEWEST = Keyset((Product.id,), ("id",), descending=True)


async def list_products(
    session: AsyncSession,
    *,
    principal: Principal,
    store_id: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Product], str | None]:
    """Products the principal may see, newest first, and the next page's cursor.

    A seller's products are one ``(store_id, id)`` range per store of theirs, merged; the
    storefront reads ``(status, id)`` or ``(store_id, status, id)``.
    """
    query = select(Product)
    if principal.role is Role.buyer_channel:
        query = query.where(Product.status == ProductStatus.active)
    if principal.role is Role.seller:
        owned = select(Store.id).where(Store.seller_id == principal.seller_id)
        stores = list(await session.scalars(owned.order_by(Store.id)))
        if store_id:
            stores = [s for s in stores if s == store_id]
        queries = [query.where(Product.store_id == s) for s in stores]
    else:
        queries = [query.where(Product.store_id == store_id) if store_id else query]
    if not queries:
        NEWEST.seek(cursor)  # a bad cursor is still a 400
    return await NEWEST.page(session, queries, cursor=cursor, limit=limit)


async def products_by_id(session: AsyncSession, ids: Sequence[str]) -> dict[str, Product]:
    """Products keyed by id."""
    rows = await session.scalars(select(Product).where(Product.id.in_(list(ids))))
    return {product.id: product for product in rows}


async def taken_codes(session: AsyncSession, *, store_id: str, codes: Sequence[str]) -> set[str]:
    """Which of these SKU codes the store already uses."""
    if not codes:
        return set()
    rows = await session.scalars(
        select(Sku.code).where(Sku.store_id == store_id, Sku.code.in_(list(codes)))
    )
    return set(rows)


async def taken_barcodes(
    session: AsyncSession, *, store_id: str, barcodes: Sequence[str], besides: str | None = None
) -> set[str]:
    """Which of these barcodes a SKU of the store already carries (``besides``: one SKU not
    counted, the one being changed)."""
    if not barcodes:
        return set()
    query = select(Sku.barcode).where(Sku.store_id == store_id, Sku.barcode.in_(list(barcodes)))
    if besides is not None:
        query = query.where(Sku.id != besides)
    return {barcode for barcode in await session.scalars(query) if barcode is not None}

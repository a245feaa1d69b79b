"""Queries for products."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts.principal import Principal, Role
from tuoguan.catalog.models import Product, ProductStatus
from tuoguan.stores.models import Store


async def list_products(
    session: AsyncSession, *, principal: Principal, store_id: str | None, limit: int
) -> list[Product]:
    """Products the principal may see, newest first."""
    query = select(Product)
    if principal.role is Role.seller:
        query = query.join(Store, Store.id == Product.store_id).where(
            Store.seller_id == principal.seller_id
        )
    elif principal.role is Role.buyer_channel:
        query = query.where(Product.status == ProductStatus.active)
    if store_id:
        query = query.where(Product.store_id == store_id)
    return list(await session.scalars(query.order_by(Product.id.desc()).limit(limit)))


async def products_by_id(session: AsyncSession, ids: Sequence[str]) -> dict[str, Product]:
    """Products keyed by id."""
    rows = await session.scalars(select(Product).where(Product.id.in_(list(ids))))
    return {product.id: product for product in rows}

"""Queries for sellers and stores."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.kit.keyset import Keyset
from tuoguan.principal import Principal, Role
from tuoguan.stores.models import Seller, Store

STORES = Keyset((Store.id,), ("id",))
SELLERS = Keyset((Seller.id,), ("id",))


def visible_stores(principal: Principal) -> Select[Store]:
    """Stores this principal may see: operators all, sellers their own, others none."""
    query = select(Store)
    if principal.role is Role.operator:
        return query
    if principal.role is Role.seller and principal.seller_id:
        return query.where(Store.seller_id == principal.seller_id)
    return query.where(Store.id.is_(None))


async def get_store(session: AsyncSession, store_id: str) -> Store | None:
    """A store by id, whoever owns it."""
    return await session.get(Store, store_id)


async def get_seller(session: AsyncSession, seller_id: str) -> Seller | None:
    """A seller by id."""
    return await session.get(Seller, seller_id)


async def list_visible(
    session: AsyncSession, principal: Principal, *, cursor: str | None, limit: int
) -> tuple[list[Store], str | None]:
    """The stores the principal may see, by id (``(seller_id, id)`` for a seller)."""
    return await STORES.page(session, [visible_stores(principal)], cursor=cursor, limit=limit)


async def list_sellers(
    session: AsyncSession, *, cursor: str | None, limit: int
) -> tuple[list[Seller], str | None]:
    """All sellers, by id, and the next page's cursor."""
    return await SELLERS.page(session, [select(Seller)], cursor=cursor, limit=limit)

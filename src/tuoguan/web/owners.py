"""Whose a row is, for the console's lists (G7): the store and seller names of a page of rows in
one query, and the choices of the seller and store filters (operators pick a seller and a store,
a seller one of its stores)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.principal import Principal, Role
from tuoguan.stores.models import Seller, Store

# How many sellers and stores a filter offers (the first by id); a bigger marketplace filters
# by what it typed in the search box, or through the API.
CHOICES = 500


@dataclass(frozen=True)
class Owner:
    """A store by name, its seller by name, and the zone the store's times read in."""

    store: str
    seller: str
    seller_id: str
    timezone: str


async def owners(session: AsyncSession, store_ids: Iterable[str]) -> dict[str, Owner]:
    """The owner of each store, in one query for the page."""
    ids = sorted(set(store_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(Store.id, Store.name, Store.timezone, Seller.id, Seller.name)
        .join(Seller, Seller.id == Store.seller_id)
        .where(Store.id.in_(ids))
    )
    return {
        store_id: Owner(store=store, seller=seller, seller_id=seller_id, timezone=zone)
        for store_id, store, zone, seller_id, seller in rows
    }


@dataclass
class Filters:
    """The seller and store a list is narrowed to (None: every one) and the choices offered."""

    seller_id: str | None = None
    store_id: str | None = None
    sellers: list[tuple[str, str]] = field(default_factory=list)  # (id, name): operators only
    stores: list[tuple[str, str]] = field(default_factory=list)  # (id, name)

    @property
    def active(self) -> bool:
        return bool(self.seller_id or self.store_id)

    def query(self) -> dict[str, str]:
        """The filter as query parameters, for the next page's link."""
        return {
            k: v for k, v in (("seller", self.seller_id), ("store", self.store_id)) if v is not None
        }


async def filters(
    session: AsyncSession, principal: Principal, seller: str | None, store: str | None
) -> Filters:
    """The filter a page asked for, kept only where it is one of the choices this viewer has
    (anything else reads as "all"), with those choices: operators every seller and, once a
    seller is picked, its stores (else every store); a seller its own stores."""
    chosen = Filters()
    if principal.is_operator:
        chosen.sellers = [
            (i, n)
            for i, n in await session.execute(
                select(Seller.id, Seller.name).order_by(Seller.id).limit(CHOICES)
            )
        ]
        if seller in {i for i, _ in chosen.sellers}:
            chosen.seller_id = seller
        owner = chosen.seller_id
    elif principal.role is Role.seller and principal.seller_id:
        owner = principal.seller_id
    else:
        return chosen
    query = select(Store.id, Store.name).order_by(Store.id).limit(CHOICES)
    if owner is not None:
        query = select(Store.id, Store.name).where(Store.seller_id == owner).order_by(Store.id)
    chosen.stores = [(i, n) for i, n in await session.execute(query)]
    if store in {i for i, _ in chosen.stores}:
        chosen.store_id = store
    return chosen

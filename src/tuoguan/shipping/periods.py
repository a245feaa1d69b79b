"""F7: each product's shipping period for the storefront, in business days as [fewest, most].

- **Ship days**: until the parcel leaves. A store that ships itself (semi-managed, self-run)
  ships within its promise (F1: 1..``ship_promise_days``); a full-managed product ships from the
  platform's warehouse (the one its orders are routed to: in the store's country if there is
  one), within that warehouse's ship time (F11: 1..``ship_days``).
- **Transit days**: from where it ships to the buyer's country (``country``). The zones of the
  logistics services that may carry the product there (origin, limits, route rules — what an
  order's shipping options check) give the range; where none does, the lane's transit days
  (F2: 2 at home, 5 abroad, as the order's deliver-by uses). Without a country, F2's range.

The same arithmetic as an order's deadlines (``timing.deadlines``), read as a range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.catalog.models import Product
from tuoguan.catalog.schemas import ShippingPeriod
from tuoguan.fulfilment import repository as fulfilment_repository
from tuoguan.inventory.models import Warehouse, WarehouseKind
from tuoguan.shipping import rates, repository, routes
from tuoguan.shipping.models import LogisticsService
from tuoguan.stores.models import Store
from tuoguan.stores.modes import Party, rules
from tuoguan.timing.deadlines import (
    DOMESTIC_TRANSIT_DAYS,
    INTERNATIONAL_TRANSIT_DAYS,
    transit_days,
)


@dataclass(frozen=True)
class _Lanes:
    """What the services offer, read once for a page of products."""

    services: list[LogisticsService]
    cards: dict[str, dict[str, rates.RateCard]]  # currency -> service code -> card in force
    rules: list[routes.Rule]


def _ship_days(store: Store, warehouses: Sequence[Warehouse]) -> tuple[list[int], str] | None:
    """[1, most] business days to ship and the country it ships from (None: nowhere)."""
    if rules(store.mode).ships is Party.seller:
        return [1, store.ship_promise_days], store.country
    near = [w for w in warehouses if w.country == store.country] or list(warehouses)
    if not near:
        return None
    slowest = max(near, key=lambda w: (w.ship_days, w.code))
    return [1, slowest.ship_days], slowest.country


def _parcel(product: Product, country: str) -> rates.Parcel:
    return rates.Parcel(
        weight_g=product.weight_g,
        length_mm=product.length_mm,
        width_mm=product.width_mm,
        height_mm=product.height_mm,
        country=country,
        postcode=None,
        declared_value_minor=product.declared_value_minor,
        currency=product.currency,
        categories=frozenset({product.category.strip().lower()}),
    )


def _transit(product: Product, origin: str, country: str | None, lanes: _Lanes) -> list[int]:
    if country is None:
        return [DOMESTIC_TRANSIT_DAYS, INTERNATIONAL_TRANSIT_DAYS]
    parcel = _parcel(product, country)
    found: list[rates.Zone] = []
    for service in lanes.services:
        card = lanes.cards.get(product.currency, {}).get(service.code)
        if card is None or origin not in service.origin_countries:
            continue
        if rates.check_fits(service.limits(), parcel):
            continue
        _, denied = routes.decide(
            lanes.rules, store_id=product.store_id, service=service.code, parcel=parcel
        )
        zone = rates.zone_for(card, country, None)
        if denied is None and zone is not None:
            found.append(zone)
    if found:
        return [min(z.transit_min_days for z in found), max(z.transit_max_days for z in found)]
    lane = transit_days(origin, country)
    return [min(DOMESTIC_TRANSIT_DAYS, lane), lane]


async def shipping_periods(
    session: AsyncSession, products: Sequence[Product], *, country: str | None, now: datetime
) -> dict[str, ShippingPeriod | None]:
    """Each product's shipping period to ``country`` (an ISO code, checked by the caller)."""
    if not products:
        return {}
    stores: dict[str, Store | None] = {}
    for store_id in {p.store_id for p in products}:
        stores[store_id] = await session.get(Store, store_id)
    kinds = {
        WarehouseKind(kind.value)
        for store in stores.values()
        if store is not None and rules(store.mode).ships is Party.platform
        for kind in rules(store.mode).ships_from
    }
    warehouses = await fulfilment_repository.platform_warehouses(session, kinds) if kinds else []
    lanes = _Lanes([], {}, [])
    if country is not None:
        cards: dict[str, dict[str, rates.RateCard]] = {}
        for currency in {p.currency for p in products}:
            in_force = await repository.cards_in_force(session, currency, now)
            cards[currency] = {code: card.rate_card() for code, card in in_force.items()}
        lanes = _Lanes(
            services=await repository.services(session, active_only=True),
            cards=cards,
            rules=[row.rule() for row in await repository.active_rules(session)],
        )
    found: dict[str, ShippingPeriod | None] = {}
    for product in products:
        store = stores.get(product.store_id)
        ships = _ship_days(store, warehouses) if store is not None else None
        if ships is None:
            found[product.id] = None
            continue
        ship, origin = ships
        transit = _transit(product, origin, country, lanes)
        found[product.id] = ShippingPeriod(
            ship_days=ship,
            transit_days=transit,
            total_days=[ship[0] + transit[0], ship[1] + transit[1]],
            ships_from=origin,
            country=country,
        )
    return found

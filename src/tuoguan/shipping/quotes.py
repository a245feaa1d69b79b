"""Which services may carry an order's parcel, and what each costs (F5, F8 step 2, G1-G3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.catalog import service as catalog
from tuoguan.context import Ctx
from tuoguan.errors import Forbidden
from tuoguan.fulfilment import service as fulfilment
from tuoguan.kit.i18n import N_
from tuoguan.orders import service as orders
from tuoguan.orders.models import Order
from tuoguan.principal import Role
from tuoguan.shipping import rates, repository, routes
from tuoguan.shipping.models import LogisticsService, RateCardVersion, Shipment
from tuoguan.shipping.schemas import (
    ParcelIn,
    ParcelRead,
    QuoteLineRead,
    QuoteRead,
    RefusalRead,
    ServiceOption,
    ShippingOptions,
)


@dataclass(frozen=True)
class Priced:
    """A quote and everything needed to recompute it."""

    card: RateCardVersion
    zone: rates.Zone
    lines: list[rates.Line]
    chargeable_g: int
    volumetric_g: int
    premium: int | None

    @property
    def total_minor(self) -> int:
        """What the lines add up to."""
        return sum(line.amount_minor for line in self.lines)


async def parcel_for(
    session: AsyncSession, order: Order, measured: ParcelIn | None
) -> tuple[rates.Parcel, bool]:
    """The order's parcel: measured if given, else estimated from its products (stacked)."""
    products = await catalog.products_by_id(session, [line.product_id for line in order.lines])
    weight = length = width = height = value = 0
    categories: set[str] = set()
    for line in order.lines:
        product = products[line.product_id]
        weight += product.weight_g * line.quantity
        length = max(length, product.length_mm)
        width = max(width, product.width_mm)
        height += product.height_mm * line.quantity
        value += product.declared_value_minor * line.quantity
        categories.add(product.category.strip().lower())
    if measured is not None:
        weight, length, width, height = (
            measured.weight_g,
            measured.length_mm,
            measured.width_mm,
            measured.height_mm,
        )
    parcel = rates.Parcel(
        weight_g=weight,
        length_mm=length,
        width_mm=width,
        height_mm=height,
        country=order.country,
        postcode=order.postcode,
        declared_value_minor=value,
        currency=order.currency,
        categories=frozenset(categories),
    )
    return parcel, measured is None


@dataclass(frozen=True)
class Choice:
    """One service for one parcel: refused with every reason, or priced."""

    service: LogisticsService
    refusals: list[rates.Refusal]
    priced: Priced | None


def choose(
    service: LogisticsService,
    card: RateCardVersion | None,
    rules: list[routes.Rule],
    *,
    store_id: str,
    origin: str,
    parcel: rates.Parcel,
    insure: bool,
) -> Choice:
    """Check one service against its limits, its reach and the route rules; price it if allowed."""
    refusals: list[rates.Refusal] = []
    if origin not in service.origin_countries:
        refusals.append(
            rates.Refusal(
                "origin",
                f"the service ships from {', '.join(service.origin_countries)}; "
                f"this parcel ships from {origin}",
                code=N_("refusal_origin"),
                params={"ships_from": ", ".join(service.origin_countries), "origin": origin},
            )
        )
    limits = service.limits()
    refusals += rates.check_fits(limits, parcel)
    value = card.rate_card() if card is not None else None
    zone = rates.zone_for(value, parcel.country, parcel.postcode) if value else None
    if value is None:
        refusals.append(
            rates.Refusal(
                "rate_card",
                f"the service has no rate card in {parcel.currency} yet",
                code=N_("refusal_rate_card"),
                params={"currency": parcel.currency},
            )
        )
    elif zone is None:
        refusals.append(
            rates.Refusal(
                "destination",
                f"the service does not deliver to {parcel.country}",
                code=N_("refusal_destination"),
                params={"country": parcel.country},
            )
        )
    _, denied = routes.decide(rules, store_id=store_id, service=service.code, parcel=parcel)
    if denied is not None:
        refusals.append(denied)
    premium = rates.insurance_premium(value, parcel.declared_value_minor) if value else None
    if insure and value is not None and premium is None:
        refusals.append(rates.no_cover(value, parcel.currency))
    if refusals or value is None or zone is None or card is None:
        return Choice(service, refusals, None)
    lines = rates.price(value, zone, limits, parcel, insure=insure)
    priced = Priced(
        card=card,
        zone=zone,
        lines=lines,
        chargeable_g=rates.chargeable_g(limits, parcel),
        volumetric_g=rates.volumetric_g(limits, parcel),
        premium=premium,
    )
    return Choice(service, [], priced)


async def choices(
    session: AsyncSession,
    *,
    order: Order,
    parcel: rates.Parcel,
    insure: bool,
    now: datetime,
    origin: str | None = None,
) -> list[Choice]:
    """Every active service for the order's parcel, allowed ones cheapest first.

    The parcel leaves from ``origin`` (a country): the store's unless told otherwise (F11: the
    platform's warehouse)."""
    services = await repository.services(session, active_only=True)
    cards = await repository.cards_in_force(session, order.currency, now)
    rules = [row.rule() for row in await repository.active_rules(session)]
    if origin is None:
        origin = await orders.origin_country(session, order)
    found = [
        choose(
            service,
            cards.get(service.code),
            rules,
            store_id=order.store_id,
            origin=origin,
            parcel=parcel,
            insure=insure,
        )
        for service in services
    ]
    return sorted(
        found,
        key=lambda c: (c.priced is None, c.priced.total_minor if c.priced else 0, c.service.code),
    )


def quote_read(priced: Priced) -> QuoteRead:
    """A priced choice as the API shows it."""
    return QuoteRead(
        rate_card_id=priced.card.id,
        rate_card_version=priced.card.version,
        currency=priced.card.currency,
        zone=priced.zone.code,
        region=priced.zone.region,
        chargeable_weight_g=priced.chargeable_g,
        volumetric_weight_g=priced.volumetric_g,
        lines=[
            QuoteLineRead(
                code=x.code,
                amount_minor=x.amount_minor,
                detail=x.detail,
                note=x.note,
                params=dict(x.params),
            )
            for x in priced.lines
        ],
        total_minor=priced.total_minor,
        transit_min_days=priced.zone.transit_min_days,
        transit_max_days=priced.zone.transit_max_days,
        insurance_premium_minor=priced.premium,
    )


def option_read(choice: Choice) -> ServiceOption:
    """One choice as the API shows it."""
    service = choice.service
    return ServiceOption(
        service_code=service.code,
        name=service.name,
        carrier_code=service.carrier_code,
        kind=service.kind,
        tracked=service.tracked,
        allowed=choice.priced is not None,
        refusals=[
            RefusalRead(
                rule=r.rule, detail=r.detail, rule_id=r.rule_id, code=r.code, params=dict(r.params)
            )
            for r in choice.refusals
        ],
        quote=quote_read(choice.priced) if choice.priced else None,
    )


def parcel_read(parcel: rates.Parcel, estimated: bool) -> ParcelRead:
    """The parcel as the API shows it."""
    return ParcelRead(
        weight_g=parcel.weight_g,
        length_mm=parcel.length_mm,
        width_mm=parcel.width_mm,
        height_mm=parcel.height_mm,
        declared_value_minor=parcel.declared_value_minor,
        currency=parcel.currency,
        categories=sorted(parcel.categories),
        country=parcel.country,
        estimated=estimated,
    )


async def shipping_options(
    session: AsyncSession,
    *,
    ctx: Ctx,
    order_id: str,
    measured: ParcelIn | None = None,
    insure: bool = False,
) -> ShippingOptions:
    """F8 step 2: the services allowed for an order, each itemized, and why the others are not."""
    order = await orders.get_order(session, principal=ctx.principal, order_id=order_id)
    if ctx.principal.role is Role.seller and await fulfilment.platform_shipped(session, [order.id]):
        # F11: the platform ships and pays for this parcel; its freight is not the seller's to see.
        raise Forbidden(
            f"the platform ships order {order.id} from its warehouse (F11); the seller does not",
            field="order_id",
            rule="platform_ships",
        )
    parcel, estimated = await parcel_for(session, order, measured)
    found = await choices(session, order=order, parcel=parcel, insure=insure, now=ctx.clock.now())
    return ShippingOptions(
        order_id=order.id,
        parcel=parcel_read(parcel, estimated),
        options=[option_read(choice) for choice in found],
    )


async def reprice(session: AsyncSession, shipment: Shipment, weight_g: int) -> list[rates.Line]:
    """G1: the shipment's quote recomputed on its own card and zone at another weight."""
    card_row = await session.get(RateCardVersion, shipment.rate_card_id)
    service = await session.get(LogisticsService, shipment.service_code)
    assert card_row is not None and service is not None
    card = card_row.rate_card()
    zone = next(z for z in card.zones if z.code == shipment.zone)
    parcel = rates.Parcel(
        weight_g=weight_g,
        length_mm=shipment.length_mm,
        width_mm=shipment.width_mm,
        height_mm=shipment.height_mm,
        country=shipment.receiver["country"],
        postcode=shipment.receiver.get("postcode"),
        declared_value_minor=shipment.declared_value_minor,
        currency=shipment.currency,
        categories=frozenset(),
    )
    return rates.price(card, zone, service.limits(), parcel, insure=shipment.insured)

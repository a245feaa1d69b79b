"""The sandbox carrier's logistics services, rate cards and route rules, as data (F5, F8, G1-G3).

Four services of the sandbox carrier, from a light postal parcel to express,
priced in USD and EUR, and the route rules a marketplace typically starts
with: batteries by express only, no liquids by post, valuable parcels tracked.
Tests install the same catalog through the API.
"""

from __future__ import annotations

from typing import Any

from tuoguan.shipping.models import ServiceKind
from tuoguan.shipping.rates import Insurance, RateCard, Zone
from tuoguan.shipping.routes import Conditions, Effect
from tuoguan.shipping.schemas import RateCardCreate, RouteRuleWrite, ServiceCreate

CARRIER = "sandbox"
# Who each demo store's parcels come from, by store country (printed on labels).
SENDERS = {
    "CN": {
        "name": "深圳优品科技 仓库",
        "phone": "+86 755 8601 2345",
        "line1": "广东省深圳市南山区科苑路15号 科兴科学园B栋",
        "city": "深圳",
        "postcode": "518057",
        "country": "CN",
    },
    "ES": {
        "name": "Iberia Home S.L.",
        "phone": "+34 911 234 567",
        "line1": "Calle de Alcalá 100",
        "city": "Madrid",
        "postcode": "28009",
        "country": "ES",
    },
    "DE": {
        "name": "Yiwu Lager Berlin",
        "phone": "+49 30 1234567",
        "line1": "Frankfurter Allee 1",
        "city": "Berlin",
        "postcode": "10247",
        "country": "DE",
    },
}
EUROPE = ["AT", "BE", "DE", "DK", "ES", "FI", "FR", "GR", "IE", "IT", "NL", "PL", "PT", "SE"]
NORTH_AMERICA = ["US", "CA"]
# Spain's Canary Islands (35xxx, 38xxx) cost extra to reach.
REMOTE = {"ES": ["35", "38"]}

SERVICES = [
    ServiceCreate(
        code="TG-POST-SMALL",
        name="邮政小包 Postal small parcel",
        carrier_code=CARRIER,
        kind=ServiceKind.postal_small_parcel,
        origin_countries=["CN"],
        max_weight_g=2000,
        max_sum_sides_mm=900,
        max_longest_side_mm=600,
        tracked=False,
    ),
    ServiceCreate(
        code="TG-POST-REG",
        name="挂号小包 Registered small parcel",
        carrier_code=CARRIER,
        kind=ServiceKind.registered_parcel,
        origin_countries=["CN"],
        max_weight_g=2000,
        max_sum_sides_mm=900,
        max_longest_side_mm=600,
    ),
    ServiceCreate(
        code="TG-STANDARD",
        name="标准物流 Standard shipping",
        carrier_code=CARRIER,
        kind=ServiceKind.standard,
        origin_countries=["CN", "DE", "ES"],
        max_weight_g=30_000,
        max_sum_sides_mm=2000,
        max_longest_side_mm=1200,
        volumetric_divisor=8000,
    ),
    ServiceCreate(
        code="TG-EXPRESS",
        name="国际快递 International express",
        carrier_code=CARRIER,
        kind=ServiceKind.express,
        origin_countries=["CN", "DE", "ES"],
        max_weight_g=70_000,
        max_sum_sides_mm=3000,
        max_longest_side_mm=1500,
        volumetric_divisor=5000,
    ),
]


def _zones(
    first_g: int, first: int, step_g: int, step: int, eu: tuple[int, int], na: tuple[int, int]
) -> list[Zone]:
    common: dict[str, Any] = {
        "first_weight_g": first_g,
        "first_minor": first,
        "step_g": step_g,
        "step_minor": step,
        "remote_postcodes": REMOTE,
    }
    return [
        Zone(
            code="EU",
            name="Europe",
            region="Europe",
            countries=EUROPE,
            transit_min_days=eu[0],
            transit_max_days=eu[1],
            **common,
        ),
        Zone(
            code="NA",
            name="North America",
            region="North America",
            countries=NORTH_AMERICA,
            transit_min_days=na[0],
            transit_max_days=na[1],
            **{**common, "first_minor": first * 5 // 4, "step_minor": step * 5 // 4},
        ),
    ]


_COVER = Insurance(
    threshold_minor=5000, rate_bp=100, min_premium_minor=100, max_cover_minor=200_000
)

CARDS: dict[str, RateCard] = {
    # G2: Europe within 7-15 business days for the postal services.
    "TG-POST-SMALL": RateCard(zones=_zones(100, 120, 100, 95, (7, 15), (8, 18))),
    "TG-POST-REG": RateCard(
        zones=_zones(100, 120, 100, 95, (7, 15), (8, 18)), registration_minor=180
    ),
    "TG-STANDARD": RateCard(
        zones=_zones(500, 650, 500, 300, (5, 10), (6, 12)),
        fuel_bp=800,
        remote_area_minor=500,
        insurance=_COVER,
    ),
    "TG-EXPRESS": RateCard(
        zones=_zones(500, 2200, 500, 650, (2, 5), (3, 6)),
        fuel_bp=2000,
        remote_area_minor=1200,
        insurance=_COVER,
    ),
}


def rate_cards() -> list[tuple[str, RateCardCreate]]:
    """Each service's card in USD and in EUR (the demo prices them alike)."""
    return [
        (code, RateCardCreate(currency=currency, card=card, note="demo rates"))
        for code, card in CARDS.items()
        for currency in ("USD", "EUR")
    ]


def _valuable(currency: str) -> RouteRuleWrite:
    return RouteRuleWrite(
        position=40 if currency == "USD" else 41,
        name=f"Parcels worth 50 {currency} or more travel tracked",
        effect=Effect.deny,
        conditions=Conditions(
            services=["TG-POST-SMALL"], value_currency=currency, min_value_minor=5000
        ),
    )


RULES = [
    RouteRuleWrite(
        position=10,
        name="Batteries fly by express",
        effect=Effect.allow,
        conditions=Conditions(services=["TG-EXPRESS"], categories=["battery"]),
    ),
    RouteRuleWrite(
        position=20,
        name="No batteries in any other service",
        effect=Effect.deny,
        conditions=Conditions(categories=["battery"]),
    ),
    RouteRuleWrite(
        position=30,
        name="No liquids by post",
        effect=Effect.deny,
        conditions=Conditions(services=["TG-POST-SMALL", "TG-POST-REG"], categories=["liquid"]),
    ),
    _valuable("USD"),
    _valuable("EUR"),
]

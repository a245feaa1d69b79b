"""Rate cards, quotes and route rules, pure (G1, G2, G3, F5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tuoguan.errors import InvalidInput
from tuoguan.shipping import rates, routes
from tuoguan.shipping.carriers.sandbox_catalog import CARDS, RULES
from tuoguan.shipping.rates import Limits, Parcel, RateCard, Zone

EXPRESS = CARDS["TG-EXPRESS"]
EXPRESS_LIMITS = Limits(70_000, 3000, 1500, 5000)
POST = CARDS["TG-POST-REG"]
POST_LIMITS = Limits(2000, 900, 600, None)


def parcel(**kw: object) -> Parcel:
    base: dict[str, object] = {
        "weight_g": 800,
        "length_mm": 200,
        "width_mm": 150,
        "height_mm": 100,
        "country": "ES",
        "postcode": "28013",
        "declared_value_minor": 2599,
        "currency": "USD",
        "categories": frozenset({"home/kitchen"}),
    }
    return Parcel(**{**base, **kw})  # type: ignore[arg-type]


def total(lines: list[rates.Line]) -> int:
    return sum(line.amount_minor for line in lines)


def test_express_quote_is_itemized_line_by_line() -> None:
    # G1: base for the first 500 g, one more 500 g step, fuel on the freight.
    zone = rates.zone_for(EXPRESS, "ES", "28013")
    assert zone is not None and zone.code == "EU"
    lines = rates.price(EXPRESS, zone, EXPRESS_LIMITS, parcel(), insure=False)
    assert [(x.code, x.amount_minor) for x in lines] == [
        ("base", 2200),
        ("additional_weight", 650),
        ("fuel_surcharge", 570),  # 20% of 2850
    ]


def test_volumetric_weight_adds_an_uplift_line() -> None:
    # G1: a light, bulky parcel is charged on volume: 400x300x300 mm / 5000 = 7200 g.
    bulky = parcel(weight_g=600, length_mm=400, width_mm=300, height_mm=300)
    zone = rates.zone_for(EXPRESS, "ES", None)
    assert zone is not None
    assert rates.volumetric_g(EXPRESS_LIMITS, bulky) == 7200
    lines = {
        x.code: x.amount_minor
        for x in rates.price(EXPRESS, zone, EXPRESS_LIMITS, bulky, insure=False)
    }
    assert lines["additional_weight"] == 650  # 600 g: one step past the first 500 g
    assert lines["volumetric_uplift"] == 13 * 650  # 7200 g is 14 steps; one is already paid


def test_remote_postcode_registration_and_insurance_lines() -> None:
    # G1, G3: the Canary Islands pay the remote-area fee; insured parcels pay a premium.
    canary = parcel(postcode="35001", declared_value_minor=30_000)
    zone = rates.zone_for(EXPRESS, "ES", "35001")
    assert zone is not None
    lines = {
        x.code: x.amount_minor
        for x in rates.price(EXPRESS, zone, EXPRESS_LIMITS, canary, insure=True)
    }
    assert lines["remote_area_surcharge"] == 1200
    assert lines["insurance_premium"] == 300  # 1% of 300.00
    post_zone = rates.zone_for(POST, "ES", "28013")
    assert post_zone is not None
    registered = rates.price(POST, post_zone, POST_LIMITS, parcel(weight_g=90), insure=False)
    assert [x.code for x in registered] == ["base", "registration"]


def test_insurance_is_offered_only_above_the_threshold_and_capped() -> None:
    # G3
    assert rates.insurance_premium(EXPRESS, 5000) is None
    assert rates.insurance_premium(EXPRESS, 5001) == 100  # the minimum premium
    assert rates.insurance_premium(EXPRESS, 10**9) == 2000  # cover capped at 2 000.00
    assert rates.insurance_premium(POST, 10**6) is None
    zone = rates.zone_for(POST, "ES", None)
    assert zone is not None
    with pytest.raises(InvalidInput) as refused:
        rates.price(POST, zone, POST_LIMITS, parcel(weight_g=90), insure=True)
    assert refused.value.extra["rule"] == "insurance_offered"


def test_transit_days_carry_the_regional_commitment() -> None:
    # G2: Europe within 7-15 business days by post.
    zone = rates.zone_for(POST, "PL", "00-590")
    assert zone is not None and zone.region == "Europe"
    assert (zone.transit_min_days, zone.transit_max_days) == (7, 15)
    assert rates.zone_for(POST, "JP", None) is None


def test_postcode_zone_wins_over_the_country_zone() -> None:
    card = RateCard(
        zones=[
            Zone(
                code="ES",
                name="Spain",
                region="Europe",
                countries=["ES"],
                transit_min_days=2,
                transit_max_days=4,
                first_weight_g=500,
                first_minor=500,
                step_g=500,
                step_minor=100,
            ),
            Zone(
                code="CANARY",
                name="Canary Islands",
                region="Europe",
                countries=["ES"],
                postcodes={"ES": ["35", "38"]},
                transit_min_days=4,
                transit_max_days=8,
                first_weight_g=500,
                first_minor=900,
                step_g=500,
                step_minor=200,
            ),
        ]
    )
    assert (z := rates.zone_for(card, "ES", "38 001")) is not None and z.code == "CANARY"
    assert (z := rates.zone_for(card, "ES", "28013")) is not None and z.code == "ES"
    assert (z := rates.zone_for(card, "ES", None)) is not None and z.code == "ES"


def test_a_card_may_not_put_one_destination_in_two_zones() -> None:
    zone = EXPRESS.zones[0].model_dump()
    with pytest.raises(ValidationError, match="AT is in zones EU and EU2"):
        RateCard(zones=[zone, {**zone, "code": "EU2"}])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="transit_max_days"):
        Zone(**{**zone, "transit_min_days": 9, "transit_max_days": 3})
    with pytest.raises(ValidationError, match="ISO 3166"):
        Zone(**{**zone, "countries": ["XX"]})


def test_overweight_and_oversize_parcels_are_refused_with_the_limit_named() -> None:
    found = rates.check_fits(POST_LIMITS, parcel(weight_g=2300, length_mm=700, width_mm=200))
    assert [r.rule for r in found] == ["max_weight", "max_longest_side", "max_sum_of_sides"]
    assert "2300 g" in found[0].detail and "2000 g" in found[0].detail
    assert rates.check_fits(POST_LIMITS, parcel()) == []


weights = st.integers(min_value=1, max_value=70_000)
sides = st.integers(min_value=1, max_value=1500)


@given(weight=weights, more=st.integers(0, 5000), a=sides, b=sides, c=sides)
def test_quotes_add_up_and_never_fall_with_weight(
    weight: int, more: int, a: int, b: int, c: int
) -> None:
    # G1: lines sum to the total; a heavier parcel never costs less; same input, same quote.
    zone = EXPRESS.zones[0]
    light = parcel(weight_g=weight, length_mm=a, width_mm=b, height_mm=c)
    heavy = parcel(weight_g=weight + more, length_mm=a, width_mm=b, height_mm=c)
    first = rates.price(EXPRESS, zone, EXPRESS_LIMITS, light, insure=False)
    assert first == rates.price(EXPRESS, zone, EXPRESS_LIMITS, light, insure=False)
    assert all(x.amount_minor >= 0 for x in first)
    assert total(rates.price(EXPRESS, zone, EXPRESS_LIMITS, heavy, insure=False)) >= total(first)


@given(quoted_g=weights, weighed_g=weights)
def test_a_reweigh_difference_reconciles_quote_and_charge(quoted_g: int, weighed_g: int) -> None:
    # G1: the amount charged equals the quote plus the difference shown line by line.
    zone = EXPRESS.zones[0]
    quoted = rates.price(EXPRESS, zone, EXPRESS_LIMITS, parcel(weight_g=quoted_g), insure=False)
    charged = rates.price(EXPRESS, zone, EXPRESS_LIMITS, parcel(weight_g=weighed_g), insure=False)
    delta = rates.difference(quoted, charged, "USD")
    assert total(quoted) + total(delta) == total(charged)
    assert (quoted_g == weighed_g) <= (delta == [])


def rule(position: int, effect: str, **conditions: object) -> routes.Rule:
    return routes.Rule(
        id=f"rul_{position}",
        position=position,
        name=f"rule {position}",
        effect=routes.Effect(effect),
        conditions=routes.Conditions.model_validate(conditions),
    )


DEMO_RULES = [
    routes.Rule(
        id=f"rul_{r.position}",
        position=r.position,
        name=r.name,
        effect=r.effect,
        conditions=r.conditions,
    )
    for r in RULES
]


def test_first_applicable_rule_decides_and_a_refusal_names_it() -> None:
    # F5: batteries by express only (an allow before a catch-all deny).
    battery = parcel(categories=frozenset({"battery/power-bank"}))
    decided, refusal = routes.decide(
        DEMO_RULES, store_id="sto_1", service="TG-EXPRESS", parcel=battery
    )
    assert decided is not None and decided.position == 10 and refusal is None
    decided, refusal = routes.decide(
        DEMO_RULES, store_id="sto_1", service="TG-STANDARD", parcel=battery
    )
    assert refusal is not None and refusal.rule_id == "rul_20"
    assert "No batteries in any other service" in refusal.detail
    assert routes.decide(DEMO_RULES, store_id="sto_1", service="TG-STANDARD", parcel=parcel()) == (
        None,
        None,
    )


def test_value_bounds_apply_in_their_own_currency_only() -> None:
    # F5: "parcels worth 50 or more travel tracked", per currency, bounds half-open.
    for value, denied in ((4999, False), (5000, True)):
        _, usd = routes.decide(
            DEMO_RULES,
            store_id="s",
            service="TG-POST-SMALL",
            parcel=parcel(declared_value_minor=value),
        )
        assert (usd is not None) is denied
    _, other = routes.decide(
        [rule(1, "deny", value_currency="EUR", min_value_minor=1)],
        store_id="s",
        service="TG-POST-SMALL",
        parcel=parcel(declared_value_minor=10**6),
    )
    assert other is None


def test_rule_conditions_match_store_country_and_weight_band() -> None:
    # F5
    band = rule(
        1, "deny", store_ids=["sto_a"], countries=["ES"], min_weight_g=500, max_weight_g=1000
    )
    assert routes.applies(band, store_id="sto_a", service="X", parcel=parcel(weight_g=500))
    assert not routes.applies(band, store_id="sto_a", service="X", parcel=parcel(weight_g=1000))
    assert not routes.applies(band, store_id="sto_b", service="X", parcel=parcel(weight_g=600))
    assert not routes.applies(band, store_id="sto_a", service="X", parcel=parcel(country="FR"))


def test_rule_conditions_refuse_inverted_bounds_and_unpriced_values() -> None:
    with pytest.raises(ValidationError, match="max_weight_g"):
        routes.Conditions(min_weight_g=10, max_weight_g=10)
    with pytest.raises(ValidationError, match="value_currency"):
        routes.Conditions(min_value_minor=100)

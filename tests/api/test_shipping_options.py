"""Logistics services, rate cards, route rules and an order's shipping options (F5, F8, G1-G3)."""

from __future__ import annotations

from datetime import timedelta

from tests.builders.market import Market, auth
from tests.builders.shipping import add_product, install_catalog, option, options, place_with
from tuoguan.kit.clock import FrozenClock
from tuoguan.shipping import rates
from tuoguan.shipping.carriers.sandbox_catalog import SERVICES
from tuoguan.shipping.rates import Limits, Parcel, RateCard


def test_options_list_allowed_services_cheapest_first_with_itemized_quotes(market: Market) -> None:
    # F8 step 2, G1: given the demo catalog and an earbuds order from a CN store to Madrid
    install_catalog(market)
    order = market.place("a_self")
    # when the seller lists the services for it
    found = options(market, order["id"], market.seller_tokens["a"])
    # then the estimated parcel is the product's, and each allowed service is itemized
    assert found["parcel"] == {
        "weight_g": 80,
        "length_mm": 100,
        "width_mm": 80,
        "height_mm": 40,
        "declared_value_minor": 1999,
        "currency": "USD",
        "categories": ["electronics/audio"],
        "estimated": True,
    }
    allowed = [o for o in found["options"] if o["allowed"]]
    assert [o["service_code"] for o in allowed] == [
        "TG-POST-SMALL",
        "TG-POST-REG",
        "TG-STANDARD",
        "TG-EXPRESS",
    ]
    totals = [o["quote"]["total_minor"] for o in allowed]
    assert totals == sorted(totals)
    for entry in allowed:
        quote = entry["quote"]
        assert sum(line["amount_minor"] for line in quote["lines"]) == quote["total_minor"]
        assert quote["currency"] == "USD" and quote["zone"] == "EU"
    # G2: the postal commitment to Europe is 7-15 business days
    post = option(found, "TG-POST-REG")["quote"]
    assert (post["transit_min_days"], post["transit_max_days"], post["region"]) == (7, 15, "Europe")


def test_a_quote_is_reproducible_from_the_rate_card_it_names(market: Market) -> None:
    # G1: recompute the quote from the named card version and get the same lines.
    install_catalog(market)
    order = market.place("a_self", quantity=3)
    quote = option(options(market, order["id"], market.operator), "TG-STANDARD")["quote"]
    card = market.ok(market.get(f"/rate-cards/{quote['rate_card_id']}", market.seller_tokens["a"]))
    assert card["version"] == quote["rate_card_version"] == 1
    value = RateCard.model_validate(card["card"])
    spec = next(s for s in SERVICES if s.code == "TG-STANDARD")
    limits = Limits(
        spec.max_weight_g, spec.max_sum_sides_mm, spec.max_longest_side_mm, spec.volumetric_divisor
    )
    parcel = Parcel(
        240, 100, 80, 120, "ES", "28013", 3 * 1999, "USD", frozenset({"electronics/audio"})
    )
    zone = rates.zone_for(value, "ES", "28013")
    assert zone is not None
    again = rates.price(value, zone, limits, parcel, insure=False)
    assert [[x.code, x.amount_minor] for x in again] == [
        [line["code"], line["amount_minor"]] for line in quote["lines"]
    ]


def test_route_rules_refuse_services_and_name_the_rule(market: Market) -> None:
    # F5: a power bank may go by express only; the refusal names the deny rule.
    install_catalog(market)
    battery = add_product(market, "a_self")
    order = place_with(market, "a_self", battery)
    found = options(market, order["id"], market.seller_tokens["a"])
    assert [o["service_code"] for o in found["options"] if o["allowed"]] == ["TG-EXPRESS"]
    rules = {
        r["position"]: r for r in market.ok(market.get("/route-rules", market.seller_tokens["a"]))
    }
    standard = option(found, "TG-STANDARD")
    assert standard["quote"] is None
    assert standard["refusals"] == [
        {
            "rule": "route_rule",
            "rule_id": rules[20]["id"],
            "detail": "route rule 20 'No batteries in any other service' denies TG-STANDARD for this parcel",
        }
    ]


def test_a_measured_parcel_is_checked_against_each_service_limit(market: Market) -> None:
    # F8, bad input: overweight or oversize parcels are refused per service, with the limit.
    install_catalog(market)
    order = market.place("a_self")
    found = options(
        market,
        order["id"],
        market.seller_tokens["a"],
        weight_g=2500,
        length_mm=650,
        width_mm=200,
        height_mm=100,
    )
    assert found["parcel"]["estimated"] is False
    small = option(found, "TG-POST-SMALL")
    assert [r["rule"] for r in small["refusals"]] == [
        "max_weight",
        "max_longest_side",
        "max_sum_of_sides",
    ]
    assert option(found, "TG-STANDARD")["allowed"] is True
    partial = market.get(
        f"/orders/{order['id']}/shipping-options", market.operator, params={"weight_g": 100}
    )
    assert partial.status_code == 422
    assert partial.json()["field"] == "length_mm" and partial.json()["rule"] == "parcel_complete"


def test_destination_origin_and_currency_gaps_are_reasons_not_errors(market: Market) -> None:
    # F8, bad input: a destination no service covers refuses every service, naming why.
    install_catalog(market)
    order = place_with(
        market, "a_self", market.products["a_self"], country="JP", postcode="100-0001"
    )
    found = options(market, order["id"], market.seller_tokens["a"])
    assert not any(o["allowed"] for o in found["options"])
    assert all(any(r["rule"] == "destination" for r in o["refusals"]) for o in found["options"])
    # a store in Spain cannot use the services that ship from China only
    semi = market.place("a_semi")
    post = option(options(market, semi["id"], market.seller_tokens["a"]), "TG-POST-REG")
    assert [r["rule"] for r in post["refusals"]] == ["origin"]


def test_insurance_premium_is_quoted_and_required_cover_refuses_uninsurable_services(
    market: Market,
) -> None:
    # G3: above the threshold the premium is quoted; asking for cover drops services without it.
    install_catalog(market)
    pricey = add_product(
        market,
        "a_self",
        name="Camera 相机",
        category="electronics/camera",
        declared_value_minor=45_000,
        price_minor=45_000,
    )
    order = place_with(market, "a_self", pricey)
    plain = options(market, order["id"], market.seller_tokens["a"])
    assert option(plain, "TG-EXPRESS")["quote"]["insurance_premium_minor"] == 450
    insured = options(market, order["id"], market.seller_tokens["a"], insure="true")
    express = option(insured, "TG-EXPRESS")["quote"]
    assert express["lines"][-1] == {
        "code": "insurance_premium",
        "amount_minor": 450,
        "detail": "cover for 45000 USD",
    }
    assert [r["rule"] for r in option(insured, "TG-POST-REG")["refusals"]] == ["insurance_offered"]


def test_only_operators_change_the_catalog_and_sellers_see_only_their_orders(
    market: Market,
) -> None:
    # F5: sellers read the rules that bind them but cannot change them; other sellers' orders hide.
    install_catalog(market)
    seller = market.seller_tokens["a"]
    service = SERVICES[0].model_dump(mode="json") | {"code": "MINE"}
    assert market.post("/logistics-services", seller, service).status_code == 403
    assert (
        market.post(
            "/route-rules", seller, {"position": 1, "name": "x", "effect": "allow"}
        ).status_code
        == 403
    )
    assert market.get("/logistics-services", market.channel).status_code == 403
    order = market.place("a_self")
    denied = market.get(f"/orders/{order['id']}/shipping-options", market.seller_tokens["b"])
    assert denied.status_code == 404
    assert (
        market.post(
            "/logistics-services", market.operator, SERVICES[0].model_dump(mode="json")
        ).status_code
        == 409
    )


def test_rate_cards_are_versioned_and_never_start_in_the_past(
    market: Market, clock: FrozenClock
) -> None:
    # G1: a new card version takes over at its start; quotes name the version they used.
    install_catalog(market)
    card = market.ok(market.get("/logistics-services/TG-EXPRESS/rate-cards", market.operator))[0]
    body = {"currency": "USD", "card": card["card"] | {"fuel_bp": 0}}
    past = {**body, "effective_from": (clock.now() - timedelta(hours=1)).isoformat()}
    refused = market.post("/logistics-services/TG-EXPRESS/rate-cards", market.operator, past)
    assert refused.status_code == 422 and refused.json()["rule"] == "not_past"
    start = clock.now() + timedelta(days=1)
    v2 = market.ok(
        market.post(
            "/logistics-services/TG-EXPRESS/rate-cards",
            market.operator,
            {**body, "effective_from": start.isoformat()},
        ),
        201,
    )
    assert v2["version"] == 2
    order = market.place("a_self")
    before = option(options(market, order["id"], market.operator), "TG-EXPRESS")["quote"]
    clock.advance(timedelta(days=1, seconds=1))
    after = option(options(market, order["id"], market.operator), "TG-EXPRESS")["quote"]
    assert (before["rate_card_version"], after["rate_card_version"]) == (1, 2)
    assert [x["code"] for x in after["lines"]] == ["base"]
    zones = card["card"]["zones"]
    bad = {"currency": "USD", "card": {"zones": [zones[0], zones[0]]}}
    invalid = market.post("/logistics-services/TG-EXPRESS/rate-cards", market.operator, bad)
    assert invalid.status_code == 422


def test_route_rules_are_replaced_with_if_match_and_retired(market: Market) -> None:
    # F5: operators edit rules as data; a stale If-Match is refused; a retired rule stops applying.
    install_catalog(market)
    battery = add_product(market, "a_self")
    order = place_with(market, "a_self", battery)
    rules = {r["position"]: r for r in market.ok(market.get("/route-rules", market.operator))}
    deny = rules[20]
    body = {
        "position": 20,
        "name": "Batteries by standard too",
        "effect": "deny",
        "conditions": {"categories": ["battery"], "services": ["TG-POST-SMALL", "TG-POST-REG"]},
    }
    stale = market.client.put(
        f"/api/v1/route-rules/{deny['id']}",
        json=body,
        headers={**auth(market.operator), "If-Match": str(deny["version"] + 1)},
    )
    assert stale.status_code == 409
    replaced = market.client.put(
        f"/api/v1/route-rules/{deny['id']}",
        json=body,
        headers={**auth(market.operator), "If-Match": str(deny["version"])},
    )
    assert replaced.status_code == 200 and replaced.json()["version"] == deny["version"] + 1
    allowed = [
        o["service_code"]
        for o in options(market, order["id"], market.operator)["options"]
        if o["allowed"]
    ]
    assert allowed == ["TG-STANDARD", "TG-EXPRESS"]
    gone = market.client.delete(f"/api/v1/route-rules/{deny['id']}", headers=auth(market.operator))
    assert gone.status_code == 200 and gone.json()["active"] is False
    assert deny["id"] not in {
        r["id"] for r in market.ok(market.get("/route-rules", market.operator))
    }

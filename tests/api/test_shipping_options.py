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
        "country": "ES",
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
            # G7: the same reason as a catalog key and its parameters, for any language
            "code": "refusal_route_rule",
            "params": {
                "position": 20,
                "name": "No batteries in any other service",
                "service": "TG-STANDARD",
            },
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
    assert [(r["rule"], r["code"], r["params"]) for r in small["refusals"]] == [
        ("max_weight", "refusal_max_weight", {"weight": 2500, "limit": 2000}),
        ("max_longest_side", "refusal_max_longest_side", {"side": 650, "limit": 600}),
        ("max_sum_of_sides", "refusal_max_sum_of_sides", {"total": 950, "limit": 900}),
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
        "note": "quote_note_insurance_premium",
        "params": {"value": {"money": [45000, "USD"]}},
    }
    (refusal,) = option(insured, "TG-POST-REG")["refusals"]
    assert (refusal["rule"], refusal["code"]) == ("insurance_offered", "refusal_no_insurance")


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


def test_a_route_rule_naming_an_unknown_service_or_store_or_a_taken_position_is_refused(
    market: Market,
) -> None:
    # F5, bad input: given the demo rules (positions 10-41) and services
    install_catalog(market)
    rule = {
        "position": 50,
        "name": "No express to Poland",
        "effect": "deny",
        "conditions": {"services": ["TG-EXPRESS", "TG-TELEPORT"], "countries": ["PL"]},
    }
    # when the rule names a service nobody sells, then 422 names the field and the service
    unknown = market.post("/route-rules", market.operator, rule)
    assert unknown.status_code == 422
    assert unknown.headers["content-type"] == "application/problem+json"
    problem = unknown.json()
    assert (problem["field"], problem["rule"], problem["unknown"]) == (
        "conditions.services",
        "known_service",
        ["TG-TELEPORT"],
    )
    # a store that does not exist is refused the same way
    ghost = {**rule, "conditions": {"store_ids": [market.stores["a_self"], "sto_nobody"]}}
    refused = market.post("/route-rules", market.operator, ghost)
    assert refused.status_code == 422
    assert (refused.json()["field"], refused.json()["unknown"]) == (
        "conditions.store_ids",
        ["sto_nobody"],
    )
    # when the position is another rule's, then 409 names the field and the rule holding it
    rules = {r["position"]: r for r in market.ok(market.get("/route-rules", market.operator))}
    taken = market.post("/route-rules", market.operator, {**rule, "position": 20, "conditions": {}})
    assert taken.status_code == 409
    assert (taken.json()["field"], taken.json()["rule"]) == ("position", "position_taken")
    assert taken.json()["taken_by"] == rules[20]["id"]
    assert taken.json()["taken_by_name"] == "No batteries in any other service"
    # nothing was added, and a rule keeps its own position when it is rewritten
    assert len(market.ok(market.get("/route-rules", market.operator))) == len(rules)
    kept = {**rule, "position": 20, "conditions": {"categories": ["battery"]}}
    same = market.client.put(
        f"/api/v1/route-rules/{rules[20]['id']}", json=kept, headers=auth(market.operator)
    )
    assert same.status_code == 200, same.text
    moved = market.client.put(
        f"/api/v1/route-rules/{rules[20]['id']}",
        json={**kept, "position": 30},
        headers=auth(market.operator),
    )
    assert moved.status_code == 409 and moved.json()["taken_by"] == rules[30]["id"]


def test_an_inverted_band_names_what_is_wrong(market: Market) -> None:
    # F5, bad input: each band refusal has its own rule, so a client can say which band
    install_catalog(market, rules=False)
    base = {"position": 1, "name": "Band", "effect": "deny"}
    for conditions, rule in (
        ({"min_weight_g": 500, "max_weight_g": 100}, "weight_band"),
        ({"min_value_minor": 100}, "value_currency_needed"),
        ({"value_currency": "USD", "min_value_minor": 500, "max_value_minor": 100}, "value_band"),
    ):
        refused = market.post("/route-rules", market.operator, {**base, "conditions": conditions})
        assert refused.status_code == 422
        assert (refused.json()["field"], refused.json()["rule"]) == ("conditions", rule)


def test_an_uninsurable_parcel_is_refused_with_the_threshold_as_money(market: Market) -> None:
    # G3: earbuds declared at $19.99 are below the $50.00 the insured services cover
    install_catalog(market)
    order = market.place("a_self")
    insured = options(market, order["id"], market.seller_tokens["a"], insure="true")
    assert not any(o["allowed"] for o in insured["options"])
    (refusal,) = option(insured, "TG-EXPRESS")["refusals"]
    assert refusal["code"] == "refusal_insurance_threshold"
    assert refusal["params"] == {"threshold": {"money": [5000, "USD"]}}
    assert "minor units" in refusal["detail"]  # the API's English sentence is kept as it was

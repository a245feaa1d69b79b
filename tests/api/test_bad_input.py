"""Bad input gets a 4xx problem+json naming the field and the rule, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders.market import ADDRESS, Market


def _order(m: Market, **over: Any) -> dict[str, Any]:
    body = {
        "store_id": m.stores["a_self"],
        "currency": "USD",
        "address": dict(ADDRESS),
        "lines": [{"product_id": m.products["a_self"], "quantity": 1}],
    }
    body.update(over)
    return body


def _count(m: Market) -> int:
    return len(m.ok(m.get("/orders", m.operator, params={"limit": 200}))["items"])


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"surprise": 1}, 422, "surprise"),
        ({"lines": [{"product_id": "x", "quantity": -1}]}, 422, "lines.0.quantity"),
        ({"lines": [{"product_id": "x", "quantity": "many"}]}, 422, "lines.0.quantity"),
        ({"lines": []}, 422, "lines"),
        ({"currency": "ZZZ"}, 422, "currency"),
        ({"currency": "EUR"}, 422, "currency"),
        ({"currency": 5}, 422, "currency"),
        ({"store_id": "sto_nope"}, 422, "store_id"),
        ({"address": {**ADDRESS, "country": "XX"}}, 422, "address.country"),
        ({"address": {**ADDRESS, "phone": "call me"}}, 422, "address.phone"),
        ({"shipping_minor": 1.5}, 422, "shipping_minor"),
    ],
)
def test_bad_orders_are_refused_and_nothing_is_created(
    market: Market, change: dict[str, Any], status: int, field: str
) -> None:
    m = market
    before = _count(m)
    r = m.post("/orders", m.channel, _order(m, **change))
    assert r.status_code == status, r.text
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert problem["field"] == field
    assert (
        problem["title"]
        and problem["detail"]
        and problem["type"].startswith("urn:tuoguan:problem:")
    )
    assert _count(m) == before


@pytest.mark.parametrize("tracking", ["short", "LP-0012345678", "lp00123456789cn", "A" * 31, ""])
def test_tracking_number_of_the_wrong_shape_is_refused(market: Market, tracking: str) -> None:  # F9
    m = market
    order = m.place("a_self")
    r = m.post(
        f"/orders/{order['id']}/ship",
        m.seller_tokens["a"],
        {"carrier_code": "cainiao", "tracking_number": tracking},
    )
    assert r.status_code == 422 and r.json()["field"] == "tracking_number"
    assert r.json()["rule"] == "string_pattern_mismatch"
    assert m.ok(m.get(f"/orders/{order['id']}", m.operator))["status"] == "awaiting_shipment"


def test_malformed_json_and_bad_query_are_4xx(market: Market) -> None:
    m = market
    r = m.client.post(
        "/api/v1/orders",
        content=b"{not json",
        headers={"Authorization": f"Bearer {m.channel}", "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert m.get("/orders", m.operator, params={"limit": 0}).status_code == 422
    assert m.get("/orders", m.operator, params={"status": "lost"}).status_code == 422
    r = m.get("/orders", m.operator, params={"cursor": "!!!"})
    assert r.status_code == 400 and r.json()["field"] == "cursor"
    r = m.get("/orders", m.operator, params={"due_before": "2026-11-20T00:00:00"})
    assert r.status_code == 422 and r.json()["field"] == "due_before"


def test_store_promise_is_one_or_two_business_days(market: Market) -> None:  # F1
    m = market
    r = m.client.patch(
        f"/api/v1/stores/{m.stores['a_semi']}",
        json={"ship_promise_days": 3},
        headers={"Authorization": f"Bearer {m.seller_tokens['a']}"},
    )
    assert r.status_code == 422 and r.json()["field"] == "ship_promise_days"


def test_stale_if_match_is_a_conflict(market: Market) -> None:
    m = market
    order = m.place("a_full")
    r = m.post(f"/orders/{order['id']}/confirm", m.seller_tokens["a"], headers={"If-Match": "99"})
    assert r.status_code == 409
    assert r.json()["type"] == "urn:tuoguan:problem:concurrent_update"
    ok = m.post(
        f"/orders/{order['id']}/confirm",
        m.seller_tokens["a"],
        headers={"If-Match": str(order["version"])},
    )
    assert ok.status_code == 200


def test_text_no_database_can_store_is_refused(market: Market) -> None:
    m = market
    r = m.post("/orders", m.channel, _order(m, buyer_ref="a\x00b"))
    assert r.status_code == 422 and r.json()["field"] == "buyer_ref"
    r = m.get("/orders/ord_%00x", m.operator)
    assert r.status_code in (404, 422)
    assert _count(m) == 0


@pytest.mark.parametrize("zone", ["Europe", "Mars/Olympus", "../etc/passwd", ""])
def test_store_time_zone_must_be_an_iana_zone(market: Market, zone: str) -> None:
    m = market
    r = m.post(
        "/stores",
        m.operator,
        {
            "seller_id": m.sellers["a"],
            "name": "tz",
            "mode": "self_run",
            "country": "CN",
            "currency": "USD",
            "timezone": zone,
        },
    )
    assert r.status_code == 422 and r.json()["field"] == "timezone"


def test_instants_beyond_the_calendar_are_refused_not_crashed(market: Market) -> None:  # F6 O5
    m = market
    extreme = "0001-01-01T00:00:00+01:00"  # before year 1 in UTC
    listed = m.get("/orders", m.operator, params={"due_before": extreme})
    assert listed.status_code == 422 and listed.json()["field"] == "due_before"
    tiers = [{"from_hours": 0, "to_hours": None, "rate_bp": 100, "rating_points": 1}]
    body = {"kind": "ship_late", "tiers": tiers, "effective_from": extreme}
    policy = m.post("/penalty-policies", m.operator, body)
    assert policy.status_code == 422 and policy.json()["field"] == "effective_from"
    assert m.ok(m.get("/penalty-policies", m.operator)) == []


def test_numbers_and_booleans_in_a_body_must_be_json_numbers_and_booleans(market: Market) -> None:
    # issue 10: JSON true, "1" and 1.0 are not the whole number 1, nor "yes" a boolean
    m = market
    for quantity in (True, "1", 1.0, 1.5):
        line = {"product_id": m.products["a_self"], "quantity": quantity}
        r = m.post("/orders", m.channel, _order(m, lines=[line]))
        assert r.status_code == 422, (quantity, r.text)
        assert (r.json()["field"], r.json()["rule"]) == ("lines.0.quantity", "int_type")
    for shipping in (False, "0", 0.0):
        r = m.post("/orders", m.channel, _order(m, shipping_minor=shipping))
        assert r.status_code == 422 and r.json()["field"] == "shipping_minor", shipping
    assert _count(m) == 0
    m.ok(m.post("/orders", m.channel, _order(m)), 201)  # a JSON number is still a number
    promise = m.client.patch(
        f"/api/v1/stores/{m.stores['a_semi']}",
        json={"ship_promise_days": True},
        headers={"Authorization": f"Bearer {m.seller_tokens['a']}"},
    )
    assert promise.status_code == 422 and promise.json()["field"] == "ship_promise_days"
    product = {
        "store_id": m.stores["a_self"],
        "name": "Cable",
        "category": "electronics/cable",
        "declared_value_minor": "500",
        "price_minor": 500,
        "weight_g": 50,
        "length_mm": 100,
        "width_mm": 50,
        "height_mm": 10,
    }
    r = m.post("/products", m.seller_tokens["a"], product)
    assert r.status_code == 422 and r.json()["field"] == "declared_value_minor"
    service = {
        "code": "TG-TEST",
        "name": "Test service",
        "carrier_code": "sandbox",
        "kind": "standard",
        "origin_countries": ["CN"],
        "max_weight_g": 2000,
        "max_sum_sides_mm": 900,
        "max_longest_side_mm": 600,
        "tracked": "yes",
    }
    r = m.post("/logistics-services", m.operator, service)
    assert (r.status_code, r.json()["field"], r.json()["rule"]) == (422, "tracked", "bool_type")


def test_urls_in_a_body_are_urls(market: Market) -> None:
    # issue 10: claim evidence and product images are http(s) URLs, printable, no %00
    m = market
    claim = {"kind": "loss", "amount_minor": 100, "description": "lost"}
    for evidence in (
        "not a url",
        "http://<script>alert(1)</script>",
        "https://evidence.example/photo%00.png",
        "javascript:alert(1)",
        "https://evidence.example/" + "x" * 500,
    ):
        r = m.post(
            "/shipments/shp_nope/claims", m.seller_tokens["a"], {**claim, "evidence": [evidence]}
        )
        assert r.status_code == 422, (evidence, r.text)
        assert r.json()["field"] == "evidence.0", evidence
    product = {
        "store_id": m.stores["a_self"],
        "name": "Cable",
        "category": "electronics/cable",
        "declared_value_minor": 500,
        "price_minor": 500,
        "weight_g": 50,
        "length_mm": 100,
        "width_mm": 50,
        "height_mm": 10,
        "images": ["https://img.example/cable%00.png"],
    }
    r = m.post("/products", m.seller_tokens["a"], product)
    assert r.status_code == 422 and r.json()["field"] == "images.0"

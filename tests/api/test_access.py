"""Roles and scoping: who may see and change what (denials first)."""

from __future__ import annotations

from tests.builders.market import Market, auth


def test_no_token_is_401_with_problem_body(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/orders")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/orders", headers=auth("tg_not-a-real-token")).status_code == 401
    assert client.get("/api/v1/orders", headers=auth("garbage")).status_code == 401


def test_another_sellers_order_is_not_found_not_forbidden(market: Market) -> None:
    m = market
    order = m.place("b_self")
    a = m.seller_tokens["a"]
    assert m.get(f"/orders/{order['id']}", a).status_code == 404
    assert m.get(f"/orders/{order['id']}/events", a).status_code == 404
    r = m.post(
        f"/orders/{order['id']}/ship",
        a,
        {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"},
    )
    assert r.status_code == 404
    assert (
        m.ok(m.get(f"/orders/{order['id']}", m.seller_tokens["b"]))["status"] == "awaiting_shipment"
    )
    listed = m.ok(m.get("/orders", a))["items"]
    assert order["id"] not in [o["id"] for o in listed]


def test_seller_cannot_touch_another_sellers_store_or_product(market: Market) -> None:
    m = market
    a = m.seller_tokens["a"]
    assert m.get(f"/stores/{m.stores['b_self']}", a).status_code == 404
    r = m.client.patch(
        f"/api/v1/stores/{m.stores['b_self']}", json={"name": "mine now"}, headers=auth(a)
    )
    assert r.status_code == 404
    assert m.get(f"/products/{m.products['b_self']}", a).status_code == 404
    r = m.post(
        "/products",
        a,
        {
            "store_id": m.stores["b_self"],
            "name": "x",
            "category": "toys",
            "declared_value_minor": 1,
            "weight_g": 1,
            "length_mm": 1,
            "width_mm": 1,
            "height_mm": 1,
            "price_minor": 1,
        },
    )
    assert r.status_code == 404 and r.json()["field"] == "store_id"
    assert {s["id"] for s in m.ok(m.get("/stores", a))} == {
        m.stores[k] for k in ("a_self", "a_semi", "a_full")
    }


def test_full_managed_store_is_opened_only_by_an_operator(market: Market) -> None:  # M2
    m = market
    r = m.post(
        "/stores",
        m.seller_tokens["a"],
        {
            "seller_id": m.sellers["a"],
            "name": "sneaky",
            "mode": "full_managed",
            "country": "CN",
            "currency": "USD",
            "linked_store_id": m.stores["a_self"],
        },
    )
    assert r.status_code == 403 and r.json()["field"] == "mode"
    r = m.post(
        "/stores",
        m.operator,
        {
            "seller_id": m.sellers["a"],
            "name": "unlinked",
            "mode": "full_managed",
            "country": "CN",
            "currency": "USD",
            "on_behalf_reason": "opened on the seller's behalf",
        },
    )
    assert r.status_code == 422 and r.json()["field"] == "linked_store_id"


def test_full_managed_retail_price_is_the_operators(market: Market) -> None:  # C1
    m = market
    r = m.client.patch(
        f"/api/v1/products/{m.products['a_full']}",
        json={"price_minor": 1},
        headers=auth(m.seller_tokens["a"]),
    )
    assert r.status_code == 403 and r.json()["field"] == "price_minor"


def test_a_seller_cannot_clear_the_operators_retail_price(market: Market) -> None:  # C1
    m = market
    product = m.products["a_full"]
    before = m.ok(m.get(f"/products/{product}", m.operator))["price_minor"]
    r = m.client.patch(
        f"/api/v1/products/{product}",
        json={"price_minor": None},
        headers=auth(m.seller_tokens["a"]),
    )
    assert r.status_code == 403 and r.json()["rule"] == "operator_sets_retail_price"
    assert m.ok(m.get(f"/products/{product}", m.operator))["price_minor"] == before
    # The storefront still sells it.
    m.place("a_full")


def test_a_product_on_sale_keeps_its_prices(market: Market) -> None:  # C1
    m = market
    for key, token, field in (
        ("a_full", m.operator, "price_minor"),
        ("a_full", m.seller_tokens["a"], "supply_price_minor"),
        ("a_self", m.seller_tokens["a"], "price_minor"),
    ):
        r = m.client.patch(
            f"/api/v1/products/{m.products[key]}", json={field: None}, headers=auth(token)
        )
        assert r.status_code == 422 and r.json()["rule"] == "on_sale_keeps_price", r.text
        assert r.json()["field"] == field
    m.place("a_full")
    m.place("a_self")


def test_only_operators_decide_product_reviews(market: Market) -> None:  # C2
    m = market
    (revision,) = m.ok(m.get(f"/products/{m.products['a_full']}/revisions", m.seller_tokens["a"]))
    r = m.post(
        f"/products/{m.products['a_full']}/revisions/{revision['id']}/decision",
        m.seller_tokens["a"],
        {"decision": "approve"},
    )
    assert r.status_code == 403
    r = m.post(f"/products/{m.products['a_self']}/suspend", m.seller_tokens["a"], {"reason": "x"})
    assert r.status_code == 403


def test_carrier_sees_only_parcels_it_carries(market: Market) -> None:
    m = market
    mine = m.place("a_self")
    other = m.place("a_self")
    seller = m.seller_tokens["a"]
    m.ok(
        m.post(
            f"/orders/{mine['id']}/ship",
            seller,
            {"carrier_code": "cainiao", "tracking_number": "LP00000000001CN"},
        )
    )
    m.ok(
        m.post(
            f"/orders/{other['id']}/ship",
            seller,
            {"carrier_code": "yanwen", "tracking_number": "LP00000000002CN"},
        )
    )
    assert m.get(f"/orders/{other['id']}", m.carrier).status_code == 404
    assert m.post(f"/orders/{other['id']}/deliver", m.carrier).status_code == 404
    assert m.ok(m.post(f"/orders/{mine['id']}/deliver", m.carrier))["status"] == "delivered"
    assert m.get("/products", m.carrier).status_code == 403


def test_roles_outside_a_transition_are_forbidden(market: Market) -> None:
    m = market
    order = m.place("a_full")
    assert m.post(f"/orders/{order['id']}/confirm", m.channel).status_code == 403
    r = m.post(
        "/orders",
        m.seller_tokens["a"],
        {"store_id": m.stores["a_self"], "currency": "USD", "address": {}, "lines": []},
    )
    assert r.status_code in (403, 422)
    assert (
        m.post("/sellers", m.seller_tokens["a"], {"name": "x", "country": "CN"}).status_code == 403
    )
    assert (
        m.post("/tokens", m.seller_tokens["a"], {"name": "x", "role": "operator"}).status_code
        == 403
    )


def test_buyer_channel_sees_only_active_products(market: Market) -> None:  # C2
    m = market
    product = m.ok(
        m.post(
            "/products",
            m.seller_tokens["a"],
            {
                "store_id": m.stores["a_self"],
                "name": "draft",
                "category": "toys",
                "declared_value_minor": 1,
                "weight_g": 1,
                "length_mm": 1,
                "width_mm": 1,
                "height_mm": 1,
                "price_minor": 100,
            },
        ),
        201,
    )
    assert m.get(f"/products/{product['id']}", m.channel).status_code == 404
    body = {
        "store_id": m.stores["a_self"],
        "currency": "USD",
        "address": {
            "name": "A",
            "phone": "+3461234567",
            "line1": "x",
            "city": "y",
            "country": "ES",
        },
        "lines": [{"product_id": product["id"], "quantity": 1}],
    }
    r = m.post("/orders", m.channel, body)
    assert r.status_code == 422 and r.json()["field"] == "lines.0.product_id"


def test_operator_issues_scoped_tokens(market: Market) -> None:
    m = market
    issued = m.ok(
        m.post(
            "/tokens", m.operator, {"name": "b bot", "role": "seller", "seller_id": m.sellers["b"]}
        ),
        201,
    )
    assert issued["token"].startswith("tg_")
    me = m.ok(m.get("/me", issued["token"]))
    assert me["role"] == "seller" and me["seller_id"] == m.sellers["b"]
    r = m.post("/tokens", m.operator, {"name": "bad", "role": "seller"})
    assert r.status_code == 422 and r.json()["field"] == "seller_id"


def test_operator_revokes_a_token_and_it_stops_working(market: Market) -> None:
    m = market
    issued = m.ok(m.post("/tokens", m.operator, {"name": "bot", "role": "buyer_channel"}), 201)
    assert m.get("/me", issued["token"]).status_code == 200
    listed = m.ok(m.get("/tokens", m.operator))
    assert issued["id"] in [t["id"] for t in listed] and all("token" not in t for t in listed)
    assert m.post(f"/tokens/{issued['id']}/revoke", m.seller_tokens["a"]).status_code == 403
    assert m.get("/tokens", m.seller_tokens["a"]).status_code == 403
    revoked = m.ok(m.post(f"/tokens/{issued['id']}/revoke", m.operator))
    assert revoked["revoked_at"] is not None
    assert m.get("/me", issued["token"]).status_code == 401
    assert m.post("/tokens/tok_nope/revoke", m.operator).status_code == 404

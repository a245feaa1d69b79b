"""Finding an order and whose it is (G7, O5): the order list's search (order number, tracking
number, buyer name or phone, product name or SKU code) and the seller and store filters of the
order, breach and penalty lists, on both engines. How each reads its index is
tests/integration/test_list_plans.py's business; here, what each finds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.builders.market import ADDRESS, Market
from tests.builders.workers import sweep_once
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock

TIERS = [
    {"from_hours": 0, "to_hours": 24, "rate_bp": 500, "rating_points": 1},
    {"from_hours": 24, "to_hours": None, "rate_bp": 1000, "rating_points": 3},
]


def _buyer(name: str, phone: str) -> dict[str, Any]:
    return {"address": {**ADDRESS, "name": name, "phone": phone}}


def _found(m: Market, token: str, **query: Any) -> list[str]:
    body = m.ok(m.get("/orders", token, params={"limit": 200, **query}))
    return [o["id"] for o in body["items"]]


def _lamp(m: Market) -> tuple[str, list[str]]:
    """A product of seller a's semi-managed store named "Desk lamp 台灯", in two colours."""
    body = {
        "store_id": m.stores["a_semi"],
        "name": "Desk lamp 台灯",
        "category": "home/lighting",
        "declared_value_minor": 2500,
        "weight_g": 900,
        "length_mm": 300,
        "width_mm": 200,
        "height_mm": 150,
        "price_minor": 2999,
        "skus": [
            {"code": "LAMP-WHITE", "attributes": {"colour": "white"}},
            {"code": "LAMP-BLACK", "attributes": {"colour": "black"}},
        ],
    }
    product = m.ok(m.post("/products", m.seller_tokens["a"], body), 201)
    m.list_product(product["id"], m.seller_tokens["a"])
    return product["id"], [s["id"] for s in product["skus"]]


def test_the_search_finds_an_order_by_each_of_its_handles_within_what_the_caller_sees(
    market: Market, clock: FrozenClock
) -> None:  # G7 O5
    m = market
    a, b = m.seller_tokens["a"], m.seller_tokens["b"]
    ana = m.place("a_semi", **_buyer("Ana Ruiz", "+34 600 111 222"))["id"]
    clock.advance(timedelta(minutes=1))
    ana_again = m.place("a_self", **_buyer("Ana Ruiz", "+34 600 111 222"))["id"]
    clock.advance(timedelta(minutes=1))
    ana_at_b = m.place("b_semi", **_buyer("Ana Ruiz", "+34 600 999 000"))["id"]
    clock.advance(timedelta(minutes=1))
    other = m.place("a_semi", **_buyer("Ana Ruiz-Díaz", "+34 600 111 223"))["id"]
    product, (white, black) = _lamp(m)
    clock.advance(timedelta(minutes=1))
    lines = [
        {"product_id": product, "sku_id": black, "quantity": 1},
        {"product_id": product, "sku_id": black, "quantity": 2},  # one SKU, two lines
    ]
    lamp = m.ok(
        m.post(
            "/orders",
            m.channel,
            {
                "store_id": m.stores["a_semi"],
                "currency": "EUR",
                "address": ADDRESS,
                "lines": lines,
            },
        ),
        201,
    )["id"]
    m.ok(
        m.post(
            f"/orders/{ana}/ship",
            a,
            {"carrier_code": "cainiao", "tracking_number": "LP00424242424CN"},
        )
    )

    # The order number, with or without its prefix, in any case.
    assert _found(m, m.operator, q=ana) == [ana]
    assert _found(m, m.operator, q=ana.removeprefix("ord_").lower()) == [ana]
    assert _found(m, m.operator, q=f"  {ana}  ") == [ana]
    # The tracking number as a person types it.
    assert _found(m, m.operator, q="lp 0042 4242 424cn") == [ana]
    # The buyer's name and phone exactly, newest first, every store's.
    assert _found(m, m.operator, q="Ana Ruiz") == [ana_at_b, ana_again, ana]
    assert _found(m, m.operator, q="+34 600 111 222") == [ana_again, ana]
    assert _found(m, m.operator, q="Ana") == []  # exact, not a prefix
    # A product by its name or a SKU's code, each order once.
    assert _found(m, m.operator, q="Desk lamp 台灯") == [lamp]
    assert _found(m, m.operator, q="LAMP-BLACK") == [lamp]
    assert _found(m, m.operator, q="LAMP-WHITE") == []
    assert _found(m, m.operator, q="nothing like it") == []

    # A seller finds its own orders only; a store or a seller narrows the search.
    assert _found(m, a, q="Ana Ruiz") == [ana_again, ana]
    assert _found(m, b, q="Ana Ruiz") == [ana_at_b]
    assert _found(m, b, q=ana) == [] and _found(m, b, q="LAMP-BLACK") == []
    assert _found(m, a, q="Ana Ruiz", store_id=m.stores["a_semi"]) == [ana]
    assert _found(m, a, q="Ana Ruiz", store_id=m.stores["b_semi"]) == []
    assert _found(m, a, q="Ana Ruiz", seller_id=m.sellers["b"]) == []
    assert _found(m, m.operator, q="Ana Ruiz", seller_id=m.sellers["b"]) == [ana_at_b]
    assert _found(m, m.operator, q="Ana Ruiz", seller_id=m.sellers["a"]) == [ana_again, ana]
    assert _found(m, m.channel, q=ana_at_b) == [ana_at_b]
    assert other not in _found(m, m.operator, q="Ana Ruiz")

    # A page at a time, the pages running on where the last stopped.
    walked: list[str] = []
    query: dict[str, Any] = {"q": "Ana Ruiz", "limit": 1}
    while True:
        page = m.ok(m.get("/orders", m.operator, params=query))
        walked += [o["id"] for o in page["items"]]
        if not page["next_cursor"]:
            break
        query["cursor"] = page["next_cursor"]
    assert walked == [ana_at_b, ana_again, ana]

    # What a search cannot do is said, naming the field.
    refused = m.get("/orders", m.operator, params={"q": "Ana Ruiz", "status": "shipped"})
    assert refused.status_code == 422 and refused.json()["field"] == "q", refused.text
    deadline = m.get("/orders", a, params={"q": "Ana Ruiz", "sort": "deadline"})
    assert deadline.status_code == 422 and deadline.json()["field"] == "q"
    carrier = m.get("/orders", m.carrier, params={"q": "Ana Ruiz"})
    assert carrier.status_code == 403 and carrier.json()["field"] == "q"
    by_seller = m.get("/orders", m.carrier, params={"seller_id": m.sellers["a"]})
    assert by_seller.status_code == 403 and by_seller.json()["field"] == "seller_id"
    assert m.get("/orders", m.operator, params={"q": ""}).status_code == 422
    assert m.get("/orders", m.operator, params={"q": "x" * 201}).status_code == 422
    assert m.get("/orders", m.operator, params={"q": "x", "cursor": "junk"}).status_code == 400


def test_orders_breaches_and_penalties_narrow_to_a_seller_or_a_store(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # G7 O2 F6
    m = market
    a, b = m.seller_tokens["a"], m.seller_tokens["b"]
    m.ok(m.post("/penalty-policies", m.operator, {"kind": "ship_late", "tiers": TIERS}), 201)
    placed = {key: m.place(key)["id"] for key in ("a_semi", "a_self", "b_semi")}
    clock.advance(timedelta(days=6))
    sweep_once(client, clock, settings)
    sweep_once(client, clock, settings)

    def orders(token: str, **query: Any) -> set[str]:
        return set(_found(m, token, **query))

    assert orders(m.operator, seller_id=m.sellers["a"]) == {placed["a_semi"], placed["a_self"]}
    assert orders(m.operator, seller_id=m.sellers["b"]) == {placed["b_semi"]}
    assert orders(m.operator, seller_id=m.sellers["b"], store_id=m.stores["a_semi"]) == set()
    assert orders(m.operator, seller_id=m.sellers["a"], store_id=m.stores["a_semi"]) == {
        placed["a_semi"]
    }
    assert orders(a, seller_id=m.sellers["b"]) == set()
    assert orders(a, seller_id=m.sellers["a"]) == {placed["a_semi"], placed["a_self"]}
    assert orders(m.channel, seller_id=m.sellers["b"]) == {placed["b_semi"]}

    def listed(path: str, token: str, **query: Any) -> set[str]:
        return {r["order_id"] for r in m.ok(m.get(path, token, params=query))}

    for path in ("/breaches", "/penalties"):
        assert listed(path, m.operator) == set(placed.values()), path
        assert listed(path, m.operator, seller_id=m.sellers["b"]) == {placed["b_semi"]}, path
        assert listed(path, m.operator, store_id=m.stores["a_self"]) == {placed["a_self"]}, path
        assert listed(path, m.operator, store_id=m.stores["a_self"], seller_id=m.sellers["b"]) == (
            set()
        ), path
        assert listed(path, a, store_id=m.stores["a_semi"]) == {placed["a_semi"]}, path
        assert listed(path, a, store_id=m.stores["b_semi"]) == set(), path
        assert listed(path, a, seller_id=m.sellers["b"]) == set(), path
        assert listed(path, b) == {placed["b_semi"]}, path
    assert listed("/penalties", m.operator, store_id=m.stores["a_semi"], status="assessed") == {
        placed["a_semi"]
    }

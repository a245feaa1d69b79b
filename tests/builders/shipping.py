"""Builders: the demo's logistics catalog installed through the API, and products to ship."""

from __future__ import annotations

from typing import Any

from tests.builders.market import ADDRESS, Market
from tuoguan.demo import shipping as demo


def install_catalog(m: Market, *, rules: bool = True) -> None:
    """The demo services, their USD and EUR cards and (optionally) its route rules."""
    for service in demo.SERVICES:
        m.ok(m.post("/logistics-services", m.operator, service.model_dump(mode="json")), 201)
    for code, card in demo.rate_cards():
        m.ok(
            m.post(
                f"/logistics-services/{code}/rate-cards", m.operator, card.model_dump(mode="json")
            ),
            201,
        )
    if rules:
        for rule in demo.RULES:
            m.ok(m.post("/route-rules", m.operator, rule.model_dump(mode="json")), 201)


def add_product(m: Market, store_key: str, **overrides: Any) -> str:
    """Another active product in a store (self-run or semi-managed), e.g. a battery."""
    seller = store_key.split("_")[0]
    body = {
        "store_id": m.stores[store_key],
        "name": "Power bank 充电宝",
        "category": "battery/power-bank",
        "declared_value_minor": 2599,
        "price_minor": 2599,
        "weight_g": 260,
        "length_mm": 140,
        "width_mm": 70,
        "height_mm": 25,
        **overrides,
    }
    product = m.ok(m.post("/products", m.seller_tokens[seller], body), 201)
    m.ok(m.post(f"/products/{product['id']}/status", m.operator, {"status": "active"}))
    return str(product["id"])


def place_with(
    m: Market, store_key: str, product_id: str, quantity: int = 1, **address: Any
) -> dict[str, Any]:
    """An order for one product, to the market's default address unless overridden."""
    body = {
        "store_id": m.stores[store_key],
        "currency": "EUR" if store_key.endswith("semi") else "USD",
        "address": {**ADDRESS, **address},
        "lines": [{"product_id": product_id, "quantity": quantity}],
    }
    return dict(m.ok(m.post("/orders", m.channel, body), 201))


def options(m: Market, order_id: str, token: str, **params: Any) -> dict[str, Any]:
    """The order's shipping options as the API lists them."""
    return dict(m.ok(m.get(f"/orders/{order_id}/shipping-options", token, params=params)))


def option(found: dict[str, Any], code: str) -> dict[str, Any]:
    """One service's entry among the options."""
    return next(o for o in found["options"] if o["service_code"] == code)

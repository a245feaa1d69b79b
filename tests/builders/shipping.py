"""Builders: the demo's logistics catalog installed through the API, and products to ship."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.builders.market import ADDRESS, Market
from tuoguan.shipping.carriers import sandbox_catalog as demo
from tuoguan.shipping.carriers.sandbox_server import Sandbox


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
    m.list_product(product["id"], m.seller_tokens[seller])
    return str(product["id"])


def place_with(
    m: Market, store_key: str, product_id: str, quantity: int = 1, **address: Any
) -> dict[str, Any]:
    """An order for one product, to the market's default address unless overridden, as an
    operator sees it."""
    body = {
        "store_id": m.stores[store_key],
        "currency": "EUR" if store_key.endswith("semi") else "USD",
        "address": {**ADDRESS, **address},
        "lines": [{"product_id": product_id, "quantity": quantity}],
    }
    placed = m.ok(m.post("/orders", m.channel, body), 201)
    return dict(m.ok(m.get(f"/orders/{placed['id']}", m.operator)))


def options(m: Market, order_id: str, token: str, **params: Any) -> dict[str, Any]:
    """The order's shipping options as the API lists them."""
    return dict(m.ok(m.get(f"/orders/{order_id}/shipping-options", token, params=params)))


def option(found: dict[str, Any], code: str) -> dict[str, Any]:
    """One service's entry among the options."""
    return next(o for o in found["options"] if o["service_code"] == code)


SANDBOX_API_KEY = "test-sandbox-key"
SANDBOX_SECRET = "test-sandbox-webhook-secret"
SENDER = {
    "name": "深圳优品科技 张三",
    "phone": "+86 138 0013 8000",
    "line1": "广东省深圳市南山区科苑路15号",
    "city": "深圳",
    "postcode": "518057",
    "country": "CN",
}


@dataclass
class SandboxHandle:
    """The running sandbox carrier: its URL and its state (to check what it was told)."""

    url: str
    sandbox: Sandbox

    def tick(self, http: httpx.Client) -> dict[str, int]:
        """Run the sandbox's due steps and push the events, as its own loop would."""
        answer = http.post(f"{self.url}/_sandbox/tick")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def fate(
        self, http: httpx.Client, tracking_number: str, fate: str, weigh_g: int | None = None
    ) -> None:
        answer = http.post(
            f"{self.url}/_sandbox/parcels/{tracking_number}/fate",
            json={"fate": fate, "weigh_g": weigh_g},
        )
        assert answer.status_code == 200, answer.text


def connect_sandbox(m: Market, handle: SandboxHandle) -> None:
    """Register the sandbox as the carrier account 'sandbox', with the demo catalog and senders."""
    m.ok(
        m.post(
            "/carrier-accounts",
            m.operator,
            {
                "code": "sandbox",
                "name": "Sandbox carrier",
                "adapter": "sandbox",
                "base_url": handle.url,
                "api_key": SANDBOX_API_KEY,
                "webhook_secret": SANDBOX_SECRET,
            },
        ),
        201,
    )
    install_catalog(m)
    set_senders(m)


def set_senders(m: Market) -> None:
    """Every store ships from the same Shenzhen sender."""
    for key, store_id in m.stores.items():
        seller = key.split("_")[0]
        answer = m.client.patch(
            f"/api/v1/stores/{store_id}",
            json={"sender_address": SENDER},
            headers={"Authorization": f"Bearer {m.seller_tokens[seller]}"},
        )
        assert answer.status_code == 200, answer.text


def ship(
    m: Market, order_id: str, token: str, service: str = "TG-POST-REG", **body: Any
) -> dict[str, Any]:
    """Create a shipment for an order and return it."""
    return dict(
        m.ok(m.post(f"/orders/{order_id}/shipments", token, {"service_code": service, **body}), 201)
    )

"""Builders: a marketplace seeded through the public API, with a token per role."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from tuoguan.accounts import service as accounts
from tuoguan.accounts.principal import SYSTEM, Role
from tuoguan.context import Ctx
from tuoguan.db import Database

_keys = itertools.count()

ADDRESS = {
    "name": "Maria Lopez", "phone": "+34 612 345 678", "line1": "Calle Mayor 1",
    "city": "Madrid", "postcode": "28013", "country": "ES",
}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def issue_token(client: TestClient, role: Role, *, seller_id: str | None = None,
                carrier_code: str | None = None) -> str:
    """Issue a token directly through the accounts service (as the CLI does)."""

    async def create() -> str:
        db: Database = client.app.state.db  # type: ignore[attr-defined]
        async with db.write() as session:
            ctx = Ctx(principal=SYSTEM, clock=client.app.state.clock)  # type: ignore[attr-defined]
            _, secret = await accounts.create_token(
                session, ctx=ctx, name=f"test {role.value}", role=role, seller_id=seller_id,
                carrier_code=carrier_code,
            )
            await session.commit()
            return secret

    assert client.portal is not None
    return client.portal.call(create)


@dataclass
class Market:
    """Ids and tokens of a seeded marketplace."""

    client: TestClient
    operator: str
    channel: str
    carrier: str
    sellers: dict[str, str] = field(default_factory=dict)  # name -> seller id
    seller_tokens: dict[str, str] = field(default_factory=dict)
    stores: dict[str, str] = field(default_factory=dict)  # "a_full" ... -> store id
    products: dict[str, str] = field(default_factory=dict)  # store key -> product id

    def post(self, path: str, token: str, json: Any = None, **kw: Any) -> Any:
        return self.client.post(f"/api/v1{path}", json=json, headers={**auth(token), **kw.pop("headers", {})}, **kw)

    def get(self, path: str, token: str, **kw: Any) -> Any:
        return self.client.get(f"/api/v1{path}", headers=auth(token), **kw)

    def ok(self, response: Any, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    @classmethod
    def build(cls, client: TestClient) -> Market:
        m = cls(
            client=client,
            operator=issue_token(client, Role.operator),
            channel=issue_token(client, Role.buyer_channel),
            carrier=issue_token(client, Role.carrier, carrier_code="cainiao"),
        )
        for name, country in (("a", "CN"), ("b", "CN")):
            seller = m.ok(m.post("/sellers", m.operator, {"name": f"Seller {name}", "country": country}), 201)
            m.sellers[name] = seller["id"]
            m.seller_tokens[name] = issue_token(client, Role.seller, seller_id=seller["id"])
            base = m.ok(m.post("/stores", m.operator, {
                "seller_id": seller["id"], "name": f"{name} self", "mode": "self_run",
                "country": "CN", "currency": "USD", "ship_promise_days": 2}), 201)
            semi = m.ok(m.post("/stores", m.operator, {
                "seller_id": seller["id"], "name": f"{name} semi", "mode": "semi_managed",
                "country": "ES", "currency": "EUR", "ship_promise_days": 1}), 201)
            full = m.ok(m.post("/stores", m.operator, {
                "seller_id": seller["id"], "name": f"{name} full", "mode": "full_managed",
                "country": "CN", "currency": "USD", "linked_store_id": base["id"]}), 201)
            for key, store in (("self", base), ("semi", semi), ("full", full)):
                m.stores[f"{name}_{key}"] = store["id"]
                m.products[f"{name}_{key}"] = m.make_product(name, store, full=key == "full")
        return m

    def make_product(self, seller: str, store: dict[str, Any], *, full: bool) -> str:
        token = self.seller_tokens[seller]
        body = {
            "store_id": store["id"], "name": "Earbuds 耳机", "category": "electronics/audio",
            "declared_value_minor": 1999, "weight_g": 80, "length_mm": 100, "width_mm": 80,
            "height_mm": 40,
        }
        body["supply_price_minor" if full else "price_minor"] = 1200 if full else 1999
        product = self.ok(self.post("/products", token, body), 201)
        if full:
            self.ok(self.client.patch(f"/api/v1/products/{product['id']}", json={"price_minor": 1999},
                                      headers=auth(self.operator)))
        self.ok(self.post(f"/products/{product['id']}/status", self.operator, {"status": "active"}))
        return str(product["id"])

    def place(self, store_key: str, quantity: int = 1, **extra: Any) -> dict[str, Any]:
        store_id = self.stores[store_key]
        currency = "EUR" if store_key.endswith("semi") else "USD"
        body = {"store_id": store_id, "currency": currency, "address": ADDRESS,
                "lines": [{"product_id": self.products[store_key], "quantity": quantity}], **extra}
        return dict(self.ok(self.post("/orders", self.channel, body), 201))

    @staticmethod
    def new_key() -> str:
        return f"key-{next(_keys)}"

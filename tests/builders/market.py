"""Builders: a marketplace seeded through the public API, with a token per role."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts import service as accounts
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.notify.models import Notification
from tuoguan.principal import SYSTEM, Role

_keys = itertools.count()
T = TypeVar("T")
PASSWORD = "correct-horse-battery"

# The platform's domestic consolidation warehouse (优选仓) every seeded market has: the
# platform ships full-managed orders from it (M5, F11), so a full-managed order gets a supply
# order to its seller until the warehouse holds stock (tests/builders/stock.py adds some).
HUB = {
    "code": "DG-HUB",
    "name": "优选仓 Dongguan hub",
    "owner": "platform",
    "kind": "consolidation",
    "address": {
        "name": "优选仓 东莞枢纽",
        "phone": "+86 769 2233 4400",
        "line1": "松山湖园区 工业南路 1 号",
        "city": "Dongguan",
        "region": "Guangdong",
        "postcode": "523808",
        "country": "CN",
    },
    "country": "CN",
    "pickup_cutoff": "16:00",
    "ship_days": 2,
}

ADDRESS = {
    "name": "Maria Lopez",
    "phone": "+34 612 345 678",
    "line1": "Calle Mayor 1",
    "city": "Madrid",
    "postcode": "28013",
    "country": "ES",
}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _fanned_out(session: AsyncSession, ctx: Ctx) -> None:
    """The worker's fan-out has run on what the build notified (the product approvals) while
    no seller had a webhook endpoint: a test's endpoint hears only what the test does."""
    await session.execute(
        update(Notification)
        .where(Notification.fanned_out_at.is_(None))
        .values(fanned_out_at=Notification.created_at)
    )


def as_system(db_url: str, work: Callable[[AsyncSession, Ctx], Awaitable[T]]) -> T:
    """Run one write transaction as the system, on its own connection (as the CLI does)."""

    async def run() -> T:
        async with Database.opened(db_url) as db, db.write() as session:
            result = await work(session, Ctx(principal=SYSTEM))
            await session.commit()
            return result

    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


def issue_token(
    db_url: str,
    role: Role,
    *,
    seller_id: str | None = None,
    carrier_code: str | None = None,
    warehouse_ids: Sequence[str] = (),
) -> str:
    """Issue a token directly through the accounts service (warehouse staff name their
    warehouses: ``issue_token(url, Role.warehouse, warehouse_ids=[wh["id"]])``)."""

    async def create(session: AsyncSession, ctx: Ctx) -> str:
        _, secret = await accounts.create_token(
            session,
            ctx=ctx,
            name=f"test {role.value}",
            role=role,
            seller_id=seller_id,
            carrier_code=carrier_code,
            warehouse_ids=warehouse_ids,
        )
        return secret

    return as_system(db_url, create)


def create_console_user(
    db_url: str,
    email: str,
    role: Role,
    seller_id: str | None = None,
    locale: str = "en",
    *,
    warehouse_ids: Sequence[str] = (),
) -> None:
    """A console user with the password ``PASSWORD``."""

    async def create(session: AsyncSession, ctx: Ctx) -> None:
        await accounts.create_user(
            session,
            ctx=ctx,
            email=email,
            password=PASSWORD,
            display_name=email.split("@")[0],
            role=role,
            seller_id=seller_id,
            warehouse_ids=warehouse_ids,
            locale=locale,
        )

    as_system(db_url, create)


@dataclass
class Market:
    """Ids and tokens of a seeded marketplace."""

    client: httpx.Client
    db_url: str
    operator: str
    channel: str
    carrier: str
    sellers: dict[str, str] = field(default_factory=dict)  # name -> seller id
    seller_tokens: dict[str, str] = field(default_factory=dict)
    stores: dict[str, str] = field(default_factory=dict)  # "a_full" ... -> store id
    products: dict[str, str] = field(default_factory=dict)  # store key -> product id
    platform_warehouse: str = ""  # the seeded consolidation warehouse (优选仓), empty

    def post(self, path: str, token: str, json: Any = None, **kw: Any) -> Any:
        return self.client.post(
            f"/api/v1{path}", json=json, headers={**auth(token), **kw.pop("headers", {})}, **kw
        )

    def get(self, path: str, token: str, **kw: Any) -> Any:
        return self.client.get(f"/api/v1{path}", headers=auth(token), **kw)

    def ok(self, response: Any, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    @classmethod
    def build(cls, client: httpx.Client, db_url: str) -> Market:
        m = cls(
            client=client,
            db_url=db_url,
            operator=issue_token(db_url, Role.operator),
            channel=issue_token(db_url, Role.buyer_channel),
            carrier=issue_token(db_url, Role.carrier, carrier_code="cainiao"),
        )
        m.platform_warehouse = m.ok(m.post("/warehouses", m.operator, HUB), 201)["id"]
        for name, country in (("a", "CN"), ("b", "CN")):
            seller = m.ok(
                m.post("/sellers", m.operator, {"name": f"Seller {name}", "country": country}), 201
            )
            m.sellers[name] = seller["id"]
            m.seller_tokens[name] = issue_token(db_url, Role.seller, seller_id=seller["id"])
            base = m.ok(
                m.post(
                    "/stores",
                    m.operator,
                    {
                        "seller_id": seller["id"],
                        "name": f"{name} self",
                        "mode": "self_run",
                        "country": "CN",
                        "currency": "USD",
                        "ship_promise_days": 2,
                    },
                ),
                201,
            )
            semi = m.ok(
                m.post(
                    "/stores",
                    m.operator,
                    {
                        "seller_id": seller["id"],
                        "name": f"{name} semi",
                        "mode": "semi_managed",
                        "country": "ES",
                        "currency": "EUR",
                        "ship_promise_days": 1,
                    },
                ),
                201,
            )
            full = m.ok(
                m.post(
                    "/stores",
                    m.operator,
                    {
                        "seller_id": seller["id"],
                        "name": f"{name} full",
                        "mode": "full_managed",
                        "country": "CN",
                        "currency": "USD",
                        "linked_store_id": base["id"],
                        # M2: opened directly, it is an invitation accepted on the seller's
                        # behalf, and joins at once
                        "on_behalf_reason": "seeded market: joined before the test",
                    },
                ),
                201,
            )
            for key, store in (("self", base), ("semi", semi), ("full", full)):
                m.stores[f"{name}_{key}"] = store["id"]
                m.products[f"{name}_{key}"] = m.make_product(name, store, full=key == "full")
        as_system(db_url, _fanned_out)
        return m

    def make_product(self, seller: str, store: dict[str, Any], *, full: bool) -> str:
        token = self.seller_tokens[seller]
        body = {
            "store_id": store["id"],
            "name": "Earbuds 耳机",
            "category": "electronics/audio",
            "declared_value_minor": 1999,
            "weight_g": 80,
            "length_mm": 100,
            "width_mm": 80,
            "height_mm": 40,
        }
        body["supply_price_minor" if full else "price_minor"] = 1200 if full else 1999
        product = self.ok(self.post("/products", token, body), 201)
        self.list_product(product["id"], token, retail_price_minor=1999 if full else None)
        return str(product["id"])

    def list_product(
        self, product_id: str, token: str, *, retail_price_minor: int | None = None
    ) -> dict[str, Any]:
        """Put a product on sale the way its seller does (C2): listed at once, or submitted for
        review where it needs one and approved by an operator (full-managed: at
        ``retail_price_minor``). Returned as its seller reads it."""
        listed = self.ok(self.post(f"/products/{product_id}/list", token))
        if listed["status"] == "under_review":
            decision: dict[str, Any] = {"decision": "approve"}
            if retail_price_minor is not None:
                decision["retail_price_minor"] = retail_price_minor
            revision = listed["pending_revision_id"]
            path = f"/products/{product_id}/revisions/{revision}/decision"
            self.ok(self.post(path, self.operator, decision))
        product = self.ok(self.get(f"/products/{product_id}", token))
        assert product["status"] == "active", product
        return dict(product)

    def news(self, token: str, **params: Any) -> list[dict[str, Any]]:
        """A seller's notifications less the product approvals the market's build sent them
        (``params`` as for GET /notifications)."""
        notes = self.ok(self.get("/notifications", token, params=params or None))
        return [n for n in notes if n["kind"] != "prd_review_approved"]

    def place(self, store_key: str, quantity: int = 1, **extra: Any) -> dict[str, Any]:
        """The storefront places an order; returned as an operator sees it (with its deadlines)."""
        store_id = self.stores[store_key]
        currency = "EUR" if store_key.endswith("semi") else "USD"
        body = {
            "store_id": store_id,
            "currency": currency,
            "address": ADDRESS,
            "lines": [{"product_id": self.products[store_key], "quantity": quantity}],
            **extra,
        }
        placed = self.ok(self.post("/orders", self.channel, body), 201)
        return dict(self.ok(self.get(f"/orders/{placed['id']}", self.operator)))

    @staticmethod
    def new_key() -> str:
        return f"key-{next(_keys)}"

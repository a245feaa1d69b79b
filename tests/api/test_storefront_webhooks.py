"""The storefront's own webhooks, and the buyer told why a parcel was cancelled, in the buyer's
language (O6)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.karrio import TRACKING_NUMBER, Recorded, connect_fedex, fedex  # noqa: F401
from tests.builders.market import Market, as_system
from tests.builders.shipping import ship
from tests.builders.webhooks import Receiver
from tests.builders.workers import sweep_once
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.kit import i18n
from tuoguan.kit.clock import FrozenClock
from tuoguan.notify import service as notify
from tuoguan.notify.webhooks import MAX_ENDPOINTS

STOREFRONT_URL = "https://shop.example.com/tuoguan-hook"
WAITED = timedelta(hours=48)


@pytest.fixture
def receivers() -> Iterator[dict[str, Receiver]]:
    """One webhook receiver each for the storefront, seller a and the operators."""
    made = {who: Receiver() for who in ("storefront", "seller", "operator")}
    yield made
    for receiver in made.values():
        receiver.close()


def _bodies(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(body) for _, body in receiver.received]


def test_the_storefront_keeps_endpoints_of_its_own_that_no_seller_sees(market: Market) -> None:
    # O6: given the storefront registering an endpoint for what its buyers are told
    m = market
    seller = m.seller_tokens["a"]
    hook = m.ok(m.post("/webhooks", m.channel, {"url": STOREFRONT_URL}), 201)
    assert hook["audience"] == "storefront" and "seller_id" not in hook  # it names no seller
    assert hook["secret"].startswith("whsec_")
    # then its URL is checked as a seller's is: never an internal address
    for bad in ("http://169.254.169.254/latest/meta-data", "https://localhost/hook"):
        refused = m.post("/webhooks", m.channel, {"url": bad})
        assert refused.status_code == 422 and refused.json()["field"] == "url"
    # and it names no seller's notifications
    someone = m.post("/webhooks", m.channel, {"url": STOREFRONT_URL, "seller_id": m.sellers["a"]})
    assert someone.status_code == 404
    # and the storefront and the operators list it, a seller never
    assert [h["id"] for h in m.ok(m.get("/webhooks", m.channel))] == [hook["id"]]
    seen = {h["id"]: h for h in m.ok(m.get("/webhooks", m.operator))}
    assert (seen[hook["id"]]["audience"], seen[hook["id"]]["seller_id"]) == ("storefront", None)
    mine = m.ok(m.post("/webhooks", seller, {"url": "https://seller-a.example/hook"}), 201)
    assert [h["id"] for h in m.ok(m.get("/webhooks", seller))] == [mine["id"]]
    assert mine["id"] not in [h["id"] for h in m.ok(m.get("/webhooks", m.channel))]
    # and a seller can neither read its deliveries nor disable it (nor the storefront a seller's)
    assert m.get(f"/webhooks/{hook['id']}/deliveries", seller).status_code == 404
    assert m.post(f"/webhooks/{hook['id']}/disable", seller).status_code == 404
    assert m.post(f"/webhooks/{mine['id']}/disable", m.channel).status_code == 404
    assert m.ok(m.get(f"/webhooks/{hook['id']}/deliveries", m.channel)) == []
    # and the carrier is no owner of webhooks at all
    assert m.post("/webhooks", m.carrier, {"url": STOREFRONT_URL}).status_code == 403
    # and the storefront has its own MAX_ENDPOINTS, however many a seller has
    for n in range(MAX_ENDPOINTS - 1):
        m.ok(m.post("/webhooks", m.channel, {"url": f"{STOREFRONT_URL}/{n}"}), 201)
    full = m.post("/webhooks", m.channel, {"url": f"{STOREFRONT_URL}/more"})
    assert full.status_code == 422 and full.json()["rule"] == "max_endpoints"
    # when the storefront disables one, it stops
    assert m.ok(m.post(f"/webhooks/{hook['id']}/disable", m.channel))["active"] is False
    m.ok(m.post("/webhooks", m.channel, {"url": f"{STOREFRONT_URL}/again"}), 201)


def test_the_operators_inbox_does_not_show_what_the_storefront_is_told(market: Market) -> None:
    # O6: given a word for the operators and one for a buyer, both with no seller
    m = market
    order = m.place("a_self")

    async def tell(session: AsyncSession, ctx: Ctx) -> tuple[str, str]:
        platform = notify.notify(
            session,
            ctx=ctx,
            seller_id=None,
            kind="shipment_cancel_unanswered",
            subject_type="order",
            subject_id=order["id"],
            key=i18n.N_("note_cancel_unanswered"),
            params={
                "carrier": "fedex",
                "tracking": TRACKING_NUMBER,
                "waited": i18n.duration(WAITED),
            },
        )
        buyer = notify.tell_storefront(
            session,
            ctx=ctx,
            order_id=order["id"],
            locale="zh-CN",
            kind="shipment_cancelled",
            key=i18n.N_("buyer_parcel_cancelled"),
            params={"tracking": TRACKING_NUMBER},
        )
        return platform.id, buyer.id

    platform, buyer = as_system(m.db_url, tell)
    # then the operators read theirs, all and unread, and never the storefront's
    for params in ({}, {"unread": "true"}):
        shown = [n["id"] for n in m.ok(m.get("/notifications", m.operator, params=params))]
        assert platform in shown and buyer not in shown
    assert m.post(f"/notifications/{buyer}/read", m.operator).status_code == 404
    # and no seller reads it either
    assert buyer not in [n["id"] for n in m.news(m.seller_tokens["a"])]


def test_an_unknown_buyer_language_is_refused_naming_the_field(market: Market) -> None:  # O6
    m = market
    body = {
        "store_id": m.stores["a_self"],
        "currency": "USD",
        "address": {
            "name": "A",
            "phone": "+34 612 345 678",
            "line1": "Calle 1",
            "city": "Madrid",
            "postcode": "28013",
            "country": "ES",
        },
        "lines": [{"product_id": m.products["a_self"], "quantity": 1}],
        "buyer_locale": "fr",
    }
    refused = m.post("/orders", m.channel, body)
    assert refused.status_code == 422 and refused.json()["field"] == "buyer_locale"
    placed = m.ok(m.post("/orders", m.channel, {**body, "buyer_locale": "zh-CN"}), 201)
    assert m.ok(m.get(f"/orders/{placed['id']}", m.channel))["buyer_locale"] == "zh-CN"


@pytest.mark.parametrize(
    ("locale", "who", "reason", "message"),
    [
        (
            "zh-CN",
            "seller",
            "wrong_product_info",
            f"您的包裹 {TRACKING_NUMBER} 已取消：卖家发现商品信息有误。您的订单将用新包裹重新发货。",
        ),
        (
            None,
            "buyer",
            "buyer_cancelled",
            f"Your parcel {TRACKING_NUMBER} was cancelled: the order was cancelled at your "
            "request. Your order is cancelled.",
        ),
    ],
    ids=["zh-CN, the seller cancels the parcel", "no language, the buyer cancels the order"],
)
def test_a_cancelled_parcel_tells_the_storefront_why_in_the_buyers_language(
    client: TestClient,
    market: Market,
    fedex: Recorded,  # noqa: F811
    clock: FrozenClock,
    settings: Settings,
    receivers: dict[str, Receiver],
    locale: str | None,
    who: str,
    reason: str,
    message: str,
) -> None:  # O6 F10 O4
    # given the storefront, seller a and the operators each listening, and an order placed in
    # the buyer's language with a FedEx parcel booked (FedEx confirms a cancellation at once)
    m = market
    seller = m.seller_tokens["a"]
    hooks = {
        "storefront": m.ok(
            m.post("/webhooks", m.channel, {"url": receivers["storefront"].url}), 201
        ),
        "seller": m.ok(m.post("/webhooks", seller, {"url": receivers["seller"].url}), 201),
        "operator": m.ok(m.post("/webhooks", m.operator, {"url": receivers["operator"].url}), 201),
    }
    connect_fedex(m)
    order = m.place("a_self", **({"buyer_locale": locale} if locale else {}))
    parcel = ship(m, order["id"], seller, service="TG-FEDEX-IP")
    # when the parcel is cancelled: by the seller, or by the buyer cancelling the order
    if who == "seller":
        m.ok(m.post(f"/shipments/{parcel['id']}/cancel", seller, {"reason": reason}))
    else:
        asked = {"reason": "buyer changed their mind"}
        assert m.ok(m.post(f"/orders/{order['id']}/cancel", m.channel, asked))["status"] == (
            "cancelled"
        )
    sweep_once(client, clock, settings)
    # then the storefront is told once, why and what happens next, in the buyer's words
    (told,) = _bodies(receivers["storefront"])
    assert (told["kind"], told["audience"], told["seller_id"]) == (
        "shipment_cancelled",
        "storefront",
        None,
    )
    assert told["message"] == message and told["data"]["message"] == message
    assert told["data"]["order_id"] == order["id"] and told["data"]["reason"] == reason
    assert told["data"]["locale"] == (locale or "en")
    assert told["data"]["next"] == ("reship" if who == "seller" else "order_cancelled")
    (delivery,) = m.ok(m.get(f"/webhooks/{hooks['storefront']['id']}/deliveries", m.channel))
    assert delivery["status"] == "delivered"
    # and only the storefront's endpoint got a delivery of it: the seller hears its own news
    # (in English), the operators nothing of the buyer's
    heard = [b for r in ("seller", "operator") for b in _bodies(receivers[r])]
    assert told["id"] not in [b["id"] for b in heard]
    assert all(b["audience"] != "storefront" for b in heard)
    assert any(b["kind"] == "shipment_cancelled" for b in _bodies(receivers["seller"]))
    for owner in ("seller", "operator"):
        token = seller if owner == "seller" else m.operator
        listed = m.ok(m.get(f"/webhooks/{hooks[owner]['id']}/deliveries", token))
        assert told["id"] not in [d["notification_id"] for d in listed]

"""Supply orders (备货单): the seller confirms within 24 h, or the breach and the penalty follow;
the buyer's cancellation ends them; sellers see only their own (O2, O2 × M5, R1, F6)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.market import Market, as_system
from tests.builders.workers import sweep_once
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.errors import Conflict
from tuoguan.fulfilment import service as fulfilment
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import SYSTEM

TIERS = [
    {"from_hours": 0, "to_hours": 24, "rate_bp": 200, "rating_points": 1},
    {"from_hours": 24, "to_hours": None, "rate_bp": 500, "rating_points": 2},
]


def supply_of(m: Market, order: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    found = [s for s in m.ok(m.get("/supply-orders", token or m.operator)) if s["order_id"] == order["id"]]
    (supply,) = found
    return dict(supply)


def refused(response: Any, status: int, rule: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["rule"] == rule, body
    return dict(body)


def test_the_seller_confirms_a_supply_order_with_its_countdown(
    market: Market, clock: FrozenClock
) -> None:  # O2 O2 × M5
    m = market
    seller = m.seller_tokens["b"]
    order = m.place("b_full", quantity=3)
    supply = supply_of(m, order, seller)
    assert supply["status"] == "awaiting_confirmation"
    assert supply["warehouse_id"] == m.platform_warehouse
    assert supply["confirm_seconds_left"] == 24 * 3600
    # the SKU at its supply price (the product's: 12.00 USD), as many as the buyer ordered
    assert [(line["quantity"], line["supply_price_minor"]) for line in supply["lines"]] == [
        (3, 1200)
    ]
    assert supply["currency"] == "USD"
    clock.advance(timedelta(hours=3))
    assert m.ok(m.get(f"/supply-orders/{supply['id']}", seller))["confirm_seconds_left"] == 21 * 3600

    stale = m.post(f"/supply-orders/{supply['id']}/confirm", seller, headers={"If-Match": "7"})
    assert stale.status_code == 409
    confirmed = m.ok(m.post(f"/supply-orders/{supply['id']}/confirm", seller))
    assert (confirmed["status"], confirmed["confirm_seconds_left"]) == ("confirmed", None)
    assert confirmed["confirmed_at"] is not None and confirmed["version"] == 2
    assert m.ok(m.get(f"/orders/{order['id']}", seller))["status"] == "awaiting_shipment"
    again = m.post(f"/supply-orders/{supply['id']}/confirm", seller)
    assert again.status_code == 409 and again.json()["current_state"] == "confirmed"
    events = m.ok(m.get(f"/orders/{order['id']}/events", seller))
    assert [(e["action"], e["actor_role"]) for e in events][-2:] == [
        ("supply_confirmed", "seller"),
        ("confirm", "seller"),
    ]


def test_confirming_the_order_confirms_its_supply_order(market: Market) -> None:  # O2
    m = market
    order = m.place("b_full")
    m.ok(m.post(f"/orders/{order['id']}/confirm", m.operator))
    assert supply_of(m, order)["status"] == "confirmed"


def test_an_unconfirmed_supply_order_is_a_breach_at_24_hours_and_fined(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # O2 F6
    m = market
    seller = m.seller_tokens["b"]
    m.ok(m.post("/penalty-policies", m.operator, {"kind": "confirm_late", "tiers": TIERS}), 201)
    order = m.place("b_full")
    supply = supply_of(m, order)
    clock.current = datetime.fromisoformat(supply["confirm_by"]) + timedelta(seconds=1)
    assert sweep_once(client, clock, settings)["record_breaches"] == 1
    (breach,) = m.ok(m.get("/breaches", seller))
    assert (breach["kind"], breach["responsible"], breach["order_id"]) == (
        "confirm_late",
        "seller",
        order["id"],
    )
    (note,) = [n for n in m.ok(m.get("/notifications", seller)) if n["kind"] == "confirm_late"]
    assert "24 hours" in note["message"]
    late = m.ok(m.get(f"/supply-orders/{supply['id']}", seller))
    assert late["confirm_seconds_left"] == -1

    clock.advance(timedelta(hours=2))
    m.ok(m.post(f"/supply-orders/{supply['id']}/confirm", seller))
    assert sweep_once(client, clock, settings)["assess_penalties"] == 1
    (penalty,) = m.ok(m.get("/penalties", seller))
    assert (penalty["kind"], penalty["order_id"]) == ("confirm_late", order["id"])
    assert penalty["lateness_seconds"] == 2 * 3600 + 1


def test_a_buyer_cancellation_cancels_the_supply_order_and_it_cannot_be_confirmed(
    market: Market,
) -> None:  # O4 O2 × M5
    m = market
    seller = m.seller_tokens["b"]
    order = m.place("b_full")
    supply = supply_of(m, order)
    m.ok(m.post(f"/orders/{order['id']}/cancel", m.channel, {"reason": "found it cheaper"}))
    cancelled = m.ok(m.get(f"/supply-orders/{supply['id']}", seller))
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "found it cheaper")
    body = refused(m.post(f"/supply-orders/{supply['id']}/confirm", seller), 409, "order_cancelled")
    assert body["field"] == "supply_order_id"
    assert m.ok(m.get(f"/supply-orders/{supply['id']}", seller)) == cancelled  # nothing changed
    assert m.ok(m.get(f"/orders/{order['id']}", seller))["status"] == "cancelled"


def test_an_operator_cancels_a_supply_order_and_its_order_with_it(market: Market) -> None:  # O2
    m = market
    order = m.place("b_full")
    supply = supply_of(m, order)
    assert m.post(f"/supply-orders/{supply['id']}/cancel", m.operator, {}).status_code == 422
    assert (
        m.post(
            f"/supply-orders/{supply['id']}/cancel", m.seller_tokens["b"], {"reason": "x"}
        ).status_code
        == 403
    )
    done = m.ok(
        m.post(f"/supply-orders/{supply['id']}/cancel", m.operator, {"reason": "seller out of stock"})
    )
    assert (done["status"], done["cancel_reason"]) == ("cancelled", "seller out of stock")
    gone = m.ok(m.get(f"/orders/{order['id']}", m.operator))
    assert (gone["status"], gone["cancel_reason"]) == ("cancelled", "seller out of stock")
    again = m.post(f"/supply-orders/{supply['id']}/cancel", m.operator, {"reason": "twice"})
    assert again.status_code == 409 and again.json()["allowed_actions"] == []


def test_a_seller_sees_only_its_own_supply_orders(market: Market) -> None:  # O2 M2
    m = market
    a, b = m.seller_tokens["a"], m.seller_tokens["b"]
    theirs = supply_of(m, m.place("b_full"))
    mine = supply_of(m, m.place("a_full"))
    assert m.get(f"/supply-orders/{theirs['id']}", a).status_code == 404
    assert m.post(f"/supply-orders/{theirs['id']}/confirm", a).status_code == 404
    assert [s["id"] for s in m.ok(m.get("/supply-orders", a))] == [mine["id"]]
    foreign = m.get("/supply-orders", a, params={"store_id": m.stores["b_full"]})
    assert foreign.status_code == 200 and foreign.json() == []
    assert m.ok(m.get("/supply-orders", b, params={"store_id": m.stores["b_full"]})) == [theirs]
    everyone = {s["id"] for s in m.ok(m.get("/supply-orders", m.operator))}
    assert everyone == {theirs["id"], mine["id"]}
    for token in (m.channel, m.carrier):
        assert m.get("/supply-orders", token).status_code == 403
        assert m.get(f"/supply-orders/{mine['id']}", token).status_code == 403
    assert m.post(f"/supply-orders/{mine['id']}/confirm", m.operator).status_code == 403
    assert m.get(f"/orders/{mine['order_id']}/fulfilment-orders", b).status_code == 404


def test_supply_orders_list_by_status_and_store_page_after_page(market: Market) -> None:  # O2
    m = market
    ids = [supply_of(m, m.place("b_full"))["id"] for _ in range(3)]
    m.ok(m.post(f"/supply-orders/{ids[0]}/confirm", m.seller_tokens["b"]))
    m.place("a_full")
    waiting = m.ok(
        m.get(
            "/supply-orders",
            m.operator,
            params={"status": "awaiting_confirmation", "store_id": m.stores["b_full"]},
        )
    )
    assert [s["id"] for s in waiting] == [ids[2], ids[1]]  # newest first
    both = m.ok(m.get("/supply-orders", m.operator, params={"status": ["confirmed", "cancelled"]}))
    assert [s["id"] for s in both] == [ids[0]]
    first = m.get("/supply-orders", m.seller_tokens["b"], params={"limit": 2})
    assert [s["id"] for s in first.json()] == [ids[2], ids[1]]
    link = first.headers["link"].split(";")[0].strip("<>")
    rest = m.client.get(link, headers={"Authorization": f"Bearer {m.seller_tokens['b']}"})
    assert [s["id"] for s in rest.json()] == [ids[0]] and "link" not in rest.headers
    assert m.get("/supply-orders", m.operator, params={"cursor": "nonsense"}).status_code == 400


def test_goods_sent_under_an_inbound_notice_put_the_supply_order_in_transit(
    market: Market, clock: FrozenClock
) -> None:  # R1
    m = market
    order = m.place("b_full")
    supply = supply_of(m, order)

    def sent(session: AsyncSession, _: Ctx) -> Any:
        ctx = Ctx(principal=SYSTEM, clock=clock)
        return fulfilment.supply_sent(session, ctx=ctx, supply_order_id=supply["id"])

    try:
        as_system(m.db_url, sent)
    except Conflict as refusal:  # an unconfirmed supply order is not sent
        assert refusal.extra["rule"] == "supply_not_confirmed"
    else:
        raise AssertionError("sending an unconfirmed supply order was accepted")
    m.ok(m.post(f"/supply-orders/{supply['id']}/confirm", m.seller_tokens["b"]))
    as_system(m.db_url, sent)
    as_system(m.db_url, sent)  # a second notice for the rest changes nothing
    assert m.ok(m.get(f"/supply-orders/{supply['id']}", m.operator))["status"] == "in_transit"
    events = m.ok(m.get(f"/orders/{order['id']}/events", m.operator))
    assert [e["action"] for e in events].count("supply_in_transit") == 1

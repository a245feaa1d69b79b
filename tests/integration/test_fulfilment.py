"""A buyer order becomes a fulfilment order: served from the platform warehouse's stock, or a
supply order to the seller; the seller's own modes untouched (M1, M5, O2, F11, O2 × M5)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.market import ADDRESS, Market, as_system
from tests.builders.stock import make_warehouse, sku_of, stocked
from tests.builders.workers import sweep_once
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.fulfilment import service as fulfilment
from tuoguan.inventory import service as inventory
from tuoguan.inventory.models import MoveKind
from tuoguan.kit.clock import FrozenClock
from tuoguan.orders.schemas import OrderCreate
from tuoguan.principal import SYSTEM, Principal, Role

SHIP = {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"}
TIERS = [
    {"from_hours": 0, "to_hours": 24, "rate_bp": 500, "rating_points": 1},
    {"from_hours": 24, "to_hours": None, "rate_bp": 1000, "rating_points": 3},
]


def receive(m: Market, clock: FrozenClock, warehouse: str, sku: str, quantity: int) -> list[str]:
    """Goods put away in the warehouse (as receiving does), then the waiting orders served."""

    async def work(session: AsyncSession, _: Ctx) -> list[str]:
        ctx = Ctx(principal=SYSTEM, clock=clock)
        await inventory.move(
            session,
            ctx=ctx,
            kind=MoveKind.receipt,
            warehouse_id=warehouse,
            sku_id=sku,
            quantity=quantity,
            reason="received",
        )
        return await fulfilment.serve_waiting(
            session, ctx=ctx, warehouse_id=warehouse, sku_ids=[sku]
        )

    return as_system(m.db_url, work)


def fulfilment_of(m: Market, order_id: str, token: str | None = None) -> dict[str, Any]:
    (fo,) = m.ok(m.get(f"/orders/{order_id}/fulfilment-orders", token or m.operator))
    return dict(fo)


def stock(m: Market, warehouse: str, sku: str) -> dict[str, Any]:
    (row,) = m.ok(m.get("/stock", m.operator, params={"warehouse_id": warehouse, "sku_id": sku}))
    return dict(row)


def steps(m: Market, order_id: str) -> list[tuple[str, str]]:
    events = m.ok(m.get(f"/orders/{order_id}/events", m.seller_tokens["b"]))
    return [(e["action"], e["actor_role"]) for e in events]


def test_an_order_the_warehouse_holds_stock_for_is_reserved_and_awaits_shipment(
    market: Market,
) -> None:  # M5 F11 O2 × M5
    m = market
    warehouse, sku = stocked(m, "b_full", 3)  # a second platform warehouse, the one with stock
    order = m.place("b_full")
    # the seller has nothing to confirm: the system confirmed it, the warehouse's clock runs
    assert order["status"] == "awaiting_shipment"
    deadline = order["next_deadline"]
    assert deadline["kind"] == "ship_by" and deadline["timezone"] == "Asia/Shanghai"
    # placed Wednesday 09:00 in Dongguan, before the 16:00 cut-off, 2 ship days: Friday's end
    assert deadline["at"] == "2026-11-20T23:59:59+08:00"
    assert order["deliver_by"] is not None
    fo = fulfilment_of(m, order["id"])
    assert (fo["status"], fo["shipper"], fo["warehouse_id"]) == ("reserved", "platform", warehouse)
    assert fo["ship_by"] == order["ship_by"]
    assert [(line["sku_id"], line["quantity"]) for line in fo["lines"]] == [(sku, 1)]
    assert m.ok(m.get("/supply-orders", m.seller_tokens["b"])) == []
    held = stock(m, warehouse, sku)
    assert (held["on_hand"], held["reserved"], held["available"]) == (3, 1, 2)
    assert steps(m, order["id"]) == [
        ("place", "buyer_channel"),
        ("fulfilment_reserved", "buyer_channel"),
        ("confirm", "system"),
    ]


def test_the_platform_ships_its_orders_and_the_units_leave_the_ledger(
    market: Market,
) -> None:  # F11 M1
    m = market
    warehouse, sku = stocked(m, "b_full", 2)
    order = m.place("b_full", quantity=2)
    refused = m.post(f"/orders/{order['id']}/ship", m.seller_tokens["b"], SHIP)
    assert refused.status_code == 403 and refused.json()["rule"] == "platform_ships"
    shipped = m.ok(m.post(f"/orders/{order['id']}/ship", m.operator, SHIP))
    assert shipped["status"] == "shipped"
    assert fulfilment_of(m, order["id"])["status"] == "shipped"
    left = stock(m, warehouse, sku)
    assert (left["on_hand"], left["reserved"], left["available"]) == (0, 0, 0)
    moves = m.ok(m.get("/stock/moves", m.operator, params={"sku_id": sku}))
    assert [mv["kind"] for mv in moves][:2] == ["ship", "reserve"]


def test_an_order_without_stock_waits_for_its_supply_order_then_is_served(
    market: Market, clock: FrozenClock
) -> None:  # O2 × M5 R1 F11
    m = market
    seller = m.seller_tokens["b"]
    sku = sku_of(m, "b_full")
    order = m.place("b_full", quantity=2)
    assert order["status"] == "awaiting_confirmation"
    fo = fulfilment_of(m, order["id"], seller)
    assert (fo["status"], fo["warehouse_id"]) == ("awaiting_stock", m.platform_warehouse)
    (supply,) = m.ok(m.get("/supply-orders", seller))
    assert (supply["order_id"], supply["status"]) == (order["id"], "awaiting_confirmation")
    assert supply["confirm_by"] == order["confirm_by"]

    m.ok(m.post(f"/supply-orders/{supply['id']}/confirm", seller))
    waiting = m.ok(m.get(f"/orders/{order['id']}", seller))
    # confirmed, and no ship deadline until the warehouse holds the goods
    assert waiting["status"] == "awaiting_shipment"
    assert (waiting["ship_by"], waiting["next_deadline"]) == (None, None)
    refused = m.post(f"/orders/{order['id']}/ship", m.operator, SHIP)
    assert refused.status_code == 409 and refused.json()["rule"] == "stock_not_reserved"

    clock.advance(timedelta(days=2))  # Friday 09:00: the goods arrive
    assert receive(m, clock, m.platform_warehouse, sku, 1) == []  # one short: still waiting
    assert fulfilment_of(m, order["id"])["status"] == "awaiting_stock"
    assert receive(m, clock, m.platform_warehouse, sku, 1) == [order["id"]]
    served = m.ok(m.get(f"/orders/{order['id']}", seller))
    assert served["next_deadline"]["kind"] == "ship_by"
    assert served["next_deadline"]["at"] == "2026-11-24T23:59:59+08:00"  # Tuesday
    assert fulfilment_of(m, order["id"])["status"] == "reserved"
    assert m.ok(m.get(f"/supply-orders/{supply['id']}", seller))["status"] == "received"
    assert [a for a, _ in steps(m, order["id"])] == [
        "place",
        "supply_order_created",
        "supply_confirmed",
        "confirm",
        "supply_received",
        "fulfilment_reserved",
    ]
    m.ok(m.post(f"/orders/{order['id']}/ship", m.operator, SHIP))


def test_waiting_orders_are_served_oldest_first_and_whole(
    market: Market, clock: FrozenClock
) -> None:  # M5
    m = market
    sku = sku_of(m, "b_full")
    older = m.place("b_full", quantity=2)
    clock.advance(timedelta(minutes=5))
    newer = m.place("b_full", quantity=1)
    # one unit: the older order needs two and is not served by halves; the newer takes it
    assert receive(m, clock, m.platform_warehouse, sku, 1) == [newer["id"]]
    assert receive(m, clock, m.platform_warehouse, sku, 2) == [older["id"]]
    # not confirmed when its stock came: the supply order is no longer needed
    supplies = {s["order_id"]: s for s in m.ok(m.get("/supply-orders", m.operator))}
    assert supplies[older["id"]]["status"] == "cancelled"
    assert "before it was confirmed" in supplies[older["id"]]["cancel_reason"]
    assert m.ok(m.get(f"/orders/{older['id']}", m.operator))["status"] == "awaiting_shipment"
    held = stock(m, m.platform_warehouse, sku)
    assert (held["on_hand"], held["reserved"]) == (3, 3)


def test_the_warehouse_in_the_stores_country_with_the_most_stock_is_chosen(
    market: Market,
) -> None:  # F11
    m = market
    sku = sku_of(m, "b_full")
    abroad = make_warehouse(m, code="ES1", country="ES", address={**ADDRESS, "country": "ES"})
    m.ok(
        m.post(
            "/stock/adjustments",
            m.operator,
            {"warehouse_id": abroad["id"], "sku_id": sku, "reason": "count", "on_hand": 9},
        ),
        201,
    )
    order = m.place("b_full")
    # Spain holds stock but the store is Chinese: the Chinese hub, which has none, is asked
    assert fulfilment_of(m, order["id"])["warehouse_id"] == m.platform_warehouse
    assert order["status"] == "awaiting_confirmation"


def test_no_platform_warehouse_means_no_full_managed_order(market: Market) -> None:  # F11 M5
    m = market
    hub = m.platform_warehouse
    m.ok(m.client.patch(f"/api/v1/warehouses/{hub}", json={"active": False}, headers=_op(m)))
    before = len(m.ok(m.get("/orders", m.operator))["items"])
    body = {
        "store_id": m.stores["b_full"],
        "currency": "USD",
        "address": ADDRESS,
        "lines": [{"product_id": m.products["b_full"], "quantity": 1}],
    }
    refused = m.post("/orders", m.channel, body)
    assert refused.status_code == 409, refused.text
    assert (refused.json()["rule"], refused.json()["field"]) == (
        "no_platform_warehouse",
        "store_id",
    )
    assert len(m.ok(m.get("/orders", m.operator))["items"]) == before  # nothing written
    m.place("b_self")  # the seller's own modes need no platform warehouse


def _op(m: Market) -> dict[str, str]:
    return {"Authorization": f"Bearer {m.operator}"}


def test_self_run_and_semi_managed_orders_are_shipped_by_their_seller_as_before(
    market: Market,
) -> None:  # M1 F1 F3
    m = market
    seller = m.seller_tokens["b"]
    own = make_warehouse(m, seller, owner="seller", kind="overseas", country="ES")
    for key, warehouse in (("b_self", own["id"]), ("b_semi", own["id"])):
        order = m.place(key)
        assert order["status"] == "awaiting_shipment" and order["ship_by"] is not None
        fo = fulfilment_of(m, order["id"], seller)
        assert (fo["status"], fo["shipper"]) == ("seller_ships", "seller")
        # the seller's only warehouse of the kinds its mode ships from
        assert fo["warehouse_id"] == warehouse
        m.ok(m.post(f"/orders/{order['id']}/ship", seller, SHIP))
        assert fulfilment_of(m, order["id"])["status"] == "seller_ships"
        assert [a for a, _ in steps(m, order["id"])] == ["place", "ship"]
    make_warehouse(m, seller, owner="seller", kind="seller_origin")
    order = m.place("b_self")  # two of its own now: which one is the seller's to say
    assert fulfilment_of(m, order["id"])["warehouse_id"] is None
    assert m.ok(m.get("/supply-orders", seller)) == []


def test_a_cancelled_order_gives_its_stock_back(market: Market) -> None:  # M5 O4
    m = market
    warehouse, sku = stocked(m, "b_full", 1)
    order = m.place("b_full")
    m.ok(m.post(f"/orders/{order['id']}/cancel", m.channel, {"reason": "changed my mind"}))
    assert fulfilment_of(m, order["id"])["status"] == "cancelled"
    back = stock(m, warehouse, sku)
    assert (back["on_hand"], back["reserved"], back["available"]) == (1, 0, 1)
    assert "fulfilment_cancelled" in [a for a, _ in steps(m, order["id"])]
    again = m.place("b_full")  # the unit sells again
    assert again["status"] == "awaiting_shipment"


def test_the_platforms_late_shipment_is_its_own_breach_never_the_sellers(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # F11 F6
    m = market
    seller = m.seller_tokens["b"]
    m.ok(m.post("/penalty-policies", m.operator, {"kind": "ship_late", "tiers": TIERS}), 201)
    warehouse, _ = stocked(m, "b_full", 1)
    order = m.place("b_full")
    clock.current = datetime.fromisoformat(order["ship_by"]) + timedelta(seconds=1)
    assert sweep_once(client, clock, settings)["record_breaches"] == 1
    (breach,) = m.ok(m.get("/breaches", m.operator))
    assert (breach["kind"], breach["responsible"]) == ("ship_late", "platform")
    assert breach["warehouse_id"] == warehouse
    assert m.news(seller) == []  # the seller is not told
    clock.advance(timedelta(hours=5))
    m.ok(m.post(f"/orders/{order['id']}/ship", m.operator, SHIP))
    assert sweep_once(client, clock, settings)["assess_penalties"] == 1
    (assessed,) = m.ok(m.get("/breaches", m.operator))
    assert assessed["assessed_at"] is not None and assessed["lateness_seconds"] == 5 * 3600 + 1
    assert m.ok(m.get("/penalties", m.operator)) == []  # never fined
    rating = m.ok(m.get(f"/sellers/{m.sellers['b']}/rating", seller))
    assert rating["score"] == 100 and rating["breaches"]["ship_late"] == 0


def _race(db_url: str, clock: FrozenClock, body: dict[str, Any], start: threading.Barrier) -> str:
    """One buyer's order, placed at the same moment as the others'."""

    async def main() -> str:
        async with Database.opened(db_url) as db:
            async with db.read() as warm:
                await warm.connection()
            await asyncio.to_thread(start.wait)
            channel = Principal(role=Role.buyer_channel, actor_id="storefront")
            async with db.write() as session:
                order = await fulfilment.place_order(
                    session,
                    ctx=Ctx(principal=channel, clock=clock),
                    data=OrderCreate.model_validate(body),
                )
                status = order.status.value
                await session.commit()
                return status

    return asyncio.run(main())


def test_buyers_racing_for_the_last_units_never_get_more_than_is_on_hand(
    market: Market, clock: FrozenClock
) -> None:  # M5 O2 × M5
    m = market
    warehouse, sku = stocked(m, "b_full", 2)
    body = {
        "store_id": m.stores["b_full"],
        "currency": "USD",
        "address": ADDRESS,
        "lines": [{"product_id": m.products["b_full"], "quantity": 1}],
    }
    buyers = 6
    start = threading.Barrier(buyers)
    with ThreadPoolExecutor(max_workers=buyers) as pool:
        outcomes = list(pool.map(lambda _: _race(m.db_url, clock, body, start), range(buyers)))
    # two are served from the two units; the others become supply orders to the seller
    assert sorted(outcomes) == ["awaiting_confirmation"] * 4 + ["awaiting_shipment"] * 2
    held = stock(m, warehouse, sku)
    assert (held["on_hand"], held["reserved"], held["available"]) == (2, 2, 0)
    assert len(m.ok(m.get("/supply-orders", m.operator))) == 4

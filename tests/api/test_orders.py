"""Order lifecycle through /api/v1 (O1-O5, F1, F9)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.market import Market, as_system
from tests.builders.stock import sku_of
from tuoguan.context import Ctx
from tuoguan.fulfilment import service as fulfilment
from tuoguan.inventory import service as inventory
from tuoguan.inventory.models import MoveKind
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import SYSTEM


def _goods_arrive(m: Market, clock: FrozenClock, store_key: str, quantity: int) -> None:
    """The platform's warehouse receives the seller's goods and serves the waiting orders."""

    sku = sku_of(m, store_key)

    async def work(session: AsyncSession, _: Ctx) -> None:
        ctx = Ctx(principal=SYSTEM, clock=clock)
        await inventory.move(
            session,
            ctx=ctx,
            kind=MoveKind.receipt,
            warehouse_id=m.platform_warehouse,
            sku_id=sku,
            quantity=quantity,
        )
        await fulfilment.serve_waiting(
            session, ctx=ctx, warehouse_id=m.platform_warehouse, sku_ids=[sku]
        )

    as_system(m.db_url, work)


def test_full_managed_order_walks_its_whole_life_with_a_timeline(
    market: Market, clock: FrozenClock
) -> None:  # O1 O2 O2×M5 O3 F9 F11
    m = market
    seller = m.seller_tokens["a"]
    order = m.place("a_full", quantity=2)  # the platform's warehouse has none: a supply order
    assert order["status"] == "awaiting_confirmation"
    assert order["total_minor"] == 2 * 1999 and order["subtotal_minor"] == 3998
    assert order["next_deadline"]["kind"] == "confirm_by"
    placed = datetime.fromisoformat(order["placed_at"])
    assert datetime.fromisoformat(order["confirm_by"]) - placed == timedelta(hours=24)  # O2
    assert order["next_deadline"]["seconds_left"] == 24 * 3600
    assert m.get(f"/orders/{order['id']}", seller).json()["allowed_actions"] == [
        "confirm",
        "cancel",
    ]

    o = m.ok(m.post(f"/orders/{order['id']}/confirm", seller))
    # the platform ships: no ship deadline until its warehouse holds the goods (F11)
    assert o["status"] == "awaiting_shipment" and o["next_deadline"] is None
    clock.advance(timedelta(hours=20))
    _goods_arrive(m, clock, "a_full", 2)
    o = m.ok(m.get(f"/orders/{order['id']}", seller))
    assert o["next_deadline"]["kind"] == "ship_by"
    ship = {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"}
    assert m.post(f"/orders/{order['id']}/ship", seller, ship).status_code == 403
    o = m.ok(m.post(f"/orders/{order['id']}/ship", m.operator, ship))
    assert (o["status"], o["carrier_code"], o["tracking_number"]) == (
        "shipped",
        "cainiao",
        "LP00123456789CN",
    )
    # F9: the buyer's channel sees the tracking information.
    seen = m.ok(m.get(f"/orders/{order['id']}", m.channel))
    assert seen["tracking_number"] == "LP00123456789CN"
    assert m.ok(m.post(f"/orders/{order['id']}/deliver", m.carrier))["status"] == "delivered"
    o = m.ok(m.get(f"/orders/{order['id']}", seller))
    assert o["next_deadline"]["kind"] == "auto_complete_at"  # O3
    # the buyer is told when receipt confirms itself, not the seller's deadlines
    assert m.ok(m.get(f"/orders/{order['id']}", m.channel))["auto_complete_at"] is not None
    assert m.ok(m.post(f"/orders/{order['id']}/complete", m.channel))["status"] == "completed"
    assert m.ok(m.get(f"/orders/{order['id']}", seller))["next_deadline"] is None

    events = m.ok(m.get(f"/orders/{order['id']}/events", seller))
    assert [(e["action"], e["from_state"], e["to_state"]) for e in events] == [
        ("place", None, "awaiting_confirmation"),
        ("supply_order_created", "awaiting_confirmation", "awaiting_confirmation"),
        ("supply_confirmed", "awaiting_confirmation", "awaiting_confirmation"),
        ("confirm", "awaiting_confirmation", "awaiting_shipment"),
        ("supply_received", "awaiting_shipment", "awaiting_shipment"),
        ("fulfilment_reserved", "awaiting_shipment", "awaiting_shipment"),
        ("ship", "awaiting_shipment", "shipped"),
        ("deliver", "shipped", "delivered"),
        ("complete", "delivered", "completed"),
    ]
    assert [e["actor_role"] for e in events] == [
        "buyer_channel",
        "buyer_channel",
        "seller",
        "seller",
        "system",
        "system",
        "operator",
        "carrier",
        "buyer_channel",
    ]
    # each request's steps carry its id; the warehouse's receipt ran outside any request
    assert all(e["request_id"] for e in events if e["actor_role"] != "system")


def test_semi_managed_order_ships_without_confirmation_by_its_promise(
    market: Market, clock: FrozenClock
) -> None:  # F1 O3
    m = market
    order = m.place("a_semi")
    assert order["status"] == "awaiting_shipment"
    assert order["confirm_by"] is None
    # Placed Wednesday 02:00 in Madrid, promise 1 business day: Thursday 23:59:59 Madrid.
    deadline = order["next_deadline"]
    assert deadline["kind"] == "ship_by" and deadline["timezone"] == "Europe/Madrid"
    assert deadline["at"] == "2026-11-19T23:59:59+01:00"
    # F2: deliver-by is read in the buyer's zone; a Spanish store shipping within Spain
    # adds 2 transit business days to Thursday's ship-by: Monday.
    by_kind = {d["kind"]: d for d in order["deadlines"]}
    assert set(by_kind) == {"ship_by", "deliver_by"}
    assert by_kind["deliver_by"]["at"] == "2026-11-23T23:59:59+01:00"
    assert by_kind["deliver_by"]["timezone"] == "Europe/Madrid"
    r = m.post(f"/orders/{order['id']}/confirm", m.seller_tokens["a"])
    assert r.status_code == 409
    assert r.json()["current_state"] == "awaiting_shipment"
    assert r.json()["allowed_actions"] == ["ship", "cancel"]


def test_cancel_before_shipment_records_the_reason(market: Market) -> None:  # O4
    m = market
    order = m.place("a_self")
    o = m.ok(m.post(f"/orders/{order['id']}/cancel", m.channel, {"reason": "buyer changed mind"}))
    assert o["status"] == "cancelled" and o["cancel_reason"] == "buyer changed mind"
    again = m.post(
        f"/orders/{order['id']}/ship",
        m.seller_tokens["a"],
        {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"},
    )
    assert again.status_code == 409 and again.json()["allowed_actions"] == []


def test_cancel_after_shipment_is_refused(market: Market) -> None:  # O4
    m = market
    order = m.place("a_self")
    m.ok(
        m.post(
            f"/orders/{order['id']}/ship",
            m.seller_tokens["a"],
            {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"},
        )
    )
    r = m.post(f"/orders/{order['id']}/cancel", m.channel, {"reason": "too slow"})
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["current_state"] == "shipped"


def test_lists_filter_by_status_and_page_by_deadline(
    market: Market, clock: FrozenClock
) -> None:  # O5
    m = market
    ids = []
    for _ in range(5):
        ids.append(m.place("a_full")["id"])
        clock.advance(timedelta(minutes=7))
    ids.append(m.place("a_self")["id"])
    seen: list[str] = []
    cursor = None
    while True:
        params = {"sort": "deadline", "limit": 2, "status": "awaiting_confirmation"}
        if cursor:
            params["cursor"] = cursor
        page = m.ok(m.get("/orders", m.seller_tokens["a"], params=params))
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids[:5]  # soonest confirm_by first, all of them, none twice
    newest = m.ok(m.get("/orders", m.seller_tokens["a"], params={"limit": 1}))
    assert newest["items"][0]["id"] == ids[-1]


def test_seller_exports_own_orders_as_csv(market: Market) -> None:  # O5
    m = market
    mine = m.place("a_self")["id"]
    other = m.place("b_self")["id"]
    r = m.get("/orders/export.csv", m.seller_tokens["a"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert mine in r.text and other not in r.text
    assert r.text.splitlines()[0].startswith("id,store_id,mode,status")


def test_order_state_tables_are_published(client) -> None:  # type: ignore[no-untyped-def]  # M1
    tables = client.get("/api/v1/order-states").json()
    full = next(t for t in tables if t["mode"] == "full_managed")
    assert full["initial"] == "awaiting_confirmation"
    assert {
        "source": "awaiting_confirmation",
        "action": "confirm",
        "target": "awaiting_shipment",
        "roles": ["operator", "seller", "system"],  # the system when the stock is there
    } in full["transitions"]


def test_cross_border_order_gets_deliver_by_in_the_buyers_zone(market: Market) -> None:  # F1 F2
    order = market.place("a_self")  # a Chinese store, 2-day promise, buyer in Madrid
    by_kind = {d["kind"]: d for d in order["deadlines"]}
    # Placed Wednesday 09:00 Shanghai: ship by the end of Friday, Shanghai time.
    assert by_kind["ship_by"]["at"] == "2026-11-20T23:59:59+08:00"
    assert by_kind["ship_by"]["timezone"] == "Asia/Shanghai"
    # Then 5 transit business days abroad, counted from Friday: the next Friday, Madrid time.
    assert by_kind["deliver_by"]["at"] == "2026-11-27T23:59:59+01:00"


def test_a_store_closed_day_moves_its_ship_by(market: Market) -> None:  # F1
    m = market
    seller = {"Authorization": f"Bearer {m.seller_tokens['a']}"}
    # A seller announces closures a week ahead; tomorrow's is an emergency only an operator
    # records, so no seller can push out the deadline of an order already placed.
    late = m.client.patch(
        f"/api/v1/stores/{m.stores['a_semi']}", headers=seller, json={"closed_days": ["2026-11-19"]}
    )
    assert late.status_code == 422 and late.json()["rule"] == "closed_day_notice"
    store = m.client.patch(
        f"/api/v1/stores/{m.stores['a_semi']}",
        headers={"Authorization": f"Bearer {m.operator}"},
        json={"closed_days": ["2026-11-19", "2026-11-19"]},
    )
    assert store.status_code == 200 and store.json()["closed_days"] == ["2026-11-19"]
    order = m.place("a_semi")  # Madrid, promise 1, placed Wednesday: Thursday is closed
    assert order["ship_by"] == "2026-11-20T22:59:59Z"  # Friday 23:59:59 Madrid, in UTC
    bad = m.client.patch(
        f"/api/v1/stores/{m.stores['a_semi']}", headers=seller, json={"closed_days": ["someday"]}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "closed_days.0"
    ahead = m.client.patch(
        f"/api/v1/stores/{m.stores['a_semi']}",
        headers=seller,
        json={"closed_days": ["2026-11-19", "2026-11-26"]},  # kept, and a week ahead
    )
    assert ahead.status_code == 200, ahead.text
    year = [(date(2027, 1, 1) + timedelta(days=n)).isoformat() for n in range(32)]
    closed = m.client.patch(
        f"/api/v1/stores/{m.stores['a_semi']}", headers=seller, json={"closed_days": year}
    )
    assert closed.status_code == 422 and closed.json()["rule"] == "closed_days_run"
    other = m.client.patch(
        f"/api/v1/stores/{m.stores['b_semi']}", headers=seller, json={"closed_days": ["2026-11-19"]}
    )
    assert other.status_code == 404

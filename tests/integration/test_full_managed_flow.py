"""Full-managed end to end, as the issue's "done when" reads it: a buyer order the platform
warehouse cannot serve becomes a supply order; the seller confirms it and sends the goods under
an inbound notice; the warehouse receives them, which reserves the stock; the warehouse picks,
packs and ships online; the carrier delivers and the order completes. The seller never ships to
the buyer, and its timeline shows each step (M1, M5, O2, R1, F11, the Decision O2 × M5)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.builders.inbound import notice_body, staff
from tests.builders.market import Market
from tests.builders.shipping import SandboxHandle, connect_sandbox, option
from tests.builders.stock import sku_of
from tuoguan.kit.clock import FrozenClock


def _fo(m: Market, order_id: str) -> dict[str, Any]:
    (fo,) = m.ok(m.get(f"/orders/{order_id}/fulfilment-orders", m.operator))
    return dict(fo)


def _stock(m: Market, warehouse: str, sku: str) -> dict[str, int]:
    rows = m.ok(m.get("/stock", m.operator, params={"warehouse_id": warehouse, "sku_id": sku}))
    if not rows:
        return {"on_hand": 0, "reserved": 0, "inbound": 0}
    (row,) = rows
    return {k: row[k] for k in ("on_hand", "reserved", "inbound")}


def test_a_full_managed_order_is_supplied_received_and_shipped_by_the_platform(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock
) -> None:  # M1 M5 O2 R1 F11
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    seller = m.seller_tokens["a"]
    hub = m.platform_warehouse  # the marketplace's 优选仓, holding nothing yet
    sku = sku_of(m, "a_full")
    picker = staff(m, hub)

    # The buyer orders; the warehouse has none: the seller gets a supply order, 24 h to confirm.
    order = m.place("a_full", quantity=2)
    assert order["status"] == "awaiting_confirmation"
    assert _fo(m, order["id"])["status"] == "awaiting_stock"
    (supply,) = m.ok(m.get("/supply-orders", seller, params={"status": "awaiting_confirmation"}))
    assert (supply["order_id"], supply["warehouse_id"]) == (order["id"], hub)
    assert supply["confirm_by"] == order["confirm_by"]
    assert [(x["sku_id"], x["quantity"]) for x in supply["lines"]] == [(sku, 2)]

    # O2: the seller confirms the supply order, which confirms the buyer order.
    clock.advance(timedelta(hours=3))
    confirmed = m.ok(m.post(f"/supply-orders/{supply['id']}/confirm", seller))
    assert confirmed["status"] == "confirmed"
    waiting = m.ok(m.get(f"/orders/{order['id']}", seller))
    assert waiting["status"] == "awaiting_shipment" and waiting["ship_by"] is None

    # Even now, the seller may not ship the buyer's parcel: the platform ships (F11).
    refused = m.post(
        f"/orders/{order['id']}/ship",
        seller,
        {"carrier_code": "cainiao", "tracking_number": "LP00000000001CN"},
    )
    assert refused.status_code == 403 and refused.json()["rule"] == "platform_ships"

    # R1: the goods go in under an inbound notice, answered by the supply order.
    body = notice_body(m, hub, [(sku, 2)], cartons=1, supply_order_id=supply["id"])
    notice = m.ok(m.post("/inbound-notices", seller, body), 201)
    labels = m.get(f"/inbound-notices/{notice['id']}/labels.pdf", seller)
    assert labels.status_code == 200 and labels.content.startswith(b"%PDF")
    sent = m.ok(m.post(f"/inbound-notices/{notice['id']}/send", seller))
    assert sent["status"] == "in_transit"
    assert m.ok(m.get(f"/supply-orders/{supply['id']}", seller))["status"] == "in_transit"
    assert _stock(m, hub, sku) == {"on_hand": 0, "reserved": 0, "inbound": 2}

    # The warehouse finds it by the carrier's tracking number, as a scanner types it, and
    # receives it: the stock is put away and at once reserved for the waiting order.
    clock.advance(timedelta(hours=20))
    (found,) = m.ok(
        m.get("/inbound-notices/lookup", picker, params={"code": body["tracking_number"]})
    )
    assert found["id"] == notice["id"]
    m.ok(m.post(f"/inbound-notices/{notice['id']}/arrive", picker))
    counted = {"counts": [{"code": sku, "good": 2}]}
    m.ok(m.post(f"/inbound-notices/{notice['id']}/counts", picker, counted))
    closed = m.ok(m.post(f"/inbound-notices/{notice['id']}/close", picker))
    assert closed["status"] == "received"
    assert _stock(m, hub, sku) == {"on_hand": 2, "reserved": 2, "inbound": 0}
    fo = _fo(m, order["id"])
    assert (fo["status"], fo["warehouse_id"]) == ("reserved", hub)
    served = m.ok(m.get(f"/orders/{order['id']}", m.operator))
    assert served["ship_by"] is not None  # the warehouse's own clock now runs (F11)
    assert m.ok(m.get(f"/supply-orders/{supply['id']}", seller))["status"] == "received"

    # The platform holds the goods now: the seller can neither price its parcel nor cancel it.
    priced = m.get(f"/orders/{order['id']}/shipping-options", seller)
    assert priced.status_code == 403 and priced.json()["rule"] == "platform_ships"
    dropped = m.post(f"/orders/{order['id']}/cancel", seller, {"reason": "changed my mind"})
    assert dropped.status_code == 403 and dropped.json()["rule"] == "platform_holds_stock"
    assert _fo(m, order["id"])["status"] == "reserved"

    # F11: the warehouse picks, quotes from its own address, and ships online.
    (entry,) = m.ok(m.get(f"/warehouses/{hub}/pick-list", picker))
    assert entry["id"] == fo["id"]
    m.ok(
        m.post(
            f"/fulfilment-orders/{fo['id']}/pick", picker, {"items": [{"code": sku, "quantity": 2}]}
        )
    )
    quoted = m.ok(m.post(f"/fulfilment-orders/{fo['id']}/quotes", picker))
    quote = option(quoted, "TG-POST-REG")["quote"]
    shipped = m.ok(
        m.post(
            f"/fulfilment-orders/{fo['id']}/ship",
            picker,
            {"service_code": "TG-POST-REG", "expected_total_minor": quote["total_minor"]},
        )
    )
    parcel = shipped["shipment"]
    assert parcel["payer"] == "platform"
    assert _stock(m, hub, sku) == {"on_hand": 0, "reserved": 0, "inbound": 0}

    # The carrier takes it in and delivers; the buyer confirms receipt (O3).
    sandbox_carrier.fate(m.client, parcel["tracking_number"], "normal")
    clock.advance(timedelta(hours=7))
    sandbox_carrier.tick(m.client)
    clock.advance(timedelta(days=12))
    sandbox_carrier.tick(m.client)
    assert m.ok(m.get(f"/orders/{order['id']}", m.operator))["status"] == "delivered"
    assert m.ok(m.post(f"/orders/{order['id']}/complete", m.channel))["status"] == "completed"

    # The seller's timeline shows every step, and none of them is the seller shipping.
    timeline = m.ok(m.get(f"/orders/{order['id']}/events", seller))
    steps = [e["action"] for e in timeline]
    expected = [
        "place",
        "supply_order_created",
        "supply_confirmed",
        "confirm",
        "supply_in_transit",
        "supply_received",
        "fulfilment_reserved",
        "fulfilment_picked",
        "fulfilment_packed",
        "ship",
        "deliver",
        "complete",
    ]
    assert _in_order(steps, expected) == expected, steps
    assert not [e for e in timeline if e["action"] == "ship" and e["actor_role"] == "seller"]


def _in_order(steps: list[str], wanted: list[str]) -> list[str]:
    """The wanted steps as they occur (each step once, the first time), for an order check."""
    seen: list[str] = []
    for step in steps:
        if step in wanted and step not in seen:
            seen.append(step)
    return seen

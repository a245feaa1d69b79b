"""A buyer's cancel after shipment asks the carrier to stop the parcel (O4 with F10): confirmed,
the order is cancelled; refused, it stays shipped and the cancel becomes a return (through the
listeners of ``shipping.cancel_listeners``); a parcel past stopping is a clear 409."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.market import Market, issue_token
from tests.builders.money import amounts, entries, push
from tests.builders.shipping import SandboxHandle, connect_sandbox, ship
from tests.builders.stock import stocked
from tests.builders.workers import sweep_database
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.kit.clock import FrozenClock
from tuoguan.orders.models import Order
from tuoguan.orders.states import TRANSITIONS, OrderAction, OrderStatus
from tuoguan.principal import Role
from tuoguan.shipping import cancel_listeners

BUYER_LEFT = {"reason": "buyer changed their mind"}
FEE = "shipping_fee_charged"

Heard = tuple[str, str, str, Role]


@pytest.fixture
def returns() -> Iterator[list[Heard]]:
    """A stand-in for the return the cases layer opens: what each call was told, registered
    for the test only."""
    heard: list[Heard] = []

    async def listener(session: AsyncSession, ctx: Ctx, order: Order, reason: str) -> None:
        heard.append((order.id, order.status.value, reason, ctx.principal.role))

    cancel_listeners.register(listener)
    cancel_listeners.register(listener)  # registering twice still calls it once
    try:
        yield heard
    finally:
        cancel_listeners.unregister(listener)
    assert listener not in cancel_listeners.AFTER_SHIPMENT_REFUSED


def _shipped(m: Market, sandbox: SandboxHandle) -> tuple[dict[str, Any], dict[str, Any]]:
    """An order shipped online: its parcel booked and submitted (not yet picked up)."""
    connect_sandbox(m, sandbox)
    seller = m.seller_tokens["a"]
    order = m.place("a_self")
    shipment = ship(m, order["id"], seller)
    m.ok(m.post(f"/shipments/{shipment['id']}/submit", seller))
    assert m.ok(m.get(f"/orders/{order['id']}", m.operator))["status"] == "shipped"
    return order, shipment


def _picked_up(
    m: Market, sandbox: SandboxHandle, clock: FrozenClock
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An order shipped online whose parcel the sandbox carrier picked up."""
    order, shipment = _shipped(m, sandbox)
    window = {
        "window_from": (clock.now() + timedelta(minutes=1)).isoformat(),
        "window_until": (clock.now() + timedelta(hours=3)).isoformat(),
        "place": "warehouse gate",
    }
    m.ok(m.post(f"/shipments/{shipment['id']}/pickup", m.seller_tokens["a"], window))
    clock.advance(timedelta(minutes=5))
    sandbox.tick(m.client)
    parcel = m.ok(m.get(f"/shipments/{shipment['id']}", m.operator))
    assert parcel["status"] == "picked_up" and parcel["commit_by"] is not None
    return order, parcel


def _actions(m: Market, order_id: str) -> list[str]:
    return [e["action"] for e in m.ok(m.get(f"/orders/{order_id}/events", m.operator))]


def test_the_carrier_stops_a_picked_up_parcel_and_the_order_is_cancelled(
    live_market: Market,
    sandbox_carrier: SandboxHandle,
    clock: FrozenClock,
    settings: Settings,
    db_url: str,
) -> None:  # O4 F10 G2
    # given a shipped order whose parcel the carrier has picked up
    m = live_market
    order, parcel = _picked_up(m, sandbox_carrier, clock)
    fee = parcel["quote_total_minor"]
    # when the storefront cancels it
    asked = m.ok(m.post(f"/orders/{order['id']}/cancel", m.channel, BUYER_LEFT))
    # then the order waits on the carrier, which was asked to stop the parcel (F10)
    assert asked["status"] == "cancel_requested"
    waiting = m.ok(m.get(f"/shipments/{parcel['id']}", m.operator))
    assert (waiting["status"], waiting["cancel_reason"]) == ("cancel_requested", "buyer_cancelled")
    assert sandbox_carrier.sandbox.parcel(parcel["tracking_number"]).cancel_requested_at
    again = m.post(f"/orders/{order['id']}/cancel", m.channel, BUYER_LEFT)
    assert again.status_code == 409 and again.json()["rule"] == "cancel_pending"
    # when the carrier confirms it stopped the parcel
    now = clock.now()
    push(m, parcel["tracking_number"], (f"{parcel['id']}-stop", "CANCELLED", now), at=now)
    # then the order is cancelled with the buyer's reason, and the parcel too
    done = m.ok(m.get(f"/orders/{order['id']}", m.operator))
    assert (done["status"], done["cancel_reason"]) == ("cancelled", BUYER_LEFT["reason"])
    assert m.ok(m.get(f"/shipments/{parcel['id']}", m.operator))["status"] == "cancelled"
    actions = _actions(m, order["id"])
    assert actions.index("request_cancel") < actions.index("cancel")
    assert "keep_shipping" not in actions
    # and the parcel was carried: its fee is not given back as for a booking voided before pickup
    assert amounts(entries(db_url, "order", order["id"])) == [(FEE, fee, False)]
    # and it owes no delivery: its commitment is never judged late (G2)
    clock.current = datetime.fromisoformat(parcel["commit_by"]) + timedelta(days=2)
    assert sweep_database(db_url, clock, settings)["compensate_late"] == 0
    assert amounts(entries(db_url, "order", order["id"])) == [(FEE, fee, False)]


def test_the_carrier_keeps_the_parcel_and_the_cancel_becomes_a_return(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock, returns: list[Heard]
) -> None:  # O4 F10
    # given a shipped order whose parcel the carrier has picked up, and the storefront's cancel
    m = live_market
    order, parcel = _picked_up(m, sandbox_carrier, clock)
    m.ok(m.post(f"/orders/{order['id']}/cancel", m.channel, BUYER_LEFT))
    assert returns == []
    # when the carrier refuses (the sandbox stops only parcels not yet picked up)
    clock.advance(timedelta(minutes=11))
    sandbox_carrier.tick(m.client)
    # then the order is shipped again, not awaiting shipment, and its parcel goes on
    shown = m.ok(m.get(f"/orders/{order['id']}", m.channel))
    assert shown["status"] == "shipped"
    kept = m.ok(m.get(f"/shipments/{parcel['id']}", m.operator))
    assert kept["status"] == "picked_up" and kept["cancel_answered_at"] is not None
    events = m.ok(m.get(f"/orders/{order['id']}/events", m.operator))
    step = [e for e in events if e["action"] == "keep_shipping"]
    assert len(step) == 1 and "refused" in step[0]["reason"]
    assert (step[0]["from_state"], step[0]["to_state"]) == ("cancel_requested", "shipped")
    assert "resume" not in [e["action"] for e in events]
    # and the return's listener heard it once, with the order and the carrier's reason
    assert returns == [(order["id"], "shipped", "already picked up", Role.system)]
    # and the cases layer opened the return itself: the platform's step, the buyer's side
    listed = m.ok(m.get("/cases", m.operator, params={"kind": "after_sale"}))
    (opened,) = [c for c in listed if c["order_id"] == order["id"]]
    assert (opened["cause"], opened["state"]) == ("cancelled_in_transit", "return_requested")
    assert m.ok(m.get(f"/returns/{opened['id']}", m.channel))["your_party"] == "buyer"
    # which is authorized once the parcel has reached the buyer
    early = m.post(f"/cases/{opened['id']}/return/authorize", m.operator, {})
    assert early.status_code == 409 and early.json()["rule"] == "return_after_delivery"


def test_a_scan_onwards_after_the_request_is_the_carrier_going_on(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock, returns: list[Heard]
) -> None:  # O4 F10 F9
    # given a shipped order whose parcel is in transit, and the storefront's cancel
    m = live_market
    order, parcel = _picked_up(m, sandbox_carrier, clock)
    tn = parcel["tracking_number"]
    clock.advance(timedelta(hours=1))
    push(m, tn, (f"{tn}-go-1", "DEPARTED", clock.now()), at=clock.now())
    m.ok(m.post(f"/orders/{order['id']}/cancel", m.channel, BUYER_LEFT))
    assert m.ok(m.get(f"/shipments/{parcel['id']}", m.operator))["status"] == "cancel_requested"
    # when the carrier scans it onwards instead of answering
    clock.advance(timedelta(hours=1))
    push(m, tn, (f"{tn}-go-2", "ARRIVED", clock.now()), at=clock.now())
    # then the cancellation is refused with it: the parcel goes on and the order stays shipped
    assert m.ok(m.get(f"/shipments/{parcel['id']}", m.operator))["status"] == "in_transit"
    assert m.ok(m.get(f"/orders/{order['id']}", m.operator))["status"] == "shipped"
    assert [(o, r) for o, _, r, _ in returns] == [
        (order["id"], "the carrier scanned the parcel (in_transit)")
    ]


def test_a_parcel_out_for_delivery_cannot_be_stopped(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock
) -> None:  # O4 F10
    # given a shipped order whose parcel is out for delivery
    m = live_market
    order, parcel = _picked_up(m, sandbox_carrier, clock)
    clock.advance(timedelta(hours=1))
    tn = parcel["tracking_number"]
    push(m, tn, (f"{tn}-ofd", "OUT_FOR_DELIVERY", clock.now()), at=clock.now())
    before = m.ok(m.get(f"/orders/{order['id']}", m.operator))
    events = _actions(m, order["id"])
    # when the storefront, or an operator for the buyer, cancels it
    for token in (m.channel, m.operator):
        refused = m.post(f"/orders/{order['id']}/cancel", token, BUYER_LEFT)
        # then a 409 names the order and says the buyer's way is a return once delivered
        assert refused.status_code == 409
        assert refused.headers["content-type"].startswith("application/problem+json")
        problem = refused.json()
        assert (problem["rule"], problem["field"]) == ("parcel_unstoppable", "order_id")
        assert problem["parcel_status"] == "out_for_delivery"
        assert "return" in problem["detail"] and "delivered" in problem["detail"]
    # and nothing changed: the order, its timeline, its parcel, the carrier
    after = m.ok(m.get(f"/orders/{order['id']}", m.operator))
    assert (after["status"], after["version"]) == ("shipped", before["version"])
    assert _actions(m, order["id"]) == events
    shipment = m.ok(m.get(f"/shipments/{parcel['id']}", m.operator))
    assert (shipment["status"], shipment["cancel_requested_at"]) == ("out_for_delivery", None)
    assert sandbox_carrier.sandbox.parcel(parcel["tracking_number"]).cancel_requested_at is None


def test_an_order_shipped_by_hand_has_no_parcel_to_stop(market: Market) -> None:  # O4
    # given an order shipped under a tracking number typed in by hand
    m = market
    order = m.place("a_self")
    by_hand = {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"}
    m.ok(m.post(f"/orders/{order['id']}/ship", m.seller_tokens["a"], by_hand))
    # when the storefront cancels it, then the 409 says so, and the order stays shipped
    refused = m.post(f"/orders/{order['id']}/cancel", m.channel, BUYER_LEFT)
    assert refused.status_code == 409
    assert (refused.json()["rule"], refused.json()["parcel_status"]) == ("parcel_unstoppable", None)
    assert m.ok(m.get(f"/orders/{order['id']}", m.operator))["status"] == "shipped"


def test_the_seller_cannot_cancel_a_shipped_order_for_the_buyer(
    live_market: Market, sandbox_carrier: SandboxHandle
) -> None:  # O4 F10
    # the state table gives the cancel after shipment to the buyer's side only
    asking = {
        role
        for table in TRANSITIONS.values()
        for t in table
        if t.source is OrderStatus.shipped and t.action is OrderAction.request_cancel
        for role in t.roles
    }
    assert asking == {Role.buyer_channel, Role.operator}
    # given a shipped order whose parcel could still be stopped
    m = live_market
    order, shipment = _shipped(m, sandbox_carrier)
    seller = m.seller_tokens["a"]
    assert "cancel" not in m.ok(m.get(f"/orders/{order['id']}", seller))["allowed_actions"]
    assert "cancel" in m.ok(m.get(f"/orders/{order['id']}", m.channel))["allowed_actions"]
    # when its seller cancels the order, then it is refused and nothing is asked of the carrier
    refused = m.post(f"/orders/{order['id']}/cancel", seller, BUYER_LEFT)
    assert refused.status_code == 403 and refused.json()["field"] == "action"
    assert m.ok(m.get(f"/orders/{order['id']}", seller))["status"] == "shipped"
    assert m.ok(m.get(f"/shipments/{shipment['id']}", seller))["status"] == "submitted"
    assert sandbox_carrier.sandbox.parcel(shipment["tracking_number"]).cancel_requested_at is None


def test_an_operator_cancels_for_the_buyer_before_pickup_and_the_fee_goes_back(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock, db_url: str
) -> None:  # O4 F10
    # given a shipped order whose parcel is submitted, not yet picked up
    m = live_market
    order, shipment = _shipped(m, sandbox_carrier)
    fee = shipment["quote_total_minor"]
    # when an operator cancels it for the buyer and the carrier confirms (before any pickup)
    asked = m.ok(m.post(f"/orders/{order['id']}/cancel", m.operator, BUYER_LEFT))
    assert asked["status"] == "cancel_requested"
    clock.advance(timedelta(minutes=11))
    sandbox_carrier.tick(m.client)
    # then the order is cancelled and, voided before pickup, the parcel's fee is given back
    assert m.ok(m.get(f"/orders/{order['id']}", m.channel))["status"] == "cancelled"
    assert amounts(entries(db_url, "order", order["id"])) == [(FEE, fee, False), (FEE, fee, True)]


def test_a_stopped_parcel_from_the_platforms_warehouse_comes_back_on_its_books(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock
) -> None:  # O4 F10 F11 M5
    # given a full-managed order the platform shipped from its warehouse
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    warehouse, sku = stocked(m, "a_full", 3)
    staff = issue_token(m.db_url, Role.warehouse, warehouse_ids=[warehouse])
    order = m.place("a_full")
    (fo,) = m.ok(m.get(f"/orders/{order['id']}/fulfilment-orders", m.operator))
    m.ok(m.post(f"/fulfilment-orders/{fo['id']}/pick", staff))
    sent = m.ok(
        m.post(f"/fulfilment-orders/{fo['id']}/ship", staff, {"service_code": "TG-POST-REG"})
    )["shipment"]
    params = {"warehouse_id": warehouse, "sku_id": sku}
    (row,) = m.ok(m.get("/stock", m.operator, params=params))
    assert (row["on_hand"], row["reserved"]) == (2, 0)
    # when the buyer cancels and the carrier stops the parcel
    m.ok(m.post(f"/orders/{order['id']}/cancel", m.channel, BUYER_LEFT))
    now = clock.now()
    push(m, sent["tracking_number"], (f"{sent['id']}-stop", "CANCELLED", now), at=now)
    # then the order is cancelled and the unit is back on the warehouse's books, free to sell
    assert m.ok(m.get(f"/orders/{order['id']}", m.operator))["status"] == "cancelled"
    (row,) = m.ok(m.get("/stock", m.operator, params=params))
    assert (row["on_hand"], row["reserved"]) == (3, 0)
    (fo,) = m.ok(m.get(f"/orders/{order['id']}/fulfilment-orders", m.operator))
    assert fo["status"] == "cancelled"

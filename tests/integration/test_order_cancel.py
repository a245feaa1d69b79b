"""Cancelling an order whose parcel is booked goes through the carrier (O4, F10)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from tests.builders.karrio import Recorded, connect_fedex, fedex  # noqa: F401
from tests.builders.market import Market, auth
from tests.builders.shipping import SandboxHandle, connect_sandbox, ship
from tests.builders.workers import sweep_database
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock

BUYER_LEFT = {"reason": "buyer changed their mind"}


def _order(m: Market, key: str = "a_self") -> dict[str, Any]:
    return dict(m.ok(m.get(f"/orders/{m.place(key)['id']}", m.operator)))


def test_a_booked_parcel_is_voided_before_the_order_is_cancelled(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock
) -> None:  # O4 F10
    # given an order awaiting shipment whose parcel the seller booked (label printable)
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    seller = m.seller_tokens["a"]
    order = _order(m)
    shipment = ship(m, order["id"], seller)
    # when the buyer cancels the order
    asked = m.ok(m.post(f"/orders/{order['id']}/cancel", m.channel, BUYER_LEFT))
    # then the order waits on the carrier, and the parcel's cancellation was asked for
    assert asked["status"] == "cancel_requested"
    parcel = m.ok(m.get(f"/shipments/{shipment['id']}", seller))
    assert parcel["status"] == "cancel_requested" and parcel["cancel_reason"] == "buyer_cancelled"
    assert sandbox_carrier.sandbox.parcel(shipment["tracking_number"]).cancel_requested_at
    # and meanwhile nothing ships it, and asking again is refused with the reason
    again = m.post(f"/orders/{order['id']}/cancel", m.channel, BUYER_LEFT)
    assert again.status_code == 409 and again.json()["rule"] == "cancel_pending"
    by_hand = m.post(
        f"/orders/{order['id']}/ship",
        seller,
        {"carrier_code": "other", "tracking_number": "LP00123456789CN"},
    )
    assert by_hand.status_code == 409
    second = m.post(f"/orders/{order['id']}/shipments", seller, {"service_code": "TG-EXPRESS"})
    assert second.status_code == 409
    # and the label of a parcel being voided is not printed, alone or in a batch
    voided = m.get(f"/shipments/{shipment['id']}/label.pdf", seller)
    assert voided.status_code == 409 and voided.json()["rule"] == "label_void"
    assert m.get("/labels.pdf", seller, params={"ids": [shipment["id"]]}).status_code == 409
    # while it waits, the order still lists by its ship-by (the carrier may refuse)
    listed = m.ok(
        m.get("/orders", seller, params={"sort": "deadline", "status": "cancel_requested"})
    )
    assert [o["id"] for o in listed["items"]] == [order["id"]]
    assert listed["items"][0]["next_deadline"]["kind"] == "ship_by"
    # when the carrier confirms, the order is cancelled with the buyer's reason
    clock.advance(timedelta(minutes=11))
    sandbox_carrier.tick(m.client)
    done = m.ok(m.get(f"/orders/{order['id']}", m.channel))
    assert done["status"] == "cancelled"
    shown = m.ok(m.get(f"/orders/{order['id']}", seller))
    assert shown["cancel_reason"] == BUYER_LEFT["reason"]
    assert m.ok(m.get(f"/shipments/{shipment['id']}", seller))["status"] == "cancelled"
    assert m.get(f"/shipments/{shipment['id']}/label.pdf", seller).status_code == 409
    timeline = [e["action"] for e in m.ok(m.get(f"/orders/{order['id']}/events", seller))]
    assert timeline.index("request_cancel") < timeline.index("shipment_cancel")
    assert timeline.index("shipment_cancelled") < timeline.index("cancel")


def test_an_order_without_a_booked_parcel_is_cancelled_at_once(market: Market) -> None:  # O4
    m = market
    order = _order(m)
    assert m.ok(m.post(f"/orders/{order['id']}/cancel", m.channel, BUYER_LEFT))["status"] == (
        "cancelled"
    )


def test_a_carrier_that_confirms_at_once_cancels_the_order_in_the_same_request(
    market: Market,
    fedex: Recorded,  # noqa: F811
) -> None:  # O4 F10
    m = market
    connect_fedex(m)
    seller = m.seller_tokens["a"]
    order = _order(m)
    shipment = ship(m, order["id"], seller, service="TG-FEDEX-IP")
    answer = m.ok(m.post(f"/orders/{order['id']}/cancel", seller, BUYER_LEFT))
    assert answer["status"] == "cancelled"
    assert m.ok(m.get(f"/shipments/{shipment['id']}", seller))["status"] == "cancelled"


def test_a_carrier_that_keeps_the_parcel_leaves_the_order_awaiting_shipment(
    market: Market,
    fedex: Recorded,  # noqa: F811
) -> None:  # O4 F10
    m = market
    connect_fedex(m)
    seller = m.seller_tokens["a"]
    order = _order(m)
    shipment = ship(m, order["id"], seller, service="TG-FEDEX-IP")
    fedex.answer("PUT", "/ship/v1/shipments/cancel", "cancel_refused.json", status=400)
    answer = m.ok(m.post(f"/orders/{order['id']}/cancel", m.channel, BUYER_LEFT))
    # the carrier refused: the order goes on, its parcel as it was, the refusal on its timeline
    assert answer["status"] == "awaiting_shipment"
    assert m.ok(m.get(f"/shipments/{shipment['id']}", seller))["status"] == "created"
    events = m.ok(m.get(f"/orders/{order['id']}/events", seller))
    resumed = [e for e in events if e["action"] == "resume"]
    assert resumed and "refused" in resumed[-1]["reason"]
    assert "cancel" in answer["allowed_actions"]  # the buyer may ask again


def test_only_the_orders_cancellers_can_void_its_parcel(
    live_market: Market, sandbox_carrier: SandboxHandle
) -> None:  # O4 F10
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    order = _order(m)
    shipment = ship(m, order["id"], m.seller_tokens["a"])
    other = m.post(f"/orders/{order['id']}/cancel", m.seller_tokens["b"], BUYER_LEFT)
    assert other.status_code == 404
    assert m.ok(m.get(f"/shipments/{shipment['id']}", m.seller_tokens["a"]))["status"] == (
        "created"
    )
    assert m.ok(m.get(f"/orders/{order['id']}", m.operator))["status"] == "awaiting_shipment"


def test_a_lost_answer_is_polled_so_the_order_does_not_wait_forever(
    live_market: Market,
    sandbox_carrier: SandboxHandle,
    clock: FrozenClock,
    settings: Settings,
    db_url: str,
) -> None:  # O4 F10
    # given a pushing carrier whose answer to the void never arrives
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    sandbox_carrier.sandbox.push_url = None
    order = _order(m)
    ship(m, order["id"], m.seller_tokens["a"])
    m.ok(m.post(f"/orders/{order['id']}/cancel", m.channel, BUYER_LEFT))
    clock.advance(timedelta(minutes=11))
    sandbox_carrier.tick(m.client)
    assert m.ok(m.get(f"/orders/{order['id']}", m.operator))["status"] == "cancel_requested"
    # when the worker runs once the poll interval has passed, it asks the carrier itself
    clock.advance(timedelta(minutes=settings.carrier_poll_minutes))
    assert sweep_database(db_url, clock, settings)["poll_carriers"] == 1
    # then the carrier's yes is applied: the order is cancelled
    assert m.ok(m.get(f"/orders/{order['id']}", m.operator))["status"] == "cancelled"


def test_a_resumed_order_keeps_the_ship_by_it_was_given(
    market: Market,
    fedex: Recorded,  # noqa: F811
) -> None:  # O4 F10 F1
    # given an order whose parcel is booked, and its store closed days after it was placed
    m = market
    connect_fedex(m)
    order = _order(m)
    ship(m, order["id"], m.seller_tokens["a"], service="TG-FEDEX-IP")
    closure = {"closed_days": ["2026-11-19", "2026-11-20", "2026-11-23"]}
    m.ok(
        m.client.patch(
            f"/api/v1/stores/{m.stores['a_self']}", json=closure, headers=auth(m.operator)
        )
    )
    # when the carrier refuses to void the parcel and the order goes on
    fedex.answer("PUT", "/ship/v1/shipments/cancel", "cancel_refused.json", status=400)
    answer = m.ok(m.post(f"/orders/{order['id']}/cancel", m.channel, BUYER_LEFT))
    assert answer["status"] == "awaiting_shipment"
    # then its deadlines are the ones it was placed with, not recomputed on the new calendar
    again = m.ok(m.get(f"/orders/{order['id']}", m.operator))
    assert (again["ship_by"], again["deliver_by"]) == (order["ship_by"], order["deliver_by"])


def test_a_cancel_racing_the_submit_ends_one_way_or_the_other(
    live_market: Market, sandbox_carrier: SandboxHandle
) -> None:  # O4 F10
    # The two lock the same order and shipment: always in that order, so neither deadlocks.
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    seller = m.seller_tokens["a"]
    for _ in range(6):
        order = _order(m)
        shipment = ship(m, order["id"], seller)
        with ThreadPoolExecutor(max_workers=2) as pool:
            cancel = pool.submit(m.post, f"/orders/{order['id']}/cancel", m.channel, BUYER_LEFT)
            submit = pool.submit(m.post, f"/shipments/{shipment['id']}/submit", seller)
            codes = (cancel.result().status_code, submit.result().status_code)
        assert set(codes) <= {200, 409}, codes
        now = m.ok(m.get(f"/orders/{order['id']}", m.operator))["status"]
        parcel = m.ok(m.get(f"/shipments/{shipment['id']}", seller))["status"]
        # The cancel came first (the submit is refused), or the submit did and the cancel then
        # asks the carrier to stop the shipped parcel (O4): either way both wait on the carrier.
        assert (now, parcel) == ("cancel_requested", "cancel_requested"), (codes, now, parcel)

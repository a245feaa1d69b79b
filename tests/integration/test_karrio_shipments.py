"""A real carrier plugged in through karrio, without changing the core: FedEx's recorded
answers behind the API, the worker's polling and the carrier's own label (F8, F9, F10)."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

from pypdf import PdfReader

from tests.builders.karrio import (  # noqa: F401
    FEDEX_ACCOUNT,
    TRACKING_NUMBER,
    Recorded,
    connect_fedex,
    fedex,
)
from tests.builders.market import Market
from tests.builders.shipping import ship
from tests.builders.workers import sweep_once
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock


def _fedex_label(pdf: bytes) -> bool:
    """Whether a PDF is FedEx's recorded label (4 x 6 in, its text), not one tuoguan drew."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    size = (round(float(pages[0].mediabox.width)), round(float(pages[0].mediabox.height)))
    return (
        len(pages) == 1 and size == (288, 432) and "TRK# 7949 0000 1234" in pages[0].extract_text()
    )


def _shipped(m: Market) -> tuple[dict[str, Any], dict[str, Any], str]:
    connect_fedex(m)
    order, seller = m.place("a_self"), m.seller_tokens["a"]
    return order, ship(m, order["id"], seller, service="TG-FEDEX-IP"), seller


def test_fedex_books_prints_its_own_label_and_is_polled_to_delivery(
    market: Market,
    fedex: Recorded,  # noqa: F811
    clock: FrozenClock,
    settings: Settings,
) -> None:
    # F8 step 3: given FedEx reached through karrio, when the seller ships an order with it
    m = market
    order, shipment, seller = _shipped(m)
    # then FedEx assigned the tracking number and the quote is tuoguan's own (G1)
    assert shipment["tracking_number"] == TRACKING_NUMBER and shipment["status"] == "created"
    assert shipment["carrier_code"] == "fedex" and shipment["quote_total_minor"] > 0
    # and the label printed is FedEx's own, also in a batch
    pdf = m.get(f"/shipments/{shipment['id']}/label.pdf", seller)
    assert pdf.status_code == 200 and _fedex_label(pdf.content)
    batch = m.get("/labels.pdf", seller, params={"ids": [shipment["id"]]})
    assert _fedex_label(batch.content)
    # and there is no ZPL to give for a label FedEx issued as a PDF
    zpl = m.get(f"/shipments/{shipment['id']}/label.zpl", seller)
    assert zpl.status_code == 409 and zpl.json()["rule"] == "carrier_label_format"
    # F8 steps 4-5: submit (booking already sent FedEx the data) and a pickup at FedEx
    m.ok(m.post(f"/shipments/{shipment['id']}/submit", seller))
    window = {
        "window_from": (clock.now() + timedelta(hours=1)).isoformat(),
        "window_until": (clock.now() + timedelta(hours=5)).isoformat(),
        "place": "Front desk",
    }
    picked = m.ok(m.post(f"/shipments/{shipment['id']}/pickup", seller, window))
    assert picked["status"] == "pickup_scheduled" and picked["pickup_ref"].startswith("CXR4521|")
    assert fedex.paths().count("/pickup/v1/pickups") == 1
    # F9: FedEx does not push; the worker polls it, and the scans move the parcel
    handled = sweep_once(m.client, clock, settings)
    assert handled["poll_carriers"] == 1
    moved = m.ok(m.get(f"/shipments/{shipment['id']}", seller))
    assert moved["status"] == "in_transit" and moved["commit_by"] is not None  # G2
    events = m.ok(m.get(f"/shipments/{shipment['id']}/events", seller))
    assert [e["code"] for e in events] == ["label_created", "picked_up", "in_transit"]
    # and a poll before the interval is up asks nobody
    assert sweep_once(m.client, clock, settings)["poll_carriers"] == 0
    # when FedEx later reports the delivery, the next due poll delivers the order
    fedex.answer("POST", "/track/v1/trackingnumbers", "track_delivered.json")
    clock.advance(timedelta(minutes=settings.carrier_poll_minutes + 1))
    assert sweep_once(m.client, clock, settings)["poll_carriers"] == 1
    done = m.ok(m.get(f"/shipments/{shipment['id']}", seller))
    assert done["status"] == "delivered"
    assert m.ok(m.get(f"/orders/{order['id']}", seller))["status"] == "delivered"
    events = m.ok(m.get(f"/shipments/{shipment['id']}/events", seller))
    assert len(events) == 6  # the three scans polled twice are kept once
    # and a delivered parcel is not polled again
    clock.advance(timedelta(minutes=settings.carrier_poll_minutes + 1))
    assert sweep_once(m.client, clock, settings)["poll_carriers"] == 0


def test_fedex_answers_a_cancellation_at_once_and_the_order_can_ship_again(
    market: Market,
    fedex: Recorded,  # noqa: F811
) -> None:
    # F10: given a FedEx shipment, when the seller cancels it
    m = market
    order, shipment, seller = _shipped(m)
    cancelled = m.ok(
        m.post(f"/shipments/{shipment['id']}/cancel", seller, {"reason": "buyer_cancelled"})
    )
    # then FedEx's synchronous yes cancels it in the same request
    assert cancelled["status"] == "cancelled" and cancelled["cancel_answered_at"] is not None
    assert m.ok(m.get(f"/orders/{order['id']}", seller))["status"] == "awaiting_shipment"
    # and the order may get a new shipment, under the new number FedEx gives
    fedex.answer("POST", "/ship/v1/shipments", "ship_created_again.json")
    again = ship(m, order["id"], seller, service="TG-FEDEX-IP")
    assert again["id"] != shipment["id"] and again["tracking_number"] == "794900005678"


def test_fedex_refusing_a_cancellation_leaves_the_shipment_as_it_was(
    market: Market,
    fedex: Recorded,  # noqa: F811
) -> None:
    # F10: given a submitted FedEx shipment, when FedEx refuses to cancel it
    m = market
    order, shipment, seller = _shipped(m)
    m.ok(m.post(f"/shipments/{shipment['id']}/submit", seller))
    fedex.answer("PUT", "/ship/v1/shipments/cancel", "cancel_refused.json", status=400)
    answer = m.ok(
        m.post(f"/shipments/{shipment['id']}/cancel", seller, {"reason": "logistics_problem"})
    )
    # then the shipment is back where it was, the order still shipped, the refusal on record
    assert answer["status"] == "submitted"
    assert m.ok(m.get(f"/orders/{order['id']}", seller))["status"] == "shipped"
    events = m.ok(m.get(f"/shipments/{shipment['id']}/events", seller))
    assert events[-1]["code"] == "cancel_refused"
    assert "cannot be cancelled" in events[-1]["detail"]
    # and a second shipment is still refused
    second = m.post(f"/orders/{order['id']}/shipments", seller, {"service_code": "TG-FEDEX-IP"})
    assert second.status_code == 409


def test_a_booking_fedex_refuses_changes_nothing(
    market: Market,
    fedex: Recorded,  # noqa: F811
) -> None:
    # F8 step 3, bad input: FedEx refuses the address; the carrier's reason is named
    m = market
    connect_fedex(m)
    order, seller = m.place("a_self"), m.seller_tokens["a"]
    fedex.answer("POST", "/ship/v1/shipments", "ship_refused.json", status=400)
    refused = m.post(f"/orders/{order['id']}/shipments", seller, {"service_code": "TG-FEDEX-IP"})
    assert refused.status_code == 422
    assert "RECIPIENT.POSTALCODE.INVALID" in refused.json()["detail"]
    # and nothing was stored: no shipment, the order still awaits shipment
    assert m.ok(m.get(f"/orders/{order['id']}/shipments", seller)) == []
    assert m.ok(m.get(f"/orders/{order['id']}", seller))["status"] == "awaiting_shipment"
    # when FedEx cannot be reached, it is a 503 and nothing is stored either
    fedex.down = True
    down = m.post(f"/orders/{order['id']}/shipments", seller, {"service_code": "TG-FEDEX-IP"})
    assert down.status_code == 503
    assert m.ok(m.get(f"/orders/{order['id']}/shipments", seller)) == []


def test_karrio_accounts_are_checked_kept_secret_and_take_no_pushes(
    market: Market,
) -> None:
    m = market
    # only operators register carriers
    denied = m.post("/carrier-accounts", m.seller_tokens["a"], FEDEX_ACCOUNT)
    assert denied.status_code == 403
    # bad input: a carrier karrio does not have here, a setting it does not know
    unknown = m.post("/carrier-accounts", m.operator, {**FEDEX_ACCOUNT, "carrier": "pigeon_post"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "carrier"
    odd = {**FEDEX_ACCOUNT, "settings": {**FEDEX_ACCOUNT["settings"], "colour": "purple"}}
    wrong = m.post("/carrier-accounts", m.operator, odd)
    assert wrong.status_code == 422 and wrong.json()["field"] == "settings"
    assert m.ok(m.get("/carrier-accounts", m.operator)) == []
    # an account is registered and its credentials are never shown back
    created = m.ok(m.post("/carrier-accounts", m.operator, FEDEX_ACCOUNT), 201)
    assert created["adapter"] == "karrio" and created["carrier"] == "fedex"
    listed = json.dumps(m.ok(m.get("/carrier-accounts", m.operator)))
    assert "recorded-secret-key" not in listed and "recorded-api-key" not in listed
    # F9: a push to a polled carrier is refused with its reason
    pushed = m.client.post("/api/v1/carriers/fedex/events", content=b"{}")
    assert pushed.status_code == 422 and pushed.json()["rule"] == "polled_carrier"

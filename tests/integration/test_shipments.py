"""Online shipping against the sandbox carrier over HTTP: book, label, submit, pick up, track,
cancel with the carrier's confirmation (F8, F9, F10, G1, G2)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from tests.builders.market import Market, auth
from tests.builders.shipping import (
    SANDBOX_SECRET,
    SandboxHandle,
    connect_sandbox,
    option,
    options,
    ship,
)
from tests.builders.workers import sweep_database
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.kit.signing import sign
from tuoguan.shipping.carriers.sandbox_catalog import CARDS


def _ready(m: Market, sandbox: SandboxHandle) -> tuple[dict[str, Any], str]:
    connect_sandbox(m, sandbox)
    return m.place("a_self"), m.seller_tokens["a"]


def _act(m: Market, shipment_id: str, token: str, step: str, body: Any = None) -> Any:
    return m.post(f"/shipments/{shipment_id}/{step}", token, body)


def test_an_order_is_booked_labelled_submitted_picked_up_tracked_and_delivered(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock
) -> None:
    # F8 steps 1-6, F9, G2: given an order awaiting shipment and its quote
    m = live_market
    order, seller = _ready(m, sandbox_carrier)
    quote = option(options(m, order["id"], seller), "TG-POST-REG")["quote"]
    # when the seller ships it with the quoted service
    shipment = ship(m, order["id"], seller, expected_total_minor=quote["total_minor"])
    # then the carrier assigned the tracking number and the quote is kept line by line
    assert shipment["status"] == "created" and shipment["tracking_number"].startswith("SB")
    assert shipment["quote_total_minor"] == quote["total_minor"]
    assert shipment["quote_lines"] == quote["lines"]
    assert shipment["allowed_actions"] == ["submit", "cancel"]
    pdf = m.get(f"/shipments/{shipment['id']}/label.pdf", seller)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    zpl = m.get(f"/shipments/{shipment['id']}/label.zpl", seller)
    assert shipment["tracking_number"] in zpl.text and zpl.text.startswith("^XA")
    # when the seller submits it, the order is shipped under the carrier's tracking number (F9)
    submitted = m.ok(_act(m, shipment["id"], seller, "submit"))
    assert submitted["status"] == "submitted"
    shown = m.ok(m.get(f"/orders/{order['id']}", seller))
    assert (shown["status"], shown["carrier_code"], shown["tracking_number"]) == (
        "shipped",
        "sandbox",
        shipment["tracking_number"],
    )
    # and books a pickup for tomorrow morning
    start = clock.now() + timedelta(hours=20)
    window = {
        "window_from": start.isoformat(),
        "window_until": (start + timedelta(hours=4)).isoformat(),
        "place": "深圳市南山区科苑路15号 loading bay 2",
    }
    booked = m.ok(_act(m, shipment["id"], seller, "pickup", window))
    assert booked["status"] == "pickup_scheduled" and booked["pickup_ref"].startswith("PU")
    # then the carrier's scans arrive, pushed and signed, and move the shipment on
    clock.current = start + timedelta(minutes=5)
    ticked = sandbox_carrier.tick(m.client)
    assert ticked["waiting"] == 0 and not sandbox_carrier.sandbox.rejected
    picked = m.ok(m.get(f"/shipments/{shipment['id']}", seller))
    assert picked["status"] == "picked_up" and picked["commit_by"] is not None
    committed = datetime.fromisoformat(picked["commit_by"])
    assert timedelta(days=15) < committed - start < timedelta(days=24)  # 15 business days (G2)
    clock.advance(timedelta(days=12))
    sandbox_carrier.tick(m.client)
    done = m.ok(m.get(f"/shipments/{shipment['id']}", seller))
    assert done["status"] == "delivered" and done["allowed_actions"] == []
    assert m.ok(m.get(f"/orders/{order['id']}", seller))["status"] == "delivered"
    codes = [e["code"] for e in m.ok(m.get(f"/shipments/{shipment['id']}/events", seller))]
    assert codes == ["label_created", "picked_up", "in_transit", "out_for_delivery", "delivered"]
    # and another seller sees none of it
    other = m.seller_tokens["b"]
    assert m.get(f"/shipments/{shipment['id']}", other).status_code == 404
    assert m.get(f"/shipments/{shipment['id']}/label.pdf", other).status_code == 404


def test_a_cancellation_waits_for_the_carrier_and_nothing_ships_twice_meanwhile(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock
) -> None:
    # F10: cancel_requested until the carrier answers; no second shipment until it confirms
    m = live_market
    order, seller = _ready(m, sandbox_carrier)
    first = ship(m, order["id"], seller)
    by_hand = m.post(
        f"/orders/{order['id']}/ship",
        seller,
        {"carrier_code": "other", "tracking_number": "LP00123456789CN"},
    )
    assert by_hand.status_code == 409 and by_hand.json()["rule"] == "one_live_shipment"
    m.ok(_act(m, first["id"], seller, "submit"))
    asked = m.ok(_act(m, first["id"], seller, "cancel", {"reason": "wrong_product_info"}))
    assert asked["status"] == "cancel_requested" and asked["cancel_reason"] == "wrong_product_info"
    again = m.post(f"/orders/{order['id']}/shipments", seller, {"service_code": "TG-EXPRESS"})
    assert again.status_code == 409 and again.json()["rule"] == "one_live_shipment"
    retried = m.post(f"/shipments/{first['id']}/cancel", seller, {"reason": "wrong_product_info"})
    assert retried.status_code == 409  # asking twice is refused; the first request stands
    # when the carrier confirms (its answer comes ten minutes later)
    clock.advance(timedelta(minutes=11))
    sandbox_carrier.tick(m.client)
    done = m.ok(m.get(f"/shipments/{first['id']}", seller))
    assert done["status"] == "cancelled" and done["cancel_answered_at"] is not None
    # then the order awaits shipment again and may get a new shipment
    assert m.ok(m.get(f"/orders/{order['id']}", seller))["status"] == "awaiting_shipment"
    second = ship(m, order["id"], seller, service="TG-STANDARD")
    assert second["tracking_number"] != first["tracking_number"]
    assert m.get(f"/shipments/{first['id']}/label.pdf", seller).status_code == 409
    timeline = [e["action"] for e in m.ok(m.get(f"/orders/{order['id']}/events", seller))]
    assert (
        "shipment_cancel" in timeline and "shipment_cancelled" in timeline and "unship" in timeline
    )


def test_a_pickup_scan_overtakes_a_cancellation_and_the_carrier_refuses_it(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock
) -> None:
    # F10: the carrier accepts a cancellation only before pickup
    m = live_market
    order, seller = _ready(m, sandbox_carrier)
    shipment = ship(m, order["id"], seller)
    m.ok(_act(m, shipment["id"], seller, "submit"))
    window = {
        "window_from": (clock.now() + timedelta(minutes=1)).isoformat(),
        "window_until": (clock.now() + timedelta(hours=3)).isoformat(),
        "place": "warehouse gate",
    }
    m.ok(_act(m, shipment["id"], seller, "pickup", window))
    m.ok(_act(m, shipment["id"], seller, "cancel", {"reason": "buyer_cancelled"}))
    clock.advance(timedelta(minutes=20))  # pickup at +1 min, the answer at +10 min
    sandbox_carrier.tick(m.client)
    now = m.ok(m.get(f"/shipments/{shipment['id']}", seller))
    assert now["status"] == "picked_up" and now["cancel_answered_at"] is not None
    assert m.ok(m.get(f"/orders/{order['id']}", seller))["status"] == "shipped"
    notes = m.ok(m.get("/notifications", seller))
    assert any(n["kind"] == "shipment_cancel_refused" for n in notes)


def test_concurrent_requests_create_exactly_one_shipment(
    live_market: Market, sandbox_carrier: SandboxHandle
) -> None:
    # F10: no race ships one order twice
    m = live_market
    order, seller = _ready(m, sandbox_carrier)

    def attempt(_: int) -> int:
        answer = m.client.post(
            f"/api/v1/orders/{order['id']}/shipments",
            json={"service_code": "TG-POST-REG"},
            headers=auth(seller),
        )
        return answer.status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = sorted(pool.map(attempt, range(6)))
    assert codes.count(201) == 1 and set(codes) == {201, 409}, codes
    assert len(m.ok(m.get(f"/orders/{order['id']}/shipments", seller))) == 1


def test_a_reweigh_charges_the_difference_line_by_line(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock
) -> None:
    # G1: the charge equals the quote unless the carrier reweighs; then the difference shows
    m = live_market
    order, seller = _ready(m, sandbox_carrier)
    shipment = ship(m, order["id"], seller)
    sandbox_carrier.fate(m.client, shipment["tracking_number"], "normal", weigh_g=480)
    m.ok(_act(m, shipment["id"], seller, "submit"))
    m.ok(_act(m, shipment["id"], seller, "self-drop"))
    clock.advance(timedelta(hours=7))
    sandbox_carrier.tick(m.client)
    charged = m.ok(m.get(f"/shipments/{shipment['id']}", seller))
    assert charged["charged_weight_g"] == 480 and charged["handover"] == "self_drop"
    difference = charged["charge_difference"]
    assert [d["code"] for d in difference] == ["additional_weight"]
    assert (
        charged["quote_total_minor"] + difference[0]["amount_minor"]
        == charged["charged_total_minor"]
    )


def _push(m: Market, body: dict[str, Any], *, at: datetime, secret: str = SANDBOX_SECRET) -> Any:
    raw = json.dumps(body).encode()
    return m.client.post(
        "/api/v1/carriers/sandbox/events",
        content=raw,
        headers={
            "Content-Type": "application/json",
            "Sandbox-Signature": sign(secret, int(at.timestamp()), raw),
        },
    )


def test_carrier_pushes_must_be_signed_fresh_and_about_known_parcels(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock
) -> None:
    # F9 bad input: unsigned, forged or stale pushes and unknown parcels change nothing
    m = live_market
    order, seller = _ready(m, sandbox_carrier)
    shipment = ship(m, order["id"], seller)
    tn = shipment["tracking_number"]
    event = {
        "id": "manual-1",
        "tracking_number": tn,
        "status": "DELIVERED",
        "time": clock.now().isoformat(),
    }
    body = {"events": [event]}
    unsigned = m.client.post("/api/v1/carriers/sandbox/events", json=body)
    assert unsigned.status_code == 401 and unsigned.json()["field"] == "signature"
    assert _push(m, body, at=clock.now(), secret="x" * 20).status_code == 401
    stale = _push(m, body, at=clock.now() - timedelta(minutes=6))
    assert stale.status_code == 401 and stale.json()["rule"] == "replay_window"
    unknown = _push(
        m,
        {"events": [event, {**event, "id": "manual-2", "tracking_number": "SB99"}]},
        at=clock.now(),
    )
    assert unknown.status_code == 422 and unknown.json()["rule"] == "unknown_parcel"
    assert "SB99" in unknown.json()["detail"]
    # nothing was applied: not even the known parcel's event in the refused delivery
    assert m.ok(m.get(f"/shipments/{shipment['id']}/events", seller)) == []
    assert m.ok(m.get(f"/shipments/{shipment['id']}", seller))["status"] == "created"
    junk = _push(m, {"events": [{"id": "x"}]}, at=clock.now())
    assert junk.status_code == 422
    naive = _push(m, {"events": [{**event, "time": "2026-11-18T09:00:00"}]}, at=clock.now())
    assert naive.status_code == 422 and naive.json()["field"] == "events.time"
    long_id = _push(m, {"events": [{**event, "id": "x" * 65}]}, at=clock.now())
    assert long_id.status_code == 422
    raw = json.dumps(body).encode()
    far = m.client.post(
        "/api/v1/carriers/sandbox/events",
        content=raw,
        headers={"Sandbox-Signature": sign(SANDBOX_SECRET, 999_999_999_999, raw)},
    )
    assert far.status_code == 401 and far.json()["rule"] == "replay_window"
    assert m.post("/carriers/nobody/events", seller, body).status_code == 404


def test_repeated_and_out_of_order_events_are_harmless(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock
) -> None:
    # F9: a repeat is a duplicate; an older event than the newest applied moves nothing
    m = live_market
    order, seller = _ready(m, sandbox_carrier)
    shipment = ship(m, order["id"], seller)
    m.ok(_act(m, shipment["id"], seller, "submit"))
    tn, now = shipment["tracking_number"], clock.now()
    transit = {"id": "e-2", "tracking_number": tn, "status": "DEPARTED", "time": now.isoformat()}
    pickup = {
        "id": "e-1",
        "tracking_number": tn,
        "status": "PICKUP",
        "time": (now - timedelta(hours=2)).isoformat(),
    }
    assert m.ok(_push(m, {"events": [transit]}, at=now)) == {"accepted": 1, "duplicates": 0}
    assert m.ok(_push(m, {"events": [transit]}, at=now)) == {"accepted": 0, "duplicates": 1}
    assert m.ok(_push(m, {"events": [pickup]}, at=now)) == {"accepted": 1, "duplicates": 0}
    after = m.ok(m.get(f"/shipments/{shipment['id']}", seller))
    assert after["status"] == "in_transit"
    # the late pickup scan still dates the pickup and starts the delivery commitment (G2)
    assert after["picked_up_at"] is not None and after["commit_by"] is not None
    events = m.ok(m.get(f"/shipments/{shipment['id']}/events", seller))
    assert [e["code"] for e in events][-2:] == ["picked_up", "in_transit"]


def test_an_unanswered_cancellation_is_escalated_to_an_operator_once(
    live_market: Market,
    sandbox_carrier: SandboxHandle,
    clock: FrozenClock,
    settings: Settings,
    db_url: str,
) -> None:
    # F10: a request the carrier leaves unanswered past the configured time goes to an operator
    m = live_market
    order, seller = _ready(m, sandbox_carrier)
    shipment = ship(m, order["id"], seller)
    m.ok(_act(m, shipment["id"], seller, "cancel", {"reason": "logistics_problem"}))
    # the carrier never gets round to answering: no push, and nothing to find when polled
    clock.advance(timedelta(hours=settings.cancel_escalate_hours, minutes=1))
    assert sweep_database(db_url, clock, settings)["escalate_cancellations"] == 1
    assert sweep_database(db_url, clock, settings)["escalate_cancellations"] == 0
    notes = m.ok(m.get("/notifications", m.operator))
    assert [n["kind"] for n in notes].count("shipment_cancel_unanswered") == 1
    assert m.ok(m.get(f"/shipments/{shipment['id']}", seller))["status"] == "cancel_requested"


def demo_cards() -> dict[str, Any]:
    return {code: card.model_dump(mode="json") for code, card in CARDS.items()}


def test_an_operator_checks_the_rate_cards_against_the_carriers_own_prices(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock
) -> None:
    # G1: given the demo cards, which match the sandbox carrier's published tariff
    m = live_market
    order, seller = _ready(m, sandbox_carrier)
    checks = m.ok(m.get(f"/orders/{order['id']}/rate-check", m.operator))
    allowed = {o["service_code"] for o in options(m, order["id"], seller)["options"] if o["quote"]}
    assert {c["service_code"] for c in checks} == allowed
    # then every service's quote matches what the carrier itself would charge
    assert all(c["difference_minor"] == 0 and c["error"] is None for c in checks), checks
    assert all(c["carrier_lines"] for c in checks)
    # when an operator publishes a dearer card for one service
    clock.advance(timedelta(minutes=1))
    card = json.loads(json.dumps(demo_cards()["TG-POST-REG"]))
    for zone in card["zones"]:
        zone["first_minor"] += 100
    m.ok(
        m.post(
            "/logistics-services/TG-POST-REG/rate-cards",
            m.operator,
            {"currency": "USD", "card": card, "note": "up by a dollar"},
        ),
        201,
    )
    # then the check shows exactly that drift, and nothing else
    drift = {
        c["service_code"]: c["difference_minor"]
        for c in m.ok(m.get(f"/orders/{order['id']}/rate-check", m.operator))
    }
    assert drift["TG-POST-REG"] == -100
    assert all(v == 0 for k, v in drift.items() if k != "TG-POST-REG")
    # and only operators ask carriers for prices
    assert m.get(f"/orders/{order['id']}/rate-check", seller).status_code == 403

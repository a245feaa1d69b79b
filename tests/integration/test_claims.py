"""Insurance claims on insured shipments: filed with evidence, capped by the cover, decided (G3)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.builders.market import Market
from tests.builders.shipping import SandboxHandle, add_product, connect_sandbox, place_with, ship
from tuoguan.kit.clock import FrozenClock

CLAIM = {
    "kind": "loss",
    "amount_minor": 45_000,
    "description": "the carrier declared the parcel lost",
    "evidence": ["https://evidence.example/tracking-lost.png"],
}


def _lost_parcel(
    m: Market, sandbox: SandboxHandle, clock: FrozenClock, insure: bool
) -> dict[str, Any]:
    camera = add_product(
        m,
        "a_self",
        name="Camera 相机",
        category="electronics/camera",
        declared_value_minor=45_000,
        price_minor=45_000,
        weight_g=900,
    )
    order = place_with(m, "a_self", camera)
    seller = m.seller_tokens["a"]
    shipment = ship(m, order["id"], seller, service="TG-EXPRESS", insure=insure)
    sandbox.fate(m.client, shipment["tracking_number"], "lost")
    m.ok(m.post(f"/shipments/{shipment['id']}/submit", seller))
    m.ok(m.post(f"/shipments/{shipment['id']}/self-drop", seller))
    clock.advance(timedelta(hours=7))
    sandbox.tick(m.client)
    clock.advance(timedelta(days=7))
    sandbox.tick(m.client)
    found = m.ok(m.get(f"/shipments/{shipment['id']}", seller))
    assert found["status"] == "lost"
    return dict(found)


def test_a_lost_insured_parcel_is_claimed_with_evidence_and_approved(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock
) -> None:
    # G3: the premium was in the quote; the loss claim is capped by the cover and decided
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    shipment = _lost_parcel(m, sandbox_carrier, clock, insure=True)
    assert shipment["insured"] and shipment["quote_lines"][-1]["code"] == "insurance_premium"
    seller = m.seller_tokens["a"]
    path = f"/shipments/{shipment['id']}/claims"
    too_much = m.post(path, seller, {**CLAIM, "amount_minor": 45_001})
    assert too_much.status_code == 422 and too_much.json()["rule"] == "within_cover"
    no_proof = m.post(path, seller, {**CLAIM, "evidence": []})
    assert no_proof.status_code == 422 and no_proof.json()["field"].startswith("evidence")
    damage = m.post(path, seller, {**CLAIM, "kind": "damage"})
    assert damage.status_code == 409 and damage.json()["rule"] == "claimable_status"
    claim = m.ok(m.post(path, seller, CLAIM), 201)
    assert (claim["status"], claim["cover_minor"], claim["claimed_minor"]) == (
        "filed",
        45_000,
        45_000,
    )
    assert m.post(path, seller, CLAIM).status_code == 409  # one open claim per shipment
    other = m.seller_tokens["b"]
    assert m.get(f"/claims/{claim['id']}", other).status_code == 404
    assert m.post(path, other, CLAIM).status_code == 404
    assert (
        m.post(
            f"/claims/{claim['id']}/approve", seller, {"amount_minor": 1, "reason": "me"}
        ).status_code
        == 403
    )
    assert [c["id"] for c in m.ok(m.get("/claims", m.operator, params={"status": "filed"}))] == [
        claim["id"]
    ]
    over = m.post(
        f"/claims/{claim['id']}/approve", m.operator, {"amount_minor": 50_000, "reason": "x"}
    )
    assert over.status_code == 422 and over.json()["rule"] == "within_claim"
    approved = m.ok(
        m.post(
            f"/claims/{claim['id']}/approve",
            m.operator,
            {"amount_minor": 44_000, "reason": "lost in transit; resale value"},
        )
    )
    assert (approved["status"], approved["approved_minor"]) == ("approved", 44_000)
    again = m.post(f"/claims/{claim['id']}/reject", m.operator, {"reason": "changed my mind"})
    assert again.status_code == 409
    notes = m.ok(m.get("/notifications", seller))
    assert any(n["kind"] == "claim_approved" for n in notes)
    timeline = [e["action"] for e in m.ok(m.get(f"/orders/{shipment['order_id']}/events", seller))]
    assert "claim_file" in timeline and "claim_approve" in timeline


def test_an_uninsured_parcel_cannot_be_claimed_and_a_rejected_claim_may_be_refiled(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock
) -> None:
    # G3
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    plain = _lost_parcel(m, sandbox_carrier, clock, insure=False)
    seller = m.seller_tokens["a"]
    refused = m.post(f"/shipments/{plain['id']}/claims", seller, CLAIM)
    assert refused.status_code == 422 and refused.json()["rule"] == "insured"
    insured = _lost_parcel(m, sandbox_carrier, clock, insure=True)
    first = m.ok(m.post(f"/shipments/{insured['id']}/claims", seller, CLAIM), 201)
    m.ok(m.post(f"/claims/{first['id']}/reject", m.operator, {"reason": "evidence unreadable"}))
    second = m.ok(m.post(f"/shipments/{insured['id']}/claims", seller, CLAIM), 201)
    assert second["id"] != first["id"] and second["status"] == "filed"

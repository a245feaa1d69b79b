"""Penalties: versioned tiers price each breach once; sellers appeal, operators decide (F6, O2)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.builders.market import Market
from tests.builders.workers import race_workers, sweep_once
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.worker.loop import assess_penalties, record_breaches

TIERS = [
    {"from_hours": 0, "to_hours": 24, "rate_bp": 500, "rating_points": 1},
    {"from_hours": 24, "to_hours": 72, "rate_bp": 1000, "rating_points": 3},
    {"from_hours": 72, "to_hours": None, "rate_bp": 3000, "rating_points": 6},
]
SHIP = {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"}


def _policy(m: Market, kind: str = "ship_late", tiers: Any = None, **extra: Any) -> Any:
    body = {"kind": kind, "tiers": tiers or TIERS, **extra}
    return m.post("/penalty-policies", m.operator, body)


def _late_semi_order(
    m: Market, client: TestClient, clock: FrozenClock, settings: Settings
) -> dict[str, Any]:
    order = m.place("a_semi")
    clock.current = datetime.fromisoformat(order["ship_by"]) + timedelta(seconds=1)
    assert sweep_once(client, clock, settings)["record_breaches"] == 1
    return order


def test_a_late_shipment_is_fined_by_how_late_it_was(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # F6
    m = market
    seller = m.seller_tokens["a"]
    policy = m.ok(_policy(m), 201)
    assert (policy["version"], policy["standing"]) == (1, "in_force")
    order = _late_semi_order(m, client, clock, settings)
    assert m.ok(m.get("/penalties", seller)) == []  # still late: the fine is not settled yet

    clock.current = datetime.fromisoformat(order["ship_by"]) + timedelta(hours=30)
    m.ok(m.post(f"/orders/{order['id']}/ship", seller, SHIP))
    assert sweep_once(client, clock, settings)["assess_penalties"] == 1
    assert sweep_once(client, clock, settings)["assess_penalties"] == 0

    (penalty,) = m.ok(m.get("/penalties", seller))
    assert penalty["order_id"] == order["id"] and penalty["kind"] == "ship_late"
    assert (penalty["policy_version"], penalty["tier_index"]) == (1, 1)
    assert penalty["lateness_seconds"] == 30 * 3600
    # 10% of the order's 19.99 EUR, in cents, rounded half up.
    assert (penalty["amount_minor"], penalty["currency"]) == (200, "EUR")
    assert (penalty["status"], penalty["allowed_actions"]) == ("assessed", ["appeal"])
    (breach,) = m.ok(m.get("/breaches", seller))
    assert breach["lateness_seconds"] == 30 * 3600 and breach["assessed_at"] is not None
    kinds = [n["kind"] for n in m.ok(m.get("/notifications", seller))]
    assert "penalty_assessed" in kinds
    rating = m.ok(m.get(f"/sellers/{m.sellers['a']}/rating", seller))
    assert (rating["score"], rating["points_deducted"]) == (97, 3)
    assert rating["breaches"] == {"confirm_late": 0, "ship_late": 1}


def test_an_order_never_shipped_is_fined_once_the_fine_cannot_grow(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # F6
    m = market
    m.ok(_policy(m), 201)
    order = _late_semi_order(m, client, clock, settings)
    ship_by = datetime.fromisoformat(order["ship_by"])
    clock.current = ship_by + timedelta(hours=71)
    assert sweep_once(client, clock, settings)["assess_penalties"] == 0
    clock.current = ship_by + timedelta(hours=72)
    assert sweep_once(client, clock, settings)["assess_penalties"] == 1
    (penalty,) = m.ok(m.get("/penalties", m.operator))
    assert penalty["tier_index"] == 2 and penalty["amount_minor"] == 600  # 30% of 1999


def test_a_late_confirmation_is_fined_under_its_own_policy(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # O2
    m = market
    flat = [{"from_hours": 0, "to_hours": None, "rate_bp": 200, "rating_points": 2}]
    m.ok(_policy(m, "confirm_late", flat), 201)
    order = m.place("a_full")
    clock.advance(timedelta(hours=25))
    handled = sweep_once(client, clock, settings)
    # The only tier is open-ended from 0 h: the fine is final the moment it is recorded.
    assert (handled["record_breaches"], handled["assess_penalties"]) == (1, 1)
    (penalty,) = m.ok(m.get("/penalties", m.seller_tokens["a"]))
    assert (penalty["kind"], penalty["order_id"], penalty["amount_minor"]) == (
        "confirm_late",
        order["id"],
        40,
    )


def test_breaches_without_a_policy_are_recorded_and_never_fined(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # F6
    m = market
    _late_semi_order(m, client, clock, settings)
    assert sweep_once(client, clock, settings)["assess_penalties"] == 0
    assert m.ok(m.get("/penalties", m.operator)) == []
    (breach,) = m.ok(m.get("/breaches", m.operator))
    assert breach["assessed_at"] is not None


def test_a_breach_is_priced_by_the_version_in_force_at_its_deadline(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # F6
    m = market
    m.ok(_policy(m), 201)
    order = m.place("a_semi")
    ship_by = datetime.fromisoformat(order["ship_by"])
    harsher = [{"from_hours": 0, "to_hours": None, "rate_bp": 5000, "rating_points": 10}]
    later = (ship_by + timedelta(hours=1)).isoformat()
    v2 = m.ok(_policy(m, tiers=harsher, effective_from=later), 201)
    assert (v2["version"], v2["standing"]) == (2, "scheduled")
    clock.current = ship_by + timedelta(hours=2)
    m.ok(m.post(f"/orders/{order['id']}/ship", m.seller_tokens["a"], SHIP))
    sweep_once(client, clock, settings)  # the ship happened after the deadline: still a breach
    (penalty,) = m.ok(m.get("/penalties", m.operator))
    assert (penalty["policy_version"], penalty["amount_minor"]) == (1, 100)
    standings = [
        (p["version"], p["standing"]) for p in m.ok(m.get("/penalty-policies", m.operator))
    ]
    assert standings == [(1, "superseded"), (2, "in_force")]


def test_a_seller_appeals_and_an_operator_waives(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # F6
    m = market
    a, b = m.seller_tokens["a"], m.seller_tokens["b"]
    m.ok(_policy(m), 201)
    _late_semi_order(m, client, clock, settings)
    clock.advance(timedelta(hours=72))
    sweep_once(client, clock, settings)
    (penalty,) = m.ok(m.get("/penalties", a))
    pid = penalty["id"]

    # Another seller cannot see, appeal or learn of it; a carrier cannot read penalties.
    assert m.get(f"/penalties/{pid}", b).status_code == 404
    assert m.post(f"/penalties/{pid}/appeal", b, {"reason": "not mine"}).status_code == 404
    assert m.ok(m.get("/penalties", b)) == []
    assert m.get("/penalties", m.carrier).status_code == 403
    assert m.get(f"/sellers/{m.sellers['a']}/rating", b).status_code == 404
    # Operators decide; a seller cannot decide its own appeal, nor appeal twice.
    assert m.post(f"/penalties/{pid}/waive", a, {"reason": "x"}).status_code == 403  # in any state
    appealed = m.ok(m.post(f"/penalties/{pid}/appeal", a, {"reason": "warehouse flooded"}))
    assert appealed["status"] == "appealed" and appealed["allowed_actions"] == []
    again = m.post(f"/penalties/{pid}/appeal", a, {"reason": "again"})
    assert again.status_code == 409 and again.json()["current_state"] == "appealed"
    assert m.post(f"/penalties/{pid}/waive", a, {"reason": "x"}).status_code == 403

    (queued,) = m.ok(m.get("/penalties", m.operator, params={"status": "appealed"}))
    assert queued["allowed_actions"] == ["uphold", "waive"]
    stale = m.post(
        f"/penalties/{pid}/waive", m.operator, {"reason": "ok"}, headers={"If-Match": "1"}
    )
    assert stale.status_code == 409
    waived = m.ok(
        m.post(
            f"/penalties/{pid}/waive",
            m.operator,
            {"reason": "flood confirmed"},
            headers={"If-Match": str(queued["version"])},
        )
    )
    assert waived["status"] == "waived" and waived["decision_reason"] == "flood confirmed"
    rating = m.ok(m.get(f"/sellers/{m.sellers['a']}/rating", a))
    assert (rating["score"], rating["penalties_waived"]) == (100, 1)
    assert any(n["kind"] == "penalty_waived" for n in m.ok(m.get("/notifications", a)))
    assert any(n["kind"] == "penalty_appealed" for n in m.ok(m.get("/notifications", m.operator)))


def test_an_appeal_after_the_window_is_refused(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # F6
    m = market
    a = m.seller_tokens["a"]
    m.ok(_policy(m), 201)
    _late_semi_order(m, client, clock, settings)
    clock.advance(timedelta(hours=72))
    sweep_once(client, clock, settings)
    (penalty,) = m.ok(m.get("/penalties", a))
    clock.current = datetime.fromisoformat(penalty["appeal_by"]) + timedelta(seconds=1)
    assert m.ok(m.get(f"/penalties/{penalty['id']}", a))["allowed_actions"] == []
    late = m.post(f"/penalties/{penalty['id']}/appeal", a, {"reason": "sorry"})
    assert late.status_code == 409 and late.json()["rule"] == "appeal_window"
    assert m.ok(m.get(f"/penalties/{penalty['id']}", a))["status"] == "assessed"


def test_bad_policies_are_refused_and_change_nothing(market: Market) -> None:  # F6
    m = market
    overlap = [TIERS[0], {**TIERS[1], "from_hours": 12}, TIERS[2]]
    response = _policy(m, tiers=overlap)
    assert response.status_code == 422
    assert (response.json()["field"], response.json()["rule"]) == (
        "tiers[1].from_hours",
        "no_overlap",
    )
    gap = [TIERS[0], {**TIERS[1], "from_hours": 30}, TIERS[2]]
    assert _policy(m, tiers=gap).json()["rule"] == "no_gap"
    closed = [TIERS[0], TIERS[1]]
    assert _policy(m, tiers=closed).json()["rule"] == "open_last"
    past = _policy(m, effective_from="2020-01-01T00:00:00+00:00")
    assert past.status_code == 422 and past.json()["rule"] == "not_past"
    assert _policy(m, kind="late_lunch").status_code == 422
    assert _policy(m, tiers=[{**TIERS[2], "rate_bp": 10_001}]).status_code == 422
    assert (
        m.post(
            "/penalty-policies", m.seller_tokens["a"], {"kind": "ship_late", "tiers": TIERS}
        ).status_code
        == 403
    )
    assert m.ok(m.get("/penalty-policies", m.operator)) == []
    m.ok(_policy(m), 201)
    same_time = _policy(
        m, effective_from=m.ok(m.get("/penalty-policies", m.operator))[0]["effective_from"]
    )
    assert same_time.status_code == 422 and same_time.json()["rule"] == "after_previous"
    assert m.get("/penalty-policies", m.carrier).status_code == 403
    assert len(m.ok(m.get("/penalty-policies", m.seller_tokens["a"]))) == 1


def test_two_workers_price_each_breach_once(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # F6
    m = market
    m.ok(_policy(m, "confirm_late", [TIERS[2] | {"from_hours": 0}]), 201)
    for _ in range(7):
        m.place("a_full")
    clock.advance(timedelta(hours=25))
    small = settings.model_copy(update={"worker_batch_size": 2})
    assert sum(race_workers(client, record_breaches, clock, small)) == 7
    assert sum(race_workers(client, assess_penalties, clock, small)) == 7
    penalties = m.ok(m.get("/penalties", m.operator))
    assert len(penalties) == 7 and len({p["breach_id"] for p in penalties}) == 7

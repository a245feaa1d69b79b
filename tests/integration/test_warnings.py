"""Early warnings (G5): the worker warns once at the window's checkpoints; at-risk lists."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.builders.market import Market
from tests.builders.workers import sweep_once
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock

SHIP = {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"}


def _share(order: dict[str, Any], share: float) -> datetime:
    placed = datetime.fromisoformat(order["placed_at"])
    return placed + (datetime.fromisoformat(order["ship_by"]) - placed) * share


def _warnings(m: Market, token: str) -> list[dict[str, Any]]:
    return [n for n in m.ok(m.get("/notifications", token)) if n["kind"] == "at_risk"]


def test_a_seller_is_warned_once_before_the_ship_deadline(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # G5
    m = market
    a, b = m.seller_tokens["a"], m.seller_tokens["b"]
    order = m.place("a_semi")
    clock.current = _share(order, 0.5)
    assert sweep_once(client, clock, settings)["warn_at_risk"] == 1
    assert _warnings(m, a) == []  # half the window gone is not yet alarming
    clock.current = _share(order, 0.75)
    assert sweep_once(client, clock, settings)["warn_at_risk"] == 1
    (warning,) = _warnings(m, a)
    assert warning["subject_id"] == order["id"] and "is gone" in warning["message"]
    clock.current = _share(order, 0.9)
    sweep_once(client, clock, settings)
    assert len(_warnings(m, a)) == 1  # once per order and deadline
    assert sweep_once(client, clock, settings)["warn_at_risk"] == 0  # no checkpoint left
    # Looking at risk changes nothing a client acts on: If-Match with the placed version holds.
    assert m.ok(m.get(f"/orders/{order['id']}", a))["version"] == order["version"]

    (listed,) = m.ok(m.get("/at-risk", a))
    assert listed["order_id"] == order["id"] and listed["deadline_kind"] == "ship_by"
    assert listed["warn"] and listed["reasons"][0]["code"] == "window_elapsed"
    risk = m.ok(m.get(f"/orders/{order['id']}/risk", a))
    assert risk["score"] == listed["score"]
    assert m.ok(m.get("/at-risk", b)) == [] and _warnings(m, b) == []
    assert m.get(f"/orders/{order['id']}/risk", b).status_code == 404
    assert m.get("/at-risk", m.carrier).status_code == 403
    assert m.get("/at-risk", a, params={"min_score": 101}).status_code == 422


def test_a_seller_who_usually_ships_late_is_warned_at_the_first_checkpoint(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # G5
    m = market
    a = m.seller_tokens["a"]
    history = [m.place("a_semi") for _ in range(6)]
    clock.current = datetime.fromisoformat(history[0]["ship_by"]) + timedelta(hours=30)
    for old in history:
        m.ok(m.post(f"/orders/{old['id']}/ship", a, SHIP))
    order = m.place("a_semi")
    clock.current = _share(order, 0.5)
    sweep_once(client, clock, settings)
    warned = [w for w in _warnings(m, a) if w["subject_id"] == order["id"]]
    assert (
        len(warned) == 1 and "88% of this seller's recent orders still open" in warned[0]["message"]
    )
    (listed,) = [r for r in m.ok(m.get("/at-risk", a)) if r["order_id"] == order["id"]]
    assert listed["reasons"][0]["code"] == "pace" and listed["level"] == "high"


def test_orders_done_in_time_are_not_at_risk(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # G5
    m = market
    order = m.place("a_semi")
    m.ok(m.post(f"/orders/{order['id']}/ship", m.seller_tokens["a"], SHIP))
    clock.current = _share(order, 0.8)
    sweep_once(client, clock, settings)
    assert _warnings(m, m.seller_tokens["a"]) == []
    ship_risk = m.ok(m.get("/at-risk", m.operator, params={"min_score": 0}))
    assert all(r["deadline_kind"] == "deliver_by" for r in ship_risk)

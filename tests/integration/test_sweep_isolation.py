"""The worker survives a poisoned row: a re-opened deadline keeps its one breach, a row that
fails alone is set aside for an operator, and every other sweep still runs (F1, F6, F10, O2, O3).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.builders.faults import refusing
from tests.builders.market import Market
from tests.builders.shipping import SandboxHandle, connect_sandbox, ship
from tests.builders.workers import sweep_database, sweep_once
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock

SHIP = {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"}
TIERS = [
    {"from_hours": 0, "to_hours": 24, "rate_bp": 500, "rating_points": 1},
    {"from_hours": 24, "to_hours": 72, "rate_bp": 1000, "rating_points": 3},
    {"from_hours": 72, "to_hours": None, "rate_bp": 3000, "rating_points": 6},
]


def _ship_by(m: Market, order_id: str) -> datetime:
    return datetime.fromisoformat(m.ok(m.get(f"/orders/{order_id}", m.operator))["ship_by"])


def _breaches(m: Market, order_id: str) -> list[dict[str, Any]]:
    return list(m.ok(m.get("/breaches", m.operator, params={"order_id": order_id})))


def _shipped_online_then_cancelled(
    m: Market, sandbox: SandboxHandle, clock: FrozenClock, order_id: str, seller: str
) -> None:
    """The seller ships the order online, cancels the shipment, and the carrier confirms."""
    shipment = ship(m, order_id, seller)
    m.ok(m.post(f"/shipments/{shipment['id']}/submit", seller))
    assert m.ok(m.get(f"/orders/{order_id}", seller))["status"] == "shipped"
    m.ok(m.post(f"/shipments/{shipment['id']}/cancel", seller, {"reason": "wrong_product_info"}))
    clock.advance(timedelta(minutes=11))  # the sandbox answers ten minutes later
    sandbox.tick(m.client)
    assert m.ok(m.get(f"/shipments/{shipment['id']}", seller))["status"] == "cancelled"


def test_a_reopened_deadline_keeps_its_breach_and_other_sellers_still_get_theirs(
    live_market: Market,
    sandbox_carrier: SandboxHandle,
    clock: FrozenClock,
    settings: Settings,
    db_url: str,
) -> None:  # F6 F10 F1 (issue 10, finding 1)
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    m.ok(m.post("/penalty-policies", m.operator, {"kind": "ship_late", "tiers": TIERS}), 201)
    seller = m.seller_tokens["a"]
    order = m.place("a_self")
    # given a late order whose breach the sweep recorded
    clock.current = _ship_by(m, order["id"]) + timedelta(hours=1)
    assert sweep_database(db_url, clock, settings)["record_breaches"] == 1
    # when it ships online, late, and the breach is priced on that lateness
    shipment = ship(m, order["id"], seller)
    m.ok(m.post(f"/shipments/{shipment['id']}/submit", seller))
    assert sweep_database(db_url, clock, settings)["assess_penalties"] == 1
    # and the seller cancels the shipment and the carrier confirms
    m.ok(m.post(f"/shipments/{shipment['id']}/cancel", seller, {"reason": "wrong_product_info"}))
    clock.advance(timedelta(minutes=11))
    sandbox_carrier.tick(m.client)
    reopened = m.ok(m.get(f"/orders/{order['id']}", seller))
    assert reopened["status"] == "awaiting_shipment" and reopened["deadline_missed_at"] is None
    # and meanwhile another seller's order falls overdue
    other = m.place("b_self")
    clock.current = _ship_by(m, other["id"]) + timedelta(seconds=1)
    # then the worker runs without a failure, for everyone
    report = sweep_database(db_url, clock, settings)
    assert report["record_breaches"] == 2
    assert getattr(report, "failed", {}) == {} and getattr(report, "set_aside", {}) == {}
    # the re-opened order keeps its one breach and is flagged late again
    (kept,) = _breaches(m, order["id"])
    assert kept["kind"] == "ship_late" and kept["assessed_at"] is not None
    assert m.ok(m.get(f"/orders/{order['id']}", seller))["deadline_missed_at"] is not None
    # the other seller's order got its breach and its seller was told
    (theirs,) = _breaches(m, other["id"])
    assert theirs["kind"] == "ship_late"
    notes = m.ok(m.get("/notifications", m.seller_tokens["b"]))
    assert [n["subject_id"] for n in notes if n["kind"] == "ship_late"] == [other["id"]]
    # and the seller was told about its own breach once, and fined once
    mine = m.ok(m.get("/notifications", seller))
    assert [n["kind"] for n in mine].count("ship_late") == 1
    assert len(m.ok(m.get("/penalties", seller))) == 1
    # the next run has nothing left to do and still fails nothing
    again = sweep_database(db_url, clock, settings)
    assert again["record_breaches"] == 0 and getattr(again, "failed", {}) == {}
    # when the seller finally ships, nothing is recorded twice
    m.ok(m.post(f"/orders/{order['id']}/ship", seller, SHIP))
    assert len(_breaches(m, order["id"])) == 1


def test_lateness_runs_on_until_the_reopened_work_is_done(
    live_market: Market,
    sandbox_carrier: SandboxHandle,
    clock: FrozenClock,
    settings: Settings,
    db_url: str,
) -> None:  # F6 F10 F1
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    m.ok(m.post("/penalty-policies", m.operator, {"kind": "ship_late", "tiers": TIERS}), 201)
    seller = m.seller_tokens["a"]
    order = m.place("a_self")
    ship_by = _ship_by(m, order["id"])
    # given a late order that shipped online and came back before any sweep ran
    clock.current = ship_by + timedelta(hours=2)
    _shipped_online_then_cancelled(m, sandbox_carrier, clock, order["id"], seller)
    (recorded,) = _breaches(m, order["id"])  # the late submit recorded it
    assert recorded["assessed_at"] is None
    # when the seller ships it by hand a day and a half later, before the sweep flagged it again
    clock.current = ship_by + timedelta(hours=36)
    shipped = m.post(f"/orders/{order['id']}/ship", seller, SHIP)
    # then the shipment goes through, still with one breach
    assert shipped.status_code == 200, shipped.text
    assert len(_breaches(m, order["id"])) == 1
    # and the breach is priced on the whole lateness, up to the shipment that stood
    report = sweep_database(db_url, clock, settings)
    assert report["assess_penalties"] == 1 and getattr(report, "failed", {}) == {}
    (priced,) = _breaches(m, order["id"])
    assert priced["lateness_seconds"] == 36 * 3600
    (penalty,) = m.ok(m.get("/penalties", seller))
    assert penalty["tier_index"] == 1


def _delivered(m: Market) -> str:
    order = m.place("a_self")
    m.ok(m.post(f"/orders/{order['id']}/ship", m.seller_tokens["a"], SHIP))
    m.ok(m.post(f"/orders/{order['id']}/deliver", m.carrier))
    return str(order["id"])


def test_a_poisoned_row_is_set_aside_and_every_other_sweep_still_runs(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # F1 O3 (issue 10, finding 1)
    m = market
    poisoned, fine = m.place("a_self"), m.place("b_self")
    delivered = _delivered(m)
    hook = m.ok(m.post("/webhooks", m.seller_tokens["b"], {"url": "https://b.example/hook"}), 201)
    clock.advance(timedelta(days=settings.auto_confirm_days, hours=1))
    with refusing(m.db_url, "breaches", "order_id", poisoned["id"]):
        # when the worker runs while one order's breach cannot be written
        report = sweep_once(client, clock, settings)
        # then that order is set aside, counted, and every other row and sweep went on
        assert report.failed == {}
        assert report.set_aside == {"record_breaches": 1}
        assert report.open == {"record_breaches": 1}
        assert "set aside now 1" in report.line()
        assert report["record_breaches"] == 1 and report["auto_complete"] == 1
        assert report["fan_out_webhooks"] >= 1
        assert _breaches(m, poisoned["id"]) == []
        assert [b["kind"] for b in _breaches(m, fine["id"])] == ["ship_late"]
        assert m.ok(m.get(f"/orders/{delivered}", m.operator))["status"] == "completed"
        deliveries = m.ok(m.get(f"/webhooks/{hook['id']}/deliveries", m.seller_tokens["b"]))
        assert deliveries and deliveries[0]["attempts"] == 1  # queued and tried in the same run
        # and operators see it, with its error
        (row,) = m.ok(m.get("/sweep-failures", m.operator))
        assert (row["sweep"], row["subject_type"], row["subject_id"]) == (
            "record_breaches",
            "order",
            poisoned["id"],
        )
        assert "refused by the database" in row["error"] and "INSERT" not in row["error"]
        assert (row["status"], row["attempts"]) == ("set_aside", 1)
        assert row["allowed_actions"] == ["retry", "dismiss"]
        # when the worker runs again, the row is not tried again
        again = sweep_once(client, clock, settings)
        assert again.set_aside == {} and again["record_breaches"] == 0
        assert m.ok(m.get(f"/sweep-failures/{row['id']}", m.operator))["attempts"] == 1
        # and the operators' inbox said so once, not at every run that skips it
        told = [
            n for n in m.ok(m.get("/notifications", m.operator)) if n["kind"] == "sweep_set_aside"
        ]
        assert len(told) == 1 and told[0]["subject_id"] == poisoned["id"]
        assert all(
            n["kind"] != "sweep_set_aside"
            for n in m.ok(m.get("/notifications", m.seller_tokens["b"]))
        )
    # when the cause is gone and an operator retries it (idempotently)
    key = {"Idempotency-Key": m.new_key()}
    body = {"reason": "trigger removed"}
    retried = m.ok(m.post(f"/sweep-failures/{row['id']}/retry", m.operator, body, headers=key))
    assert retried["status"] == "retrying"
    replay = m.post(f"/sweep-failures/{row['id']}/retry", m.operator, body, headers=key)
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json() == retried
    # then the next run takes it alone, records its breach and resolves the row
    third = sweep_once(client, clock, settings)
    assert third["record_breaches"] == 1 and third.open == {}
    assert [b["kind"] for b in _breaches(m, poisoned["id"])] == ["ship_late"]
    assert m.ok(m.get("/sweep-failures", m.operator)) == []
    (done,) = m.ok(m.get("/sweep-failures", m.operator, params={"status": "resolved"}))
    assert done["id"] == row["id"] and done["resolved_at"] is not None
    assert done["decision_reason"] == "trigger removed"


def test_a_breach_that_cannot_be_priced_is_set_aside_and_the_others_are_priced(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # F6
    m = market
    m.ok(m.post("/penalty-policies", m.operator, {"kind": "ship_late", "tiers": TIERS}), 201)
    stuck, other = m.place("a_semi"), m.place("b_semi")
    clock.current = max(_ship_by(m, stuck["id"]), _ship_by(m, other["id"])) + timedelta(hours=1)
    assert sweep_once(client, clock, settings)["record_breaches"] == 2
    for order, seller in ((stuck, "a"), (other, "b")):
        m.ok(m.post(f"/orders/{order['id']}/ship", m.seller_tokens[seller], SHIP))
    (breach,) = _breaches(m, stuck["id"])
    with refusing(m.db_url, "penalties", "breach_id", breach["id"]):
        report = sweep_once(client, clock, settings)
        assert report["assess_penalties"] == 1 and report.set_aside == {"assess_penalties": 1}
        assert [p["order_id"] for p in m.ok(m.get("/penalties", m.operator))] == [other["id"]]
        (row,) = m.ok(m.get("/sweep-failures", m.operator))
        assert (row["sweep"], row["subject_type"], row["subject_id"]) == (
            "assess_penalties",
            "breach",
            breach["id"],
        )
    # an operator who settles it by hand dismisses it: it stays out of the sweep, off the list
    m.ok(m.post(f"/sweep-failures/{row['id']}/dismiss", m.operator, {"reason": "fined by hand"}))
    assert m.ok(m.get("/sweep-failures", m.operator)) == []
    later = sweep_once(client, clock, settings)
    assert later["assess_penalties"] == 0 and later.open == {}
    dismissed = m.ok(m.get(f"/sweep-failures/{row['id']}", m.operator))
    assert dismissed["status"] == "dismissed" and dismissed["allowed_actions"] == ["retry"]


def test_a_whole_sweep_failing_stops_no_other_and_clears_itself(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # O3
    m = market
    m.ok(m.post("/webhooks", m.seller_tokens["a"], {"url": "https://a.example/hook"}), 201)
    order = m.place("a_self")
    delivered = _delivered(m)
    clock.advance(timedelta(days=settings.auto_confirm_days, hours=1))
    # when every webhook delivery is refused by the database, the fan-out sweep fails whole
    with refusing(m.db_url, "webhook_deliveries", "status", "pending"):
        report = sweep_once(client, clock, settings)
        assert list(report.failed) == ["fan_out_webhooks"]
        # then the sweeps before and after it still ran
        assert report["record_breaches"] == 1 and report["auto_complete"] == 1
        assert "prune_idempotency" in report and "deliver_webhooks" in report
        assert [b["kind"] for b in _breaches(m, order["id"])] == ["ship_late"]
        assert m.ok(m.get(f"/orders/{delivered}", m.operator))["status"] == "completed"
        (row,) = m.ok(m.get("/sweep-failures", m.operator))
        assert (row["sweep"], row["subject_type"]) == ("fan_out_webhooks", "sweep")
        assert "refused by the database" in row["error"]
    # when the cause is gone, the next run goes through and closes the row by itself
    fixed = sweep_once(client, clock, settings)
    assert fixed.failed == {} and fixed["fan_out_webhooks"] >= 1 and fixed.open == {}
    assert m.ok(m.get("/sweep-failures", m.operator)) == []


def test_a_fault_of_the_whole_sweep_sets_no_row_aside(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # F1
    m = market
    orders = [m.place("a_self") for _ in range(5)]
    clock.advance(timedelta(days=3))
    # when every breach is refused (as a bug in the sweep would make it), no row is to blame
    with refusing(m.db_url, "breaches", "kind", "ship_late"):
        report = sweep_once(client, clock, settings)
    # then nothing is set aside: the sweep is on the list as failed, and tried again
    assert list(report.failed) == ["record_breaches"] and report.set_aside == {}
    (row,) = m.ok(m.get("/sweep-failures", m.operator))
    assert (row["sweep"], row["subject_type"]) == ("record_breaches", "sweep")
    fixed = sweep_once(client, clock, settings)
    assert fixed["record_breaches"] == len(orders) and fixed.open == {}


def test_only_operators_see_or_decide_what_was_set_aside(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # issue 10: each role sees only its own data
    m = market
    poisoned = m.place("a_self")
    clock.advance(timedelta(days=3))
    with refusing(m.db_url, "breaches", "order_id", poisoned["id"]):
        sweep_once(client, clock, settings)
    (row,) = m.ok(m.get("/sweep-failures", m.operator))
    for token in (m.seller_tokens["a"], m.seller_tokens["b"], m.carrier, m.channel):
        assert m.get("/sweep-failures", token).status_code == 403
        assert m.get(f"/sweep-failures/{row['id']}", token).status_code == 403
        for action in ("retry", "dismiss"):
            refused = m.post(f"/sweep-failures/{row['id']}/{action}", token, {"reason": "mine"})
            assert refused.status_code == 403
            assert refused.headers["content-type"].startswith("application/problem+json")
    assert m.ok(m.get(f"/sweep-failures/{row['id']}", m.operator))["status"] == "set_aside"
    # bad input is a 4xx naming the field, and changes nothing
    empty = m.post(f"/sweep-failures/{row['id']}/retry", m.operator, {"reason": "  "})
    assert empty.status_code == 422 and "reason" in empty.json()["field"]
    unknown = m.post("/sweep-failures/swf_nope/retry", m.operator, {"reason": "x"})
    assert unknown.status_code == 404 and unknown.json()["field"] == "failure_id"
    assert m.get("/sweep-failures", m.operator, params={"status": "lost"}).status_code == 422
    m.ok(m.post(f"/sweep-failures/{row['id']}/dismiss", m.operator, {"reason": "by hand"}))
    twice = m.post(f"/sweep-failures/{row['id']}/dismiss", m.operator, {"reason": "again"})
    assert twice.status_code == 409 and twice.json()["allowed_actions"] == ["retry"]

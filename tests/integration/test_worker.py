"""The worker's auto-complete sweep (O3 decision): due work only, once, shared between workers."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.builders.market import ADDRESS, Market
from tests.builders.workers import race_workers
from tuoguan.config import Settings
from tuoguan.db import Database
from tuoguan.kit.clock import FrozenClock
from tuoguan.worker.loop import auto_complete, run_once


def _delivered(m: Market, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        order = m.place("a_self")
        m.ok(
            m.post(
                f"/orders/{order['id']}/ship",
                m.seller_tokens["a"],
                {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"},
            )
        )
        m.ok(m.post(f"/orders/{order['id']}/deliver", m.carrier))
        ids.append(order["id"])
    return ids


def test_delivered_orders_complete_after_the_configured_days(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # O3
    m = market
    ids = _delivered(m, 3)
    db: Database = client.app.state.db  # type: ignore[attr-defined]
    assert client.portal is not None
    clock.advance(timedelta(days=settings.auto_confirm_days) - timedelta(seconds=1))
    assert client.portal.call(run_once, db, clock, settings)["auto_complete"] == 0
    clock.advance(timedelta(seconds=1))
    assert client.portal.call(run_once, db, clock, settings)["auto_complete"] == 3
    assert client.portal.call(run_once, db, clock, settings)["auto_complete"] == 0
    for order_id in ids:
        order = m.ok(m.get(f"/orders/{order_id}", m.operator))
        assert order["status"] == "completed"
        events = m.ok(m.get(f"/orders/{order_id}/events", m.operator))
        assert events[-1]["actor_role"] == "system" and events[-1]["action"] == "complete"


def test_two_workers_share_due_orders_without_doubling(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:
    m = market
    ids = _delivered(m, 12)
    clock.advance(timedelta(days=settings.auto_confirm_days + 1))
    small = settings.model_copy(update={"worker_batch_size": 5})

    counts = race_workers(client, auto_complete, clock, small)
    assert sum(counts) == len(ids)
    for order_id in ids:
        events = m.ok(m.get(f"/orders/{order_id}/events", m.operator))
        assert [e["action"] for e in events].count("complete") == 1


def test_idempotency_keys_expire_after_their_time_to_live(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:
    m = market
    key = m.new_key()
    body = {
        "store_id": m.stores["a_self"],
        "currency": "USD",
        "address": ADDRESS,
        "lines": [{"product_id": m.products["a_self"], "quantity": 1}],
    }
    first = m.ok(m.post("/orders", m.channel, body, headers={"Idempotency-Key": key}), 201)
    db: Database = client.app.state.db  # type: ignore[attr-defined]
    assert client.portal is not None
    clock.advance(timedelta(hours=settings.idempotency_ttl_hours - 1))
    assert client.portal.call(run_once, db, clock, settings)["prune_idempotency"] == 0
    assert m.ok(m.post("/orders", m.channel, body, headers={"Idempotency-Key": key}), 201) == first
    clock.advance(timedelta(hours=2))
    assert client.portal.call(run_once, db, clock, settings)["prune_idempotency"] == 1
    second = m.ok(m.post("/orders", m.channel, body, headers={"Idempotency-Key": key}), 201)
    assert second["id"] != first["id"]

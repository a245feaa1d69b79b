"""Breaches: a missed confirm (O2) or ship (F1, F6) deadline is recorded once, flagged, notified."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.market import Market, as_system
from tests.builders.stock import sku_of
from tests.builders.workers import race_workers, sweep_once
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.db import sync_url
from tuoguan.fulfilment import service as fulfilment
from tuoguan.inventory import service as inventory
from tuoguan.inventory.models import MoveKind
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import SYSTEM
from tuoguan.worker.loop import record_breaches


def _sweep(client: TestClient, clock: FrozenClock, settings: Settings) -> int:
    return sweep_once(client, clock, settings)["record_breaches"]


def test_missed_confirmation_is_recorded_once_flagged_and_notified(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # O2
    m = market
    seller = m.seller_tokens["a"]
    order = m.place("a_full")
    confirm_by = datetime.fromisoformat(order["confirm_by"])
    clock.current = confirm_by
    assert _sweep(client, clock, settings) == 0  # due at the instant, not yet missed
    clock.advance(timedelta(seconds=1))
    assert _sweep(client, clock, settings) == 1
    assert _sweep(client, clock, settings) == 0

    flagged = m.ok(m.get(f"/orders/{order['id']}", seller))
    assert (
        flagged["deadline_missed_at"] is not None and flagged["status"] == "awaiting_confirmation"
    )
    (breach,) = m.ok(m.get("/breaches", seller))
    assert (breach["order_id"], breach["kind"]) == (order["id"], "confirm_late")
    assert datetime.fromisoformat(breach["deadline_at"]) == confirm_by
    events = m.ok(m.get(f"/orders/{order['id']}/events", seller))
    assert events[-1]["action"] == "deadline_missed" and events[-1]["actor_role"] == "system"
    (note,) = m.news(seller, unread=True)
    assert note["subject_id"] == order["id"] and "24 hours" in note["message"]
    m.ok(m.post(f"/notifications/{note['id']}/read", seller))
    assert m.news(seller, unread=True) == []


def test_a_late_confirmation_then_the_warehouses_fresh_ship_deadline_can_be_missed(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # O2 F11 F6
    m = market
    seller = m.seller_tokens["a"]
    order = m.place("a_full")  # no stock in the platform's warehouse: a supply order (O2 × M5)
    clock.advance(timedelta(hours=25))
    assert _sweep(client, clock, settings) == 1
    confirmed = m.ok(m.post(f"/orders/{order['id']}/confirm", seller))
    assert confirmed["deadline_missed_at"] is None and confirmed["ship_by"] is None
    _goods_arrive(m, clock, "a_full")  # the warehouse's ship clock starts (F11)
    ship_by = m.ok(m.get(f"/orders/{order['id']}", seller))["ship_by"]
    clock.current = datetime.fromisoformat(ship_by) + timedelta(seconds=1)
    assert _sweep(client, clock, settings) == 1
    found = m.ok(m.get("/breaches", seller, params={"order_id": order["id"]}))
    # the confirmation was the seller's to make; the shipment the platform's
    assert sorted((b["kind"], b["responsible"]) for b in found) == [
        ("confirm_late", "seller"),
        ("ship_late", "platform"),
    ]


def _goods_arrive(m: Market, clock: FrozenClock, store_key: str) -> None:
    """The platform's warehouse receives one unit and serves the order waiting for it."""
    sku = sku_of(m, store_key)

    async def work(session: AsyncSession, _: Ctx) -> None:
        ctx = Ctx(principal=SYSTEM, clock=clock)
        hub = m.platform_warehouse
        await inventory.move(
            session, ctx=ctx, kind=MoveKind.receipt, warehouse_id=hub, sku_id=sku, quantity=1
        )
        await fulfilment.serve_waiting(session, ctx=ctx, warehouse_id=hub, sku_ids=[sku])

    as_system(m.db_url, work)


def test_orders_done_in_time_are_never_breached(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # F1
    m = market
    order = m.place("a_semi")
    m.ok(
        m.post(
            f"/orders/{order['id']}/ship",
            m.seller_tokens["a"],
            {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"},
        )
    )
    clock.advance(timedelta(days=3))
    assert _sweep(client, clock, settings) == 0
    assert m.ok(m.get("/breaches", m.operator)) == []


def test_breaches_and_notifications_stay_with_their_seller(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:
    m = market
    order = m.place("a_full")
    clock.advance(timedelta(hours=25))
    assert _sweep(client, clock, settings) == 1
    b = m.seller_tokens["b"]
    assert m.ok(m.get("/breaches", b)) == []
    assert m.news(b) == []
    (note,) = m.news(m.seller_tokens["a"])
    assert m.post(f"/notifications/{note['id']}/read", b).status_code == 404
    assert m.get("/breaches", m.channel).status_code == 403
    assert m.get("/notifications", m.carrier).status_code == 403
    assert [x["order_id"] for x in m.ok(m.get("/breaches", m.operator))] == [order["id"]]


def test_two_workers_record_each_breach_once(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:
    m = market
    ids = [m.place("a_full")["id"] for _ in range(9)]
    clock.advance(timedelta(hours=25))
    small = settings.model_copy(update={"worker_batch_size": 2})

    assert sum(race_workers(client, record_breaches, clock, small)) == len(ids)
    assert len(m.ok(m.get("/breaches", m.operator))) == len(ids)


def test_the_sweep_reads_the_partial_index_not_the_open_orders(db_url: str, market: Market) -> None:
    query = (
        "SELECT id FROM orders WHERE deadline_missed_at IS NULL "
        "AND status IN ('awaiting_confirmation', 'awaiting_shipment') "
        "AND deadline_at <= '2026-11-20 00:00:00' ORDER BY deadline_at LIMIT 200"
    )
    engine = create_engine(sync_url(db_url))
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                plan = " ".join(str(r) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {query}")))
            else:
                conn.execute(text("SET enable_seqscan = off"))
                plan = " ".join(str(r) for r in conn.execute(text(f"EXPLAIN {query}")))
    finally:
        engine.dispose()
    assert "ix_orders_deadline_unmissed" in plan, plan

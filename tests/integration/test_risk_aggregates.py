"""Early warnings (G5) at scale: pace aggregates kept as orders move, at-risk pages by score."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.market import Market, as_system, auth
from tests.builders.workers import sweep_once
from tests.conftest import START
from tests.integration.test_list_plans import Planner, captured
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.kit.clock import FrozenClock
from tuoguan.kit.pagination import encode_cursor
from tuoguan.orders import deadlines
from tuoguan.orders import service as orders
from tuoguan.orders.pace import PaceBucket
from tuoguan.orders.states import OrderAction
from tuoguan.principal import Principal, Role
from tuoguan.timing import risk

SHIP = {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"}


def _pace(m: Market, kind: str, key: str) -> risk.History:
    since = (START - timedelta(days=1)).date()

    async def read(session: AsyncSession, _: Ctx) -> risk.History:
        if kind == "deliver_by":
            origin, destination = key.split(">")
            return await deadlines.lane_pace(
                session, origin=origin, destination=destination, since=since
            )
        return await deadlines.seller_pace(session, seller_id=key, kind=kind, since=since)

    return as_system(m.db_url, read)


def _table(m: Market) -> list[tuple[Any, ...]]:
    async def dump(session: AsyncSession, _: Ctx) -> list[tuple[Any, ...]]:
        rows = await session.execute(
            select(
                PaceBucket.scope,
                PaceBucket.key,
                PaceBucket.kind,
                PaceBucket.day,
                PaceBucket.bucket,
                PaceBucket.n,
                PaceBucket.late,
            ).where(PaceBucket.n != 0)
        )
        return sorted(tuple(row) for row in rows)

    return as_system(m.db_url, dump)


def _unship(m: Market, clock: FrozenClock, order_id: str) -> None:
    """The carrier undoes a shipment (F10), as tracking does when a parcel never left."""
    carrier = Principal(role=Role.carrier, actor_id="cainiao", carrier_code="cainiao")
    as_system(
        m.db_url,
        lambda s, _: orders.act(
            s,
            ctx=Ctx(principal=carrier, clock=clock),
            order_id=order_id,
            action=OrderAction.unship,
        ),
    )


def _bucket(hours: float) -> dict[int, int]:
    return {risk.bucket_of(timedelta(hours=hours)): 1}


def test_the_aggregates_follow_orders_and_a_rebuild_recounts_the_same(
    client: TestClient, market: Market, clock: FrozenClock
) -> None:  # G5
    m = market
    a, seller = m.seller_tokens["a"], m.sellers["a"]
    full = m.place("a_full")  # the seller confirms it; the platform ships it (F11)
    own = m.place("a_self")  # the seller ships it
    clock.advance(timedelta(hours=3))
    m.ok(m.post(f"/orders/{full['id']}/confirm", a))
    assert _pace(m, "confirm_by", seller).counts == _bucket(3)
    clock.advance(timedelta(hours=2))
    m.ok(m.post(f"/orders/{own['id']}/ship", a, SHIP))
    assert _pace(m, "ship_by", seller).counts == _bucket(5)

    semi = m.place("a_semi")
    clock.advance(timedelta(hours=1))
    m.ok(m.post(f"/orders/{semi['id']}/ship", a, {**SHIP, "tracking_number": "LP00999999999CN"}))
    assert _pace(m, "ship_by", seller).total == 2
    _unship(m, clock, semi["id"])  # F10: the shipment is taken back out of the pace
    assert _pace(m, "ship_by", seller).counts == _bucket(5)
    clock.advance(timedelta(hours=40))  # shipped again, late this time
    m.ok(m.post(f"/orders/{semi['id']}/ship", a, {**SHIP, "tracking_number": "LP00888888888CN"}))
    shipping = _pace(m, "ship_by", seller)
    assert shipping.counts == {**_bucket(5), **_bucket(41)} and shipping.late == 1

    m.ok(m.post(f"/orders/{own['id']}/deliver", m.carrier))
    lane = _pace(m, "deliver_by", "CN>ES")  # the self-run store ships from CN
    assert (lane.counts, lane.late) == (_bucket(41), 0)
    assert _pace(m, "ship_by", m.sellers["b"]).total == 0

    maintained = _table(m)
    assert len(maintained) == 4
    written = as_system(m.db_url, lambda s, _: deadlines.rebuild_pace(s, now=clock.now()))
    assert written == 4 and _table(m) == maintained


def _sweep_at(client: TestClient, clock: FrozenClock, settings: Settings, at: datetime) -> None:
    clock.current = at
    sweep_once(client, clock, settings)


def _pages(m: Market, token: str, **query: Any) -> list[list[dict[str, Any]]]:
    """Every page of /at-risk, following the Link rel=next."""
    response = m.get("/at-risk", token, params=query)
    pages = []
    while True:
        pages.append(m.ok(response))
        link = re.match(r"<([^>]+)>; rel=\"next\"", response.headers.get("link", ""))
        if link is None:
            return pages
        assert "cursor=" in link.group(1) and link.group(1).startswith("/api/v1/at-risk?")
        response = m.client.get(link.group(1), headers=auth(token))


def _placed(m: Market, clock: FrozenClock) -> dict[str, list[str]]:
    """Orders placed two hours apart: the earlier, the more of its window is gone."""
    ids: dict[str, list[str]] = {}
    for keys in (["a_semi", "a_semi", "b_semi", "a_self"], ["a_semi", "b_semi"], ["a_semi"]):
        for key in keys:
            ids.setdefault(key, []).append(m.place(key)["id"])
        clock.advance(timedelta(hours=2))
    return ids


def test_at_risk_lists_stored_scores_highest_first_a_page_at_a_time(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # G5
    m = market
    a, b = m.seller_tokens["a"], m.seller_tokens["b"]
    ids = _placed(m, clock)
    assert m.ok(m.get("/at-risk", m.operator, params={"min_score": 0})) == []  # none scored yet
    swept = START + timedelta(hours=36)
    _sweep_at(client, clock, settings, swept)

    listed = m.ok(m.get("/at-risk", m.operator, params={"min_score": 0, "limit": 500}))
    assert {r["order_id"] for r in listed} == {i for found in ids.values() for i in found}
    assert [r["order_id"] for r in listed] == [
        r["order_id"]
        for r in sorted(listed, key=lambda r: (-r["score"], r["deadline_at"], r["order_id"]))
    ]
    scores = [r["score"] for r in listed]
    assert scores[0] > scores[-1] and len(set(scores)) >= 3
    assert all(r["scored_at"] == listed[0]["scored_at"] for r in listed)
    assert datetime.fromisoformat(listed[0]["scored_at"]) == swept
    # Ties (same store, same placing time) go deadline first, then id.
    tied = [r["order_id"] for r in listed if r["order_id"] in ids["a_semi"][:2]]
    assert tied == sorted(ids["a_semi"][:2])

    default = m.ok(m.get("/at-risk", m.operator))
    assert default == [r for r in listed if r["score"] >= 40]
    assert listed[-1]["order_id"] == ids["a_self"][0]  # a longer promise, less of it gone
    pages = _pages(m, m.operator, min_score=0, limit=2)
    assert len(pages) == 4 and [r for page in pages for r in page] == listed

    # The score is the stored one; the time left is counted live.
    clock.advance(timedelta(hours=1))
    later = m.ok(m.get("/at-risk", m.operator, params={"min_score": 0, "limit": 500}))
    assert [(r["score"], r["scored_at"]) for r in later] == [
        (r["score"], r["scored_at"]) for r in listed
    ]
    assert later[0]["seconds_left"] == listed[0]["seconds_left"] - 3600

    # Each seller its own; another seller's store gives nothing; other roles are refused.
    own = [r for r in later if r["order_id"] not in ids["b_semi"]]
    assert [r for page in _pages(m, a, min_score=0, limit=3) for r in page] == own
    assert m.ok(m.get("/at-risk", a, params={"store_id": m.stores["b_semi"]})) == []
    assert [r["order_id"] for r in m.ok(m.get("/at-risk", b, params={"min_score": 0}))] == [
        r["order_id"] for r in listed if r["order_id"] in ids["b_semi"]
    ]
    store_only = m.ok(m.get("/at-risk", a, params={"store_id": m.stores["a_semi"]}))
    assert {r["order_id"] for r in store_only} == set(ids["a_semi"])
    assert m.get("/at-risk", m.carrier).status_code == 403
    assert m.get("/at-risk", m.channel).status_code == 403
    assert m.get("/at-risk", a, params={"cursor": "not-ours"}).status_code == 400
    forged = encode_cursor([40000, START, ids["a_semi"][0]])  # no score is that high
    assert m.get("/at-risk", a, params={"cursor": forged}).status_code == 400

    # At the deadline itself the stored score becomes 100 ("deadline passed").
    ship_by = max(datetime.fromisoformat(r["deadline_at"]) for r in listed if r["score"] >= 40)
    _sweep_at(client, clock, settings, ship_by + timedelta(seconds=1))
    top = m.ok(m.get("/at-risk", m.operator))[0]
    assert top["score"] == 100 and top["reasons"][0]["code"] == "deadline_passed"


def test_a_new_state_clears_the_stored_score_until_the_next_look(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # G5
    m = market
    a = m.seller_tokens["a"]
    order = m.place("a_semi")
    _sweep_at(client, clock, settings, START + timedelta(hours=36))
    assert [r["order_id"] for r in m.ok(m.get("/at-risk", a))] == [order["id"]]
    m.ok(m.post(f"/orders/{order['id']}/ship", a, SHIP))
    assert m.ok(m.get("/at-risk", a, params={"min_score": 0})) == []
    sweep_once(client, clock, settings)  # the delivery window's start is its first look
    (shipped,) = m.ok(m.get("/at-risk", a, params={"min_score": 0}))
    assert shipped["deadline_kind"] == "deliver_by" and shipped["score"] == 0


def test_the_at_risk_pages_and_the_pace_reads_use_their_indexes(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings, db_url: str
) -> None:  # G5
    m = market
    ids = _placed(m, clock)
    a = m.seller_tokens["a"]
    m.ok(m.post(f"/orders/{ids['a_semi'][0]}/ship", a, SHIP))
    _sweep_at(client, clock, settings, START + timedelta(hours=36))
    planner = Planner(db_url)
    faults: list[str] = []
    try:
        for token, query in (
            (m.operator, {}),
            (m.operator, {"store_id": m.stores["a_semi"]}),
            (a, {}),
            (a, {"store_id": m.stores["a_semi"]}),
            (a, {"store_id": m.stores["b_semi"]}),
            (m.operator, {"seller_id": m.sellers["a"]}),
            (m.operator, {"seller_id": m.sellers["a"], "store_id": m.stores["a_semi"]}),
            (a, {"seller_id": m.sellers["b"]}),
        ):
            with captured() as statements:
                pages = _pages(m, token, min_score=0, limit=1, **query)
                for order_id in ids["a_semi"][:2]:  # one shipped (its lane), one a seller's
                    m.get(f"/orders/{order_id}/risk", token)
            assert any("risk_score" in s for s, _ in statements)
            foreign = m.stores["b_semi"] in query.values() or m.sellers["b"] in query.values()
            assert len(pages) > 1 or foreign
            for statement, parameters in statements:
                for fault in planner.faults(statement, parameters):
                    faults.append(f"{query}: {fault}\n  {statement}")
        read = [str(p) for s, p in statements if "FROM pace_buckets" in s]
        assert any("deliver_by" in p for p in read) and any("ship_by" in p for p in read)
    finally:
        planner.close()
    assert not faults, "\n".join(faults)


def test_the_worker_drops_days_no_window_reads_any_more(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # G5
    m = market
    a, seller = m.seller_tokens["a"], m.sellers["a"]
    old = m.place("a_semi")
    clock.advance(timedelta(hours=2))
    m.ok(m.post(f"/orders/{old['id']}/ship", a, SHIP))
    clock.advance(timedelta(days=20))
    recent = m.place("a_semi")
    clock.advance(timedelta(hours=4))
    m.ok(m.post(f"/orders/{recent['id']}/ship", a, {**SHIP, "tracking_number": "LP00777777777CN"}))
    assert len(_table(m)) == 2

    _sweep_at(client, clock, settings, clock.now() + timedelta(days=15))
    # The first shipment is 35 days old: past every window (30 days), its day is dropped.
    assert [row[4] for row in _table(m)] == list(_bucket(4))
    assert _pace(m, "ship_by", seller).counts == _bucket(4)

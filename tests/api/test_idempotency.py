"""Idempotency-Key on mutating POSTs, and racing requests that must not lose updates."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.builders.market import ADDRESS, Market, auth


def _body(m: Market) -> dict[str, Any]:
    return {
        "store_id": m.stores["a_self"],
        "currency": "USD",
        "address": ADDRESS,
        "lines": [{"product_id": m.products["a_self"], "quantity": 1}],
    }


def _order_ids(m: Market) -> list[str]:
    return [o["id"] for o in m.ok(m.get("/orders", m.operator, params={"limit": 200}))["items"]]


def test_same_key_same_body_replays_the_first_response(market: Market) -> None:
    m = market
    key = m.new_key()
    first = m.post("/orders", m.channel, _body(m), headers={"Idempotency-Key": key})
    second = m.post("/orders", m.channel, _body(m), headers={"Idempotency-Key": key})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert _order_ids(m) == [first.json()["id"]]


def test_same_key_other_body_is_422_and_changes_nothing(market: Market) -> None:
    m = market
    key = m.new_key()
    m.ok(m.post("/orders", m.channel, _body(m), headers={"Idempotency-Key": key}), 201)
    other = {**_body(m), "buyer_ref": "someone else"}
    r = m.post("/orders", m.channel, other, headers={"Idempotency-Key": key})
    assert r.status_code == 422 and r.json()["field"] == "Idempotency-Key"
    assert len(_order_ids(m)) == 1


def test_keys_are_per_principal(market: Market) -> None:
    m = market
    key = m.new_key()
    order = m.place("a_self")
    ship = {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"}
    m.ok(
        m.post(
            f"/orders/{order['id']}/ship",
            m.seller_tokens["a"],
            ship,
            headers={"Idempotency-Key": key},
        )
    )
    # The same key from another principal is a different request: it is executed (and refused).
    r = m.post(f"/orders/{order['id']}/ship", m.operator, ship, headers={"Idempotency-Key": key})
    assert r.status_code == 409


def test_failed_requests_are_not_stored_so_a_fixed_retry_works(market: Market) -> None:
    m = market
    key = m.new_key()
    order = m.place("a_full")
    assert (
        m.post(
            f"/orders/{order['id']}/confirm", m.channel, headers={"Idempotency-Key": key}
        ).status_code
        == 403
    )
    r = m.post(
        f"/orders/{order['id']}/cancel",
        m.channel,
        {"reason": "x"},
        headers={"Idempotency-Key": key},
    )
    assert r.status_code == 200


def _race(
    m: Market, requests: list[tuple[str, str, dict[str, Any] | None, dict[str, str]]]
) -> list[httpx.Response]:
    """Send requests concurrently into the running app (one event loop, real interleaving)."""

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=m.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as ac:
            return list(
                await asyncio.gather(
                    *[
                        ac.post(f"/api/v1{path}", json=body, headers={**auth(token), **headers})
                        for path, token, body, headers in requests
                    ]
                )
            )

    assert m.client.portal is not None
    return m.client.portal.call(go)


def test_two_racing_ships_ship_once(market: Market) -> None:
    m = market
    order = m.place("a_self")
    seller = m.seller_tokens["a"]
    responses = _race(
        m,
        [
            (
                f"/orders/{order['id']}/ship",
                seller,
                {"carrier_code": "cainiao", "tracking_number": f"LP0000000000{i}CN"},
                {},
            )
            for i in range(4)
        ],
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409, 409, 409], [r.text for r in responses]
    events = m.ok(m.get(f"/orders/{order['id']}/events", seller))
    assert [e["action"] for e in events].count("ship") == 1
    winner = next(r.json() for r in responses if r.status_code == 200)
    assert (
        m.ok(m.get(f"/orders/{order['id']}", seller))["tracking_number"]
        == winner["tracking_number"]
    )


def test_racing_ship_and_cancel_leave_one_consistent_outcome(market: Market) -> None:  # O4
    m = market
    order = m.place("a_self")
    responses = _race(
        m,
        [
            (
                f"/orders/{order['id']}/ship",
                m.seller_tokens["a"],
                {"carrier_code": "cainiao", "tracking_number": "LP00000000009CN"},
                {},
            ),
            (f"/orders/{order['id']}/cancel", m.channel, {"reason": "changed mind"}, {}),
        ],
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    final = m.ok(m.get(f"/orders/{order['id']}", m.operator))
    events = m.ok(m.get(f"/orders/{order['id']}/events", m.operator))
    assert final["status"] == events[-1]["to_state"] and len(events) == 2


def test_racing_requests_with_one_key_create_one_order(market: Market) -> None:
    m = market
    key = m.new_key()
    responses = _race(
        m, [("/orders", m.channel, _body(m), {"Idempotency-Key": key}) for _ in range(3)]
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(_order_ids(m)) == 1

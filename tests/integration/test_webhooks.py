"""Signed webhooks: a seller's notifications reach its URL, signed, retried until they land."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.builders.market import Market, auth
from tests.builders.webhooks import Receiver
from tests.builders.workers import sweep_once
from tuoguan.api.app import create_app
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.notify import webhooks


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def _verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    parts = dict(p.split("=", 1) for p in headers["Tuoguan-Signature"].split(","))
    mac = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(mac.hexdigest(), parts["v1"])


def test_a_breach_notification_reaches_the_sellers_url_signed(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings, receiver: Receiver
) -> None:  # G5 O2
    m = market
    a = m.seller_tokens["a"]
    hook = m.ok(m.post("/webhooks", a, {"url": receiver.url}), 201)
    assert hook["secret"].startswith("whsec_") and "secret" not in m.ok(m.get("/webhooks", a))[0]
    m.ok(m.post("/webhooks", m.seller_tokens["b"], {"url": receiver.url + "/b"}), 201)
    order = m.place("a_full")
    clock.advance(timedelta(hours=25))
    handled = sweep_once(client, clock, settings)
    assert handled["deliver_webhooks"] == 1  # seller b's endpoint hears nothing of seller a
    ((headers, body),) = receiver.received
    assert _verify(hook["secret"], headers, body)
    assert not _verify("whsec_wrong", headers, body)
    assert order["id"].encode() in body and b'"kind":"confirm_late"' in body
    (delivery,) = m.ok(m.get(f"/webhooks/{hook['id']}/deliveries", a))
    assert delivery["status"] == "delivered" and headers["Tuoguan-Delivery"] == delivery["id"]
    assert sweep_once(client, clock, settings)["deliver_webhooks"] == 0  # sent once


def test_a_failing_endpoint_is_retried_with_backoff_then_given_up(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings, receiver: Receiver
) -> None:
    m = market
    a = m.seller_tokens["a"]
    hook = m.ok(m.post("/webhooks", a, {"url": receiver.url}), 201)
    receiver.status = 500
    m.place("a_full")
    clock.advance(timedelta(hours=25))
    sweep_once(client, clock, settings)
    (delivery,) = m.ok(m.get(f"/webhooks/{hook['id']}/deliveries", a))
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "pending",
        1,
        500,
    )
    assert sweep_once(client, clock, settings)["deliver_webhooks"] == 0  # not due yet
    for _ in range(6):
        clock.advance(timedelta(hours=7))
        sweep_once(client, clock, settings)
    (delivery,) = m.ok(m.get(f"/webhooks/{hook['id']}/deliveries", a))
    assert (delivery["status"], delivery["attempts"]) == ("failed", 6)
    assert len(receiver.received) == 6


def test_webhooks_stay_with_their_owner_and_bad_urls_are_refused(market: Market) -> None:
    m = market
    a, b = m.seller_tokens["a"], m.seller_tokens["b"]
    hook = m.ok(m.post("/webhooks", a, {"url": "https://seller-a.example/hook"}), 201)
    assert m.ok(m.get("/webhooks", b)) == []
    assert m.get(f"/webhooks/{hook['id']}/deliveries", b).status_code == 404
    assert m.post(f"/webhooks/{hook['id']}/disable", b).status_code == 404
    someone_else = {"url": "https://x.example", "seller_id": m.sellers["a"]}
    assert m.post("/webhooks", b, someone_else).status_code == 404
    assert m.post("/webhooks", m.carrier, {"url": "https://x.example"}).status_code == 403
    for bad in ("ftp://x.example", "not a url", "javascript:alert(1)"):
        response = m.post("/webhooks", a, {"url": bad})
        assert response.status_code == 422 and response.json()["field"] == "url"
    assert len(m.ok(m.get("/webhooks", a))) == 1
    assert m.ok(m.post(f"/webhooks/{hook['id']}/disable", a))["active"] is False


def test_a_redirect_is_not_followed_and_the_receivers_body_is_never_shown(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings, receiver: Receiver
) -> None:  # G5; issue 10: the deliveries list once echoed what an internal service answered
    m = market
    a = m.seller_tokens["a"]
    elsewhere = Receiver()
    try:
        # given an endpoint that redirects elsewhere, and one that fails with a telling body
        receiver.status, receiver.headers = 307, {"Location": elsewhere.url}
        moved = m.ok(m.post("/webhooks", a, {"url": receiver.url}), 201)
        elsewhere.status, elsewhere.body = 500, b'{"admin_token": "s3cret", "db": "10.0.0.7"}'
        failing = m.ok(m.post("/webhooks", a, {"url": elsewhere.url + "/direct"}), 201)
        m.place("a_full")
        clock.advance(timedelta(hours=25))
        # when the worker delivers
        sweep_once(client, clock, settings)
        # then the redirect was not followed: only the direct delivery reached elsewhere
        assert len(receiver.received) == 1
        assert len(elsewhere.received) == 1
        (redirected,) = m.ok(m.get(f"/webhooks/{moved['id']}/deliveries", a))
        assert (redirected["last_status_code"], redirected["last_error"]) == (
            307,
            "redirect not followed",
        )
        # and the seller sees a status code and a short reason, never the body
        (failed,) = m.ok(m.get(f"/webhooks/{failing['id']}/deliveries", a))
        assert (failed["last_status_code"], failed["last_error"]) == (
            500,
            "HTTP 500 Internal Server Error",
        )
        listed = m.get(f"/webhooks/{failing['id']}/deliveries", a).text
        assert "s3cret" not in listed and "10.0.0.7" not in listed
    finally:
        elsewhere.close()


def test_a_receiver_that_dribbles_its_answer_is_cut_off(
    client: TestClient,
    market: Market,
    clock: FrozenClock,
    settings: Settings,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # G5
    # httpx's timeouts are per read: a byte every 0.2 s would hold a delivery for ever
    monkeypatch.setattr(webhooks, "TOTAL_SECONDS", 1.0)
    m = market
    hook = m.ok(m.post("/webhooks", m.seller_tokens["b"], {"url": receiver.url}), 201)
    receiver.dribble = True
    m.place("b_full")
    clock.advance(timedelta(hours=25))
    started = time.monotonic()
    assert sweep_once(client, clock, settings)["deliver_webhooks"] == 1
    assert time.monotonic() - started < 5
    (delivery,) = m.ok(m.get(f"/webhooks/{hook['id']}/deliveries", m.seller_tokens["b"]))
    assert (delivery["status"], delivery["last_error"]) == ("pending", "timed out")


def test_a_slow_receiver_never_holds_up_another_sellers_breach(
    market: Market, clock: FrozenClock, settings: Settings, receiver: Receiver
) -> None:  # O2 F1
    # given the worker running, and seller b's receiver holding a delivery open
    m = market
    m.ok(m.post("/webhooks", m.seller_tokens["b"], {"url": receiver.url}), 201)
    receiver.dribble = True
    fast = settings.model_copy(update={"worker_interval_seconds": 0.05})
    with TestClient(create_app(fast, clock=clock, run_worker=True)) as worker:
        m.place("b_full")
        clock.advance(timedelta(hours=25))
        _wait_for(lambda: bool(receiver.received))
        # when seller a's order misses its deadline meanwhile
        late = m.place("a_full")
        clock.advance(timedelta(hours=25))
        # then its breach is recorded while b's delivery is still hanging (for 6 s)
        _wait_for(lambda: _breached(worker, m, late["id"]), seconds=4)


def _breached(http: TestClient, m: Market, order_id: str) -> bool:
    found = http.get(
        "/api/v1/breaches", params={"order_id": order_id}, headers=auth(m.operator)
    ).json()
    return bool(found)


def _wait_for(check: Callable[[], bool], seconds: float = 4.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.05)

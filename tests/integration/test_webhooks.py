"""Signed webhooks: a seller's notifications reach its URL, signed, retried until they land."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders.market import Market
from tests.builders.workers import sweep_once
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock


class Receiver:
    """A webhook receiver on localhost that records requests and answers with ``status``."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.server.shutdown()


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

"""Requests the server refuses before doing any work, and the headers every answer carries."""

from __future__ import annotations

import json
from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.builders.market import Market
from tuoguan.api.app import create_app
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock


def _huge_order(lines: int) -> bytes:
    return json.dumps({"lines": [{"product_id": "p", "quantity": 1}] * lines}).encode()


def test_a_body_over_the_limit_is_refused_before_it_is_parsed(market: Market) -> None:  # O1
    m = market
    body = _huge_order(60_000)  # about 2 MB, no token: the parse used to come first
    r = m.client.post("/api/v1/orders", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (r.json()["field"], r.json()["rule"]) == ("body", "max_body_bytes")
    assert r.headers["x-request-id"] == r.json()["request_id"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: read up to the limit, then refused
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    r = m.client.post(
        "/api/v1/orders", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413
    # a body under the limit goes through as before
    assert m.post("/orders", m.channel, {"lines": []}).status_code == 422


def test_a_server_error_still_carries_the_request_id_and_security_headers(
    settings: Settings, clock: FrozenClock
) -> None:
    app: FastAPI = create_app(settings, clock=clock)

    async def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/api/v1/_broken", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/api/v1/_broken", headers={"X-Request-ID": "trace-me-1"})
    assert r.status_code == 500
    assert r.json()["request_id"] == "trace-me-1" == r.headers["x-request-id"]
    assert "a bug" not in r.text
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"

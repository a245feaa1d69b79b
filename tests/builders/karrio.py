"""A carrier's recorded answers served from inside urllib, where karrio sends its requests.

Every karrio call then runs for real: karrio builds the carrier's request,
authenticates, sends it, and parses the answer. Only the network is replaced.
"""

from __future__ import annotations

import email.message
import io
import json
import urllib.error
import urllib.request
import urllib.response
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.builders.market import Market
from tests.builders.shipping import install_catalog, set_senders
from tuoguan.shipping.carriers import karrio_carrier
from tuoguan.shipping.carriers import sandbox_catalog as demo

FEDEX = Path(__file__).parent.parent / "fixtures" / "karrio" / "fedex"
TRACKING_NUMBER = "794900001234"
# The karrio account tests register (carrier account "fedex").
FEDEX_ACCOUNT: dict[str, Any] = {
    "code": "fedex",
    "name": "FedEx (karrio)",
    "adapter": "karrio",
    "carrier": "fedex",
    "settings": {
        "api_key": "recorded-api-key",
        "secret_key": "recorded-secret-key",
        "account_number": "740561073",
        "track_api_key": "recorded-track-key",
        "track_secret_key": "recorded-track-secret",
        "test_mode": True,
    },
    "services": {"TG-FEDEX-IP": "fedex_international_priority"},
    "timezone": "Asia/Shanghai",
}


@dataclass
class Sent:
    method: str
    path: str
    body: Any


@dataclass
class Recorded(urllib.request.BaseHandler):
    """Answers ``(method, path)`` with a recorded file; logs what was sent."""

    folder: Path
    routes: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    down: bool = False
    handler_order = 100  # before urllib's own HTTPS handler

    def answer(self, method: str, path: str, file: str, status: int = 200) -> None:
        self.routes[(method, path)] = (status, file)

    def paths(self) -> list[str]:
        return [s.path for s in self.sent]

    def https_open(self, request: urllib.request.Request) -> urllib.response.addinfourl:
        if self.down:
            raise urllib.error.URLError("connection refused (recorded outage)")
        method, path = request.get_method(), urlsplit(request.full_url).path
        raw = request.data if isinstance(request.data, bytes) else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode()
        self.sent.append(Sent(method, path, body))
        status, file = self.routes.get((method, path), (404, ""))
        content = (
            (self.folder / file).read_bytes()
            if file
            else b'{"errors":[{"code":"NOT.FOUND.ERROR","message":"no recorded answer"}]}'
        )
        headers = email.message.Message()
        headers["Content-Type"] = "application/json"
        answer = urllib.response.addinfourl(io.BytesIO(content), headers, request.full_url, status)
        answer.msg = "OK" if status < 400 else "Error"
        return answer


@pytest.fixture
def fedex() -> Iterator[Recorded]:
    """FedEx's recorded answers for every karrio call made while the test runs."""
    recorded = Recorded(FEDEX)
    recorded.answer("POST", "/oauth/token", "oauth_token.json")
    recorded.answer("POST", "/ship/v1/shipments", "ship_created.json")
    recorded.answer("PUT", "/ship/v1/shipments/cancel", "cancel_accepted.json")
    recorded.answer("POST", "/pickup/v1/pickups", "pickup_created.json")
    recorded.answer("PUT", "/pickup/v1/pickups/cancel", "pickup_cancelled.json")
    recorded.answer("POST", "/track/v1/trackingnumbers", "track_in_transit.json")
    karrio_carrier._caches.clear()  # every test authenticates afresh
    urllib.request.install_opener(urllib.request.build_opener(recorded))
    try:
        yield recorded
    finally:
        urllib.request.install_opener(None)  # type: ignore[arg-type]


def connect_fedex(m: Market) -> None:
    """FedEx through karrio as carrier account 'fedex', selling TG-FEDEX-IP (priced like the
    demo's express), beside the demo catalog; every store with a sender address."""
    m.ok(m.post("/carrier-accounts", m.operator, FEDEX_ACCOUNT), 201)
    install_catalog(m, rules=False)
    express = next(s for s in demo.SERVICES if s.code == "TG-EXPRESS")
    service = {**express.model_dump(mode="json"), "code": "TG-FEDEX-IP", "carrier_code": "fedex"}
    service["name"] = "FedEx International Priority"
    m.ok(m.post("/logistics-services", m.operator, service), 201)
    for code, card in demo.rate_cards():
        if code == "TG-EXPRESS":
            body = card.model_dump(mode="json")
            m.ok(m.post("/logistics-services/TG-FEDEX-IP/rate-cards", m.operator, body), 201)
    set_senders(m)

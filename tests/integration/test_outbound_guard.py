"""URLs the server calls never reach internal addresses (issue 10, finding 2: SSRF).

These tests run with the default policy, which allows nothing inside: a
webhook or carrier URL pointing at a loopback, private, link-local or reserved
address, in any spelling, is refused when it is registered, and a name that
resolves to such an address is refused again when it is called, after DNS,
with nothing sent. (The other tests allow 127.0.0.1, where their receivers and
the sandbox carrier listen, as a development setup would.)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders.market import Market, auth
from tests.builders.shipping import (
    SANDBOX_API_KEY,
    SANDBOX_SECRET,
    SandboxHandle,
    install_catalog,
    set_senders,
)
from tests.builders.webhooks import Receiver
from tests.builders.workers import sweep_once
from tuoguan.api.app import create_app
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock

REFUSED_AFTER_DNS = "refused: the host resolves to an internal address"


@pytest.fixture
def settings(db_url: str) -> Settings:
    """The default policy: no allow-list (set explicitly, whatever the environment says)."""
    return Settings(database_url=db_url, environment="test", db_pool_size=5, outbound_allow="")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def _allowing(settings: Settings, allow: str) -> Settings:
    """The same deployment with a development allow-list."""
    return Settings(**{**settings.model_dump(), "outbound_allow": allow})


INTERNAL = [
    "http://127.0.0.1:8299/admin",  # the finding: an internal admin service
    "http://127.0.0.1:8001/_sandbox/tick",  # the sandbox carrier's clockwork
    "http://10.0.0.5/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://[::1]:8000/hook",
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped IPv6
    "http://[fe80::1]/hook",
    "http://0.0.0.0:8000/hook",
    "http://0x7f.1/hook",  # hex
    "http://2130706433/hook",  # one decimal number
    "http://0177.0.0.1/hook",  # octal
    "http://127.1/hook",
    "http://224.0.0.1/hook",  # multicast
    "http://100.64.0.1/hook",  # shared address space (carrier-grade NAT)
    "http://localhost:8000/hook",
    "http://api.localhost/hook",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://redis:6379/",  # a name with no domain is a neighbour on the inside
]


def test_a_webhook_to_an_internal_address_is_refused_when_registered(market: Market) -> None:
    m = market
    seller = m.seller_tokens["a"]
    for url in INTERNAL:
        refused = m.post("/webhooks", seller, {"url": url})
        assert refused.status_code == 422, (url, refused.text)
        problem = refused.json()
        assert (problem["field"], problem["rule"]) == ("url", "internal_address"), url
    assert m.ok(m.get("/webhooks", seller)) == []


MALFORMED = [
    ("https://hooks.example/a%00b", "url_characters"),
    ("https://hooks.example/a%0d%0aX-Injected:%20yes", "url_characters"),
    ("https://hooks.example/a\tb", "url_characters"),
    ("https://hooks.example\\@127.0.0.1/", "url_characters"),
    ("https://user:secret@hooks.example/", "url_credentials"),
    ("https://hooks.example:0/", "url_port"),
    ("https://hooks.example:70000/", "url_port"),
    ("https://<script>/", "url_host"),
    ("https://hooks.example/" + "a" * 500, "string_too_long"),
    ("gopher://hooks.example/", "url_scheme"),
]


def test_a_malformed_webhook_url_is_refused_naming_the_rule(market: Market) -> None:
    m = market
    for url, rule in MALFORMED:
        refused = m.post("/webhooks", m.seller_tokens["a"], {"url": url})
        assert refused.status_code == 422, (url, refused.text)
        assert (refused.json()["field"], refused.json()["rule"]) == ("url", rule), url


def test_production_takes_only_https_webhooks(
    settings: Settings, clock: FrozenClock, db_url: str
) -> None:
    production = Settings(**{**settings.model_dump(), "environment": "production"})
    with TestClient(create_app(production, clock=clock)) as http:
        m = Market.build(http, db_url)
        seller = m.seller_tokens["a"]
        plain = m.post("/webhooks", seller, {"url": "http://hooks.example/tuoguan"})
        assert plain.status_code == 422
        assert (plain.json()["field"], plain.json()["rule"]) == ("url", "https_required")
        m.ok(m.post("/webhooks", seller, {"url": "https://hooks.example/tuoguan"}), 201)


def _one_breach(m: Market, client: TestClient, clock: FrozenClock, settings: Settings) -> None:
    m.place("a_full")
    clock.advance(timedelta(hours=25))  # O2: the confirm deadline passes, a notification is due
    sweep_once(client, clock, settings)


def test_a_name_that_resolves_inside_is_refused_after_dns_and_nothing_is_sent(
    client: TestClient,
    market: Market,
    clock: FrozenClock,
    settings: Settings,
    receiver: Receiver,
) -> None:  # G5
    m = market
    seller = m.seller_tokens["a"]
    url = f"http://localhost:{receiver.port}/hook"
    # given an endpoint registered under a development allow-list that trusted the name
    with TestClient(create_app(_allowing(settings, "localhost"), clock=clock)) as dev:
        made = dev.post("/api/v1/webhooks", json={"url": url}, headers=auth(seller))
        assert made.status_code == 201, made.text
        hook = made.json()
    # when the worker delivers under the default policy
    _one_breach(m, client, clock, settings)
    # then the name was resolved, found to be loopback, and nothing was sent
    (delivery,) = m.ok(m.get(f"/webhooks/{hook['id']}/deliveries", seller))
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "pending",
        1,
        None,
    )
    assert delivery["last_error"] == REFUSED_AFTER_DNS
    assert receiver.received == []
    # and it is the addresses that decide, not the name: allowing them lets the retry land
    clock.advance(timedelta(minutes=2))
    sweep_once(client, clock, _allowing(settings, "127.0.0.0/8,::1"))
    (delivery,) = m.ok(m.get(f"/webhooks/{hook['id']}/deliveries", seller))
    assert delivery["status"] == "delivered" and len(receiver.received) == 1


def test_an_endpoint_registered_while_allowed_is_refused_once_the_allowance_goes(
    client: TestClient,
    market: Market,
    clock: FrozenClock,
    settings: Settings,
    receiver: Receiver,
) -> None:
    m = market
    seller = m.seller_tokens["a"]
    with TestClient(create_app(_allowing(settings, "127.0.0.1"), clock=clock)) as dev:
        made = dev.post("/api/v1/webhooks", json={"url": receiver.url}, headers=auth(seller))
        assert made.status_code == 201, made.text
    _one_breach(m, client, clock, settings)
    (delivery,) = m.ok(m.get(f"/webhooks/{made.json()['id']}/deliveries", seller))
    assert delivery["last_error"] == REFUSED_AFTER_DNS and delivery["last_status_code"] is None
    assert receiver.received == []


def _sandbox_account(url: str) -> dict[str, Any]:
    return {
        "code": "sandbox",
        "name": "Sandbox carrier",
        "adapter": "sandbox",
        "base_url": url,
        "api_key": SANDBOX_API_KEY,
        "webhook_secret": SANDBOX_SECRET,
    }


def test_a_carrier_on_an_internal_address_is_refused_when_registered_and_when_called(
    live_market: Market,
    sandbox_carrier: SandboxHandle,
    settings: Settings,
    clock: FrozenClock,
) -> None:  # F8
    m = live_market
    # a carrier's base URL is a URL the server calls: registering one on loopback is refused
    refused = m.post("/carrier-accounts", m.operator, _sandbox_account(sandbox_carrier.url))
    assert refused.status_code == 422
    assert (refused.json()["field"], refused.json()["rule"]) == ("base_url", "internal_address")
    # given it was registered under a development allow-list
    with TestClient(create_app(_allowing(settings, "127.0.0.1"), clock=clock)) as dev:
        made = dev.post(
            "/api/v1/carrier-accounts",
            json=_sandbox_account(sandbox_carrier.url),
            headers=auth(m.operator),
        )
        assert made.status_code == 201, made.text
    install_catalog(m)
    set_senders(m)
    order = m.place("a_self")
    # when a seller ships with it under the default policy, the carrier is not called
    booked = m.post(
        f"/orders/{order['id']}/shipments", m.seller_tokens["a"], {"service_code": "TG-POST-REG"}
    )
    assert booked.status_code == 503, booked.text
    assert "refused" in booked.json()["detail"]
    assert sandbox_carrier.sandbox.parcels == {}
    assert m.ok(m.get(f"/orders/{order['id']}", m.operator))["status"] == "awaiting_shipment"

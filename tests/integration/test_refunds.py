"""Refunds to buyers through the API: charged to the seller, except a full-managed order within
the after-sales exemption counted in calendar months from its delivery, which the platform
bears; never more than the buyer paid; refused input changes nothing (G6, M3)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from tests.builders.market import Market
from tests.builders.money import amounts, assert_books_balance, balance, entries, entry_count
from tests.builders.stock import stocked
from tuoguan.kit.clock import FrozenClock
from tuoguan.ledger.accounts import AccountKind

SHIP = {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"}
CHARGED, BORNE = "refund_charged_to_seller", "refund_borne_by_platform"


def _delivered(m: Market, store_key: str, **extra: Any) -> dict[str, Any]:
    """An order of the store, shipped by hand and delivered, as an operator reads it (the
    platform ships a full-managed order from its stock: ``stocked`` it first)."""
    order = m.place(store_key, **extra)
    full = store_key.endswith("full")
    shipper = m.operator if full else m.seller_tokens[store_key.split("_")[0]]
    m.ok(m.post(f"/orders/{order['id']}/ship", shipper, SHIP))
    m.ok(m.post(f"/orders/{order['id']}/deliver", m.carrier))
    return dict(m.ok(m.get(f"/orders/{order['id']}", m.operator)))


def _refund(m: Market, order_id: str, amount: Any, token: str | None = None, **extra: Any) -> Any:
    body = {"amount_minor": amount, "currency": "USD", "reason": "damaged in transit", **extra}
    return m.post(f"/orders/{order_id}/refunds", token or m.channel, body)


def _refunds(m: Market, order_id: str, token: str | None = None) -> list[dict[str, Any]]:
    return list(m.ok(m.get(f"/orders/{order_id}/refunds", token or m.operator)))


def test_a_self_run_refund_is_charged_to_the_seller_up_to_what_the_buyer_paid(
    market: Market,
) -> None:  # G6
    m = market
    order = _delivered(m, "a_self", quantity=2, shipping_minor=500)
    paid, store = order["total_minor"], m.stores["a_self"]
    assert paid == 2 * 1999 + 500
    # the after-sales work refunds part of it: charged to the seller at once, who is told
    key = m.new_key()
    body = {"amount_minor": 1000, "currency": "USD", "reason": "one earbud damaged"}
    first = m.post(
        f"/orders/{order['id']}/refunds", m.channel, body, headers={"Idempotency-Key": key}
    )
    assert first.status_code == 201, first.text
    shown = first.json()
    assert shown["refunded_minor"] == 1000 and "bearer" not in shown  # the storefront's view
    assert amounts(entries(m.db_url, "order", order["id"])) == [(CHARGED, 1000, False)]
    assert balance(m.db_url, AccountKind.payable, "USD", store) == 1000
    notes = m.ok(m.get("/notifications", m.seller_tokens["a"]))
    assert [n["kind"] for n in notes].count("refund_charged") == 1
    # the same request again replays the first answer and posts nothing
    posted = entry_count(m.db_url)
    replay = m.post(
        f"/orders/{order['id']}/refunds", m.channel, body, headers={"Idempotency-Key": key}
    )
    assert replay.status_code == 201 and replay.json()["id"] == shown["id"]
    assert entry_count(m.db_url) == posted

    # at most what the buyer paid less what was refunded: the rest, not one minor unit more
    over = _refund(m, order["id"], paid - 1000 + 1)
    assert over.status_code == 422
    assert (over.json()["field"], over.json()["rule"]) == ("amount_minor", "within_refundable")
    assert over.json()["refundable_minor"] == paid - 1000
    assert entry_count(m.db_url) == posted
    rest = m.ok(_refund(m, order["id"], paid - 1000, token=m.operator), 201)
    assert rest["bearer"] == "seller" and rest["entry_id"]
    assert [r["refunded_minor"] for r in _refunds(m, order["id"])] == [1000, paid - 1000]
    assert _refund(m, order["id"], 1).json()["rule"] == "within_refundable"
    assert balance(m.db_url, AccountKind.payable, "USD", store) == paid
    assert_books_balance(m.db_url)


def test_refused_refunds_name_the_field_and_rule_and_change_nothing(
    market: Market,
) -> None:  # G6 M3
    m = market
    order = _delivered(m, "a_self")
    waiting = m.place("a_self")
    cancelled = m.place("b_self")
    m.ok(m.post(f"/orders/{cancelled['id']}/cancel", m.channel, {"reason": "changed my mind"}))
    posted = entry_count(m.db_url)
    refusals = [
        (_refund(m, order["id"], 100, currency="EUR"), 422, "currency", "order_currency"),
        (_refund(m, order["id"], 0), 422, "amount_minor", "greater_than_equal"),
        (_refund(m, order["id"], -5), 422, "amount_minor", "greater_than_equal"),
        (_refund(m, order["id"], 12.5), 422, "amount_minor", "no_fractions"),
        (_refund(m, order["id"], 100.0), 422, "amount_minor", "int_type"),
        (_refund(m, order["id"], "100"), 422, "amount_minor", "int_type"),
        (_refund(m, order["id"], 100, reason=" "), 422, "reason", "string_too_short"),
        (_refund(m, waiting["id"], 100), 409, "order_id", "refundable_state"),
        (_refund(m, cancelled["id"], 100), 409, "order_id", "refundable_state"),
    ]
    for answer, status, field, rule in refusals:
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert (answer.json()["field"], answer.json()["rule"]) == (field, rule), answer.json()
    # nor may the seller, a carrier or warehouse staff refund; another seller cannot see them
    assert _refund(m, order["id"], 100, token=m.seller_tokens["a"]).status_code == 403
    assert _refund(m, order["id"], 100, token=m.carrier).status_code == 403
    assert _refund(m, "ord_nothing", 100).status_code == 404
    assert m.get(f"/orders/{order['id']}/refunds", m.seller_tokens["b"]).status_code == 404
    assert m.get(f"/orders/{order['id']}/refunds", m.carrier).status_code == 403
    assert entry_count(m.db_url) == posted
    assert _refunds(m, order["id"]) == []
    assert_books_balance(m.db_url)


def test_a_full_managed_refund_is_the_platforms_within_the_exemption_and_the_sellers_after(
    market: Market, clock: FrozenClock
) -> None:  # M3 G6
    m = market
    stocked(m, "a_full", 1)
    order = _delivered(m, "a_full")
    delivered = datetime.fromisoformat(order["delivered_at"])
    ends = delivered + relativedelta(months=3)  # 2027-02-18: calendar months, not 90 days
    assert ends - delivered == timedelta(days=92)
    store = m.stores["a_full"]
    # a day before the exemption ends: the platform bears it, the seller is charged nothing
    clock.current = ends - timedelta(days=1)
    inside = m.ok(_refund(m, order["id"], 300, token=m.operator), 201)
    assert inside["bearer"] == "platform"
    # at its very instant it still does
    clock.current = ends
    m.ok(_refund(m, order["id"], 200), 201)
    assert balance(m.db_url, AccountKind.refunds_borne, "USD") == 500
    assert balance(m.db_url, AccountKind.payable, "USD", store) == 0
    # a day after it ends the seller bears it
    clock.current = ends + timedelta(days=1)
    after = m.ok(_refund(m, order["id"], 400, token=m.operator), 201)
    assert after["bearer"] == "seller"
    assert amounts(entries(m.db_url, "order", order["id"])) == [
        (BORNE, 300, False),
        (BORNE, 200, False),
        (CHARGED, 400, False),
    ]
    assert balance(m.db_url, AccountKind.payable, "USD", store) == 400
    assert balance(m.db_url, AccountKind.refunds_borne, "USD") == 500
    # the seller reads its own order's refunds and who bore each; the storefront does not
    seen = _refunds(m, order["id"], m.seller_tokens["a"])
    assert [(r["refunded_minor"], r["bearer"]) for r in seen] == [
        (300, "platform"),
        (200, "platform"),
        (400, "seller"),
    ]
    assert all("bearer" not in r for r in _refunds(m, order["id"], m.channel))
    assert_books_balance(m.db_url)


def test_the_exemption_is_configuration_and_only_full_managed_has_one(
    market: Market, clock: FrozenClock
) -> None:  # M3 G6
    m = market
    semi = _delivered(m, "a_semi")
    body = {"amount_minor": 100, "currency": "EUR", "reason": "late"}
    at_once = m.ok(m.post(f"/orders/{semi['id']}/refunds", m.operator, body), 201)
    assert at_once["bearer"] == "seller"  # the day it was delivered: no exemption outside M3
    stocked(m, "a_full", 2)
    full = _delivered(m, "a_full")
    shipped = m.place("a_full")  # not delivered yet: the exemption has not even started
    m.ok(m.post(f"/orders/{shipped['id']}/ship", m.operator, SHIP))
    assert m.ok(_refund(m, shipped["id"], 100, token=m.operator), 201)["bearer"] == "platform"
    clock.current = datetime.fromisoformat(full["delivered_at"]) + relativedelta(months=1, days=1)
    assert m.ok(_refund(m, full["id"], 100, token=m.operator), 201)["bearer"] == "platform"
    # a one-month exemption, set by configuration: the same refund a day later is the seller's
    app = m.client.app  # type: ignore[attr-defined]
    app.state.settings = app.state.settings.model_copy(update={"refund_exemption_months": 1})
    try:
        assert m.ok(_refund(m, full["id"], 100, token=m.operator), 201)["bearer"] == "seller"
    finally:
        app.state.settings = app.state.settings.model_copy(update={"refund_exemption_months": 3})
    assert_books_balance(m.db_url)

"""The deposit endpoints (S3): each role reaches only its own, every refusal is a declared
problem naming the field and the rule, and a retried write with its Idempotency-Key is answered
once."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.builders.market import Market, issue_token
from tests.builders.money import entry_count
from tests.integration.test_deposits import apply, bind, fund, rate, refunds
from tuoguan.principal import Role


def _problem(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    return dict(answer.json())


def _declares(client: TestClient, method: str, path: str, *statuses: int) -> None:
    document = client.get("/api/v1/openapi.json").json()
    responses = document["paths"][f"/api/v1{path}"][method]["responses"]
    for status in statuses:
        assert str(status) in responses, f"{method.upper()} {path} does not declare {status}"


def test_each_role_reaches_only_its_own_deposit(market: Market) -> None:  # S3
    m = market
    rate(m, 150_000)
    m.ok(fund(m, 150_000, "TT-1"), 201)
    applied = m.ok(apply(m, 10_000), 201)
    store, a, b = m.stores["a_full"], m.seller_tokens["a"], m.seller_tokens["b"]
    staff = issue_token(m.db_url, Role.warehouse, warehouse_ids=[m.platform_warehouse])

    # another seller's store reads as not found, whatever it asks
    for answer in (
        m.get(f"/stores/{store}/deposit", b),
        m.get(f"/stores/{store}/deposit/refunds", b),
        m.get(f"/deposit-refunds/{applied['id']}", b),
        m.post(f"/stores/{store}/deposit/refunds", b, {"amount_minor": 1, "reason": "mine"}),
    ):
        assert _problem(answer, 404)["field"] in ("store_id", "refund_id")
    # a seller neither decides nor records money received, nor reads the queue
    posted = entry_count(m.db_url)
    for answer in (
        m.post(f"/deposit-refunds/{applied['id']}/approve", a),
        m.post(f"/deposit-refunds/{applied['id']}/reject", a, {"reason": "no"}),
        m.post(
            f"/stores/{store}/deposit/fundings",
            a,
            {"amount_minor": 1, "currency": "USD", "reference": "me"},
        ),
        m.get("/deposit-refunds", a),
        m.post("/deposit-rates", a, {"category": "*", "currency": "USD", "amount_minor": 1}),
    ):
        _problem(answer, 403)
    assert refunds(m)[0]["status"] == "applied" and entry_count(m.db_url) == posted
    # nor does an operator apply in the seller's place
    body = {"amount_minor": 1, "reason": "for them"}
    _problem(m.post(f"/stores/{store}/deposit/refunds", m.operator, body), 403)
    # warehouse staff, carriers and the storefront read no deposit
    for token in (staff, m.carrier, m.channel):
        _problem(m.get(f"/stores/{store}/deposit", token), 403)
        _problem(m.get("/deposit-refunds", token), 403)
        _problem(m.get("/deposit-rates", token), 403)
        _problem(m.post(f"/deposit-refunds/{applied['id']}/approve", token), 403)
    # what each may do: the seller its own, the operator any
    assert m.ok(m.get(f"/stores/{store}/deposit", a))["held_minor"] == 150_000
    assert m.ok(m.get(f"/deposit-refunds/{applied['id']}", m.operator))["id"] == applied["id"]
    assert [r["id"] for r in m.ok(m.get("/deposit-refunds", m.operator))] == [applied["id"]]


def test_refusals_are_declared_problems_naming_the_field_and_the_rule(
    client: TestClient, market: Market
) -> None:  # S3
    m = market
    rate(m, 150_000)
    store, a = m.stores["a_full"], m.seller_tokens["a"]
    # not full-managed: the status answers a declared 409
    self_run = _problem(m.get(f"/stores/{m.stores['a_self']}/deposit", a), 409)
    assert (self_run["field"], self_run["rule"]) == ("store_id", "full_managed_only")
    _declares(client, "get", "/stores/{store_id}/deposit", 401, 403, 404, 409)
    _declares(client, "post", "/stores/{store_id}/deposit/refunds", 403, 404, 409, 422)
    _declares(client, "post", "/deposit-refunds/{refund_id}/approve", 403, 404, 409, 422)
    _declares(client, "get", "/deposit-refunds", 400, 403)

    # nothing held: nothing refundable
    over = _problem(apply(m, 1), 422)
    assert (over["field"], over["rule"], over["refundable_minor"]) == (
        "amount_minor",
        "within_refundable",
        0,
    )
    fraction = _problem(apply(m, 0.5), 422)
    assert (fraction["field"], fraction["rule"]) == ("amount_minor", "no_fractions")
    money = {"amount_minor": 100, "currency": "usd", "reference": "TT-1"}
    unknown = _problem(
        m.post(f"/stores/{store}/deposit/fundings", m.operator, {**money, "x": 1}), 422
    )
    assert unknown["field"] == "x"
    euro = _problem(fund(m, 100, "TT-1", currency="EUR"), 422)
    assert (euro["field"], euro["rule"]) == ("currency", "store_currency")
    _problem(m.get("/deposit-refunds", m.operator, params={"cursor": "not-ours"}), 400)
    _problem(m.get("/deposit-refunds/dfr_01KB0000000000000000000000", m.operator), 404)
    _problem(m.post("/deposit-refunds/dfr_01KB0000000000000000000000/approve", m.operator), 404)
    bad_rate = {"category": "Not A Category", "currency": "USD", "amount_minor": 1}
    assert _problem(m.post("/deposit-rates", m.operator, bad_rate), 422)["field"] == "category"


def test_a_retried_application_and_approval_are_answered_once(market: Market) -> None:  # S3
    m = market
    rate(m, 150_000)
    bind(m)
    m.ok(fund(m, 150_000, "TT-1"), 201)
    store, a = m.stores["a_full"], m.seller_tokens["a"]
    body = {"amount_minor": 50_000, "reason": "closing the store"}
    key = {"Idempotency-Key": m.new_key()}
    first = m.post(f"/stores/{store}/deposit/refunds", a, body, headers=key)
    again = m.post(f"/stores/{store}/deposit/refunds", a, body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert first.json()["id"] == again.json()["id"] and len(refunds(m)) == 1
    path = f"/deposit-refunds/{first.json()['id']}/approve"
    key = {"Idempotency-Key": m.new_key()}
    approved = m.ok(m.post(path, m.operator, headers=key))
    posted = entry_count(m.db_url)
    replay = m.post(path, m.operator, headers=key)
    assert replay.status_code == 200 and replay.json()["payout_id"] == approved["payout_id"]
    assert entry_count(m.db_url) == posted

"""Payout accounts and payouts over the API: a seller binds its own store's account (never
another seller's), numbers are read back masked, bad input is a problem naming the field and
the rule with nothing changed, and payouts are read by the store's seller and operators (S3,
M3)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.builders.ledger import operator, run_on
from tests.builders.market import Market, auth
from tests.builders.payouts import owe, prepared
from tuoguan.db import Database
from tuoguan.settlement import payouts
from tuoguan.settlement.rail import SandboxRail

ACCOUNT = {
    "holder_name": "Seller A Trading Co.",
    "bank_name": "ICBC Shenzhen",
    "account_number": "6222 0212 3456 7890",
}


def _put(m: Market, store_key: str, token: str, body: Any, **kw: Any) -> Any:
    return m.client.put(
        f"/api/v1/stores/{m.stores[store_key]}/payout-account",
        json=body,
        headers={"Authorization": f"Bearer {token}", **kw.pop("headers", {})},
    )


def _problem(answer: Any, status: int, field: str, rule: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert (body["field"], body["rule"]) == (field, rule), body
    return body


def test_a_seller_binds_its_stores_account_and_reads_it_masked(market: Market) -> None:
    # S3: the refund and payouts go to the seller's bound payout account
    m = market
    seller = m.seller_tokens["a"]
    path = f"/stores/{m.stores['a_self']}/payout-account"
    assert m.ok(m.get(path, seller)) == {"current": None, "history": []}
    key = m.new_key()
    bound = m.ok(_put(m, "a_self", seller, ACCOUNT, headers={"Idempotency-Key": key}))
    assert bound["account_number_masked"] == "•••• 7890"
    assert bound["currency"] == "USD"  # the store's own
    assert "6222" not in str(bound)
    # the same request again replays; the same details again change nothing
    replay = _put(m, "a_self", seller, ACCOUNT, headers={"Idempotency-Key": key})
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert m.ok(_put(m, "a_self", seller, ACCOUNT))["id"] == bound["id"]
    # rebinding replaces it and keeps the old one
    other = {**ACCOUNT, "account_number": "GB33BUKB20201555555555", "currency": "usd"}
    rebound = m.ok(_put(m, "a_self", m.operator, other))
    assert rebound["account_number_masked"] == "•••• 5555"
    book = m.ok(m.get(path, seller))
    assert book["current"]["id"] == rebound["id"]
    assert [a["id"] for a in book["history"]] == [bound["id"]]
    assert book["history"][0]["replaced_at"] is not None
    assert "GB33" not in str(book) and "62220212" not in str(book)


def test_another_sellers_store_is_not_found_and_other_roles_are_refused(market: Market) -> None:
    # S3: each seller sees and binds only its own stores' accounts
    m = market
    intruder = m.seller_tokens["b"]
    answer = _put(m, "a_self", intruder, ACCOUNT)
    assert answer.status_code == 404 and answer.json()["field"] == "store_id"
    assert m.get(f"/stores/{m.stores['a_self']}/payout-account", intruder).status_code == 404
    assert m.get(f"/stores/{m.stores['a_self']}/payouts", intruder).status_code == 404
    assert _put(m, "a_self", m.channel, ACCOUNT).status_code == 403
    assert _put(m, "a_self", m.carrier, ACCOUNT).status_code == 403
    assert m.get("/payouts", m.seller_tokens["a"]).status_code == 403
    # nothing was bound by any of them
    book = m.ok(m.get(f"/stores/{m.stores['a_self']}/payout-account", m.operator))
    assert book["current"] is None


def test_bad_account_details_are_problems_naming_the_field_and_rule(market: Market) -> None:
    # S3: bad input changes nothing
    m = market
    seller = m.seller_tokens["a"]
    for body, field, rule in [
        ({**ACCOUNT, "account_number": "12345"}, "account_number", "account_number_format"),
        (
            {**ACCOUNT, "account_number": "6222*0212*3456"},
            "account_number",
            "account_number_format",
        ),
        ({**ACCOUNT, "account_number": "1" * 35}, "account_number", "account_number_format"),
        ({**ACCOUNT, "currency": "ZZZ"}, "currency", "iso_4217"),
    ]:
        _problem(_put(m, "a_self", seller, body), 422, field, rule)
    answer = _put(m, "a_self", seller, {**ACCOUNT, "holder_name": "  "})
    assert answer.status_code == 422 and answer.json()["field"] == "holder_name"
    answer = _put(m, "a_self", seller, {"holder_name": "x", "bank_name": "y"})
    assert answer.status_code == 422 and answer.json()["field"] == "account_number"
    answer = _put(m, "a_self", seller, {**ACCOUNT, "iban": "x"})
    assert answer.status_code == 422
    book = m.ok(m.get(f"/stores/{m.stores['a_self']}/payout-account", seller))
    assert book == {"current": None, "history": []}


def _pay(m: Market, store_key: str, amounts: list[int]) -> list[str]:
    """Payouts of the store, prepared and sent on the sandbox rail; their ids."""
    store = m.stores[store_key]

    async def scenario(db: Database) -> list[str]:
        await owe(db, store, sum(amounts), currency="USD")
        made = [
            await prepared(db, store, amount, currency="USD", key=f"{store}:{n}")
            for n, amount in enumerate(amounts)
        ]
        await payouts.send_due(db, operator(), SandboxRail(db))
        return [p.id for p in made]

    # On a loop of its own: the app is served from another thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        ids: list[str] = pool.submit(run_on, m.db_url, scenario).result()
    return ids


def test_payouts_are_read_by_their_seller_and_operators(market: Market) -> None:
    # M3: what was paid to the store, and where, as each role may read it
    m = market
    seller = m.seller_tokens["a"]
    m.ok(_put(m, "a_self", seller, ACCOUNT))
    ids = _pay(m, "a_self", [1000, 2000, 3000])
    path = f"/stores/{m.stores['a_self']}/payouts"
    first = m.get(path, seller, params={"limit": 2})
    shown = m.ok(first)
    assert [p["id"] for p in shown] == [ids[2], ids[1]]  # newest first
    assert 'rel="next"' in first.headers["Link"]
    assert (
        shown[0]["status"] == "sent" and shown[0]["account"]["account_number_masked"] == "•••• 7890"
    )
    assert "prepare_entry_id" not in shown[0]  # the seller's view
    target = first.headers["Link"].split(">")[0].lstrip("<")
    rest = m.ok(m.client.get(target, headers=auth(seller)))
    assert [p["id"] for p in rest] == [ids[0]]
    one = m.ok(m.get(f"/payouts/{ids[0]}", m.operator))
    assert one["prepare_entry_id"] and one["sent_entry_id"] and one["amount_minor"] == 1000
    assert m.ok(m.get(f"/payouts/{ids[0]}", seller))["id"] == ids[0]
    # another seller's payout is not found; operators list every store's, by status
    assert m.get(f"/payouts/{ids[0]}", m.seller_tokens["b"]).status_code == 404
    assert [p["id"] for p in m.ok(m.get("/payouts", m.operator, params={"status": "sent"}))] == ids[
        ::-1
    ]
    assert m.ok(m.get("/payouts", m.operator, params={"status": "failed"})) == []
    bad = m.get("/payouts", m.operator, params={"cursor": "nonsense"})
    assert bad.status_code == 400 and bad.json()["field"] == "cursor"
    assert m.get("/payouts", m.operator, params={"status": "lost"}).status_code == 422

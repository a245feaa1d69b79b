"""Leaving full-managed through the API (S4, S5; seed 003): a store goes from its exit page
through the export, the application with its documents, the review, unbinding (stock, fees,
the last settlement, the deposit refund) to closing, with the archive downloaded and opened and
the personal data cleared from the store, its documents and its audit trail. Bad inputs are
refused with nothing changed; each role reaches only its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders.exits import (
    HOLDER,
    MANAGEMENT_FEE,
    REFUND_FEE,
    RETURN_TO,
    SALE,
    SENDER,
    apply,
    archive_tables,
    ready,
    store_events,
    upload,
)
from tests.builders.market import Market, as_system, issue_token
from tests.builders.money import assert_books_balance, entries, entry_count
from tests.builders.workers import sweep_once
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.demo import exits as demo
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Principal, Role


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Documents and archives kept in this test's own folders."""
    return Settings(
        database_url=db_url,
        environment="test",
        db_pool_size=5,
        outbound_allow="127.0.0.1",
        upload_dir=str(tmp_path / "uploads"),
        export_dir=str(tmp_path / "exports"),
    )


def _problem(answer: Any, status: int, rule: str | None = None) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = dict(answer.json())
    if rule is not None:  # an illegal move names its rule by its type
        assert rule in (problem.get("rule"), problem["type"].rpartition(":")[2]), problem
    return problem


def _files(root: str) -> list[Path]:
    base = Path(root)
    return [p for p in base.rglob("*") if p.is_file() and p.name != ".signing-key"]


def test_a_store_leaves_full_managed_and_closes_with_its_data_exported_and_cleared(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # S4 S5
    m = market
    ids = ready(m, clock)
    store, a = ids["store"], ids["token"]

    # the exit page: the terms and the fees before applying, nothing in the way
    page = m.ok(m.get(f"/stores/{store}/exit", a))
    assert (page["management_fee_minor"], page["refund_fee_minor"], page["review_days"]) == (
        MANAGEMENT_FEE,
        REFUND_FEE,
        3,
    )
    assert page["blockers"] == [] and page["can_apply"] and page["application"] is None

    # one-click export: queued, written by the worker with its progress, downloaded
    started = m.ok(m.post(f"/stores/{store}/exit-archive", a), 202)
    assert (started["status"], started["percent"]) == ("queued", 0)
    again = m.ok(m.post(f"/stores/{store}/exit-archive", m.operator), 202)
    assert again["id"] == started["id"]  # one at a time
    sweep_once(client, clock, settings)
    done = m.ok(m.get(f"/stores/{store}/exit-archive", a))
    assert (done["status"], done["percent"]) == ("done", 100)
    assert done["steps_done"] == done["steps_total"] >= 4
    assert done["download"] == f"/api/v1/stores/{store}/exit-archive/download"
    zipped = m.client.get(done["download"], headers={"Authorization": f"Bearer {a}"})
    assert zipped.status_code == 200 and zipped.headers["content-type"] == "application/zip"
    tables = archive_tables(zipped.content)
    assert tables["names"] == ["archive.xlsx", "orders.csv", "statements.csv", "store.csv"]
    assert "a full" in tables["store.csv"] and SENDER["phone"] in tables["store.csv"]
    assert "200.00" in tables["statements.csv"]  # the sale, in major units
    assert tables["orders.csv"].splitlines()[0].startswith("id,store_id,mode,status")
    sheets = tables["sheets"]
    assert sorted(sheets) == ["orders", "statements", "store"]
    assert ["store_id", store] in sheets["store"]
    assert any(str(SALE / 100) in str(row) or "200" in str(row) for row in sheets["statements"])

    # the application, with a paper, the fees acknowledged
    paper = m.ok(upload(m, store, a), 201)
    assert paper["purpose"] == "exit"
    _problem(apply(m, store, a, fees_acknowledged=False), 422, "fees_acknowledged")
    applied = m.ok(apply(m, store, a, document_ids=[paper["id"]]), 201)
    assert (applied["status"], applied["management_fee_minor"]) == ("applied", MANAGEMENT_FEE)
    assert [d["id"] for d in applied["documents"]] == [paper["id"]]
    assert applied["documents"][0]["url"].startswith(f"/files/{paper['id']}?")
    _problem(apply(m, store, a), 409, "one_open_application")
    queue = m.ok(m.get("/exits", m.operator))
    assert [row["id"] for row in queue] == [applied["id"]]

    # the review: only operators decide; a rejection needs a reason; approval tells the seller
    exit_path = f"/exits/{applied['id']}"
    _problem(m.post(f"{exit_path}/decision", a, {"decision": "approve"}), 403)
    _problem(
        m.post(f"{exit_path}/decision", m.operator, {"decision": "reject"}), 422, "reason_required"
    )
    reasons = ["all orders finished", "deposit covers the fees"]
    approved = m.ok(
        m.post(f"{exit_path}/decision", m.operator, {"decision": "approve", "reasons": reasons})
    )
    assert (approved["status"], approved["decision_reasons"]) == ("approved", reasons)
    _problem(
        m.post(f"{exit_path}/decision", m.operator, {"decision": "reject", "reasons": ["x"]}),
        409,
        "illegal_transition",
    )
    (note,) = [n for n in m.ok(m.get("/notifications", a)) if n["kind"] == "exit_approved"]
    assert "all orders finished" in json.dumps(note) and "$50.00" in json.dumps(note)

    # unbinding: the stock returned to the seller's address, the fees charged, the money settled
    unbind = f"{exit_path}/unbind"
    _problem(m.post(unbind, a, {"stock": "return"}), 422, "return_address_required")
    unbound = m.ok(m.post(unbind, a, {"stock": "return", "return_address": RETURN_TO}))
    assert unbound["status"] == "unbound" and unbound["stock_choice"] == "return"
    assert [(s["good"], s["defective"]) for s in unbound["stock_moved"]] == [(7, 0)]
    assert unbound["settled_payout_minor"] == SALE - MANAGEMENT_FEE - REFUND_FEE
    assert unbound["deposit_deducted_minor"] == 0
    fees = entries(m.db_url, "exit", applied["id"])
    assert {e.kind.value for e in fees} >= {"exit_fee_charged", "debt_netted"}
    refund = m.ok(m.get(f"/deposit-refunds/{unbound['deposit_refund_id']}", a))
    assert (refund["status"], refund["amount_minor"]) == ("approved", 150_000)
    store_row = m.ok(m.get(f"/stores/{store}", a))
    assert store_row["status"] == "exited"
    product = m.ok(m.get(f"/products/{m.products['a_full']}", a))
    assert product["status"] == "delisted"
    stock = m.ok(m.get("/stock", a, params={"warehouse_id": ids["warehouse"]}))
    assert [(s["on_hand"], s["defective"]) for s in stock] == [(0, 0)]
    # no new orders
    refused = m.post(
        "/orders",
        m.channel,
        {
            "store_id": store,
            "currency": "USD",
            "address": RETURN_TO,
            "lines": [{"product_id": m.products["a_full"], "quantity": 1}],
        },
    )
    assert refused.status_code in (409, 422), refused.text

    # closing waits for the payouts, asks for a confirmation, then clears the personal data
    _problem(m.post(f"/stores/{store}/close", a, {"confirm": True}), 409, "payouts_pending")
    sweep_once(client, clock, settings)  # the payouts go out on the rail
    _problem(m.post(f"/stores/{store}/close", a, {"confirm": False}), 422, "confirm_required")
    assert _files(settings.upload_dir)  # the paper is still kept
    closed = m.ok(m.post(f"/stores/{store}/close", a, {"confirm": True}))
    assert (closed["status"], closed["closed_by"]) == ("closed", closed["closed_by"])
    assert closed["documents"] == []
    assert m.ok(m.get(f"/stores/{store}", a))["status"] == "closed"
    assert m.ok(m.get(f"/stores/{store}", a)).get("sender_address") is None
    account = m.ok(m.get(f"/stores/{store}/payout-account", a))
    assert HOLDER not in json.dumps(account)
    assert not _files(settings.upload_dir) and not _files(settings.export_dir)
    _problem(
        m.client.get(done["download"], headers={"Authorization": f"Bearer {a}"}),
        409,
        "archive_done",
    )
    # the audit trail keeps what happened and who closed it, not the personal data
    events = store_events(m.db_url, store)
    said = json.dumps([e.data for e in events], ensure_ascii=False)
    for personal in (
        SENDER["phone"],
        SENDER["name"],
        HOLDER,
        RETURN_TO["phone"],
        RETURN_TO["name"],
    ):
        assert personal not in said, personal
    (closing,) = [e for e in events if e.subject_type == "store" and e.action == "close"]
    assert closing.actor_role == "seller" and closing.actor_id == closed["closed_by"]
    assert any(e.action == "create" and e.subject_type == "store" for e in events)
    assert_books_balance(m.db_url)


def test_an_exit_with_an_open_order_is_refused_naming_it_and_nothing_changes(
    client: TestClient, market: Market, clock: FrozenClock
) -> None:  # S4
    m = market
    ids = ready(m, clock)
    store, a = ids["store"], ids["token"]
    order = m.place("a_full")
    page = m.ok(m.get(f"/stores/{store}/exit", a))
    (blocker,) = page["blockers"]
    assert blocker["rule"] == "no_unfinished_orders" and not page["can_apply"]
    assert blocker["items"][0]["link"] == f"/console/orders/{order['id']}"
    posted = entry_count(m.db_url)
    refused = _problem(apply(m, store, a), 409, "no_unfinished_orders")
    assert refused["failed"][0]["items"][0]["id"] == order["id"]
    assert m.ok(m.get(f"/stores/{store}/exit", a))["application"] is None
    assert m.ok(m.get("/exits", m.operator)) == [] and entry_count(m.db_url) == posted


def test_each_role_reaches_only_its_own_exit(
    client: TestClient, market: Market, clock: FrozenClock
) -> None:  # S4
    m = market
    ids = ready(m, clock)
    store, a, b = ids["store"], ids["token"], m.seller_tokens["b"]
    applied = m.ok(apply(m, store, a), 201)
    exit_path = f"/exits/{applied['id']}"
    # another seller: not found, whatever it asks
    for answer in (
        m.get(f"/stores/{store}/exit", b),
        m.get(exit_path, b),
        m.post(f"/stores/{store}/exit", b, {"reason": "x", "fees_acknowledged": True}),
        m.post(f"/stores/{store}/exit-archive", b),
        m.get(f"/stores/{store}/exit-archive/download", b),
        m.post(f"{exit_path}/unbind", b, {"stock": "dispose"}),
        m.post(f"/stores/{store}/close", b, {"confirm": True}),
    ):
        _problem(answer, 404)
    # a seller neither decides, nor reads the queue, nor sets the terms
    for answer in (
        m.post(f"{exit_path}/decision", a, {"decision": "approve"}),
        m.get("/exits", a),
        m.post(
            "/exit-terms",
            a,
            {"currency": "USD", "management_fee_minor": 0, "refund_fee_minor": 0, "review_days": 1},
        ),
    ):
        _problem(answer, 403)
    # nor does an operator apply for the seller; other roles reach nothing
    _problem(apply(m, store, m.operator), 403)
    staff = issue_token(m.db_url, Role.warehouse, warehouse_ids=[m.platform_warehouse])
    for token in (staff, m.carrier, m.channel):
        _problem(m.get(f"/stores/{store}/exit", token), 403)
        _problem(m.get("/exits", token), 403)
        _problem(m.post(f"{exit_path}/decision", token, {"decision": "approve"}), 403)
    # an approved exit is not unbound twice; a store not exited does not close
    m.ok(m.post(f"{exit_path}/decision", m.operator, {"decision": "approve"}))
    _problem(m.post(f"/stores/{store}/close", a, {"confirm": True}), 409, "store_exited")
    m.ok(m.post(f"{exit_path}/unbind", a, {"stock": "dispose"}))
    _problem(m.post(f"{exit_path}/unbind", a, {"stock": "dispose"}), 409, "illegal_transition")
    # the operator reads it; the terms are readable by both
    assert m.ok(m.get(exit_path, m.operator))["status"] == "unbound"
    assert "USD" in {t["currency"] for t in m.ok(m.get("/exit-terms", a))}


def test_a_retried_application_is_answered_once_and_the_statuses_are_declared(
    client: TestClient, market: Market, clock: FrozenClock
) -> None:  # S4
    m = market
    ids = ready(m, clock)
    store, a = ids["store"], ids["token"]
    key = {"Idempotency-Key": m.new_key()}
    body = {"reason": "leaving", "fees_acknowledged": True}
    first = m.post(f"/stores/{store}/exit", a, body, headers=key)
    second = m.post(f"/stores/{store}/exit", a, body, headers=key)
    assert first.status_code == second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert first.json()["id"] == second.json()["id"]
    document = client.get("/api/v1/openapi.json").json()["paths"]
    for path, method, statuses in (
        ("/stores/{store_id}/exit", "post", (403, 404, 409, 422)),
        ("/stores/{store_id}/exit", "get", (403, 404, 409)),
        ("/exits/{exit_id}/decision", "post", (403, 404, 409, 422)),
        ("/exits/{exit_id}/unbind", "post", (403, 404, 409, 422)),
        ("/stores/{store_id}/close", "post", (403, 404, 409, 422)),
        ("/stores/{store_id}/exit-archive/download", "get", (403, 404, 409)),
    ):
        declared = document[f"/api/v1{path}"][method]["responses"]
        assert all(str(s) in declared for s in statuses), (path, method, sorted(declared))


def test_the_demo_leaves_an_application_waiting_for_review(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # S4 S5
    m = market

    async def work(session: Any, _: Ctx) -> str:
        operator = Ctx(
            principal=Principal(role=Role.operator, actor_id="usr_op"),
            clock=clock,
            settings=settings,
        )
        seller = Ctx(
            principal=Principal(role=Role.seller, actor_id="usr_a", seller_id=m.sellers["a"]),
            clock=clock,
            settings=settings,
        )
        await demo.exit_terms_with_fees(session, operator)
        return await demo.exit_waiting(session, seller=seller, store_id=m.stores["a_full"])

    exit_id = as_system(m.db_url, work)
    shown = m.ok(m.get(f"/exits/{exit_id}", m.operator))
    assert (shown["status"], shown["management_fee_minor"]) == ("applied", 8_000)
    assert len(shown["documents"]) == 1

"""Stock per warehouse and SKU through the API and `tuoguan stock check` (M5, C3, R1)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tests.builders.market import Market
from tests.builders.stock import adjust, make_warehouse, sku_of, stocked
from tuoguan.cli.main import app
from tuoguan.db import Database

runner = CliRunner()


def _moves(m: Market, token: str | None = None, **params: Any) -> list[dict[str, Any]]:
    return list(m.ok(m.get("/stock/moves", token or m.operator, params=params)))


def _stock(m: Market, token: str | None = None, **params: Any) -> list[dict[str, Any]]:
    return list(m.ok(m.get("/stock", token or m.operator, params=params)))


def _sql(db_url: str, statement: str) -> None:
    async def run() -> None:
        async with Database.opened(db_url) as db, db.write() as session:
            await session.execute(text(statement))
            await session.commit()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()


def test_an_adjustment_is_a_ledger_row_and_the_balance_follows(market: Market) -> None:
    # M5: every change is a ledger row with its reason and actor; balances derive from it
    m = market
    warehouse = make_warehouse(m)
    sku = sku_of(m, "a_full")
    made = m.ok(adjust(m, warehouse["id"], sku, reason="opening count", on_hand=10, inbound=4), 201)
    move, stock = made["move"], made["stock"]
    assert (move["kind"], move["on_hand"], move["inbound"], move["reserved"]) == ("adjust", 10, 4, 0)
    assert move["reason"] == "opening count" and move["actor_role"] == "operator"
    assert move["quantity"] is None and move["store_id"] == m.stores["a_full"]
    assert (stock["on_hand"], stock["reserved"], stock["available"], stock["inbound"]) == (
        10,
        0,
        10,
        4,
    )
    m.ok(adjust(m, warehouse["id"], sku, reason="2 found damaged", on_hand=-2, defective=2), 201)
    (row,) = _stock(m, warehouse_id=warehouse["id"])
    assert (row["on_hand"], row["available"], row["defective"], row["inbound"]) == (8, 8, 2, 4)
    assert row["sku_id"] == sku and row["store_id"] == m.stores["a_full"]
    ledger = _moves(m, warehouse_id=warehouse["id"])
    assert [r["reason"] for r in ledger] == ["2 found damaged", "opening count"]  # newest first


def test_bad_adjustments_name_the_field_and_the_rule_and_write_nothing(market: Market) -> None:
    # M5: never below zero; reserved moves only through reservations
    m = market
    warehouse, sku = stocked(m, "a_full", 3)

    def refused(answer: Any, status: int, field: str, rule: str) -> None:
        assert answer.status_code == status, answer.text
        assert (answer.json()["field"], answer.json()["rule"]) == (field, rule), answer.text

    refused(adjust(m, warehouse, sku, on_hand=-4), 409, "on_hand", "on_hand_not_negative")
    refused(adjust(m, warehouse, sku, defective=-1), 409, "defective", "defective_not_negative")
    refused(adjust(m, warehouse, sku, reserved=1), 422, "reserved", "extra_forbidden")
    refused(adjust(m, warehouse, sku), 422, "on_hand", "adjustment_not_empty")
    refused(adjust(m, warehouse, "sku_nope", on_hand=1), 422, "sku_id", "known_sku")
    refused(adjust(m, "whs_nope", sku, on_hand=1), 422, "warehouse_id", "known_warehouse")
    refused(adjust(m, warehouse, sku, on_hand=1.0), 422, "on_hand", "int_type")  # type: ignore[arg-type]
    refused(adjust(m, warehouse, sku, reason="", on_hand=1), 422, "reason", "string_too_short")
    # a seller's own warehouse holds only that seller's SKUs
    b_home = make_warehouse(m, m.seller_tokens["b"], owner="seller", kind="seller_origin")
    refused(adjust(m, b_home["id"], sku, on_hand=1), 422, "warehouse_id", "own_warehouse_only")
    assert len(_moves(m)) == 1
    (row,) = _stock(m)
    assert (row["on_hand"], row["defective"]) == (3, 0)


def test_an_adjustment_is_idempotent_and_audited(market: Market) -> None:
    m = market
    warehouse, sku = stocked(m, "a_full", 1)
    body = {"warehouse_id": warehouse, "sku_id": sku, "on_hand": 5, "reason": "found a box"}
    key = {"Idempotency-Key": m.new_key()}
    first = m.post("/stock/adjustments", m.operator, body, headers=key)
    again = m.post("/stock/adjustments", m.operator, body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert _stock(m)[0]["on_hand"] == 6 and len(_moves(m)) == 2

    async def events() -> list[Any]:
        async with Database.opened(m.db_url) as db, db.read() as session:
            rows = await session.execute(
                text("SELECT action, reason, actor_role FROM events WHERE subject_type = 'stock_move'")
            )
            return [tuple(r) for r in rows.all()]

    with ThreadPoolExecutor(max_workers=1) as pool:
        audited = pool.submit(asyncio.run, events()).result()
    assert sorted(audited) == [
        ("adjust", "found a box", "operator"),
        ("adjust", "opening stock", "operator"),
    ]


def test_sellers_read_only_their_own_stock_and_never_adjust(market: Market) -> None:
    # M5: the seller sees its stock in the platform's warehouse; another seller's is not there
    m = market
    a, b = m.seller_tokens["a"], m.seller_tokens["b"]
    warehouse, sku_a = stocked(m, "a_full", 7)
    sku_b = sku_of(m, "b_full")
    m.ok(adjust(m, warehouse, sku_b, on_hand=2), 201)
    assert [(r["sku_id"], r["on_hand"]) for r in _stock(m, a)] == [(sku_a, 7)]
    assert [(r["sku_id"], r["on_hand"]) for r in _stock(m, b)] == [(sku_b, 2)]
    assert _stock(m, b, sku_id=sku_a) == [] and _stock(m, b, store_id=m.stores["a_full"]) == []
    assert _stock(m, a, store_id=m.stores["a_full"])[0]["sku_id"] == sku_a
    assert {r["sku_id"] for r in _moves(m, b)} == {sku_b}
    assert _moves(m, b, sku_id=sku_a) == []
    assert len(_stock(m)) == 2 and len(_stock(m, store_id=m.stores["b_full"])) == 1
    m.ok(adjust(m, warehouse, sku_a, on_hand=1), 201)
    denied = m.post(
        "/stock/adjustments",
        a,
        {"warehouse_id": warehouse, "sku_id": sku_a, "on_hand": 100, "reason": "more"},
    )
    assert denied.status_code == 403, denied.text
    for token in (m.channel, m.carrier):
        assert m.get("/stock", token).status_code == 403
        assert m.get("/stock/moves", token).status_code == 403
    assert _stock(m, a)[0]["on_hand"] == 8  # only the operator's +1 landed


def test_the_ledger_pages_newest_first(market: Market) -> None:
    m = market
    warehouse, sku = stocked(m, "a_full", 1)
    for n in range(2, 6):
        m.ok(adjust(m, warehouse, sku, reason=f"count {n}", on_hand=1), 201)
    first = m.get("/stock/moves", m.operator, params={"limit": 3, "sku_id": sku})
    ids = [r["id"] for r in first.json()]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3
    link = first.headers["link"].split(";")[0].strip("<>")
    rest = m.client.get(link, headers={"Authorization": f"Bearer {m.operator}"}).json()
    assert [r["id"] for r in rest] == sorted(r["id"] for r in rest)[::-1] and len(rest) == 2
    assert max(r["id"] for r in rest) < min(ids)
    bogus = m.get("/stock/moves", m.operator, params={"cursor": "nope"})
    assert bogus.status_code == 400


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TUOGUAN_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")
    return db_url


def test_stock_check_finds_a_balance_that_left_its_ledger_and_fixes_it(
    market: Market, cli_env: str
) -> None:
    # M5: balances are derived from the ledger; the check rebuilds them and reports differences
    m = market
    warehouse, sku = stocked(m, "a_full", 5)
    clean = runner.invoke(app, ["stock", "check"])
    assert clean.exit_code == 0, clean.output
    assert "checked 1 balances against 1 ledger rows" in clean.output and "0 differ" in clean.output

    _sql(cli_env, f"UPDATE stock_balances SET on_hand = 9, inbound = 1 WHERE sku_id = '{sku}'")
    other = make_warehouse(m)
    _sql(  # a ledger row whose balance was never written
        cli_env,
        "INSERT INTO stock_moves (warehouse_id, sku_id, store_id, kind, quantity, on_hand, "
        "reserved, defective, inbound, actor_id, actor_role, created_at) VALUES "
        f"('{other['id']}', '{sku}', '{m.stores['a_full']}', 'receipt', 2, 2, 0, 0, 0, "
        "'usr_x', 'operator', '2026-11-18 01:00:00')",
    )
    found = runner.invoke(app, ["stock", "check", "--batch", "1"])
    assert found.exit_code == 1, found.output
    assert "2 differ" in found.output
    lines = [line for line in found.output.splitlines() if sku in line]
    assert any("on_hand" in line and "9" in line and "5" in line for line in lines), found.output
    assert any("inbound" in line for line in lines) and len(lines) == 3, found.output
    assert any(other["id"] in line and "no row" in line for line in lines), found.output

    fixed = runner.invoke(app, ["stock", "check", "--fix"])
    assert fixed.exit_code == 0, fixed.output
    assert "rewrote 2 balances" in fixed.output
    assert runner.invoke(app, ["stock", "check"]).exit_code == 0
    levels = {(r["warehouse_id"], r["on_hand"], r["inbound"]) for r in _stock(m)}
    assert levels == {(warehouse, 5, 0), (other["id"], 2, 0)}

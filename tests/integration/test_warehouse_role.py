"""Warehouse staff (issue 12): a role bound to the warehouses they work in.

A warehouse credential reads who it is (/me, with its warehouses) and the operations that
declare the role (receiving comes with its own screens); every other operation answers 403
(the role-walking test in tests/api/test_role_views.py holds the whole API to that), and
every console page but their home (and the pages under it) sends them home.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.builders.market import (
    ADDRESS,
    PASSWORD,
    Market,
    auth,
    create_console_user,
    issue_token,
)
from tests.builders.stock import make_warehouse
from tuoguan.cli.main import app
from tuoguan.errors import InvalidInput
from tuoguan.principal import Role

runner = CliRunner()


def _refused(answer: Any, field: str, rule: str) -> None:
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert (problem["field"], problem["rule"]) == (field, rule), problem


def _token_ids(m: Market) -> set[str]:
    return {t["id"] for t in m.ok(m.get("/tokens", m.operator))}


def test_a_warehouse_token_names_one_or_more_existing_warehouses(market: Market) -> None:
    # R1 (actors: warehouse staff receive at their warehouses); issue 12, bad input
    m = market
    dongguan = make_warehouse(m, name="Dongguan consolidation")
    yiwu = make_warehouse(m, name="Yiwu consolidation")
    before = _token_ids(m)

    # given a warehouse token that names no warehouse, one that does not exist, or a seller
    # token that names one, then each is refused on the field and rule, and nothing is issued
    bare = {"name": "dock", "role": "warehouse"}
    _refused(m.post("/tokens", m.operator, bare), "warehouse_ids", "warehouse_required")
    empty = {**bare, "warehouse_ids": []}
    _refused(m.post("/tokens", m.operator, empty), "warehouse_ids", "warehouse_required")
    ghost = {**bare, "warehouse_ids": [dongguan["id"], "whs_nope"]}
    _refused(m.post("/tokens", m.operator, ghost), "warehouse_ids", "warehouse_exists")
    seller = {
        "name": "bot",
        "role": "seller",
        "seller_id": m.sellers["a"],
        "warehouse_ids": [dongguan["id"]],
    }
    _refused(m.post("/tokens", m.operator, seller), "warehouse_ids", "warehouse_role_only")
    operator = {"name": "ops", "role": "operator", "warehouse_ids": [dongguan["id"]]}
    _refused(m.post("/tokens", m.operator, operator), "warehouse_ids", "warehouse_role_only")
    assert _token_ids(m) == before

    # when the operator issues one for two warehouses (named twice, in any order)
    both = [yiwu["id"], dongguan["id"], yiwu["id"]]
    issued = m.ok(m.post("/tokens", m.operator, {**bare, "warehouse_ids": both}), 201)

    # then the token, its listing and /me name both, once each, sorted
    expected = sorted({dongguan["id"], yiwu["id"]})
    assert issued["warehouse_ids"] == expected
    listed = next(t for t in m.ok(m.get("/tokens", m.operator)) if t["id"] == issued["id"])
    assert listed["warehouse_ids"] == expected and listed["role"] == "warehouse"
    me = m.ok(m.get("/me", issued["token"]))
    assert (me["role"], me["warehouse_ids"], me["seller_id"]) == ("warehouse", expected, None)
    # and every other role's /me names none
    assert m.ok(m.get("/me", m.seller_tokens["a"]))["warehouse_ids"] == []
    # a seller cannot issue warehouse tokens
    refused = m.post("/tokens", m.seller_tokens["a"], {**bare, "warehouse_ids": expected})
    assert refused.status_code == 403


def test_a_warehouse_token_reads_me_and_health_and_is_refused_the_rest(market: Market) -> None:
    # R1: warehouse staff act at their warehouses, not on orders, stock or tokens
    m = market
    warehouse = make_warehouse(m)
    staff = issue_token(m.db_url, Role.warehouse, warehouse_ids=[warehouse["id"]])
    order = m.place("a_full")

    assert m.ok(m.get("/me", staff))["warehouse_ids"] == [warehouse["id"]]
    assert m.client.get("/api/v1/health").status_code == 200
    for path in (
        "/orders",
        f"/orders/{order['id']}",
        "/stock",
        "/warehouses",
        f"/warehouses/{warehouse['id']}",
        "/products",
        "/tokens",
        "/notifications",
    ):
        refused = m.get(path, staff)
        assert refused.status_code == 403, f"{path}: {refused.text}"
        assert refused.headers["content-type"].startswith("application/problem+json")
    body = {
        "store_id": m.stores["a_self"],
        "currency": "USD",
        "address": ADDRESS,
        "lines": [{"product_id": m.products["a_self"], "quantity": 1}],
    }
    assert m.post("/orders", staff, body).status_code == 403
    assert m.post(f"/orders/{order['id']}/confirm", staff).status_code == 403
    assert m.post("/tokens", staff, {"name": "x", "role": "operator"}).status_code == 403
    assert m.ok(m.get(f"/orders/{order['id']}", m.operator))["status"] == "awaiting_confirmation"


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TUOGUAN_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")
    return db_url


def test_the_cli_issues_warehouse_tokens_and_users(
    cli_env: str, client: TestClient, market: Market
) -> None:
    # R1: `tuoguan token create --role warehouse --warehouse ID` (repeatable)
    m = market
    dongguan, yiwu = make_warehouse(m), make_warehouse(m)
    result = runner.invoke(
        app,
        ["token", "create", "--role", "warehouse"]
        + ["--warehouse", yiwu["id"], "--warehouse", dongguan["id"]],
    )
    assert result.exit_code == 0, result.output
    me = client.get("/api/v1/me", headers=auth(result.output.strip())).json()
    assert me["role"] == "warehouse"
    assert me["warehouse_ids"] == sorted([dongguan["id"], yiwu["id"]])

    refused = runner.invoke(app, ["token", "create", "--role", "warehouse"])
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines() == [
        "error: a warehouse credential names at least one warehouse (warehouse_ids)"
    ]
    ghost = runner.invoke(app, ["token", "create", "--role", "warehouse", "--warehouse", "whs_x"])
    assert ghost.exit_code == 1 and "no such warehouse: whs_x" in ghost.output
    carrier = ["token", "create", "--role", "carrier", "--carrier", "cainiao"]
    wrong = runner.invoke(app, [*carrier, "--warehouse", dongguan["id"]])
    assert wrong.exit_code == 1 and "only warehouse credentials" in wrong.output

    # and `tuoguan user create ... --role warehouse --warehouse ID`
    user = ["user", "create", "--email", "dock@example.com", "--name", "Dock", "--locale", "en"]
    prompt = f"{PASSWORD}\n{PASSWORD}\n"
    nameless = runner.invoke(app, [*user, "--role", "warehouse"], input=prompt)
    assert nameless.exit_code == 1 and "(warehouse_ids)" in nameless.output
    made = runner.invoke(
        app, [*user, "--role", "warehouse", "--warehouse", dongguan["id"]], input=prompt
    )
    assert made.exit_code == 0, made.output
    assert _login(client, "dock@example.com") == "/console/warehouse"


def test_a_seller_user_names_no_warehouse(market: Market) -> None:
    # R1: only warehouse staff are bound to warehouses
    m = market
    warehouse = make_warehouse(m)
    with pytest.raises(InvalidInput) as refused:
        create_console_user(
            m.db_url, "s@example.com", Role.seller, m.sellers["a"], warehouse_ids=[warehouse["id"]]
        )
    assert (refused.value.field, refused.value.extra["rule"]) == (
        "warehouse_ids",
        "warehouse_role_only",
    )


# -- the console -------------------------------------------------------------------------------


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def _login(client: TestClient, email: str) -> str:
    """Sign in; where the console sends the user next."""
    page = client.get("/login")
    answer = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf": _csrf(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def test_warehouse_staff_sign_in_to_a_home_that_names_their_warehouses(
    client: TestClient, market: Market
) -> None:
    # R1: warehouse staff sign in; until their screens exist, the home page is all they see
    m = market
    dongguan = make_warehouse(m, name="Dongguan 优选仓")
    yiwu = make_warehouse(m, name="Yiwu consolidation")
    elsewhere = make_warehouse(m, name="Shenzhen returns")
    ids = [dongguan["id"], yiwu["id"]]
    create_console_user(m.db_url, "dock@example.com", Role.warehouse, warehouse_ids=ids)
    order = m.place("a_full")

    # when they sign in, then they land on their home, which names their warehouses
    assert _login(client, "dock@example.com") == "/console/warehouse"
    home = client.get("/console/warehouse")
    assert home.status_code == 200
    assert "You work in:" in home.text and "warehouse staff" in home.text
    assert "Dongguan 优选仓" in home.text and "Yiwu consolidation" in home.text
    assert "Shenzhen returns" not in home.text and elsewhere["code"] not in home.text
    assert 'href="/console/orders"' not in home.text  # no links to pages they cannot use
    client.cookies.set("tg_lang", "zh-CN")
    chinese = client.get("/console/warehouse").text
    assert "你所在的仓库" in chinese and "仓库人员" in chinese and "Dongguan 优选仓" in chinese

    # and every other page, read or write, sends them home without doing anything
    csrf = _csrf(home.text)
    for path in (
        "/console/orders",
        f"/console/orders/{order['id']}",
        "/console/notifications",
        "/console/at-risk",
        "/console/breaches",
        "/console/penalties",
        "/console/policies",
        "/console/exports",
        "/console/sweep-failures",
        "/console/logistics",
        "/console/orders.csv",
    ):
        sent = client.get(path, follow_redirects=False)
        assert sent.status_code == 303, f"{path}: {sent.status_code}"
        assert sent.headers["location"] == "/console/warehouse", path
    confirm = client.post(
        f"/console/orders/{order['id']}/confirm", data={"csrf": csrf}, follow_redirects=False
    )
    assert (confirm.status_code, confirm.headers["location"]) == (303, "/console/warehouse")
    assert m.ok(m.get(f"/orders/{order['id']}", m.operator))["status"] == "awaiting_confirmation"

    # and they sign out like anyone else
    out = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, "/login")
    gone = client.get("/console/warehouse", follow_redirects=False)
    assert gone.headers["location"] == "/login"


def test_other_users_keep_their_pages_and_are_sent_from_the_warehouse_home(
    client: TestClient, market: Market
) -> None:
    m = market
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    assert _login(client, "a@example.com") == "/console/orders"
    page = client.get("/console/orders")
    assert page.status_code == 200
    assert "a · seller" in page.text  # the role's label, translated
    client.cookies.set("tg_lang", "zh-CN")
    assert "a · 卖家" in client.get("/console/orders").text
    sent = client.get("/console/warehouse", follow_redirects=False)
    assert (sent.status_code, sent.headers["location"]) == (303, "/console/orders")

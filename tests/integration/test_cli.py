"""The `tuoguan` command line: one-line errors, non-zero exits, tables with deadlines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.builders.karrio import Recorded, connect_fedex, fedex  # noqa: F401
from tests.builders.market import Market, auth
from tuoguan.cli.main import app

runner = CliRunner()


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TUOGUAN_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")
    return db_url


def test_token_create_prints_a_working_token_once(
    cli_env: str, client: TestClient, market: Market
) -> None:
    result = runner.invoke(
        app, ["token", "create", "--role", "seller", "--seller", market.sellers["a"]]
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    me = client.get("/api/v1/me", headers=auth(token)).json()
    assert me["role"] == "seller" and me["seller_id"] == market.sellers["a"]


def test_token_for_a_seller_needs_a_real_seller(cli_env: str) -> None:
    result = runner.invoke(app, ["token", "create", "--role", "seller"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: a seller credential needs an existing seller (seller_id)"
    ]
    result = runner.invoke(app, ["token", "create", "--role", "seller", "--seller", "sel_nope"])
    assert result.exit_code == 1 and "existing seller" in result.output


def test_unknown_role_is_refused(cli_env: str) -> None:
    result = runner.invoke(app, ["token", "create", "--role", "king"])
    assert result.exit_code != 0


def test_orders_list_shows_the_next_deadline(cli_env: str, market: Market) -> None:  # O5
    order = market.place("a_full")
    result = runner.invoke(app, ["orders", "list", "--seller", market.sellers["a"]])
    assert result.exit_code == 0, result.output
    assert order["id"] in result.output and "confirm_by" in result.output
    other = runner.invoke(app, ["orders", "list", "--seller", market.sellers["b"]])
    assert order["id"] not in other.output


def test_demo_loads_once(cli_env: str) -> None:
    first = runner.invoke(app, ["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "operator@demo.tuoguan" in first.output
    again = runner.invoke(app, ["demo", "load"])
    assert again.exit_code == 1 and again.output.startswith("error: ")
    assert runner.invoke(app, ["demo", "load", "--if-empty"]).exit_code == 0
    listed = runner.invoke(app, ["orders", "list", "--sort", "newest", "--limit", "200"])
    for state in (
        "awaiting_confirmation",
        "awaiting_shipment",
        "shipped",
        "delivered",
        "completed",
        "cancelled",
    ):
        assert state in listed.output, f"the demo has no {state} order"
    due = runner.invoke(app, ["orders", "list", "--status", "delivered"])
    assert "auto_complete_at" in due.output and "shipped " not in due.output


def test_token_revoke_from_the_cli(cli_env: str, client: TestClient, market: Market) -> None:
    issued = market.ok(
        market.post("/tokens", market.operator, {"name": "bot", "role": "buyer_channel"}), 201
    )
    assert runner.invoke(app, ["token", "revoke", issued["id"]]).exit_code == 0
    assert client.get("/api/v1/me", headers=auth(issued["token"])).status_code == 401
    missing = runner.invoke(app, ["token", "revoke", "tok_nope"])
    assert missing.exit_code == 1 and missing.output.startswith("error: token tok_nope not found")


def test_carrier_accounts_are_added_from_a_file_and_listed(
    cli_env: str, tmp_path: Path
) -> None:  # F9: a real carrier through karrio, registered from the CLI
    from tests.builders.karrio import FEDEX_ACCOUNT

    account = tmp_path / "fedex.json"
    account.write_text(json.dumps(FEDEX_ACCOUNT))
    added = runner.invoke(app, ["shipping", "carrier-add", "--file", str(account)])
    assert added.exit_code == 0, added.output
    assert "carrier account fedex (karrio) registered" in added.output
    listed = runner.invoke(app, ["shipping", "carriers"])
    assert "karrio:fedex" in listed.output and "polled every 30 min" in listed.output
    assert "recorded-secret-key" not in listed.output
    # bad input: a one-line error naming the field, and nothing added
    account.write_text(json.dumps({**FEDEX_ACCOUNT, "code": "ups", "carrier": "pigeon_post"}))
    refused = runner.invoke(app, ["shipping", "carrier-add", "--file", str(account)])
    assert refused.exit_code != 0 and "pigeon_post" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    assert "carrier accounts (1)" in runner.invoke(app, ["shipping", "carriers"]).output


def test_rate_check_sets_each_quote_beside_the_carriers_price(
    cli_env: str,
    market: Market,
    fedex: Recorded,  # noqa: F811
) -> None:  # G1: the rate check from the command line, FedEx answering through karrio
    connect_fedex(market)
    fedex.answer("POST", "/rate/v1/rates/quotes", "rate_quoted.json")
    order = market.place("a_self")
    result = runner.invoke(app, ["shipping", "rate-check", order["id"]])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "TG-FEDEX-IP" in line)
    assert "$71.15" in row
    # services whose carrier has no account here say so instead of a price
    assert "no active carrier account sandbox" in result.output
    # bad input: an unknown order is a one-line error and a non-zero exit
    missing = runner.invoke(app, ["shipping", "rate-check", "ord_nope"])
    assert missing.exit_code != 0 and len(missing.output.strip().splitlines()) == 1

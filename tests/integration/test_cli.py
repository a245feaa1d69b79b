"""The `tuoguan` command line: one-line errors, non-zero exits, tables with deadlines."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.builders.karrio import Recorded, connect_fedex, fedex  # noqa: F401
from tests.builders.market import Market, auth
from tests.builders.shipping import install_catalog
from tuoguan.cli.main import app
from tuoguan.kit.money import format_minor

TUOGUAN = str(Path(sys.executable).with_name("tuoguan"))

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
    cells = _row(result.output, order["id"])
    # the money as the shipping commands show it (e.g. $19.99), the deadline in the zone it
    # applies to, as a local time
    assert cells[1:4] == [
        "full-managed",
        "awaiting confirmation",
        format_minor(order["total_minor"], order["currency"]),
    ]
    assert re.fullmatch(r"confirm by \d{4}-\d\d-\d\d \d\d:\d\d Asia/Shanghai", cells[4])
    # placed on the test's frozen clock, listed at the wall clock's time: late by now
    assert re.fullmatch(r"(\d+d )?\d+h \d\dm late", cells[5])
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
        "awaiting confirmation",
        "awaiting shipment",
        "shipped",
        "delivered",
        "completed",
        "cancelled",
    ):
        assert f"│ {state} " in listed.output, f"the demo has no {state} order"
    due = runner.invoke(app, ["orders", "list", "--status", "delivered"])
    assert "completes by itself" in due.output and "│ shipped " not in due.output


def test_token_revoke_from_the_cli(cli_env: str, client: TestClient, market: Market) -> None:
    issued = market.ok(
        market.post("/tokens", market.operator, {"name": "bot", "role": "buyer_channel"}), 201
    )
    assert runner.invoke(app, ["token", "revoke", issued["id"]]).exit_code == 0
    assert client.get("/api/v1/me", headers=auth(issued["token"])).status_code == 401
    missing = runner.invoke(app, ["token", "revoke", "tok_nope"])
    assert missing.exit_code == 1 and missing.output.startswith("error: token tok_nope not found")


def _rows(output: str) -> list[list[str]]:
    """A Rich table's rows as cells, a cell Rich wrapped onto more lines joined again."""
    rows: list[list[str]] = []
    for line in output.splitlines():
        if not line.startswith("│"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        if rows and not cells[0]:  # the first cell is never empty but on a wrapped line
            rows[-1] = [" ".join(filter(None, pair)) for pair in zip(rows[-1], cells, strict=True)]
        else:
            rows.append(cells)
    return rows


def _row(output: str, *words: str) -> list[str]:
    """The cells of the one table row holding every word."""
    found = [cells for cells in _rows(output) if all(w in " ".join(cells) for w in words)]
    assert len(found) == 1, f"{words} in {len(found)} rows of:\n{output}"
    return found[0]


def test_token_list_shows_what_each_token_is_and_revoke_takes_its_first_column(
    cli_env: str, client: TestClient, market: Market
) -> None:
    seller = runner.invoke(
        app,
        ["token", "create", "--role", "seller", "--seller", market.sellers["a"], "--name", "erp"],
    )
    shop = runner.invoke(app, ["token", "create", "--role", "buyer_channel", "--name", "shop"])
    assert seller.exit_code == 0 and shop.exit_code == 0, seller.output + shop.output
    listed = runner.invoke(app, ["token", "list"])
    assert listed.exit_code == 0, listed.output
    erp = _row(listed.output, "erp")
    # token, name, role, acts for (the seller by name), issued, revoked
    assert erp[1:4] == ["erp", "seller", "Seller a"] and erp[5] == "no"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", erp[4])
    assert _row(listed.output, "shop")[2] == "storefront"
    assert _row(listed.output, "cainiao")[2] == "carrier"
    # never the secret
    assert seller.output.strip() not in listed.output and "tg_" not in listed.output
    # revoke takes the handle the list shows
    handle = _row(listed.output, "shop")[0]
    revoked = runner.invoke(app, ["token", "revoke", handle])
    assert revoked.exit_code == 0, revoked.output
    assert revoked.output.startswith(f"{handle} (shop, storefront) revoked since ")
    assert client.get("/api/v1/me", headers=auth(shop.output.strip())).status_code == 401
    assert client.get("/api/v1/me", headers=auth(seller.output.strip())).status_code == 200
    again = runner.invoke(app, ["token", "list"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", _row(again.output, "shop")[5])
    active = runner.invoke(app, ["token", "list", "--active"])
    assert "shop" not in active.output and "erp" in active.output


def test_stores_list_shows_the_ids_that_seller_options_take(cli_env: str, market: Market) -> None:
    listed = runner.invoke(app, ["stores", "list"])
    assert listed.exit_code == 0, listed.output
    cells = _row(listed.output, "a self")
    assert cells[:5] == ["a self", "self-run", "CN", "USD", "Seller a"]
    assert cells[5:] == [market.stores["a_self"], market.sellers["a"]]
    only = runner.invoke(app, ["stores", "list", "--mode", "full_managed"])
    assert "a full" in only.output and "a self" not in only.output


def test_route_rules_read_as_words(cli_env: str, market: Market, tmp_path: Path) -> None:  # F5
    install_catalog(market)
    rule = tmp_path / "rule.json"
    rule.write_text(
        json.dumps(
            {
                "position": 5,
                "name": "Heavy valuables to the US by express",
                "effect": "deny",
                "conditions": {
                    "services": ["TG-POST-SMALL", "TG-POST-REG", "TG-STANDARD"],
                    "store_ids": [market.stores["a_self"]],
                    "countries": ["US"],
                    "min_weight_g": 500,
                    "max_weight_g": 2000,
                    "value_currency": "USD",
                    "min_value_minor": 5000,
                },
            }
        )
    )
    assert runner.invoke(app, ["shipping", "rule-add", "--file", str(rule)]).exit_code == 0
    listed = runner.invoke(app, ["shipping", "rules"])
    assert listed.exit_code == 0, listed.output
    cells = _row(listed.output, "Heavy valuables")
    assert cells[2:4] == [
        "deny",
        "service TG-POST-SMALL, TG-POST-REG or TG-STANDARD, store a self, destination US, "
        "weight 500 g to under 2 kg, value ≥ $50.00",
    ]
    assert _row(listed.output, "No liquids by post")[3] == (
        "service TG-POST-SMALL or TG-POST-REG, category liquid"
    )
    assert "{" not in listed.output and "_minor" not in listed.output
    # the id the last column shows is the one rule-delete takes
    deleted = runner.invoke(app, ["shipping", "rule-delete", cells[4]])
    assert deleted.exit_code == 0, deleted.output
    assert "Heavy valuables" not in runner.invoke(app, ["shipping", "rules"]).output


def _commands(command: Any, path: str) -> Iterator[tuple[str, Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, f"{path} {name}")


def test_every_help_text_says_what_the_command_does_first() -> None:
    spec_first = re.compile(r"^\(?(SPEC )?[A-Z]\d+\b")
    seen = 0
    for path, command in _commands(typer.main.get_command(app), "tuoguan"):
        text = (command.help or "").strip()
        assert text, f"{path} has no help"
        assert not spec_first.match(text), f"{path}: {text.splitlines()[0]!r} opens with a rule id"
        seen += 1
    assert seen > 50


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["token", "revoke"], "error: missing argument 'token_id' (see "),
        (["token", "create", "--role", "king"], "error: invalid value for '--role': 'king'"),
        (["nonsense"], "error: no such command 'nonsense'"),
        (["--bogus"], "error: no such option: --bogus"),
        (["orders", "list", "--limit", "0"], "error: invalid value for '--limit'"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], says: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [result.output.strip()]
    assert result.output.startswith(says), result.output


def test_a_database_without_schema_or_a_bad_setting_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUOGUAN_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    result = runner.invoke(app, ["orders", "list"])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "no such table" in result.output and "tuoguan db upgrade" in result.output
    monkeypatch.setenv("TUOGUAN_PORT", "eighty")
    result = runner.invoke(app, ["orders", "list"])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert result.output.startswith("error: TUOGUAN_PORT: ")
    monkeypatch.delenv("TUOGUAN_PORT")
    monkeypatch.setenv("TUOGUAN_SANDBOX_CARRIER_URL", "127.0.0.1:8001")
    result = runner.invoke(app, ["token", "list"])
    assert result.output.startswith("error: TUOGUAN_SANDBOX_CARRIER_URL: ")
    assert "'127.0.0.1:8001' is not an http URL with a host and a port" in result.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_sandbox_carrier_listens_where_the_settings_say(
    cli_env: str, market: Market
) -> None:  # F8: a second instance's sandbox beside the first, on its own port
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    market.ok(
        market.post(
            "/carrier-accounts",
            market.operator,
            {
                "code": "sandbox",
                "name": "Sandbox carrier",
                "adapter": "sandbox",
                "base_url": url,
                "api_key": "k" * 16,
                "webhook_secret": "s" * 32,
            },
        ),
        201,
    )
    env = {**os.environ, "TUOGUAN_DATABASE_URL": cli_env, "TUOGUAN_SANDBOX_CARRIER_URL": url}
    # the account calls one port: a sandbox started on another would never be reached
    elsewhere = subprocess.run(
        [TUOGUAN, "carrier-sandbox", "--port", str(_free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert elsewhere.returncode == 1
    assert elsewhere.stderr.strip().splitlines() == [
        f"error: the carrier account sandbox calls {url}, not port "
        f"{elsewhere.args[-1]}: start the sandbox with --port {port}, or load the demo into "
        "a new database with TUOGUAN_SANDBOX_CARRIER_URL set"
    ]
    with subprocess.Popen(
        [TUOGUAN, "carrier-sandbox"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as sandbox:
        try:
            deadline = time.monotonic() + 90
            while True:
                assert sandbox.poll() is None, sandbox.stdout.read() if sandbox.stdout else ""
                try:
                    # it checks the account's key: the one registered, not another
                    answer = httpx.post(f"{url}/_sandbox/tick", timeout=2)
                    break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline, "the sandbox did not start"
                    time.sleep(0.2)
            assert answer.status_code == 200, answer.text
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=20)


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

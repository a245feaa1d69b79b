"""`tuoguan cases queue` and `tuoguan cases report`: the case queue and its reports in a
terminal (R3, R4, G4, G6)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.api.test_cases_api import _raise, _short
from tests.builders.market import Market
from tuoguan.cli.main import app

runner = CliRunner()


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TUOGUAN_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")
    return db_url


def test_the_queue_and_the_report_list_the_cases(
    cli_env: str, client: TestClient, market: Market
) -> None:  # R3 R4
    empty = runner.invoke(app, ["cases", "queue"])
    assert empty.exit_code == 0, empty.output
    assert "no cases" in empty.output
    short, notice_id, dock = _short(market)
    case = market.ok(_raise(market, dock, notice_id, short["id"]), 201)
    found = runner.invoke(app, ["cases", "queue", "--kind", "receiving_exception"])
    assert found.exit_code == 0, found.output
    assert "receiving exception: short" in found.output and case["id"] in found.output
    assert "a full" in found.output and "checking" in found.output
    disputes = runner.invoke(app, ["cases", "queue", "--kind", "dispute"])
    assert disputes.exit_code == 0 and case["id"] not in disputes.output
    bad = runner.invoke(app, ["cases", "queue", "--kind", "nope"])
    assert bad.exit_code != 0
    # G6: a buyer's return lists as one, with the rest by default
    order = market.place("a_self")
    ship = {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"}
    market.ok(market.post(f"/orders/{order['id']}/ship", market.operator, ship))
    market.ok(market.post(f"/orders/{order['id']}/deliver", market.carrier))
    asked = {"order_id": order["id"], "cause": "damaged", "summary": "cracked"}
    returned = market.ok(market.post("/returns", market.channel, asked), 201)
    every = runner.invoke(app, ["cases", "queue"])
    assert every.exit_code == 0, every.output
    assert "after-sales return: damaged" in every.output and returned["id"] in every.output
    only = runner.invoke(app, ["cases", "queue", "--kind", "after_sale"])
    assert only.exit_code == 0 and case["id"] not in only.output
    report = runner.invoke(app, ["cases", "report", "--weeks", "2"])
    assert report.exit_code == 0, report.output
    assert "Seller a" in report.output and "100%" in report.output

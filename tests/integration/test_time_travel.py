"""Time travel (`tuoguan clock`) and `tuoguan sla explain`: moving time, reading deadlines."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from typer.testing import CliRunner

from tests.builders.market import Market
from tuoguan.cli.main import app
from tuoguan.config import Settings
from tuoguan.db import Database
from tuoguan.sla import timetravel

runner = CliRunner()


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TUOGUAN_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("TUOGUAN_ENVIRONMENT", raising=False)
    return db_url


def _stored(db_url: str) -> timedelta:
    async def read() -> timedelta:
        async with Database.opened(db_url) as db, db.read() as session:
            return await timetravel.stored_offset(session)

    return asyncio.run(read())


def test_clock_advance_shifts_every_process_and_reset_returns(cli_env: str) -> None:
    result = runner.invoke(app, ["clock", "advance", "1d2h"])
    assert result.exit_code == 0, result.output
    assert "shifted 1 day, 2:00:00" in result.output
    runner.invoke(app, ["clock", "advance", "30m"])
    assert _stored(cli_env) == timedelta(days=1, hours=2, minutes=30)

    async def worker_clock() -> timedelta:
        # What a worker or server process sees when it (re)reads the shared shift.
        settings = Settings(database_url=cli_env)
        async with Database.opened(cli_env) as db:
            return (await timetravel.synced_clock(db, settings)).offset

    assert asyncio.run(worker_clock()) == timedelta(days=1, hours=2, minutes=30)
    assert "shifted" in runner.invoke(app, ["clock", "show"]).output
    assert runner.invoke(app, ["clock", "reset"]).exit_code == 0
    assert _stored(cli_env) == timedelta(0)


def test_time_travel_is_refused_in_production(
    cli_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUOGUAN_ENVIRONMENT", "production")
    result = runner.invoke(app, ["clock", "advance", "2h"])
    assert result.exit_code == 1
    assert result.output.strip() == "error: time travel is refused in production (environment)"
    assert _stored(cli_env) == timedelta(0)

    async def production_clock() -> timedelta:
        settings = Settings(database_url=cli_env, environment="production", clock_offset_seconds=9)
        async with Database.opened(cli_env) as db:
            return (await timetravel.synced_clock(db, settings)).offset

    assert asyncio.run(production_clock()) == timedelta(0)


@pytest.mark.parametrize("duration", ["soon", "5y", "2 hours", "", "2h-1m"])
def test_a_bad_duration_is_one_line_and_changes_nothing(cli_env: str, duration: str) -> None:
    result = runner.invoke(app, ["clock", "advance", duration])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert _stored(cli_env) == timedelta(0)


def test_sla_explain_shows_each_deadline_with_its_days(cli_env: str, market: Market) -> None:
    # F1 F2 O2
    confirming = market.place("a_full")  # the platform ships it: its seller only confirms
    shipping = market.place("a_self")  # its seller ships it by its promise
    output = ""
    for order in (confirming, shipping):
        result = runner.invoke(app, ["sla", "explain", order["id"]])
        assert result.exit_code == 0, result.output
        output += result.output
    for expected in ("confirm_by (O2)", "ship_by (F1)", "deliver_by (F2)", "business day 1 of 2"):
        assert expected in output
    missing = runner.invoke(app, ["sla", "explain", "ord_nope"])
    assert missing.exit_code == 1
    assert missing.output.strip() == "error: order ord_nope not found (order_id)"


def test_the_explanation_is_the_sellers_alone(market: Market) -> None:  # F1
    order = market.place("a_self")
    path = f"/orders/{order['id']}/deadlines/explain"
    explained = market.ok(market.get(path, market.seller_tokens["a"]))
    ship = next(item for item in explained if item["kind"] == "ship_by")
    assert ship["rule"] == "F1"
    assert datetime.fromisoformat(ship["at"]) == datetime.fromisoformat(order["ship_by"])
    assert any("never counts" in step for step in ship["steps"])
    assert market.get(path, market.seller_tokens["b"]).status_code == 404

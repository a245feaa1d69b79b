"""`tuoguan finance payout-run --cycle …` (M3): previews a cycle's run, executes it once with a
progress bar over the stores, sends the payouts on the rail and prints the totals; a refusal is
one line on stderr and a non-zero exit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.builders.ledger import run_on
from tests.builders.runs import World, scenario
from tuoguan.cli.main import app
from tuoguan.db import Database
from tuoguan.settlement.models import Payout, PayoutStatus
from tuoguan.settlement.run_models import PayoutRun, RunStatus

runner = CliRunner()


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TUOGUAN_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")
    return db_url


def _rows(output: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in output.splitlines()
        if line.startswith("│")
    ]


def _row(output: str, first: str) -> list[str]:
    (found,) = [cells for cells in _rows(output) if cells[0] == first]
    return found


# The CLI runs on the wall clock: the stores open three weeks ago, so a boundary has passed.
OPENED = datetime.now(UTC).replace(microsecond=0) - timedelta(days=21)


def _seed(db_url: str) -> dict[str, str]:
    async def body(w: World) -> dict[str, str]:
        await w.bind("full")
        await w.due_to("full", 10_000)
        await w.owes("full", 3_000)
        await w.due_to("full2", 1_000)  # no payout account: held
        return w.stores

    result: dict[str, str] = scenario(db_url, body, at=OPENED)
    return result


def _read(db_url: str, work: Any) -> Any:
    async def body(db: Database) -> Any:
        async with db.read() as session:
            return await work(session)

    return run_on(db_url, body)


def test_payout_run_previews_then_executes_once_and_sends_the_payouts(cli_env: str) -> None:  # M3
    db_url = cli_env
    _seed(db_url)
    # --preview: the figures, nothing posted
    shown = runner.invoke(app, ["finance", "payout-run", "--cycle", "full_managed", "--preview"])
    assert shown.exit_code == 0, shown.output
    assert "(preview: nothing posted)" in shown.output
    assert _row(shown.output, "a full (Seller a)")[1:] == [
        "CN¥0.00",
        "CN¥70.00",
        "CN¥70.00",
        "CN¥30.00",
        "CN¥70.00",
        "CN¥0.00",
        "to pay",
    ]
    assert _row(shown.output, "b full (Seller b)")[-1] == "held: no payout account"
    # the run: previewed again, executed with a progress bar, the payout sent on the rail
    done = runner.invoke(app, ["finance", "payout-run", "--cycle", "full_managed"])
    assert done.exit_code == 0, done.output
    assert "settling full-managed stores" in done.output and "2/2" in done.output
    assert _row(done.output, "a full (Seller a)")[-3:] == ["CN¥70.00", "CN¥0.00", "paid"]
    assert _row(done.output, "b full (Seller b)")[-2:] == ["CN¥10.00", "held: no payout account"]
    # totals per currency: stores paid, carried, held, nothing due; netted, paid out, carried, held
    assert _row(done.output, "CNY")[1:] == [
        "1",
        "0",
        "1",
        "0",
        "CN¥30.00",
        "CN¥70.00",
        "CN¥0.00",
        "CN¥10.00",
    ]
    assert "payouts on the rail: 1 sent" in done.output

    async def stored(session: Any) -> tuple[list[Any], list[Any]]:
        runs = list(await session.scalars(select(PayoutRun).order_by(PayoutRun.id)))
        paid = list(await session.scalars(select(Payout)))
        return [r.status for r in runs], [(p.amount_minor, p.status) for p in paid]

    statuses, paid = _read(db_url, stored)
    assert statuses == [RunStatus.superseded, RunStatus.executed]
    assert paid == [(7_000, PayoutStatus.sent)]

    # the cycle is settled up to its last boundary: a second run is refused, one line, exit 1
    again = runner.invoke(app, ["finance", "payout-run", "--cycle", "full_managed"])
    assert again.exit_code == 1
    (line,) = again.output.strip().splitlines()
    assert line.startswith("error: the full_managed cycle was settled up to ")
    assert line.endswith("(cycle)")
    checked = runner.invoke(app, ["finance", "check"])
    assert checked.exit_code == 0, checked.output


def test_payout_run_refuses_an_unknown_cycle_in_one_line(cli_env: str) -> None:
    refused = runner.invoke(app, ["finance", "payout-run", "--cycle", "weekly"])
    assert refused.exit_code == 2
    (line,) = refused.output.strip().splitlines()
    assert line.startswith("error: invalid value for '--cycle'") and "weekly" in line
    missing = runner.invoke(app, ["finance", "payout-run"])
    assert missing.exit_code == 2 and "--cycle" in missing.output
    # no store of the cycle yet: nothing to settle
    empty = runner.invoke(app, ["finance", "payout-run", "--cycle", "semi_managed"])
    assert empty.exit_code == 1
    (line,) = empty.output.strip().splitlines()
    assert line.startswith("error: there is no semi_managed store yet; its next boundary is ")
    assert line.endswith(": nothing to settle before then (cycle)")

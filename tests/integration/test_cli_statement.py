"""`tuoguan finance statement STORE --period 2026-11` (issue 14, Console and CLI): a store's month
as a table, CSV or PDF that reconciles; a bad month or an unknown store is one line on stderr
and a non-zero exit."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.builders.ledger import run_on
from tests.builders.statements import mixed_store
from tuoguan.cli.main import app
from tuoguan.db import Database

runner = CliRunner()


@pytest.fixture
def store(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TUOGUAN_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")

    async def scenario(db: Database) -> str:
        return (await mixed_store(db)).store_id

    store_id: str = run_on(db_url, scenario)
    return store_id


def test_the_statement_prints_as_a_table_and_writes_csv_and_pdf(
    store: str, tmp_path: Path
) -> None:  # issue 14
    shown = runner.invoke(app, ["finance", "statement", store, "--period", "2026-11"])
    assert shown.exit_code == 0, shown.output
    text = shown.output
    assert "Statement · Statement store · November 2026 · USD (America/New_York)" in text
    assert "Opening balance" in text and "$10.00" in text
    assert "Closing balance" in text and "$118.00" in text
    assert "Payout sent" in text and "-$150.00" in text
    assert "Payout prepared" not in text and "Debt netted" not in text
    assert "2026-11-30 23:30" in text  # the store's local time
    assert "Deposit held (opening → closing): $0.00 → $500.00" in text

    chinese = runner.invoke(
        app, ["finance", "statement", store, "--period", "2026-12", "--lang", "zh-CN"]
    )
    assert chinese.exit_code == 0, chinese.output
    assert "期初余额" in chinese.output and "US$118.00" in chinese.output
    assert "US$22.00" in chinese.output

    printed = runner.invoke(
        app, ["finance", "statement", store, "--period", "2026-11", "--format", "csv"]
    )
    assert printed.exit_code == 0, printed.output
    rows = list(csv.reader(io.StringIO(printed.output)))
    assert rows[0][:2] == ["Statement", "Statement store"]
    opening = next(i for i, row in enumerate(rows) if row[0] == "Opening balance")
    closing = next(i for i, row in enumerate(rows) if row[0] == "Closing balance")
    amounts = [int(row[4].replace(".", "")) for row in rows[opening + 1 : closing]]
    assert len(amounts) == 10 and sum(amounts) == 11800 - 1000

    for output, head in (("csv", b"\xef\xbb\xbfStatement,"), ("pdf", b"%PDF")):
        target = tmp_path / f"statement.{output}"
        wrote = runner.invoke(
            app,
            ["finance", "statement", store, "--period", "2026-11", "--format", output]
            + ["--out", str(target), "--currency", "usd"],
        )
        assert wrote.exit_code == 0, wrote.output
        assert target.read_bytes().startswith(head)
        assert f"wrote the statement (10 lines) to {target}" in wrote.output


@pytest.mark.parametrize(
    ("args", "exit_code", "says"),
    [
        (["--period", "2026-13"], 1, "'2026-13': a month is 01 to 12 (period)"),
        (["--period", "november"], 1, "is not a month: write YYYY-MM, e.g. 2026-11 (period)"),
        (["--period", "2026-11", "--currency", "XX"], 1, "ISO 4217 currency code (currency)"),
        (["--period", "2026-11", "--format", "pdf"], 2, "a PDF is written to a file"),
        (["--period", "2026-11", "--format", "word"], 2, "invalid value for '--format'"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(
    store: str, args: list[str], exit_code: int, says: str
) -> None:  # issue 14
    result = runner.invoke(app, ["finance", "statement", store, *args])
    assert result.exit_code == exit_code, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: ") and says in line, line


def test_an_unknown_store_is_one_line_and_exit_1(store: str) -> None:  # issue 14
    result = runner.invoke(app, ["finance", "statement", "sto_nothing", "--period", "2026-11"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: no store has the id or the name 'sto_nothing' (store)"
    ]


def test_a_store_may_be_named_and_the_month_defaults_to_this_one(store: str) -> None:  # issue 14
    named = runner.invoke(
        app, ["finance", "statement", "Statement store", "--period", "2026-11", "--format", "csv"]
    )
    by_id = runner.invoke(
        app, ["finance", "statement", store, "--period", "2026-11", "--format", "csv"]
    )
    assert named.exit_code == 0 and named.output == by_id.output
    current = runner.invoke(app, ["finance", "statement", store, "--format", "csv"])
    assert current.exit_code == 0, current.output  # the month it is now, wherever the store is
    assert next(csv.reader(io.StringIO(current.output)))[:2] == ["Statement", "Statement store"]

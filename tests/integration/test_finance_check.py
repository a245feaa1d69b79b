"""`tuoguan finance check` rebuilds the balances from the postings and reports what differs
(M3 S3): a balance edited by hand, a posting that unbalances its entry and its currency."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tests.builders.ledger import open_stores, post, run_on
from tuoguan.cli.main import app
from tuoguan.db import Database
from tuoguan.ledger.kinds import EntryKind

runner = CliRunner()


def _sql(db_url: str, statement: str) -> None:
    async def scenario(db: Database) -> None:
        async with db.write() as session:
            await session.execute(text(statement))
            await session.commit()

    run_on(db_url, scenario)


def test_finance_check_finds_balances_and_entries_that_do_not_add_up(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # M3 S3: balances are derived from the postings; the check rebuilds them and exits 1
    monkeypatch.setenv("TUOGUAN_DATABASE_URL", db_url)
    monkeypatch.setenv("COLUMNS", "200")

    async def scenario(db: Database) -> tuple[str, str]:
        (store,) = await open_stores(db, 1)
        await post(
            db, EntryKind.deposit_funded, currency="CNY", parts={"amount": 5000}, store_id=store
        )
        sale = await post(
            db,
            EntryKind.sale_commissioned,
            currency="CNY",
            parts={"net": 900, "commission": 100},
            store_id=store,
        )
        return sale.id, sale.lines[1].account_id

    sale, receivable = run_on(db_url, scenario)
    clean = runner.invoke(app, ["finance", "check"])
    assert clean.exit_code == 0, clean.output
    assert "checked 4 accounts against 5 postings" in clean.output
    assert "every balance, entry and currency adds up" in clean.output
    assert len(clean.output.strip().splitlines()) == 1

    # A stored balance is derived, so it may be edited; the check finds it.
    _sql(db_url, f"UPDATE ledger_accounts SET balance_minor = -950 WHERE id = '{receivable}'")
    edited = runner.invoke(app, ["finance", "check"])
    assert edited.exit_code == 1, edited.output
    (line,) = [line for line in edited.output.splitlines() if receivable in line]
    assert "receivable" in line and "-950" in line and "-900" in line

    # A posting slipped in (INSERT is allowed) unbalances its entry, its account and CNY.
    _sql(
        db_url,
        "INSERT INTO postings (entry_id, account_id, amount_minor, currency, posted_at) VALUES "
        f"('{sale}', '{receivable}', -7, 'CNY', '2026-11-18 01:00:00')",
    )
    found = runner.invoke(app, ["finance", "check"])
    assert found.exit_code == 1, found.output
    assert "3 differ" in found.output
    (line,) = [line for line in found.output.splitlines() if receivable in line]
    assert "-950" in line and "-907" in line
    assert any(sale in line and "-7" in line for line in found.output.splitlines())
    assert any("CNY" in line and "-7 (must be 0)" in line for line in found.output.splitlines())

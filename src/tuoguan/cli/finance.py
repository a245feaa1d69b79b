"""``tuoguan finance check``: rebuild the ledger's balances from its postings, report differences."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from tuoguan.cli.common import out, run
from tuoguan.config import Settings
from tuoguan.db import Database
from tuoguan.ledger import check as ledger_check

app = typer.Typer(help="Money: the ledger.", no_args_is_help=True)


def _differences(report: ledger_check.CheckReport, shown: int) -> Table:
    table = Table(
        title=f"accounts whose balance differs from their postings ({len(report.differences)})"
    )
    for column in ("account", "kind", "store", "currency", "stored", "postings"):
        table.add_column(column, no_wrap=column in ("account", "kind", "store"))
    for difference in report.differences[:shown]:
        table.add_row(
            difference.account_id,
            difference.kind.value if difference.kind else "no such account",
            difference.store_id or "platform",
            difference.currency,
            "-" if difference.stored is None else str(difference.stored),
            str(difference.ledger),
        )
    if len(report.differences) > shown:
        table.caption = f"{len(report.differences) - shown} more not shown (--show)"
    return table


def _unbalanced(report: ledger_check.CheckReport, shown: int) -> Table:
    table = Table(title=f"entries whose postings do not sum to zero ({len(report.unbalanced)})")
    for column in ("entry", "currency", "sum"):
        table.add_column(column, no_wrap=column == "entry")
    for entry in report.unbalanced[:shown]:
        table.add_row(entry.entry_id, entry.currency, str(entry.total))
    if len(report.unbalanced) > shown:
        table.caption = f"{len(report.unbalanced) - shown} more not shown (--show)"
    return table


def _other(report: ledger_check.CheckReport) -> Table:
    table = Table(title="currencies and accounts that do not add up")
    for column in ("what", "currency", "detail"):
        table.add_column(column)
    for code, total in report.totals.items():
        table.add_row("the ledger's sum", code, f"{total} (must be 0)")
    for foreign in report.foreign:
        table.add_row(
            f"account {foreign.account_id}",
            foreign.currency,
            f"{foreign.rows} postings, but the account keeps {foreign.account_currency}",
        )
    return table


async def _check(settings: Settings) -> tuple[ledger_check.CheckReport, float]:
    async with Database.opened(settings.database_url) as db:
        started = time.perf_counter()
        async with db.read() as session:
            report = await ledger_check.check(session)
        return report, time.perf_counter() - started


@app.command("check")
def check(
    show: Annotated[int, typer.Option(min=0, help="Rows to print at most per table.")] = 50,
) -> None:
    """Sum the postings per account, compare with the stored balances, check that every entry
    and every currency sums to zero; print what differs and exit 1 if anything does."""
    report, seconds = run(_check(Settings()))
    rate = report.postings / seconds if seconds > 0 else 0.0
    problems = len(report.differences) + len(report.unbalanced) + len(report.foreign)
    problems += len(report.totals)
    out.print(
        f"checked {report.accounts:,} accounts against {report.postings:,} postings "
        f"in {seconds:.2f} s ({rate:,.0f} rows/s): "
        + ("every balance, entry and currency adds up" if report.clean else f"{problems} differ")
    )
    if report.clean:
        return
    if report.differences:
        out.print(_differences(report, show))
    if report.unbalanced:
        out.print(_unbalanced(report, show))
    if report.totals or report.foreign:
        out.print(_other(report))
    raise typer.Exit(1)

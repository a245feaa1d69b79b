"""``tuoguan stock check``: rebuild the stock balances from the ledger and report differences (M5)."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from tuoguan.cli.common import cli_principal, out, run
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.inventory import check as stock_check
from tuoguan.inventory.ledger import Bucket, Levels

app = typer.Typer(help="Stock per warehouse and SKU.", no_args_is_help=True)


def _rows(difference: stock_check.Difference) -> list[tuple[str, str, str]]:
    """(bucket, stored, ledger) of each bucket that differs; a missing row reads as zeros."""
    stored = difference.stored or Levels()
    ledger = difference.ledger or Levels()
    rows = [
        (bucket.value, str(getattr(stored, bucket.value)), str(getattr(ledger, bucket.value)))
        for bucket in Bucket
        if getattr(stored, bucket.value) != getattr(ledger, bucket.value)
    ]
    if difference.stored is None:
        rows = [(bucket, "no row", sums) for bucket, _, sums in rows] or [("-", "no row", "0")]
    elif difference.ledger is None and not rows:
        rows = [("-", "0", "no rows")]
    return rows


def _table(differences: list[stock_check.Difference], shown: int) -> Table:
    table = Table(title=f"stock balances that differ from their ledger ({len(differences)})")
    for column in ("warehouse", "SKU", "bucket", "stored", "ledger"):
        table.add_column(column, no_wrap=column in ("warehouse", "SKU"))
    for difference in differences[:shown]:
        for bucket, stored, ledger in _rows(difference):
            table.add_row(difference.warehouse_id, difference.sku_id, bucket, stored, ledger)
    if len(differences) > shown:
        table.caption = f"{len(differences) - shown} more not shown (--show)"
    return table


async def _check(settings: Settings, fix: bool, batch: int) -> tuple[
    stock_check.CheckReport, stock_check.FixReport | None, float
]:
    from tuoguan.sla.timetravel import synced_clock

    async with Database.opened(settings.database_url) as db:
        started = time.perf_counter()
        async with db.read() as session:
            report = await stock_check.check(session, batch=batch)
        seconds = time.perf_counter() - started
        if not fix or not report.differences:
            return report, None, seconds
        clock = await synced_clock(db, settings)
        ctx = Ctx(principal=cli_principal(None), clock=clock, settings=settings)
        async with db.write() as session:
            fixed = await stock_check.fix(session, ctx=ctx, differences=report.differences)
            await session.commit()
        return report, fixed, seconds


@app.command("check")
def check(
    fix: Annotated[
        bool, typer.Option("--fix", help="Rewrite the differing balances from the ledger (audited).")
    ] = False,
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="Balances per GROUP BY.")] = (
        stock_check.BATCH
    ),
    show: Annotated[int, typer.Option(min=0, help="Differences to print at most.")] = 50,
) -> None:
    """Sum the ledger per warehouse and SKU, compare with the stored balances, print the
    differences; exit 1 if any (with --fix: if any could not be rewritten)."""
    report, fixed, seconds = run(_check(Settings(), fix, batch))
    rate = report.moves / seconds if seconds > 0 else 0.0
    out.print(
        f"checked {report.balances:,} balances against {report.moves:,} ledger rows "
        f"in {seconds:.2f} s ({rate:,.0f} rows/s): {len(report.differences)} differ"
    )
    if not report.differences:
        return
    out.print(_table(report.differences, show))
    if fixed is None:
        raise typer.Exit(1)
    out.print(f"rewrote {len(fixed.fixed)} balances from the ledger")
    for (warehouse_id, sku_id), why in fixed.refused:
        out.print(f"[red]not rewritten[/red] {warehouse_id} {sku_id}: {why}", highlight=False)
    if fixed.refused:
        raise typer.Exit(1)

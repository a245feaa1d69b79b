"""``tuoguan export orders``: the order export streamed from the database to a file (O5)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tuoguan.cli.common import cli_principal, fail, out, run
from tuoguan.config import Settings
from tuoguan.db import Database
from tuoguan.exports.schemas import MAX_ROWS
from tuoguan.orders import views
from tuoguan.orders.repository import OrderFilter
from tuoguan.orders.states import OrderStatus

app = typer.Typer(help="Exports, written straight from the database.", no_args_is_help=True)


async def _write(flt: OrderFilter, target: Path) -> int:
    settings = Settings()
    part = target.with_name(target.name + ".part")
    rows = 0
    try:
        async with Database.opened(settings.database_url) as db:
            with part.open("w", encoding="utf-8", newline="") as file:
                async for text, count in views.csv_pages(
                    db.read, principal=cli_principal(None), flt=flt
                ):
                    file.write(text)
                    rows += count
        part.replace(target)
    finally:
        part.unlink(missing_ok=True)
    return rows


@app.command("orders")
def orders(
    out_file: Annotated[Path, typer.Option("--out", help="The CSV file to write.")],
    status: Annotated[list[OrderStatus] | None, typer.Option(help="Only these statuses.")] = None,
    store: Annotated[str | None, typer.Option(help="Only this store's orders.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_ROWS)] = MAX_ROWS,
) -> None:
    """Every order (as an operator), newest first, as CSV: the columns of the API's export."""
    if out_file.is_dir():
        fail(f"--out {out_file} is a folder; name a file")
    flt = OrderFilter(statuses=tuple(status or ()), store_id=store, sort="newest", limit=limit)
    rows = run(_write(flt, out_file))
    out.print(f"wrote {rows} orders to {out_file}")

"""``tuoguan stores list``: sellers and their stores, with the ids other commands take."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from tuoguan.cli.common import in_session, out, run
from tuoguan.stores.models import StoreMode

app = typer.Typer(help="Sellers and their stores.", no_args_is_help=True)

MODE_WORDS = {
    StoreMode.self_run: "self-run",
    StoreMode.semi_managed: "semi-managed",
    StoreMode.full_managed: "full-managed",
}


@app.command("list")
def list_stores(
    mode: Annotated[StoreMode | None, typer.Option(help="Only stores in this mode.")] = None,
) -> None:
    """Every store with its seller and mode, and the ids that `--seller` and the API take."""
    from tuoguan.stores import service as stores

    async def work(session: Any, ctx: Any) -> list[tuple[Any, str]]:
        rows: list[Any] = []
        cursor: str | None = None
        while True:
            page, cursor = await stores.list_stores(
                session, principal=ctx.principal, cursor=cursor, limit=500
            )
            rows.extend(page)
            if not cursor:
                break
        names: dict[str, str] = {}
        for store in rows:
            if store.seller_id not in names:
                seller = await stores.get_seller(
                    session, principal=ctx.principal, seller_id=store.seller_id
                )
                names[store.seller_id] = seller.name
        return [(s, names[s.seller_id]) for s in rows if mode is None or s.mode is mode]

    found = run(in_session(work))
    table = Table(title=f"stores ({len(found)})")
    for column in ("store", "mode", "ships from", "currency", "seller", "store id", "seller id"):
        table.add_column(column, no_wrap=column.endswith("id"))
    for store, seller in sorted(found, key=lambda pair: (pair[1], pair[0].name)):
        table.add_row(
            store.name,
            MODE_WORDS[store.mode],
            store.country,
            store.currency,
            seller,
            store.id,
            store.seller_id,
        )
    out.print(table)

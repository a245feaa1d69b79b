"""``tuoguan inbound labels|stale``: an inbound notice's carton labels, and the stale-inbound
report (R1, R4)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tuoguan.cli.common import fail, in_session, out, run, when
from tuoguan.context import Ctx
from tuoguan.fulfilment import carton_labels, inbound_reads
from tuoguan.fulfilment.inbound_schemas import StaleInboundReport

app = typer.Typer(help="Inbound notices (ASN, 入库单).", no_args_is_help=True)


@app.command("labels")
def labels(
    notice_id: Annotated[str, typer.Argument(help="The inbound notice's id (asn_…).")],
    out_file: Annotated[Path, typer.Option("--out", help="The PDF file to write.")],
    seller: Annotated[
        str | None, typer.Option(help="Act as this seller (default: as an operator).")
    ] = None,
) -> None:
    """Write the carton labels of a notice: a 100 x 150 mm page per carton, with the ASN id's
    barcode and "carton n of N"."""
    if out_file.is_dir():
        fail(f"--out {out_file} is a folder; name a file")

    async def work(session: Any, ctx: Ctx) -> carton_labels.CartonLabels:
        return await carton_labels.label_data(
            session, principal=ctx.principal, notice_id=notice_id, today=ctx.clock.now().date()
        )

    async def render() -> bytes:
        data = await in_session(work, seller=seller)
        return carton_labels.render_pdf(data)

    pdf: bytes = run(render())
    out_file.write_bytes(pdf)
    out.print(f"wrote the carton labels of {notice_id} to {out_file}")


def _groups(report: StaleInboundReport) -> Table:
    table = Table(title=f"in transit over {report.days} days: {report.total} notices")
    for column in ("by", "who", "notices", "oldest shipped"):
        table.add_column(column, no_wrap=True)
    for seller in report.by_seller:
        oldest = when(seller.oldest_shipped_at)
        table.add_row("seller", seller.seller_name, str(seller.notices), oldest)
    for carrier in report.by_carrier:
        oldest = when(carrier.oldest_shipped_at)
        table.add_row("carrier", carrier.carrier_name or "-", str(carrier.notices), oldest)
    return table


def _rows(report: StaleInboundReport) -> Table:
    names = {s.seller_id: s.seller_name for s in report.by_seller}
    table = Table(title="oldest first")
    for column in ("notice", "seller", "carrier", "tracking", "shipped", "days"):
        table.add_column(column, no_wrap=True)
    for row in report.rows:
        table.add_row(
            row.id,
            names.get(row.seller_id, row.seller_id),
            row.carrier_name or "-",
            row.tracking_number or "-",
            when(row.shipped_at),
            str(row.days_in_transit),
        )
    if report.next_cursor:
        table.caption = f"more than {len(report.rows)} (--limit)"
    return table


@app.command("stale")
def stale(
    days: Annotated[int, typer.Option(min=1, max=365, help="In transit longer than this.")] = 7,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Notices to list at most.")] = 50,
) -> None:
    """Inbound shipped more than DAYS ago and not arrived, by seller and by carrier, and the
    notices, oldest first (as an operator; R4)."""

    async def work(session: Any, ctx: Ctx) -> StaleInboundReport:
        return await inbound_reads.stale_inbound(
            session, principal=ctx.principal, now=ctx.clock.now(), days=days, limit=limit
        )

    report: StaleInboundReport = run(in_session(work))
    out.print(_groups(report))
    if report.rows:
        out.print(_rows(report))

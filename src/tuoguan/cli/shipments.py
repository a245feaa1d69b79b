"""``tuoguan shipping`` commands for a parcel once an order ships with a service: book it, print
its labels, hand it over, cancel it and follow its tracking (F8-F10)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from tuoguan.cli.common import fail, in_session, out, run
from tuoguan.kit.money import format_minor

# Merged into ``tuoguan shipping`` (cli/shipping.py adds it without a name of its own).
app = typer.Typer()
SellerOpt = Annotated[
    str | None, typer.Option("--seller", help="Act as this seller (default: the operator).")
]


def _show(shipment: Any) -> None:
    out.print(
        f"{shipment.id} {shipment.status.value}"
        f" · {shipment.carrier_code} {shipment.tracking_number} · {shipment.service_code}"
        f" · quote {format_minor(shipment.quote_total_minor, shipment.currency)}",
        highlight=False,
    )


@app.command("ship")
def ship(
    order_id: Annotated[str, typer.Argument(help="The order's id.")],
    service: Annotated[str, typer.Option(help="The logistics service's code.")],
    insure: Annotated[bool, typer.Option(help="Insure the parcel (G3).")] = False,
    seller: SellerOpt = None,
) -> None:
    """Book the order's parcel with a service; the carrier assigns the tracking number (F8 step 3)."""
    from tuoguan.shipping import shipments
    from tuoguan.shipping.shipment_schemas import ShipmentCreate

    data = ShipmentCreate(service_code=service, insure=insure)
    _show(
        run(
            in_session(
                lambda s, ctx: shipments.create(s, ctx=ctx, order_id=order_id, data=data),
                write=True,
                seller=seller,
            )
        )
    )


@app.command("label")
def label(
    shipment_ids: Annotated[list[str], typer.Argument(help="One or more shipment ids.")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the PDF (or ZPL).")],
    zpl: Annotated[bool, typer.Option(help="ZPL for thermal printers instead of PDF.")] = False,
    seller: SellerOpt = None,
) -> None:
    """Write labels, many shipments as one PDF for batch printing (F8 step 3)."""
    from rich.progress import track

    from tuoguan.shipping import labels, printing

    batch = run(
        in_session(
            lambda s, ctx: printing.label_batch(
                s, ctx=ctx, shipment_ids=list(shipment_ids), fmt="ZPL" if zpl else "PDF"
            ),
            seller=seller,
        )
    )
    if zpl:
        text = "".join(labels.render_zpl(item) for item in track(batch, description="ZPL"))
        out_file.write_text(text, encoding="utf-8")
    else:
        out_file.write_bytes(labels.render_pdf(track(batch, description="labels")))
    out.print(f"{len(batch)} label(s) -> {out_file}")


def _step(shipment_id: str, action: Any, body: Any, seller: str | None) -> None:
    from tuoguan.shipping import shipments

    _show(
        run(
            in_session(
                lambda s, ctx: shipments.act(
                    s, ctx=ctx, shipment_id=shipment_id, action=action, body=body
                ),
                write=True,
                seller=seller,
            )
        )
    )


@app.command("submit")
def submit(shipment_id: str, seller: SellerOpt = None) -> None:
    """Send the shipping info to the carrier; the order is shipped (F8 step 4)."""
    from tuoguan.shipping.states import ShipmentAction

    _step(shipment_id, ShipmentAction.submit, None, seller)


@app.command("pickup")
def pickup(
    shipment_id: str,
    window_from: Annotated[str, typer.Option("--from", help="ISO 8601 with offset.")],
    window_until: Annotated[str, typer.Option("--until", help="ISO 8601 with offset.")],
    place: Annotated[str, typer.Option(help="Where the carrier collects.")],
    seller: SellerOpt = None,
) -> None:
    """Book the carrier's pickup (F8 step 5)."""
    from tuoguan.shipping.shipment_schemas import PickupCreate
    from tuoguan.shipping.states import ShipmentAction

    try:
        body = PickupCreate.model_validate(
            {"window_from": window_from, "window_until": window_until, "place": place}
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"{first['loc'][0]}: {first['msg']}")
    _step(shipment_id, ShipmentAction.schedule_pickup, body, seller)


@app.command("self-drop")
def self_drop(shipment_id: str, seller: SellerOpt = None) -> None:
    """Say the seller drops the parcel at the carrier itself, within 48 hours (F4)."""
    from tuoguan.shipping.states import ShipmentAction

    _step(shipment_id, ShipmentAction.self_drop, None, seller)


@app.command("cancel")
def cancel(
    shipment_id: str,
    reason: Annotated[
        str, typer.Option(help="wrong_product_info, buyer_cancelled, return or logistics_problem.")
    ],
    note: Annotated[str | None, typer.Option(help="Anything the carrier should know.")] = None,
    seller: SellerOpt = None,
) -> None:
    """Ask the carrier to cancel; the shipment waits for its answer (F10)."""
    from tuoguan.shipping.shipment_schemas import CancelReason, ShipmentCancel
    from tuoguan.shipping.states import ShipmentAction

    if reason not in {r.value for r in CancelReason}:
        fail(f"--reason is one of {', '.join(r.value for r in CancelReason)}")
    _step(
        shipment_id,
        ShipmentAction.cancel,
        ShipmentCancel(reason=CancelReason(reason), note=note),
        seller,
    )


@app.command("track")
def track_cmd(shipment_id: str, seller: SellerOpt = None) -> None:
    """Ask the carrier for news, then show the parcel's tracking history (F9)."""
    from tuoguan.shipping import shipments, tracking

    async def work(session: Any, ctx: Any) -> Any:
        found = await shipments.get_shipment(
            session, principal=ctx.principal, shipment_id=shipment_id
        )
        await tracking.refresh(session, ctx=ctx, shipment=found)
        return found, await tracking.events(session, shipment_id)

    shipment, events = run(in_session(work, write=True, seller=seller))
    _show(shipment)
    table = Table(title=f"tracking {shipment.tracking_number}")
    for column in ("when (UTC)", "event", "where", "detail"):
        table.add_column(column)
    for event in events:
        table.add_row(
            event.occurred_at.strftime("%Y-%m-%d %H:%M"),
            event.code,
            event.location or "",
            event.detail or "",
        )
    out.print(table)

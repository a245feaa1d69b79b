"""``tuoguan shipping``: services, rate cards, route rules and an order's options (F5, F8, G1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from tuoguan.cli.common import fail, in_session, out, run
from tuoguan.kit.money import format_minor

app = typer.Typer(
    help="Logistics services, route rules, quotes and shipments.", no_args_is_help=True
)
SellerOpt = Annotated[
    str | None, typer.Option("--seller", help="Act as this seller (default: the operator).")
]


def _json_file(path: Path, model: Any) -> Any:
    """Read and validate a JSON document; a bad one is a one-line error."""
    try:
        validate = getattr(model, "model_validate", None) or model.validate_python
        return validate(json.loads(path.read_text()))
    except (OSError, json.JSONDecodeError) as exc:
        fail(f"cannot read {path}: {exc}")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        fail(f"{path}: {where}: {first['msg']}")


@app.command("services")
def services() -> None:
    """Every logistics service with its limits."""
    from tuoguan.shipping import service as shipping

    rows = run(in_session(lambda s, ctx: shipping.list_services(s, principal=ctx.principal)))
    table = Table(title=f"logistics services ({len(rows)})")
    for column in (
        "code",
        "name",
        "carrier",
        "kind",
        "from",
        "max g",
        "sides mm",
        "vol.",
        "active",
    ):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row.code,
            row.name,
            row.carrier_code,
            row.kind.value,
            ",".join(row.origin_countries),
            str(row.max_weight_g),
            f"{row.max_longest_side_mm}/{row.max_sum_sides_mm}",
            str(row.volumetric_divisor or "-"),
            "yes" if row.active else "no",
        )
    out.print(table)


@app.command("rate-check")
def rate_check(order_id: Annotated[str, typer.Argument(help="The order to price.")]) -> None:
    """G1: each service's quote beside the carrier's own price for an order (operators)."""
    from tuoguan.shipping import ratecheck

    checks = run(in_session(lambda s, ctx: ratecheck.rate_check(s, ctx=ctx, order_id=order_id)))
    table = Table(title=f"rate check for {order_id}")
    for column in ("service", "carrier", "our quote", "carrier's price", "difference", "days"):
        table.add_column(column)
    for c in checks:
        theirs = (
            format_minor(c.carrier_minor, c.carrier_currency)
            if c.carrier_minor is not None and c.carrier_currency
            else f"[red]{c.error}[/red]"
        )
        gap = c.difference_minor
        table.add_row(
            c.service_code,
            c.carrier_code,
            format_minor(c.quote_minor, c.currency),
            theirs,
            "-" if gap is None else ("match" if gap == 0 else format_minor(gap, c.currency)),
            f"{c.transit_max_days} / {c.carrier_transit_days or '-'}",
        )
    out.print(table)


@app.command("carriers")
def carriers() -> None:
    """Every carrier account: its adapter and how its events arrive (operators)."""
    from tuoguan.config import Settings
    from tuoguan.shipping import service as shipping
    from tuoguan.shipping.carriers import PUSHING

    rows = run(
        in_session(lambda s, ctx: shipping.list_carrier_accounts(s, principal=ctx.principal))
    )
    every = Settings().carrier_poll_minutes
    table = Table(title=f"carrier accounts ({len(rows)})")
    for column in ("code", "name", "adapter", "events", "active"):
        table.add_column(column)
    for row in rows:
        adapter = f"karrio:{row.carrier}" if row.carrier else row.adapter
        events = "pushed" if row.adapter in PUSHING else f"polled every {every} min"
        table.add_row(row.code, row.name, adapter, events, "yes" if row.active else "no")
    out.print(table)


@app.command("carrier-add")
def carrier_add(
    file: Annotated[
        Path,
        typer.Option("--file", help="JSON: code, name, adapter and its settings (kept secret)."),
    ],
) -> None:
    """Register a carrier account, e.g. a real carrier through karrio (operators)."""
    from pydantic import TypeAdapter

    from tuoguan.shipping import service as shipping
    from tuoguan.shipping.schemas import CarrierAccountCreate

    data = _json_file(file, TypeAdapter(CarrierAccountCreate))
    account = run(
        in_session(
            lambda s, ctx: shipping.create_carrier_account(s, ctx=ctx, data=data), write=True
        )
    )
    out.print(f"carrier account {account.code} ({account.adapter}) registered")


@app.command("rate-card")
def rate_card(
    service: Annotated[str, typer.Argument(help="The service's code.")],
    file: Annotated[Path, typer.Option("--file", help="JSON: currency, card, effective_from?")],
) -> None:
    """Add the next version of a service's prices (operators)."""
    from tuoguan.shipping import service as shipping
    from tuoguan.shipping.schemas import RateCardCreate

    data = _json_file(file, RateCardCreate)
    card = run(
        in_session(
            lambda s, ctx: shipping.add_rate_card(s, ctx=ctx, code=service, data=data), write=True
        )
    )
    out.print(f"{card.id}: {service} {card.currency} v{card.version} from {card.effective_from}")


@app.command("rules")
def rules() -> None:
    """The route rules in evaluation order (F5): the first that applies decides."""
    from tuoguan.shipping import service as shipping

    rows = run(in_session(lambda s, ctx: shipping.list_rules(s, principal=ctx.principal)))
    table = Table(title=f"route rules ({len(rows)})")
    for column in ("#", "id", "name", "effect", "conditions"):
        table.add_column(column)
    for row in rows:
        given = {k: v for k, v in row.conditions.items() if v not in (None, [])}
        table.add_row(
            str(row.position),
            row.id,
            row.name,
            row.effect.value,
            json.dumps(given, ensure_ascii=False),
        )
    out.print(table)


@app.command("rule-add")
def rule_add(
    file: Annotated[Path, typer.Option("--file", help="JSON: position, name, effect, conditions.")],
) -> None:
    """Add a route rule (F5, operators)."""
    from tuoguan.shipping import service as shipping
    from tuoguan.shipping.schemas import RouteRuleWrite

    data = _json_file(file, RouteRuleWrite)
    rule = run(in_session(lambda s, ctx: shipping.create_rule(s, ctx=ctx, data=data), write=True))
    out.print(f"{rule.id}: #{rule.position} {rule.effect.value} '{rule.name}'")


@app.command("rule-delete")
def rule_delete(rule_id: Annotated[str, typer.Argument(help="The rule's id.")]) -> None:
    """Retire a route rule (F5, operators)."""
    from tuoguan.shipping import service as shipping

    run(
        in_session(
            lambda s, ctx: shipping.delete_rule(s, ctx=ctx, rule_id=rule_id, expected_version=None),
            write=True,
        )
    )
    out.print(f"{rule_id}: retired")


@app.command("options")
def options(
    order_id: Annotated[str, typer.Argument(help="The order's id.")],
    weight_g: Annotated[int | None, typer.Option(min=1, help="Measured weight.")] = None,
    size: Annotated[
        str | None, typer.Option(help="Measured sides in mm, LxWxH, e.g. 200x150x100.")
    ] = None,
    insure: Annotated[bool, typer.Option(help="Quote with insurance (G3).")] = False,
    seller: SellerOpt = None,
) -> None:
    """F8 step 2: the services allowed for an order, itemized, and why the others are not."""
    from tuoguan.shipping import quotes
    from tuoguan.shipping.schemas import ParcelIn

    measured = None
    if weight_g is not None or size is not None:
        sides = (size or "").lower().split("x")
        if weight_g is None or len(sides) != 3 or not all(s.isdigit() for s in sides):
            fail("a measured parcel needs --weight-g and --size LxWxH in mm")
        try:
            measured = ParcelIn(
                weight_g=weight_g,
                length_mm=int(sides[0]),
                width_mm=int(sides[1]),
                height_mm=int(sides[2]),
            )
        except ValidationError as exc:
            fail(f"parcel: {exc.errors()[0]['msg']}")
    found = run(
        in_session(
            lambda s, ctx: quotes.shipping_options(
                s, ctx=ctx, order_id=order_id, measured=measured, insure=insure
            ),
            seller=seller,
        )
    )
    p = found.parcel
    out.print(
        f"parcel {p.weight_g} g, {p.length_mm}x{p.width_mm}x{p.height_mm} mm, "
        f"declared {format_minor(p.declared_value_minor, p.currency)}"
        f"{' (estimated from the products)' if p.estimated else ''}",
        highlight=False,
    )
    table = Table(title=f"shipping options for {order_id}")
    for column in ("service", "total", "transit", "lines / why not"):
        table.add_column(column)
    for option in found.options:
        if option.quote is None:
            why = "\n".join(f"✗ {r.rule}: {r.detail}" for r in option.refusals)
            table.add_row(option.service_code, "-", "-", why)
            continue
        q = option.quote
        lines = "\n".join(f"{x.code} {format_minor(x.amount_minor, q.currency)}" for x in q.lines)
        table.add_row(
            option.service_code,
            format_minor(q.total_minor, q.currency),
            f"{q.transit_min_days}-{q.transit_max_days} d ({q.region})",
            lines,
        )
    out.print(table)


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
    """F8 step 3: book the order's parcel with a service; the carrier assigns the tracking number."""
    from tuoguan.shipping import shipments
    from tuoguan.shipping.schemas import ShipmentCreate

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
    """F8 step 3: write labels, many shipments as one PDF for batch printing."""
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
    """F8 step 4: send the shipping info to the carrier; the order is shipped."""
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
    """F8 step 5: book the carrier's pickup."""
    from tuoguan.shipping.schemas import PickupCreate
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
    """F4: the seller drops the parcel at the carrier within 48 hours."""
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
    """F10: ask the carrier to cancel; the shipment waits for its answer."""
    from tuoguan.shipping.schemas import CancelReason, ShipmentCancel
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
    """F9: poll the carrier, then show the parcel's tracking history."""
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


def serve_sandbox(code: str, seed: int) -> None:
    """Run the sandbox carrier for the carrier account ``code`` (its URL, key and secret)."""
    from urllib.parse import urlsplit

    import uvicorn

    from tuoguan.config import Settings
    from tuoguan.db import Database
    from tuoguan.shipping import service as shipping
    from tuoguan.shipping.carriers.sandbox_server import Sandbox, create_sandbox_app
    from tuoguan.sla import timetravel

    settings = Settings()

    async def account() -> Any:
        async with Database.opened(settings.database_url) as db, db.read() as session:
            return await shipping.carrier_account(session, code)

    found = run(account())
    where = urlsplit(found.base_url)
    clock = timetravel.default_clock(settings)
    push = f"http://{settings.host}:{settings.port}/api/v1/carriers/{code}/events"
    sandbox = Sandbox(
        clock, api_key=found.api_key, secret=found.webhook_secret, push_url=push, seed=seed
    )

    async def follow_clock() -> None:
        # The demo's time travel moves the carrier's parcels too.
        async with Database.opened(settings.database_url) as db:
            await timetravel.sync(db, clock, settings)

    app_ = create_sandbox_app(sandbox, auto_tick_seconds=1.0, before_tick=follow_clock)
    out.print(f"sandbox carrier '{code}' on {found.base_url}, pushing to {push}")
    uvicorn.run(
        app_, host=where.hostname or "127.0.0.1", port=where.port or 80, log_level="warning"
    )

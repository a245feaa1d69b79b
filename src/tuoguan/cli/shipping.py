"""``tuoguan shipping``: services, carriers, rate cards, route rules and an order's options (F5, F8,
G1); a shipment's own commands are in ``cli/shipments.py``."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from tuoguan.cli import shipments as shipments_cli
from tuoguan.cli.common import fail, in_session, out, run
from tuoguan.cli.shipments import SellerOpt
from tuoguan.errors import DomainError
from tuoguan.kit.money import format_minor

app = typer.Typer(
    help="Logistics services, route rules, quotes and shipments.", no_args_is_help=True
)
# A shipment's commands (ship, label, submit, ... track) live in cli/shipments.py, listed after
# these under the same ``tuoguan shipping``.
app.add_typer(shipments_cli.app)


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
            row.kind.value.replace("_", " "),
            ",".join(row.origin_countries),
            str(row.max_weight_g),
            f"{row.max_longest_side_mm}/{row.max_sum_sides_mm}",
            str(row.volumetric_divisor or "-"),
            "yes" if row.active else "no",
        )
    out.print(table)


@app.command("rate-check")
def rate_check(order_id: Annotated[str, typer.Argument(help="The order to price.")]) -> None:
    """Each service's quote beside the carrier's own price for an order (operators; G1)."""
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


def _grams(grams: int) -> str:
    if grams < 1000:
        return f"{grams} g"
    return f"{grams / 1000:g} kg"


def _bounds(low: str | None, high: str | None) -> str:
    """A half-open range [low, high) in words."""
    if low and high:
        return f"{low} to under {high}"
    return f"≥ {low}" if low else f"< {high}"


def _listed(what: str, items: list[str]) -> str:
    """A list condition holds for any of its items: "service A or B"."""
    return (
        f"{what} {' or '.join(items)}"
        if len(items) < 3
        else f"{what} {', '.join(items[:-1])} or {items[-1]}"
    )


def describe_conditions(conditions: Any, store_names: dict[str, str]) -> str:
    """A rule's conditions as words, e.g. "destination US, weight < 2 kg, value ≥ $50.00"."""
    c = conditions
    words: list[str] = []
    if c.services:
        words.append(_listed("service", c.services))
    if c.store_ids:
        words.append(_listed("store", [store_names.get(i, i) for i in c.store_ids]))
    if c.countries:
        words.append(_listed("destination", c.countries))
    if c.categories:
        words.append(_listed("category", c.categories))
    if c.min_weight_g is not None or c.max_weight_g is not None:
        low = _grams(c.min_weight_g) if c.min_weight_g is not None else None
        high = _grams(c.max_weight_g) if c.max_weight_g is not None else None
        words.append(f"weight {_bounds(low, high)}")
    if c.value_currency:
        if c.min_value_minor is None and c.max_value_minor is None:
            words.append(f"value declared in {c.value_currency}")
        else:
            low = (
                format_minor(c.min_value_minor, c.value_currency)
                if c.min_value_minor is not None
                else None
            )
            high = (
                format_minor(c.max_value_minor, c.value_currency)
                if c.max_value_minor is not None
                else None
            )
            words.append(f"value {_bounds(low, high)}")
    return ", ".join(words) or "every parcel"


@app.command("rules")
def rules() -> None:
    """The route rules in the order they are tried: the first that applies decides (F5)."""
    from tuoguan.shipping import service as shipping
    from tuoguan.stores import service as stores

    async def work(session: Any, ctx: Any) -> tuple[list[Any], dict[str, str]]:
        rows = [row.rule() for row in await shipping.list_rules(session, principal=ctx.principal)]
        names: dict[str, str] = {}
        for store_id in {i for row in rows for i in row.conditions.store_ids}:
            with contextlib.suppress(DomainError):  # a store gone since: its id is all there is
                store = await stores.get_store(session, principal=ctx.principal, store_id=store_id)
                names[store_id] = store.name
        return rows, names

    rows, names = run(in_session(work))
    table = Table(title=f"route rules ({len(rows)})")
    for column in ("#", "name", "effect", "applies to", "id"):
        table.add_column(column, no_wrap=column == "id")
    for row in rows:
        table.add_row(
            str(row.position),
            row.name,
            row.effect.value,
            describe_conditions(row.conditions, names),
            row.id,
        )
    out.print(table)


@app.command("rule-add")
def rule_add(
    file: Annotated[Path, typer.Option("--file", help="JSON: position, name, effect, conditions.")],
) -> None:
    """Add a route rule (operators; F5)."""
    from tuoguan.shipping import service as shipping
    from tuoguan.shipping.schemas import RouteRuleWrite

    data = _json_file(file, RouteRuleWrite)
    rule = run(in_session(lambda s, ctx: shipping.create_rule(s, ctx=ctx, data=data), write=True))
    out.print(f"{rule.id}: #{rule.position} {rule.effect.value} '{rule.name}'")


@app.command("rule-delete")
def rule_delete(
    rule_id: Annotated[str, typer.Argument(help="The rule's id, as `shipping rules` shows it.")],
) -> None:
    """Retire a route rule (operators; F5)."""
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
    """The services allowed for an order, itemized, and why the others are not (F8 step 2)."""
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
            why = "\n".join(f"✗ {r.rule.replace('_', ' ')}: {r.detail}" for r in option.refusals)
            table.add_row(option.service_code, "-", "-", why)
            continue
        q = option.quote
        lines = "\n".join(
            f"{x.code.replace('_', ' ')} {format_minor(x.amount_minor, q.currency)}"
            for x in q.lines
        )
        table.add_row(
            option.service_code,
            format_minor(q.total_minor, q.currency),
            f"{q.transit_min_days}-{q.transit_max_days} d ({q.region})",
            lines,
        )
    out.print(table)


def serve_sandbox(
    code: str, seed: int, *, host: str | None, port: int | None, push_to: str | None
) -> None:
    """Run the sandbox carrier for the carrier account ``code`` (its key and secret), on the
    address of ``TUOGUAN_SANDBOX_CARRIER_URL`` unless ``host`` or ``port`` say otherwise."""
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
    configured = urlsplit(settings.sandbox_carrier_url)
    host = host or configured.hostname or "127.0.0.1"
    port = port or configured.port or 80
    registered = urlsplit(found.base_url)
    if registered.port is not None and registered.port != port:
        # tuoguan calls the carrier where its account says; a sandbox elsewhere is never reached.
        fail(
            f"the carrier account {code} calls {found.base_url}, not port {port}: start the "
            f"sandbox with --port {registered.port}, or load the demo into a new database with "
            f"TUOGUAN_SANDBOX_CARRIER_URL set"
        )
    server = f"{settings.host}:{settings.port}"
    if settings.host in ("0.0.0.0", "::"):  # noqa: S104 - where serve listens, not where to call
        server = f"127.0.0.1:{settings.port}"
    push = f"{(push_to or f'http://{server}').rstrip('/')}/api/v1/carriers/{code}/events"
    clock = timetravel.default_clock(settings)
    sandbox = Sandbox(
        clock, api_key=found.api_key, secret=found.webhook_secret, push_url=push, seed=seed
    )

    async def follow_clock() -> None:
        # The demo's time travel moves the carrier's parcels too.
        async with Database.opened(settings.database_url) as db:
            await timetravel.sync(db, clock, settings)

    app_ = create_sandbox_app(sandbox, auto_tick_seconds=1.0, before_tick=follow_clock)
    out.print(f"sandbox carrier '{code}' on http://{host}:{port}, pushing to {push}")
    uvicorn.run(app_, host=host, port=port, log_level="warning")

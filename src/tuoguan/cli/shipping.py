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
        return model.model_validate(json.loads(path.read_text()))
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

"""``tuoguan sla deadline KIND``: answer a deadline question without an order (SPEC F1, F2, F4, O2)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from tuoguan.errors import DomainError
from tuoguan.timing import deadlines
from tuoguan.timing.calendar import calendar_for, has_public_holidays
from tuoguan.timing.places import check_country, check_timezone, country_timezone

app = typer.Typer(help="Deadlines and business calendars.", no_args_is_help=True)
deadline_app = typer.Typer(
    help="Compute one deadline, as the system does for an order.", no_args_is_help=True
)
app.add_typer(deadline_app, name="deadline")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print a JSON object for machines.")]


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _aware(value: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        _fail(f"{option} {value!r} is not an ISO 8601 date-time")
    if parsed.tzinfo is None:
        _fail(f"{option} {value!r} needs a UTC offset, e.g. 2026-02-13T16:00+08:00")
    return parsed


def _place(country: str, timezone: str | None) -> tuple[str, ZoneInfo]:
    try:
        code = check_country(country, field="--country")
        zone = (
            ZoneInfo(check_timezone(timezone, field="--timezone"))
            if timezone
            else country_timezone(code)
        )
    except DomainError as exc:
        _fail(exc.detail)
    return code, zone


def _emit(kind: str, rule: str, result: datetime | date, as_json: bool, **facts: Any) -> None:
    text = result.isoformat()
    if as_json:
        payload = {"kind": kind, "rule": rule, "deadline": text, **facts}
        typer.echo(json.dumps(payload, ensure_ascii=False, default=str))
    else:
        typer.echo(text)


def _calendar_note(country: str) -> str:
    return (
        "public holidays and make-up working days"
        if has_public_holidays(country)
        else "weekends only"
    )


@deadline_app.command("ship")
def ship(
    placed_at: Annotated[
        str, typer.Option(help="When the order was placed, ISO 8601 with offset.")
    ],
    promise: Annotated[int, typer.Option(help="The store's promise: 1 or 2 business days.")],
    country: Annotated[str, typer.Option(help="Country of the warehouse or seller (ISO 3166).")],
    timezone: Annotated[str | None, typer.Option(help="IANA zone; default: the country's.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Ship-by: the end of the Nth business day after the local day the order was placed (F1)."""
    if promise not in deadlines.SHIP_PROMISES:
        _fail(f"--promise is 1 or 2 business days (F1), not {promise}")
    placed = _aware(placed_at, "--placed-at")
    code, zone = _place(country, timezone)
    result = deadlines.ship_by(placed, promise, zone, calendar_for(code))
    _emit(
        "ship_by",
        "F1",
        result,
        as_json,
        timezone=zone.key,
        country=code,
        promise_business_days=promise,
        calendar=_calendar_note(code),
    )


@deadline_app.command("confirm")
def confirm(
    placed_at: Annotated[
        str, typer.Option(help="When the order was placed, ISO 8601 with offset.")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Confirm-by: a full-managed order is confirmed within 24 natural hours (O2)."""
    placed = _aware(placed_at, "--placed-at")
    _emit("confirm_by", "O2", deadlines.confirm_by(placed), as_json, natural_hours=24)


@deadline_app.command("pickup-day")
def pickup_day(
    scanned_at: Annotated[
        str, typer.Option(help="The carrier's pickup scan, ISO 8601 with offset.")
    ],
    country: Annotated[str, typer.Option(help="Country of the warehouse (ISO 3166).")],
    timezone: Annotated[str | None, typer.Option(help="IANA zone; default: the country's.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The business day a pickup counts as shipped (before 15:00 local: that day; F4)."""
    scanned = _aware(scanned_at, "--scanned-at")
    code, zone = _place(country, timezone)
    result = deadlines.pickup_day(scanned, zone, calendar_for(code))
    _emit(
        "pickup_day",
        "F4",
        result,
        as_json,
        timezone=zone.key,
        country=code,
        cutoff=deadlines.PICKUP_CUTOFF.isoformat(timespec="minutes"),
    )


@deadline_app.command("self-drop")
def self_drop(
    label_created_at: Annotated[
        str, typer.Option(help="When the label was created, ISO 8601 with offset.")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Self-drop: the parcel is scanned in within 48 natural hours of its label (F4)."""
    created = _aware(label_created_at, "--label-created-at")
    _emit("self_drop_by", "F4", deadlines.self_drop_by(created), as_json, natural_hours=48)


@deadline_app.command("deliver")
def deliver(
    ship_by: Annotated[
        str, typer.Option(help="The ship-by deadline (or date), local to the sender.")
    ],
    transit_days: Annotated[
        int, typer.Option(help="Transit business days of the lane.", min=1, max=60)
    ],
    destination: Annotated[str, typer.Option(help="Destination country (ISO 3166).")],
    as_json: JsonFlag = False,
) -> None:
    """Deliver-by: the end of the day, destination-local, N transit business days after the
    ship-by day (F2)."""
    try:
        ship_day = date.fromisoformat(ship_by)
    except ValueError:
        ship_day = _aware(ship_by, "--ship-by").date()
    code, zone = _place(destination, None)
    result = deadlines.deliver_by(ship_day, transit_days, zone, calendar_for(code))
    _emit(
        "deliver_by",
        "F2",
        result,
        as_json,
        timezone=zone.key,
        destination=code,
        transit_business_days=transit_days,
        calendar=_calendar_note(code),
    )


@deadline_app.command("audit-stage")
def audit_stage(
    entered_at: Annotated[str, typer.Option(help="When the stage began, ISO 8601 with offset.")],
    stage: Annotated[str, typer.Option(help="onboarding, listing or review.")],
    country: Annotated[str, typer.Option(help="The platform's country (ISO 3166).")] = "CN",
    as_json: JsonFlag = False,
) -> None:
    """When a stay in an audit stage exceeds its typical duration and is flagged (S2)."""
    if stage not in deadlines.AUDIT_STAGE_DAYS:
        _fail(f"--stage is one of {', '.join(deadlines.AUDIT_STAGE_DAYS)}, not {stage!r}")
    entered = _aware(entered_at, "--entered-at")
    code, zone = _place(country, None)
    result = deadlines.audit_stuck_after(entered, stage, zone, calendar_for(code))
    _emit(
        "audit_stuck_after",
        "S2",
        result,
        as_json,
        stage=stage,
        typical_business_days=deadlines.AUDIT_STAGE_DAYS[stage],
        timezone=zone.key,
    )


@deadline_app.command("dispute")
def dispute(
    opened_at: Annotated[str, typer.Option(help="When the dispute opened, ISO 8601 with offset.")],
    as_json: JsonFlag = False,
) -> None:
    """The target for deciding a dispute, 3 natural days after it opened (G4)."""
    opened = _aware(opened_at, "--opened-at")
    _emit("dispute_resolve_by", "G4", deadlines.dispute_resolve_by(opened), as_json, natural_days=3)


@deadline_app.command("refund")
def refund(
    sent_at: Annotated[str, typer.Option(help="When the refund was sent, ISO 8601 with offset.")],
    country: Annotated[str, typer.Option(help="The payout account's country (ISO 3166).")],
    as_json: JsonFlag = False,
) -> None:
    """When a deposit refund arrives: 3-5 business days; prints the latest arrival (S3)."""
    sent = _aware(sent_at, "--sent-at")
    code, zone = _place(country, None)
    earliest, latest = deadlines.refund_arrival(sent, zone, calendar_for(code))
    _emit(
        "refund_arrives_by",
        "S3",
        latest,
        as_json,
        earliest=earliest.isoformat(),
        timezone=zone.key,
        calendar=_calendar_note(code),
    )


__all__ = ["app"]


@app.command("explain")
def explain_order(order_id: Annotated[str, typer.Argument(help="The order's id.")]) -> None:
    """How each deadline of an order was computed: rule, zone, days counted and skipped."""
    from tuoguan.cli.common import out, run
    from tuoguan.config import Settings
    from tuoguan.context import Ctx
    from tuoguan.db import Database
    from tuoguan.orders import service as orders
    from tuoguan.principal import Principal, Role
    from tuoguan.sla.timetravel import synced_clock

    settings = Settings()

    async def main() -> list[Any]:
        async with Database.opened(settings.database_url) as db, db.read() as session:
            principal = Principal(role=Role.operator, actor_id="cli")
            ctx = Ctx(
                principal=principal, clock=await synced_clock(db, settings), settings=settings
            )
            return await orders.explain_deadlines(session, ctx=ctx, order_id=order_id)

    for item in run(main()):
        at = item.at.isoformat() if item.at else "-"
        out.print(f"[bold]{item.kind}[/bold] ({item.rule}) = {at}", highlight=False)
        for step in item.steps:
            out.print(f"  · {step}", highlight=False)


@app.command("evaluate")
def evaluate(
    orders: Annotated[int, typer.Option(help="Simulated orders.", min=100, max=2_000_000)] = 20_000,
    sellers: Annotated[int, typer.Option(help="Simulated sellers.", min=1, max=10_000)] = 40,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed, the same history.")] = 7,
    as_json: JsonFlag = False,
) -> None:
    """Precision, recall and lead time of the early warnings on a simulated history (G5)."""
    from rich.table import Table

    from tuoguan.cli.common import out
    from tuoguan.timing.evaluate import simulate

    with out.status(f"simulating {orders} orders"):
        result = simulate(orders=orders, sellers=sellers, seed=seed)
    rows = [score.as_dict() for score in result.scores]
    if as_json:
        payload = {"orders": result.orders, "late": result.late, "rules": rows}
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    table = Table(title=f"{result.orders} orders, {result.late} shipped late")
    for column in ("rule", "precision", "recall", "median_lead_hours", "warnings", "misses"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            *(
                str(row[c])
                for c in ("rule", "precision", "recall", "median_lead_hours", "warnings", "misses")
            )
        )
    out.print(table)


@app.command("rebuild-pace")
def rebuild_pace() -> None:
    """Recount the sellers' pace and the lanes' lateness from the orders (after a bulk load or
    a repair); the early warnings read these aggregates (G5)."""
    from tuoguan.cli.common import in_session, out, run
    from tuoguan.orders import deadlines as order_deadlines

    async def work(session: Any, ctx: Any) -> int:
        return await order_deadlines.rebuild_pace(session, now=ctx.clock.now())

    rows = run(in_session(work, write=True))
    out.print(f"pace aggregates rebuilt: {rows} rows", highlight=False)

"""``tuoguan cases queue`` and ``tuoguan cases report``: the operators' case queue (R3, G4),
working cases first with the nearest deadline first, and the exception-rate and dispute-time
reports (R4, G4) in a terminal."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from tuoguan.cli.common import in_session, out, run, when

app = typer.Typer(
    help="Receiving exceptions, disputes and returns (收货异常、纠纷与售后).", no_args_is_help=True
)

KIND_WORDS = {
    "receiving_exception": "receiving exception",
    "dispute": "buyer dispute",
    "after_sale": "after-sales return",
}
KINDS_HELP = "receiving_exception, dispute or after_sale"


def _words(value: str) -> str:
    return value.replace("_", " ")


@app.command("queue")
def queue(
    kind: Annotated[
        str | None,
        typer.Option(help=f"{KINDS_HELP} (every kind by default)."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="At most this many.")] = 50,
) -> None:
    """The cases, working ones first with the nearest deadline first, then decided, then
    closed; with the ids the API and the console take."""
    from tuoguan.cases import reads
    from tuoguan.cases.kinds import CaseKind
    from tuoguan.stores.models import Store

    try:
        chosen = CaseKind(kind) if kind else None
    except ValueError:
        raise typer.BadParameter(KINDS_HELP, param_hint="--kind") from None

    async def work(session: Any, ctx: Any) -> list[tuple[Any, str]]:
        rows, _ = await reads.queue(
            session, principal=ctx.principal, kind=chosen, state=None, cursor=None, limit=limit
        )
        stores: dict[str, str] = {}
        for row in rows:
            store = await session.get(Store, row.store_id)
            stores[row.store_id] = store.name if store else "-"
        return [(row, stores[row.store_id]) for row in rows]

    found = run(in_session(work))
    table = Table(title=f"cases ({len(found)})")
    for column in ("case", "store", "step", "whose move", "due", "case id"):
        table.add_column(column, no_wrap=column in ("case id", "due"))
    for row, store in found:
        table.add_row(
            f"{KIND_WORDS[row.kind.value]}: {_words(row.cause)}",
            store,
            _words(row.state.value),
            row.step_owner.value if row.step_owner else "-",
            when(row.step_due_at) if row.step_due_at else "-",
            row.id,
        )
    if not found:
        table.caption = "no cases"
    out.print(table)


@app.command("report")
def report(
    weeks: Annotated[int, typer.Option(min=1, max=52, help="How many weeks back.")] = 12,
) -> None:
    """Receiving exception rates per week and per seller and carrier, repeat offenders marked,
    and disputes' time to decision per week against the 3-day target (R4, G4)."""
    from tuoguan.cases import reports

    async def work(session: Any, ctx: Any) -> tuple[Any, Any]:
        now = ctx.clock.now()
        return (
            await reports.receiving(session, now=now, weeks=weeks),
            await reports.disputes(session, now=now, weeks=weeks),
        )

    receiving, disputes = run(in_session(work))

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.0%}"

    table = Table(title="receiving exceptions per week")
    for column in ("week of", "notices", "exceptions", "rate"):
        table.add_column(column)
    for w in receiving.weeks:
        table.add_row(w.key, str(w.notices), str(w.exceptions), pct(w.rate))
    out.print(table)
    for title, rows in (("by seller", receiving.sellers), ("by carrier", receiving.carriers)):
        table = Table(title=title)
        for column in ("name", "notices", "exceptions", "rate", "last 30 days"):
            table.add_column(column)
        for r in rows:
            flag = " [red]REPEAT[/red]" if r.repeat else ""
            table.add_row(
                r.label, str(r.notices), str(r.exceptions), pct(r.rate), f"{r.recent}{flag}"
            )
        out.print(table)
    table = Table(title="disputes: time to decision (hours)")
    for column in ("week of", "opened", "p50", "p95", "within 3 days"):
        table.add_column(column)
    for d in disputes:
        table.add_row(
            d.week.isoformat(),
            str(d.opened),
            "-" if d.p50_hours is None else f"{d.p50_hours:.1f}",
            "-" if d.p95_hours is None else f"{d.p95_hours:.1f}",
            pct(d.share_within),
        )
    out.print(table)

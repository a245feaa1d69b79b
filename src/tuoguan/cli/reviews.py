"""``tuoguan reviews queue``: the operators' business-info review queue (S1, S2), stuck reviews
first, then the longest waiting at their stage."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from tuoguan.cli.common import in_session, out, run, when
from tuoguan.onboarding.review_models import ReviewStatus

app = typer.Typer(help="Business-info reviews (经营信息审核).", no_args_is_help=True)

STAGE_WORDS = {
    "background": "business background",
    "financial": "financial review",
    "categories": "product categories",
}


def _waited(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    days, rest = divmod(seconds, 86_400)
    return f"{days}d {rest // 3600}h" if days else f"{rest // 3600}h {rest % 3600 // 60}m"


@app.command("queue")
def queue(
    status: Annotated[
        ReviewStatus, typer.Option(help="Which reviews: those waiting for a decision by default.")
    ] = ReviewStatus.under_review,
    limit: Annotated[int, typer.Option(min=1, max=200, help="At most this many.")] = 50,
) -> None:
    """The reviews waiting for an operator: stuck ones (past the stage's 3 business days) first,
    then the longest waiting; with the ids the API and the console take."""
    from tuoguan.onboarding import review_reads

    async def work(session: Any, ctx: Any) -> list[Any]:
        now = ctx.clock.now()
        rows = await review_reads.queue(
            session, principal=ctx.principal, now=now, status=status, limit=limit
        )
        return await review_reads.present_many(
            session, settings=ctx.settings, now=now, reviews=rows
        )

    found = run(in_session(work))
    table = Table(title=f"business reviews, {status.value.replace('_', ' ')} ({len(found)})")
    for column in ("store", "stage", "waiting", "stuck after", "round", "review id"):
        table.add_column(column, no_wrap=column in ("review id", "stuck after"))
    for view in found:
        table.add_row(
            view.store_name,
            STAGE_WORDS.get(view.stage.value, view.stage.value) if view.stage else "-",
            _waited(view.waiting_seconds) + (" [red]STUCK[/red]" if view.stuck else ""),
            when(view.stuck_after) if view.stuck_after else "-",
            str(view.round),
            view.id or "-",
        )
    if not found:
        table.caption = (
            "nothing waits for a decision" if status is ReviewStatus.under_review else None
        )
    out.print(table)

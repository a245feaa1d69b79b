"""``tuoguan worker``: run the sweeps; ``failures``, ``retry`` and ``dismiss`` what they set aside."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

import typer
from rich.table import Table

from tuoguan.cli.common import fail, in_session, out, run, when
from tuoguan.config import Settings
from tuoguan.db import Database
from tuoguan.ops.models import FailureStatus, SweepFailure
from tuoguan.ops.states import FailureAction

app = typer.Typer(
    help="The job loop (sweeps for due work) and the rows it set aside.",
    invoke_without_command=True,
)
Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the audit trail).")]


@app.callback()
def worker(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option(help="Sweep once and exit.")] = False,
) -> None:
    """Run the job loop (sweeps for due work); with a subcommand, manage what it set aside."""
    if ctx.invoked_subcommand is not None:
        return
    from tuoguan.sla.timetravel import synced_clock
    from tuoguan.worker.loop import run_forever, run_once

    settings = Settings()

    async def main() -> None:
        async with Database.opened(settings.database_url) as db:
            if once:
                report = await run_once(db, await synced_clock(db, settings), settings)
                out.print(report.line(), highlight=False)
            else:
                await run_forever(db, await synced_clock(db, settings), settings)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


def _table(rows: list[SweepFailure], title: str) -> Table:
    table = Table(title=title)
    for column in ("id", "sweep", "subject", "status", "attempts", "last seen", "error"):
        table.add_column(column, no_wrap=column in ("id", "subject"), overflow="fold")
    for row in rows:
        table.add_row(
            row.id,
            row.sweep,
            f"{row.subject_type} {row.subject_id}",
            row.status.value,
            str(row.attempts),
            when(row.last_seen_at),
            row.error,
        )
    return table


@app.command("failures")
def list_failures(
    status: Annotated[
        FailureStatus | None,
        typer.Option(help="Only this status; the open ones (set_aside, retrying) by default."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
) -> None:
    """The rows the sweeps set aside, most recently failed first."""
    from tuoguan.ops import service as failures

    async def work(session: Any, ctx: Any) -> list[SweepFailure]:
        return await failures.list_failures(
            session, principal=ctx.principal, status=status, limit=limit
        )

    rows = run(in_session(work))
    out.print(_table(rows, f"set aside ({len(rows)})"))


def _decide(failure_id: str, action: FailureAction, reason: str) -> None:
    from tuoguan.ops import service as failures

    reason = reason.strip()
    if not 1 <= len(reason) <= 500:
        fail("--reason: 1 to 500 characters")

    async def work(session: Any, ctx: Any) -> SweepFailure:
        return await failures.act(
            session, ctx=ctx, failure_id=failure_id, action=action, reason=reason
        )

    row = run(in_session(work, write=True))
    out.print(f"{row.id}: {row.status.value} ({row.sweep}, {row.subject_type} {row.subject_id})")


@app.command("retry")
def retry(
    failure_id: Annotated[str, typer.Argument(help="The set-aside row's id (swf_...).")],
    reason: Reason = "retried from the command line",
) -> None:
    """Let the sweep take the row again, alone, at its next run (resolved if it goes through)."""
    _decide(failure_id, FailureAction.retry, reason)


@app.command("dismiss")
def dismiss(
    failure_id: Annotated[str, typer.Argument(help="The set-aside row's id (swf_...).")],
    reason: Reason = "dismissed from the command line",
) -> None:
    """Close the row: handled by hand; the sweep keeps leaving it out."""
    _decide(failure_id, FailureAction.dismiss, reason)

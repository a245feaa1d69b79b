"""``tuoguan clock``: demo time travel (refused in production)."""

from __future__ import annotations

from typing import Annotated

import typer

from tuoguan.cli.common import out, run, when
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.principal import SYSTEM
from tuoguan.sla import timetravel

clock_app = typer.Typer(
    help="Move the application clock (demo and development only).", no_args_is_help=True
)


async def _shift(settings: Settings, by: str | None) -> str:
    async with Database.opened(settings.database_url) as db:
        clock = await timetravel.synced_clock(db, settings)
        async with db.write() as session:
            delta = timetravel.parse_duration(by) if by is not None else None
            ctx = Ctx(principal=SYSTEM, clock=clock, settings=settings)
            await timetravel.shift(session, ctx=ctx, by=delta)
            await session.commit()
        clock = await timetravel.synced_clock(db, settings)
        return f"now {when(clock.now())} (shifted {clock.offset})"


@clock_app.command("advance")
def advance(
    duration: Annotated[str, typer.Argument(help="How far: 25h, 1d2h, 90m, 30s.")],
) -> None:
    """Move every process's clock forward; the running server and worker follow within a second."""
    out.print(run(_shift(Settings(), duration)))


@clock_app.command("reset")
def reset() -> None:
    """Back to the wall clock (breaches already recorded stay recorded)."""
    out.print(run(_shift(Settings(), None)))


@clock_app.command("show")
def show() -> None:
    """The application's time and its shift from the wall clock."""

    async def main() -> str:
        settings = Settings()
        async with Database.opened(settings.database_url) as db:
            clock = await timetravel.synced_clock(db, settings)
            return f"now {when(clock.now())} (shifted {clock.offset})"

    out.print(run(main()))

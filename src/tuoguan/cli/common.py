"""What every CLI command shares: consoles, one-line failures, running a use case."""

from __future__ import annotations

import asyncio
from typing import Any

import typer
from rich.console import Console

from tuoguan.errors import DomainError

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> None:
    """Print a one-line error and exit non-zero."""
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def run(coro: Any) -> Any:
    """Run a coroutine; a refusal becomes a one-line error and exit 1."""
    try:
        return asyncio.run(coro)
    except DomainError as exc:
        where = f" ({exc.field})" if exc.field else ""
        fail(f"{exc.detail}{where}")


def cli_principal(seller: str | None) -> Any:
    """Who a local command acts as: the operator, or one seller when ``--seller`` is given."""
    from tuoguan.principal import Principal, Role

    if seller:
        return Principal(role=Role.seller, actor_id="cli", seller_id=seller)
    return Principal(role=Role.operator, actor_id="cli")


async def in_session(work: Any, *, write: bool = False, seller: str | None = None) -> Any:
    """Run ``work(session, ctx)`` in one transaction on the configured database, at app time."""
    from tuoguan.config import Settings
    from tuoguan.context import Ctx
    from tuoguan.db import Database
    from tuoguan.sla.timetravel import synced_clock

    settings = Settings()
    async with Database.opened(settings.database_url) as db:
        clock = await synced_clock(db, settings)
        ctx = Ctx(principal=cli_principal(seller), clock=clock, settings=settings)
        async with db.write() if write else db.read() as session:
            result = await work(session, ctx)
            if write:
                await session.commit()
            return result

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

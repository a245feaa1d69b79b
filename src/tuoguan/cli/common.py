"""What every CLI command shares: consoles, one-line failures, running a use case."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

# Typer carries its own copy of click: its usage errors are these, not the click package's.
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from tuoguan.errors import DomainError
from tuoguan.kit.clock import as_utc

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a one-line error and exit non-zero."""
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def run(coro: Any) -> Any:
    """Run a coroutine; a refusal becomes a one-line error and exit 1."""
    try:
        return asyncio.run(coro)
    except DomainError as exc:
        where = f" ({exc.field})" if exc.field else ""
        fail(f"{exc.detail}{where}")


def when(at: datetime) -> str:
    """A time as people read it in a terminal: the day and minute, in UTC, said so."""
    return as_utc(at).strftime("%Y-%m-%d %H:%M UTC")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _database_error(exc: SQLAlchemyError) -> str:
    from sqlalchemy.engine import make_url

    from tuoguan.config import Settings

    reason = _first_line(str(exc.orig if isinstance(exc, DBAPIError) else exc))
    try:
        url = make_url(Settings().database_url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - the message must not fail on a bad URL
        url = "the database"
    missing = "no such table" in reason or "does not exist" in reason
    hint = " (run `tuoguan db upgrade` first)" if missing else ""
    return f"{url}: {reason}{hint}"


def _settings_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    if exc.title == "Settings":  # an environment variable (or .env line) tuoguan cannot use
        name = "_".join(str(part) for part in first["loc"]).upper()
        return f"TUOGUAN_{name}: {first['msg'].removeprefix('Value error, ')}"
    return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"


class OneLineErrors(TyperGroup):
    """The root command: whatever goes wrong below it is one line on stderr and a non-zero exit
    (usage errors exit 2 as click's do; refusals, a missing database or file exit 1). A bug
    still shows its traceback."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except NoArgsIsHelpError:
            raise
        except ClickException as exc:  # the root's own options, e.g. `tuoguan --bogus`
            _usage(exc)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except NoArgsIsHelpError:
            raise  # a group named alone: its help, as it should be
        except ClickException as exc:
            _usage(exc)
        except DomainError as exc:
            fail(exc.detail + (f" ({exc.field})" if exc.field else ""))
        except SQLAlchemyError as exc:
            fail(_database_error(exc))
        except ValidationError as exc:
            fail(_settings_error(exc))
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            fail(f"{exc.strerror or exc}{where}")


def _usage(exc: Any) -> NoReturn:
    """A usage error (unknown option, missing argument, bad value) as one line, exit 2."""
    path = exc.ctx.command_path if isinstance(exc, UsageError) and exc.ctx else None
    message = exc.format_message().rstrip(".")
    message = message[:1].lower() + message[1:]
    fail(message + (f" (see {path} --help)" if path else ""), exc.exit_code)


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

"""``tuoguan``: serve, carrier-sandbox, db upgrade, demo load, user create, orders list; the
other command groups live beside this file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

# The guards SLA enforcement, shipping and fulfilment put on order actions (docs/architecture.md,
# Layers).
import tuoguan.fulfilment  # noqa: F401
import tuoguan.shipping  # noqa: F401
import tuoguan.sla  # noqa: F401
from tuoguan.cli.common import OneLineErrors, fail, out, run
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.db import Database, is_sqlite, normalize_url
from tuoguan.kit.money import format_minor
from tuoguan.orders.states import OrderStatus
from tuoguan.principal import SYSTEM, Role

app = typer.Typer(
    cls=OneLineErrors,
    help="tuoguan (托管): managed-fulfillment back office.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
demo_app = typer.Typer(help="The demo marketplace.", no_args_is_help=True)
orders_app = typer.Typer(help="Orders.", no_args_is_help=True)
user_app = typer.Typer(help="Console users.", no_args_is_help=True)
from tuoguan.cli import cases as cases_cli  # noqa: E402
from tuoguan.cli import export as export_cli  # noqa: E402
from tuoguan.cli import finance as finance_cli  # noqa: E402
from tuoguan.cli import inbound as inbound_cli  # noqa: E402
from tuoguan.cli import ops as ops_cli  # noqa: E402
from tuoguan.cli import program as program_cli  # noqa: E402
from tuoguan.cli import reviews as reviews_cli  # noqa: E402
from tuoguan.cli import shipping as shipping_cli  # noqa: E402
from tuoguan.cli import sla as sla_cli  # noqa: E402
from tuoguan.cli import stock as stock_cli  # noqa: E402
from tuoguan.cli import stores as stores_cli  # noqa: E402
from tuoguan.cli import tokens as tokens_cli  # noqa: E402
from tuoguan.cli import worker as worker_cli  # noqa: E402
from tuoguan.cli.stores import MODE_WORDS  # noqa: E402

app.add_typer(sla_cli.app, name="sla")
app.add_typer(shipping_cli.app, name="shipping")
app.add_typer(ops_cli.clock_app, name="clock")
app.add_typer(worker_cli.app, name="worker")
app.add_typer(export_cli.app, name="export")
app.add_typer(stock_cli.app, name="stock")
app.add_typer(finance_cli.app, name="finance")
app.add_typer(inbound_cli.app, name="inbound")
app.add_typer(tokens_cli.app, name="token")
app.add_typer(stores_cli.app, name="stores")
app.add_typer(program_cli.app, name="program")
app.add_typer(reviews_cli.app, name="reviews")
app.add_typer(cases_cli.app, name="cases")
for sub, name in (
    (db_app, "db"),
    (demo_app, "demo"),
    (orders_app, "orders"),
    (user_app, "user"),
):
    app.add_typer(sub, name=name)

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def upgrade_database(settings: Settings) -> None:
    """Apply every Alembic migration (creating the SQLite file's folder first), then, on
    SQLite, refresh the planner's statistics."""
    from alembic import command
    from alembic.config import Config

    url = normalize_url(settings.database_url)
    if is_sqlite(url) and ":memory:" not in url:
        Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    config = Config(str(MIGRATIONS.parent / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = url
    config.attributes["skip_logging"] = True
    command.upgrade(config, "head")
    if is_sqlite(url) and ":memory:" not in url:
        analyze_sqlite(url.split(":///", 1)[1])


def analyze_sqlite(path: str) -> None:
    """Give SQLite's query planner fresh statistics (sqlite_stat1), sampling a bounded number
    of rows per index so it stays quick on a big file; the worker refreshes them hourly."""
    import sqlite3
    from contextlib import closing

    from tuoguan.worker.exports import ANALYSIS_LIMIT

    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA optimize")
        conn.commit()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema."""
    settings = Settings()
    upgrade_database(settings)
    out.print(f"database at head: {settings.database_url}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    worker: Annotated[bool, typer.Option(help="Run the worker in this process too.")] = True,
) -> None:
    """Serve the API, the console and (by default) the worker."""
    import uvicorn

    from tuoguan.api.app import create_app

    settings = Settings()
    host = host or settings.host
    port = port or settings.port
    out.print(f"console: http://{host}:{port}/   API: http://{host}:{port}/api/v1/docs")
    uvicorn.run(
        create_app(settings, run_worker=worker),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
    )


@app.command("carrier-sandbox")
def carrier_sandbox(
    host: Annotated[
        str | None,
        typer.Option(help="Interface to bind; default: the host of TUOGUAN_SANDBOX_CARRIER_URL."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            min=1, max=65535, help="Port; default: the port of TUOGUAN_SANDBOX_CARRIER_URL."
        ),
    ] = None,
    push_to: Annotated[
        str | None,
        typer.Option(
            help="The tuoguan server it pushes tracking events to; "
            "default: TUOGUAN_HOST and TUOGUAN_PORT."
        ),
    ] = None,
    code: Annotated[str, typer.Option(help="The carrier account it plays.")] = "sandbox",
    seed: Annotated[int, typer.Option(help="Fixes which parcels are delayed or lost.")] = 7,
) -> None:
    """Run the sandbox carrier as its own HTTP service (the demo and tests ship through it)."""
    shipping_cli.serve_sandbox(code, seed, host=host, port=port, push_to=push_to)


@demo_app.command("load")
def demo_load(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing if data exists.")
    ] = False,
) -> None:
    """Load the demo marketplace into an empty database."""
    from tuoguan.demo import load as demo
    from tuoguan.sla.timetravel import default_clock

    settings = Settings()

    async def main() -> list[demo.DemoLogin] | None:
        async with Database.opened(settings.database_url) as db:
            async with db.read() as session:
                if await demo.is_loaded(session):
                    if if_empty:
                        return None
                    fail("the database already has data; the demo loads into an empty one")
            return await demo.load(db, default_clock(settings), settings)

    logins = run(main())
    if logins is None:
        out.print(
            f"demo data already present; sign in as {demo.OPERATOR_EMAIL} "
            f"(password {demo.PASSWORD}) or a seller such as shenzhen@demo.tuoguan"
        )
        return
    table = Table(title=f"demo logins (password: {demo.PASSWORD})")
    for column in ("e-mail", "role", "who"):
        table.add_column(column)
    for login in logins:
        table.add_row(login.email, login.role, login.what)
    out.print(table)


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option()],
    role: Annotated[Role, typer.Option()],
    name: Annotated[str, typer.Option(help="Display name.")],
    seller: Annotated[str | None, typer.Option(help="Seller id (seller users).")] = None,
    warehouse: Annotated[
        list[str] | None,
        typer.Option(help="Warehouse id (warehouse staff; repeat for each warehouse)."),
    ] = None,
    locale: Annotated[str, typer.Option(help="zh-CN or en.")] = "zh-CN",
) -> None:
    """Create a console user; the password is read from the prompt."""
    from tuoguan.accounts import service as accounts
    from tuoguan.sla.timetravel import default_clock

    password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    settings = Settings()

    async def main() -> str:
        async with Database.opened(settings.database_url) as db, db.write() as session:
            ctx = Ctx(principal=SYSTEM, clock=default_clock(settings), settings=settings)
            user = await accounts.create_user(
                session,
                ctx=ctx,
                email=email,
                password=password,
                display_name=name,
                role=role,
                seller_id=seller,
                warehouse_ids=warehouse or (),
                locale=locale,
            )
            await session.commit()
            return user.id

    out.print(f"created {run(main())}")


# The deadline an order runs against, as people say it (O5).
DEADLINE_WORDS = {
    "confirm_by": "confirm by",
    "ship_by": "ship by",
    "deliver_by": "deliver by",
    "auto_complete_at": "completes by itself",
}


def _left(seconds: int) -> str:
    """Time left as a person reads it: "1d 03h 20m", or "5h 10m late" once it has passed."""
    span = abs(seconds)
    days, hours, minutes = span // 86400, span % 86400 // 3600, span % 3600 // 60
    text = f"{days}d {hours:02d}h {minutes:02d}m" if days else f"{hours}h {minutes:02d}m"
    return f"{text} late" if seconds < 0 else text


def _deadline(kind: str, at: datetime, zone: str) -> str:
    """The deadline in the zone it applies to, e.g. "ship by 2026-11-20 23:59 Asia/Shanghai"."""
    local = at.astimezone(ZoneInfo(zone))
    return f"{DEADLINE_WORDS.get(kind, kind.replace('_', ' '))} {local:%Y-%m-%d %H:%M} {zone}"


@orders_app.command("list")
def orders_list(
    status: Annotated[list[OrderStatus] | None, typer.Option(help="Filter by status.")] = None,
    seller: Annotated[str | None, typer.Option(help="Only this seller's orders.")] = None,
    sort: Annotated[str, typer.Option(help="newest, or deadline (the most urgent first).")] = "deadline",
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """A table of orders with their total, their next deadline and the time left (O5)."""
    from tuoguan.orders import service as orders
    from tuoguan.orders import views
    from tuoguan.orders.repository import OrderFilter
    from tuoguan.principal import Principal
    from tuoguan.sla.timetravel import synced_clock

    if sort not in ("newest", "deadline"):
        fail("--sort is newest or deadline")
    settings = Settings()
    principal = (
        Principal(role=Role.seller, actor_id="cli", seller_id=seller)
        if seller
        else Principal(role=Role.operator, actor_id="cli")
    )

    async def main() -> list[Any]:
        async with Database.opened(settings.database_url) as db, db.read() as session:
            clock = await synced_clock(db, settings)
            rows, _ = await orders.list_orders(
                session,
                principal=principal,
                flt=OrderFilter(statuses=tuple(status or ()), sort=sort, limit=limit),
            )
            return await views.present_many(session, rows, principal=principal, now=clock.now())

    items = run(main())
    table = Table(title=f"orders ({len(items)})")
    for column in ("order", "mode", "status", "total", "next deadline", "time left"):
        table.add_column(column, no_wrap=column in ("order", "next deadline"))
    for item in items:
        deadline = item.next_deadline
        table.add_row(
            item.id,
            MODE_WORDS[item.mode],
            item.status.value.replace("_", " "),
            format_minor(item.total_minor, item.currency),
            _deadline(deadline.kind, deadline.at, deadline.timezone) if deadline else "-",
            _left(deadline.seconds_left) if deadline else "-",
            style="red" if deadline and deadline.seconds_left < 0 else None,
        )
    out.print(table)


def main() -> None:  # pragma: no cover - console entry
    """Entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()

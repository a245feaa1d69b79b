"""``tuoguan finance``: ``check`` rebuilds the ledger's balances from its postings and reports
differences; ``statement`` prints a store's month; ``payout-run`` settles a cycle."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from tuoguan.cli.common import fail, out, run
from tuoguan.config import Settings
from tuoguan.db import Database
from tuoguan.ledger import check as ledger_check
from tuoguan.stores.models import StoreMode

app = typer.Typer(help="Money: the ledger, statements, settlement runs.", no_args_is_help=True)


def _differences(report: ledger_check.CheckReport, shown: int) -> Table:
    table = Table(
        title=f"accounts whose balance differs from their postings ({len(report.differences)})"
    )
    for column in ("account", "kind", "store", "currency", "stored", "postings"):
        table.add_column(column, no_wrap=column in ("account", "kind", "store"))
    for difference in report.differences[:shown]:
        table.add_row(
            difference.account_id,
            difference.kind.value if difference.kind else "no such account",
            difference.store_id or "platform",
            difference.currency,
            "-" if difference.stored is None else str(difference.stored),
            str(difference.ledger),
        )
    if len(report.differences) > shown:
        table.caption = f"{len(report.differences) - shown} more not shown (--show)"
    return table


def _unbalanced(report: ledger_check.CheckReport, shown: int) -> Table:
    table = Table(title=f"entries whose postings do not sum to zero ({len(report.unbalanced)})")
    for column in ("entry", "currency", "sum"):
        table.add_column(column, no_wrap=column == "entry")
    for entry in report.unbalanced[:shown]:
        table.add_row(entry.entry_id, entry.currency, str(entry.total))
    if len(report.unbalanced) > shown:
        table.caption = f"{len(report.unbalanced) - shown} more not shown (--show)"
    return table


def _other(report: ledger_check.CheckReport) -> Table:
    table = Table(title="currencies and accounts that do not add up")
    for column in ("what", "currency", "detail"):
        table.add_column(column)
    for code, total in report.totals.items():
        table.add_row("the ledger's sum", code, f"{total} (must be 0)")
    for foreign in report.foreign:
        table.add_row(
            f"account {foreign.account_id}",
            foreign.currency,
            f"{foreign.rows} postings, but the account keeps {foreign.account_currency}",
        )
    return table


async def _check(settings: Settings) -> tuple[ledger_check.CheckReport, float]:
    async with Database.opened(settings.database_url) as db:
        started = time.perf_counter()
        async with db.read() as session:
            report = await ledger_check.check(session)
        return report, time.perf_counter() - started


@app.command("check")
def check(
    show: Annotated[int, typer.Option(min=0, help="Rows to print at most per table.")] = 50,
) -> None:
    """Sum the postings per account, compare with the stored balances, check that every entry
    and every currency sums to zero; print what differs and exit 1 if anything does."""
    report, seconds = run(_check(Settings()))
    rate = report.postings / seconds if seconds > 0 else 0.0
    problems = len(report.differences) + len(report.unbalanced) + len(report.foreign)
    problems += len(report.totals)
    out.print(
        f"checked {report.accounts:,} accounts against {report.postings:,} postings "
        f"in {seconds:.2f} s ({rate:,.0f} rows/s): "
        + ("every balance, entry and currency adds up" if report.clean else f"{problems} differ")
    )
    if report.clean:
        return
    if report.differences:
        out.print(_differences(report, show))
    if report.unbalanced:
        out.print(_unbalanced(report, show))
    if report.totals or report.foreign:
        out.print(_other(report))
    raise typer.Exit(1)


# -- statement: a store's month, reconciled (issue 14) ---------------------------------------


class StatementOutput(StrEnum):
    """What ``finance statement`` prints or writes."""

    table = "table"
    csv = "csv"
    pdf = "pdf"


async def _statement(store: str, period: str | None, currency: str | None) -> Any:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from tuoguan.errors import InvalidInput, NotFound
    from tuoguan.settlement import statements
    from tuoguan.stores.models import Store

    async with Database.opened(Settings().database_url) as db, db.read() as session:
        found = await session.get(Store, store)
        if found is None:  # a store may be named as `stores list` shows it
            named = list(await session.scalars(select(Store).where(Store.name == store).limit(2)))
            if len(named) > 1:
                raise InvalidInput(f"two stores are named {store!r}: give its id", field="store")
            if not named:
                raise NotFound(f"no store has the id or the name {store!r}", field="store")
            found = named[0]
        if period is None:  # this month, where the store is
            period = datetime.now(UTC).astimezone(ZoneInfo(found.timezone)).strftime("%Y-%m")
        return await statements.month_statement(
            session, store_id=found.id, period=period, currency=currency
        )


def _statement_table(found: Any, lang: str) -> Table:
    from zoneinfo import ZoneInfo

    from tuoguan.kit.i18n import gettext
    from tuoguan.kit.money import format_minor
    from tuoguan.settlement import statement_files as files

    def money(minor: int) -> str:
        return format_minor(minor, found.currency, lang)

    table = Table(
        title=f"{gettext(lang, 'statement_title')} · {found.store_name} · "
        f"{files.period_words(found, lang)} · {found.currency} ({found.timezone})"
    )
    for key in ("when", "kind", "about", "reference", "amount", "balance"):
        numeric = key in ("amount", "balance")
        table.add_column(gettext(lang, f"statement_{key}"), justify="right" if numeric else "left")
    table.add_row(gettext(lang, "statement_opening"), "", "", "", "", money(found.opening_minor))
    zone = ZoneInfo(found.timezone)
    for line in found.lines:
        table.add_row(
            line.posted_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            files.kind_words(line, lang),
            files.about_words(line, lang),
            line.reference,
            ("+" if line.amount_minor > 0 else "") + money(line.amount_minor),
            money(line.balance_minor),
        )
    table.add_row(gettext(lang, "statement_closing"), "", "", "", "", money(found.closing_minor))
    table.caption = (
        f"{gettext(lang, 'statement_deposit')}: {money(found.deposit_opening_minor)} → "
        f"{money(found.deposit_closing_minor)}"
    )
    return table


@app.command("statement")
def statement(
    store: Annotated[str, typer.Argument(help="The store's id or its name (tuoguan stores list).")],
    period: Annotated[
        str | None,
        typer.Option(help="The month, YYYY-MM, in the store's time zone (default: this month)."),
    ] = None,
    currency: Annotated[
        str | None, typer.Option(help="ISO 4217 (default: the store's currency).")
    ] = None,
    output: Annotated[
        StatementOutput, typer.Option("--format", help="A table, CSV or an A4 PDF.")
    ] = StatementOutput.table,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write to this file (a PDF needs one).")
    ] = None,
    lang: Annotated[str, typer.Option(help="The words: en or zh-CN.")] = "en",
) -> None:
    """A store's statement for a month: what the platform owed the seller at its start, each
    entry that changed it with the balance after it, and at its end (opening + lines =
    closing); the deposit held beside it."""
    from tuoguan.kit.i18n import language
    from tuoguan.settlement import statement_files as files

    lang = language(lang)
    if out_file is not None and out_file.is_dir():
        fail(f"--out {out_file} is a folder; name a file")
    if output is StatementOutput.pdf and out_file is None:
        fail("a PDF is written to a file: add --out FILE", 2)
    found = run(_statement(store, period, currency))
    if output is StatementOutput.table:
        table = _statement_table(found, lang)
        if out_file is None:
            out.print(table)
            return
        with out_file.open("w", encoding="utf-8") as file:
            Console(file=file, width=160).print(table)
    elif output is StatementOutput.csv and out_file is None:
        typer.echo(files.to_csv(found, lang), nl=False)
        return
    else:
        assert out_file is not None
        data = (
            files.csv_bytes(found, lang)
            if output is StatementOutput.csv
            else files.to_pdf(found, lang)
        )
        out_file.write_bytes(data)
    out.print(f"wrote the statement ({len(found.lines)} lines) to {out_file}")


# -- payout-run: a cycle's settlement, previewed, then executed once (issue 14) ---------------


def _boundary(at: Any, zone: str) -> str:
    """A cycle boundary as the platform reads it, e.g. "2026-11-23 00:00 Asia/Shanghai"."""
    from zoneinfo import ZoneInfo

    return f"{at.astimezone(ZoneInfo(zone)).strftime('%Y-%m-%d %H:%M')} {zone}"


def _run_table(
    run: Any, statements: Any, names: dict[str, str], zone: str, *, executed: bool
) -> Table:
    from tuoguan.kit.money import format_minor

    words = {
        "paid": "paid" if executed else "to pay",
        "carried": "carried forward",
        "held_no_account": "held: no payout account",
        "nothing_due": "nothing due",
    }
    table = Table(
        title=f"{run.cycle.value.replace('_', '-')} payout run {run.id}: "
        f"{_boundary(run.period_start, zone)} to {_boundary(run.period_end, zone)}"
        + ("" if executed else " (preview: nothing posted)")
    )
    for column in ("store", "opening", "movements", "closing", "netted", "payout", "carried"):
        table.add_column(column, justify="left" if column == "store" else "right")
    table.add_column("outcome")
    for s in statements:
        cur = s.currency
        table.add_row(
            names.get(s.store_id, s.store_id),
            format_minor(s.opening_due_minor, cur),
            format_minor(s.movements_minor, cur),
            format_minor(s.closing_due_minor, cur),
            format_minor(s.netted_minor, cur),
            format_minor(s.payout_minor, cur),
            format_minor(s.carried_forward_minor, cur),
            words[s.status.value],
        )
    if not statements:
        table.caption = "no store of this cycle has money to settle"
    return table


def _summary(statements: Any, sent: dict[str, str]) -> Table:
    from tuoguan.kit.money import format_minor
    from tuoguan.settlement.run_models import StatementStatus as S
    from tuoguan.settlement.runs import totals

    table = Table(title="payout run summary")
    for column in (
        "currency",
        "stores paid",
        "carried",
        "held",
        "nothing due",
        "netted",
        "paid out",
        "carried forward",
        "held back",
    ):
        table.add_column(column, justify="left" if column == "currency" else "right")
    for total in totals(statements):
        cur = total.currency
        table.add_row(
            cur,
            str(total.counts[S.paid]),
            str(total.counts[S.carried]),
            str(total.counts[S.held_no_account]),
            str(total.counts[S.nothing_due]),
            format_minor(total.netted_minor, cur),
            format_minor(total.payout_minor, cur),
            format_minor(total.carried_minor, cur),
            format_minor(total.held_minor, cur),
        )
    if sent:
        counts: dict[str, int] = {}
        for status in sent.values():
            counts[status] = counts.get(status, 0) + 1
        table.caption = "payouts on the rail: " + ", ".join(
            f"{n} {status}" for status, n in sorted(counts.items())
        )
    return table


async def _payout_run(cycle: StoreMode, preview_only: bool) -> None:
    from sqlalchemy import select

    from tuoguan.cli.common import cli_principal
    from tuoguan.context import Ctx
    from tuoguan.settlement import payouts, run_repository, runs
    from tuoguan.settlement.models import Payout
    from tuoguan.settlement.rail import get_rail
    from tuoguan.sla.timetravel import synced_clock
    from tuoguan.web.owners import owners

    settings = Settings()
    async with Database.opened(settings.database_url) as db:
        clock = await synced_clock(db, settings)
        ctx = Ctx(principal=cli_principal(None), clock=clock, settings=settings)
        async with db.write() as session:
            run = await runs.preview(session, ctx, cycle)
            await session.commit()
        async with db.read() as session:
            found = await run_repository.statements(session, run.id)
            whose = await owners(session, {s.store_id for s in found})
        names = {key: f"{o.store} ({o.seller})" for key, o in whose.items()}
        if preview_only:
            out.print(_run_table(run, found, names, settings.settlement_zone, executed=False))
            out.print(
                f"previewed; execute it with: tuoguan finance payout-run --cycle {cycle.value}"
            )
            return
        with Progress(
            TextColumn("settling {task.fields[cycle]} stores"),
            BarColumn(),
            MofNCompleteColumn(),
            console=out,
        ) as bar:
            task = bar.add_task("settle", total=len(found), cycle=cycle.value.replace("_", "-"))
            async with db.write() as session:
                run = await runs.execute(
                    session,
                    ctx,
                    run.id,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
                await session.commit()
        async with db.read() as session:
            found = await run_repository.statements(session, run.id)
        ids = [s.payout_id for s in found if s.payout_id]
        sent: dict[str, str] = {}
        if ids:
            await payouts.send_due(db, ctx, get_rail(settings, db, clock), ids)
            async with db.read() as session:
                rows = await session.execute(
                    select(Payout.id, Payout.status).where(Payout.id.in_(ids))
                )
                sent = {payout_id: status.value for payout_id, status in rows}
        out.print(_run_table(run, found, names, settings.settlement_zone, executed=True))
        out.print(_summary(found, sent))


@app.command("payout-run")
def payout_run(
    cycle: Annotated[StoreMode, typer.Option(help="The store mode whose settlement cycle is run.")],
    preview_only: Annotated[
        bool, typer.Option("--preview", help="Show what the run would do; post nothing.")
    ] = False,
) -> None:
    """Settle a cycle up to its last boundary not yet executed (M3): each store's debts are
    netted from what it is due, the rest is paid to its bound payout account and sent on the
    rail, a negative result is carried forward (never paid). Previews, then executes once,
    with a progress bar over the stores; prints each store's figures and the totals."""
    run(_payout_run(cycle, preview_only))

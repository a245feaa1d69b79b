"""The worker's side of an exit archive (S4): read the store a step at a time, write its tables,
commit the progress after each step (which renews the lease), zip it, mark it done.

Steps: the store's information, each month's statement since the store opened, each page of
its orders, the zip. Each read is short and in a session of its own; the files are written in
a thread. A take that lost its lease (another worker took the archive over) stops and throws
its files away; so does one that fails.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.catalog.models import Product
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.exits import archive
from tuoguan.exits.archive_files import ArchiveWriter
from tuoguan.exits.models import ExitApplication
from tuoguan.exports.states import ExportStatus
from tuoguan.kit import i18n
from tuoguan.kit.money import minor_digits
from tuoguan.ledger import reads
from tuoguan.ledger.accounts import AccountKind
from tuoguan.orders import listing
from tuoguan.orders.models import Order
from tuoguan.orders.repository import OrderFilter
from tuoguan.orders.views import EXPORT_COLUMNS
from tuoguan.principal import SYSTEM
from tuoguan.settlement import statement_files, statements
from tuoguan.settlement.payout_accounts import account_in_force
from tuoguan.settlement.schemas import mask
from tuoguan.stores.models import Seller, Store

CHUNK = 1_000  # orders a step


@dataclass(frozen=True)
class Take:
    """An archive as one worker took it: enough to write it without holding its row."""

    archive_id: str
    attempt: int
    status: ExportStatus
    store_id: str
    language: str


async def take_next(db: Database, ctx: Ctx) -> Take | None:
    """Claim the oldest due archive in a transaction of its own (SKIP LOCKED on PostgreSQL)."""
    async with db.write() as session:
        claimed = await archive.claim(session, ctx=ctx, skip_locked=not db.sqlite)
        take = (
            Take(
                claimed[0].id,
                claimed[1],
                claimed[0].status,
                claimed[0].store_id,
                claimed[0].language,
            )
            if claimed
            else None
        )
        await session.commit()
    return take


def months(opened: datetime, now: datetime, zone: str) -> list[str]:
    """Pure: every month "YYYY-MM" from the one ``opened`` falls in to the one ``now`` does."""
    tz = ZoneInfo(zone)
    first, last = opened.astimezone(tz), now.astimezone(tz)
    found = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def major(minor: int, currency: str) -> Decimal:
    """Minor units as a decimal amount of the currency (1234 USD -> 12.34)."""
    return Decimal(minor).scaleb(-minor_digits(currency))


async def store_rows(session: AsyncSession, store: Store, now: datetime) -> list[list[Any]]:
    """The store's information, one (field, value) a row."""
    seller = await session.get(Seller, store.seller_id)
    rows: list[list[Any]] = [
        ["field", "value"],
        ["store_id", store.id],
        ["store_name", store.name],
        ["seller_id", store.seller_id],
        ["seller_name", seller.name if seller else ""],
        ["mode", store.mode.value],
        ["status", store.status.value],
        ["country", store.country],
        ["timezone", store.timezone],
        ["currency", store.currency],
        ["opened_at", store.created_at],
        ["ship_promise_days", store.ship_promise_days],
        ["linked_store_id", store.linked_store_id or ""],
    ]
    for key, value in sorted((store.sender_address or {}).items()):
        rows.append([f"sender_address.{key}", value or ""])
    account = await account_in_force(session, store.id)
    if account is not None:
        rows += [
            ["payout_account.holder_name", account.holder_name],
            ["payout_account.bank_name", account.bank_name],
            ["payout_account.number", mask(account.account_number)],
            ["payout_account.currency", account.currency],
        ]
    for kind in (AccountKind.deposit_held, AccountKind.receivable, AccountKind.payable):
        balance = await reads.balance(
            session, kind=kind, currency=store.currency, store_id=store.id
        )
        rows.append([f"balance.{kind.value}", major(balance, store.currency)])
    products = await session.scalar(
        select(func.count()).select_from(Product).where(Product.store_id == store.id)
    )
    orders = await session.scalar(
        select(func.count()).select_from(Order).where(Order.store_id == store.id)
    )
    rows += [["products", int(products or 0)], ["orders", int(orders or 0)]]
    latest = await session.scalar(
        select(ExitApplication)
        .where(ExitApplication.store_id == store.id)
        .order_by(ExitApplication.id.desc())
        .limit(1)
    )
    if latest is not None:
        rows += [
            ["exit.id", latest.id],
            ["exit.status", latest.status.value],
            ["exit.applied_at", latest.created_at],
            ["exit.reason", latest.reason],
            ["exit.management_fee", major(latest.management_fee_minor, latest.currency)],
            ["exit.refund_fee", major(latest.refund_fee_minor, latest.currency)],
        ]
    rows.append(["exported_at", now])
    return rows


def statement_header(language: str) -> list[str]:
    t = lambda key: i18n.gettext(language, key)  # noqa: E731
    return [
        t("exit_archive_month"),
        t("statement_when"),
        t("statement_kind"),
        t("statement_about"),
        t("statement_reference"),
        t("statement_currency"),
        t("statement_amount"),
        t("statement_balance"),
        t("statement_note"),
    ]


def statement_rows(found: statements.Statement, language: str) -> list[list[Any]]:
    """A month's statement: its opening, each line, its closing (amounts in major units)."""
    t = lambda key: i18n.gettext(language, key)  # noqa: E731
    code, zone = found.currency, ZoneInfo(found.timezone)
    month = found.period or ""
    rows: list[list[Any]] = [
        [month, t("statement_opening"), "", "", "", code, "", major(found.opening_minor, code), ""]
    ]
    for line in found.lines:
        rows.append(
            [
                month,
                line.posted_at.astimezone(zone).strftime(statement_files.CSV_TIME),
                statement_files.kind_words(line, language),
                statement_files.about_words(line, language),
                line.reference,
                code,
                major(line.amount_minor, code),
                major(line.balance_minor, code),
                statement_files.note(line),
            ]
        )
    rows.append(
        [month, t("statement_closing"), "", "", "", code, "", major(found.closing_minor, code), ""]
    )
    return rows


def order_row(order: Order) -> list[Any]:
    return [getattr(order, column) for column in EXPORT_COLUMNS]


async def _step(db: Database, ctx: Ctx, take: Take, done: int, total: int) -> bool:
    async with db.write() as session:
        ours = await archive.progress(
            session,
            ctx=ctx,
            archive_id=take.archive_id,
            attempt=take.attempt,
            done=done,
            total=total,
        )
        await session.commit()
    return ours


async def write(db: Database, ctx: Ctx, take: Take, export_dir: str) -> bool:
    """Write the archive and mark it done; False if another worker took it over. On any error
    the partial files are removed and the error raised."""
    name = f"exit-archive-{take.archive_id}-{take.attempt}"
    writer = await asyncio.to_thread(ArchiveWriter, export_dir, name)
    done = False
    try:
        now = ctx.clock.now()
        async with db.read() as session:
            store = await session.get(Store, take.store_id)
            assert store is not None
            info = await store_rows(session, store, now)
            count = await session.scalar(
                select(func.count()).select_from(Order).where(Order.store_id == store.id)
            )
        periods = months(store.created_at, now, store.timezone)
        pages = max(1, -(-int(count or 0) // CHUNK))
        total, steps = 1 + len(periods) + pages + 1, 0

        await asyncio.to_thread(writer.rows, "store", info)
        steps += 1
        if not await _step(db, ctx, take, steps, total):
            return False
        await asyncio.to_thread(writer.rows, "statements", [statement_header(take.language)])
        for period in periods:
            async with db.read() as session:
                found = await statements.month_statement(session, store_id=store.id, period=period)
            await asyncio.to_thread(writer.rows, "statements", statement_rows(found, take.language))
            steps += 1
            if not await _step(db, ctx, take, steps, total):
                return False
        await asyncio.to_thread(writer.rows, "orders", [list(EXPORT_COLUMNS)])
        flt = OrderFilter(store_id=store.id, sort="newest", limit=CHUNK)
        cursor: str | None = None
        while True:
            async with db.read() as session:
                rows, cursor = await listing.page(session, SYSTEM, replace(flt, cursor=cursor))
                table = [order_row(order) for order in rows]
            await asyncio.to_thread(writer.rows, "orders", table)
            steps = min(steps + 1, total - 1)
            if not await _step(db, ctx, take, steps, total):
                return False
            if not cursor:
                break
        path, size, sha256 = await asyncio.to_thread(writer.complete)
        async with db.write() as session:
            done = await archive.finish(
                session,
                ctx=ctx,
                archive_id=take.archive_id,
                attempt=take.attempt,
                file_name=path.name,
                size_bytes=size,
                sha256=sha256,
            )
            await session.commit()
        return done
    finally:
        if not done:
            await asyncio.to_thread(writer.discard)


async def fail(db: Database, ctx: Ctx, take: Take, reason: str) -> None:
    """Mark the archive failed with a short reason, in a transaction of its own."""
    async with db.write() as session:
        await archive.fail(
            session, ctx=ctx, archive_id=take.archive_id, attempt=take.attempt, reason=reason
        )
        await session.commit()

"""Ledger builders: stores to post for, and the books as the database holds them."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text

from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.kit.clock import FrozenClock
from tuoguan.ledger import service
from tuoguan.ledger.accounts import ACCOUNTS, AccountKind
from tuoguan.ledger.kinds import EntryKind
from tuoguan.ledger.models import LedgerAccount, Posting
from tuoguan.ledger.records import Entry
from tuoguan.principal import Principal, Role
from tuoguan.stores import service as stores
from tuoguan.stores.models import StoreMode
from tuoguan.stores.schemas import SellerCreate, StoreCreate

START = datetime(2026, 11, 18, 1, 0, tzinfo=UTC)  # the tests' Wednesday morning


def operator(clock: FrozenClock | None = None) -> Ctx:
    """An operator acting on the test clock."""
    return Ctx(
        principal=Principal(role=Role.operator, actor_id="usr_ledger"),
        clock=clock or FrozenClock(START),
    )


def run_on(db_url: str, scenario: Callable[[Database], Awaitable[Any]]) -> Any:
    """Run ``scenario(db)`` against the database at ``db_url``, on an event loop of its own."""

    async def main() -> Any:
        async with Database.opened(db_url, pool_size=8) as db:
            return await scenario(db)

    return asyncio.run(main())


async def post(db: Database, kind: EntryKind, ctx: Ctx | None = None, **kwargs: Any) -> Entry:
    """Post one entry (as an operator) and commit it."""
    async with db.write() as session:
        entry = await service.post(session, ctx or operator(), kind, **kwargs)
        await session.commit()
    return entry


async def open_stores(db: Database, count: int) -> list[str]:
    """``count`` semi-managed stores of one seller; their ids."""
    ctx = operator()
    async with db.write() as session:
        seller = await stores.create_seller(
            session, ctx=ctx, data=SellerCreate(name="Ledger seller", country="CN")
        )
        made = []
        for n in range(count):
            store = await stores.create_store(
                session,
                ctx=ctx,
                data=StoreCreate(
                    seller_id=seller.id,
                    name=f"Ledger store {n}",
                    mode=StoreMode.semi_managed,
                    country="CN",
                    currency="CNY",
                ),
            )
            made.append(store.id)
        await session.commit()
    return made


@dataclass
class Books:
    """What the database holds: stored balances, postings summed, row counts."""

    stored: dict[str, tuple[AccountKind, str, int]]  # account -> (kind, currency, balance)
    summed: dict[str, int]  # account -> sum of its postings
    totals: dict[str, int]  # currency -> sum of every posting
    counts: dict[str, int]  # table -> rows

    def negative_floors(self) -> list[str]:
        """Accounts below zero on their normal side that must not be."""
        return [
            account_id
            for account_id, (kind, _, balance) in self.stored.items()
            if ACCOUNTS[kind].breaks_floor(balance)
        ]


async def books(db: Database) -> Books:
    """The ledger as stored, read in one transaction."""
    async with db.read() as session:
        stored = {
            account_id: (AccountKind(kind), code, int(balance))
            for account_id, kind, code, balance in await session.execute(
                select(
                    LedgerAccount.id,
                    LedgerAccount.kind,
                    LedgerAccount.currency,
                    LedgerAccount.balance_minor,
                )
            )
        }
        summed = {
            account_id: int(total)
            for account_id, total in await session.execute(
                select(Posting.account_id, func.sum(Posting.amount_minor)).group_by(
                    Posting.account_id
                )
            )
        }
        totals: dict[str, int] = defaultdict(int)
        for code, total in await session.execute(
            select(Posting.currency, func.sum(Posting.amount_minor)).group_by(Posting.currency)
        ):
            totals[code] += int(total)
        counts = {
            table: int((await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
            for table in ("ledger_accounts", "journal_entries", "postings", "events")
        }
    return Books(stored, summed, dict(totals), counts)

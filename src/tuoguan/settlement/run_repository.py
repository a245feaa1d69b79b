"""Queries of the payout runs: each store's due figures summed from the ledger's postings, the
stores' bound payout accounts, the runs and their statements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.kit.keyset import Keyset
from tuoguan.ledger.accounts import ACCOUNTS, AccountKind
from tuoguan.ledger.models import LedgerAccount, Posting
from tuoguan.settlement.models import PayoutAccount
from tuoguan.settlement.run_models import PayoutRun, RunStatement, RunStatus
from tuoguan.stores.models import Store, StoreMode

# The accounts whose sum is what a store is due: receivable + payout clearing - payable.
DUE_ACCOUNTS = (AccountKind.receivable, AccountKind.payout_clearing, AccountKind.payable)
RUNS = Keyset((PayoutRun.id,), ("id",), descending=True)


@dataclass
class Due:
    """One store's due in one currency: at the period's start and end, and its accounts at the
    end (on their normal side), with how many postings fell in the period."""

    store_id: str
    currency: str
    opening: int = 0
    receivable: int = 0
    payable: int = 0
    in_clearing: int = 0
    moves: int = 0

    @property
    def closing(self) -> int:
        return self.receivable + self.in_clearing - self.payable


async def dues(
    session: AsyncSession, *, mode: StoreMode, start: datetime, end: datetime
) -> list[Due]:
    """Every (store of the mode, currency) with postings on its due accounts before ``end``:
    its due at ``start`` and at ``end`` (postings before each), in one grouped scan."""
    stored = func.sum(Posting.amount_minor)
    before = func.sum(case((Posting.posted_at < start, Posting.amount_minor), else_=0))
    moves = func.sum(case((Posting.posted_at >= start, 1), else_=0))
    rows = await session.execute(
        select(LedgerAccount.store_id, LedgerAccount.currency, LedgerAccount.kind, before, stored)
        .add_columns(moves)
        .join(Posting, Posting.account_id == LedgerAccount.id)
        .join(Store, Store.id == LedgerAccount.store_id)
        .where(
            Store.mode == mode,
            LedgerAccount.kind.in_(DUE_ACCOUNTS),
            Posting.posted_at < end,
        )
        .group_by(LedgerAccount.store_id, LedgerAccount.currency, LedgerAccount.kind)
    )
    found: dict[tuple[str, str], Due] = {}
    for store_id, currency, kind, opening_sum, closing_sum, count in rows:
        due = found.setdefault((store_id, currency), Due(store_id, currency))
        kind = AccountKind(kind)
        spec = ACCOUNTS[kind]
        opened = spec.shown(int(opening_sum or 0))
        due.opening += -opened if kind is AccountKind.payable else opened  # owed, not due
        shown = spec.shown(int(closing_sum or 0))
        if kind is AccountKind.receivable:
            due.receivable = shown
        elif kind is AccountKind.payable:
            due.payable = shown
        else:
            due.in_clearing = shown
        due.moves += int(count or 0)
    return [found[key] for key in sorted(found)]


async def bound_currencies(session: AsyncSession, store_ids: Iterable[str]) -> dict[str, str]:
    """The currency of each store's payout account in force (stores without one are absent)."""
    ids = sorted(set(store_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(PayoutAccount.store_id, PayoutAccount.currency).where(
            PayoutAccount.store_id.in_(ids), PayoutAccount.replaced_at.is_(None)
        )
    )
    return {store_id: currency for store_id, currency in rows}


async def first_store_created(session: AsyncSession, mode: StoreMode) -> datetime | None:
    """When the first store of a mode was opened (None: there is none)."""
    found: datetime | None = await session.scalar(
        select(func.min(Store.created_at)).where(Store.mode == mode)
    )
    return found


async def last_executed(session: AsyncSession, mode: StoreMode) -> PayoutRun | None:
    """The cycle's executed run with the latest boundary."""
    found = await session.scalars(
        select(PayoutRun)
        .where(PayoutRun.cycle == mode, PayoutRun.status == RunStatus.executed)
        .order_by(PayoutRun.period_end.desc())
        .limit(1)
    )
    return found.first()


async def lock_previewed(session: AsyncSession, mode: StoreMode) -> list[PayoutRun]:
    """The cycle's runs still previewed, locked (a new preview supersedes them)."""
    found = await session.scalars(
        select(PayoutRun)
        .where(PayoutRun.cycle == mode, PayoutRun.status == RunStatus.previewed)
        .order_by(PayoutRun.id)
        .with_for_update()
    )
    return list(found)


async def lock_run(session: AsyncSession, run_id: str) -> PayoutRun | None:
    """A run, locked for its execution (SQLite: the write transaction holds the database)."""
    found = await session.scalars(
        select(PayoutRun).where(PayoutRun.id == run_id).with_for_update().limit(1)
    )
    return found.first()


async def get_run(session: AsyncSession, run_id: str) -> PayoutRun | None:
    """A run, unlocked."""
    return await session.get(PayoutRun, run_id)


async def list_runs(
    session: AsyncSession, *, cycle: StoreMode | None, cursor: str | None, limit: int
) -> tuple[list[PayoutRun], str | None]:
    """Runs newest first (ids sort by creation), of one cycle or all, a keyset page."""
    query = select(PayoutRun)
    if cycle is not None:
        query = query.where(PayoutRun.cycle == cycle)
    return await RUNS.page(session, [query], cursor=cursor, limit=limit)


async def statements(session: AsyncSession, run_id: str) -> list[RunStatement]:
    """A run's statements, by store and currency."""
    found = await session.scalars(
        select(RunStatement)
        .where(RunStatement.run_id == run_id)
        .order_by(RunStatement.store_id, RunStatement.currency)
    )
    return list(found)


async def count_statements(session: AsyncSession, run_id: str) -> int:
    """How many statements a run has."""
    found = await session.scalar(
        select(func.count()).select_from(RunStatement).where(RunStatement.run_id == run_id)
    )
    return int(found or 0)


async def statement_batch(
    session: AsyncSession, run_id: str, *, after: str | None, limit: int
) -> list[RunStatement]:
    """The next ``limit`` statements of a run, by id, after ``after``."""
    query = select(RunStatement).where(RunStatement.run_id == run_id)
    if after is not None:
        query = query.where(RunStatement.id > after)
    found = await session.scalars(query.order_by(RunStatement.id).limit(limit))
    return list(found)


async def lock_balances(
    session: AsyncSession, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str, AccountKind], int]:
    """The due accounts of these (store, currency) pairs, locked in id order as the ledger locks
    them, and their balances on the normal side; an account not opened yet is absent (0)."""
    if not keys:
        return {}
    stores = sorted({store_id for store_id, _ in keys})
    wanted = set(keys)
    rows = await session.execute(
        select(
            LedgerAccount.id,
            LedgerAccount.store_id,
            LedgerAccount.currency,
            LedgerAccount.kind,
            LedgerAccount.balance_minor,
        )
        .where(LedgerAccount.store_id.in_(stores), LedgerAccount.kind.in_(DUE_ACCOUNTS))
        .order_by(LedgerAccount.id)
        .with_for_update()
    )
    found: dict[tuple[str, str, AccountKind], int] = {}
    for _, store_id, currency, kind, balance in rows:
        if store_id is not None and (store_id, currency) in wanted:
            kind = AccountKind(kind)
            found[(store_id, currency, kind)] = ACCOUNTS[kind].shown(int(balance))
    return found


async def supersede(session: AsyncSession, run_ids: Sequence[str], now: datetime) -> None:
    """Mark previewed runs superseded."""
    if run_ids:
        await session.execute(
            update(PayoutRun)
            .where(PayoutRun.id.in_(run_ids), PayoutRun.status == RunStatus.previewed)
            .values(status=RunStatus.superseded, superseded_at=now)
        )

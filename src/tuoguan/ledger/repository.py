"""Queries for the ledger: accounts (found, opened, locked), entries, postings, the check's sums."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.db import bulk_insert, table_of
from tuoguan.kit.ids import new_ids
from tuoguan.kit.keyset import Keyset
from tuoguan.ledger.accounts import ACCOUNTS, AccountKind
from tuoguan.ledger.kinds import EntryKind
from tuoguan.ledger.models import JournalEntry, LedgerAccount, Posting
from tuoguan.ledger.records import Account, Entry, Line
from tuoguan.stores.models import Store

ACCOUNT = table_of(LedgerAccount)
ENTRY = table_of(JournalEntry)
POSTING = table_of(Posting)
MOVEMENTS = Keyset((Posting.posted_at, Posting.id), ("instant", "int"), descending=True)
ACCOUNT_PAGES = Keyset((LedgerAccount.id,), ("id",))
# (store id or None for the platform's, kind): one account per currency.
AccountKey = tuple[str | None, AccountKind]
_ACCOUNT_COLUMNS = (
    ACCOUNT.c.id,
    ACCOUNT.c.kind,
    ACCOUNT.c.store_id,
    ACCOUNT.c.currency,
    ACCOUNT.c.balance_minor,
    ACCOUNT.c.closed_at,
)


def _account(row: Any) -> Account:
    return Account(
        id=row.id,
        kind=AccountKind(row.kind),
        store_id=row.store_id,
        currency=row.currency,
        balance_minor=int(row.balance_minor),
        closed_at=row.closed_at,
    )


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


# -- accounts ---------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _lock_by_keys(platform: tuple[bool, ...]) -> Select[Any]:
    """SELECT ... FOR UPDATE of accounts by (store or the platform's, kind) and currency, one
    condition per key; built once per shape, since an entry runs it every time."""
    c = ACCOUNT.c
    wanted = [
        and_(
            c.store_id.is_(None) if mine else c.store_id == bindparam(f"store_{n}"),
            c.kind == bindparam(f"kind_{n}"),
        )
        for n, mine in enumerate(platform)
    ]
    return (
        select(*_ACCOUNT_COLUMNS)
        .where(c.currency == bindparam("currency"), or_(*wanted))
        .order_by(c.id)
        .with_for_update()
    )


async def lock_accounts(
    session: AsyncSession, *, currency: str, keys: Iterable[AccountKey]
) -> dict[AccountKey, Account]:
    """The accounts of these keys in one currency, each row locked (FOR UPDATE, in id order)."""
    keys = list(keys)
    params: dict[str, Any] = {"currency": currency}
    for n, (store_id, kind) in enumerate(keys):
        params[f"kind_{n}"] = kind.value
        if store_id is not None:
            params[f"store_{n}"] = store_id
    statement = _lock_by_keys(tuple(store_id is None for store_id, _ in keys))
    connection = await session.connection()
    found = [_account(row) for row in await connection.execute(statement, params)]
    return {(account.store_id, account.kind): account for account in found}


async def open_accounts(
    session: AsyncSession, *, currency: str, keys: Sequence[AccountKey], now: datetime
) -> None:
    """Insert the accounts of these keys; where another transaction opened one first, that one
    is kept.

    The keys go in one order (the platform's first, then by store and kind) so two transactions
    opening overlapping sets wait on each other, never in a cycle.
    """
    ordered = sorted(keys, key=lambda key: (key[0] is not None, key[0] or "", key[1].value))
    ids = new_ids("ledger_account", len(ordered))
    rows = [
        {
            "id": account_id,
            "owner_type": ACCOUNTS[kind].owner.value,
            "store_id": store_id,
            "kind": kind.value,
            "currency": currency,
            "balance_minor": 0,
            "closed_at": None,
            "created_at": now,
        }
        for account_id, (store_id, kind) in zip(ids, ordered, strict=True)
    ]
    await session.execute(_insert(session)(ACCOUNT).values(rows).on_conflict_do_nothing())


@lru_cache(maxsize=64)
def _lock_by_ids(count: int) -> Select[Any]:
    """SELECT ... FOR UPDATE of ``count`` accounts by id (built once per count)."""
    wanted: list[Any] = [bindparam(f"id_{n}") for n in range(count)]
    return (
        select(*_ACCOUNT_COLUMNS)
        .where(ACCOUNT.c.id.in_(wanted))
        .order_by(ACCOUNT.c.id)
        .with_for_update()
    )


async def lock_by_ids(session: AsyncSession, ids: Iterable[str]) -> dict[str, Account]:
    """Accounts by id, each row locked (FOR UPDATE, in id order)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    connection = await session.connection()
    rows = await connection.execute(
        _lock_by_ids(len(wanted)), {f"id_{n}": value for n, value in enumerate(wanted)}
    )
    return {row.id: _account(row) for row in rows}


async def close(session: AsyncSession, account_id: str, now: datetime) -> None:
    """Mark an account closed."""
    await session.execute(update(ACCOUNT).where(ACCOUNT.c.id == account_id).values(closed_at=now))


async def get_account(session: AsyncSession, account_id: str) -> Account | None:
    """An account as it is now."""
    row = (
        await session.execute(select(*_ACCOUNT_COLUMNS).where(ACCOUNT.c.id == account_id))
    ).first()
    return _account(row) if row is not None else None


async def find_account(
    session: AsyncSession, *, kind: AccountKind, currency: str, store_id: str | None
) -> Account | None:
    """The account of a store (or the platform's, ``store_id`` None) of a kind and currency."""
    c = ACCOUNT.c
    owner = c.store_id.is_(None) if store_id is None else c.store_id == store_id
    row = (
        await session.execute(
            select(*_ACCOUNT_COLUMNS).where(owner, c.kind == kind.value, c.currency == currency)
        )
    ).first()
    return _account(row) if row is not None else None


async def store_exists(session: AsyncSession, store_id: str) -> bool:
    """Whether a store of this id exists."""
    return await session.scalar(select(Store.id).where(Store.id == store_id)) is not None


# -- entries and postings -----------------------------------------------------------------------


async def write_entry(
    session: AsyncSession,
    entry: dict[str, Any],
    postings: list[dict[str, Any]],
    deltas: dict[str, int],
    *,
    guarded: bool,
) -> bool:
    """Append an entry and its postings and add the deltas to the (locked) accounts' balances.

    With ``guarded``, False and nothing written when the entry's idempotency key or the entry
    it reverses is taken already (by another transaction, committed first). The rows go to
    the driver as they are (an executemany each): an entry is written often.
    """
    if guarded:
        added = _insert(session)(ENTRY).values(entry).on_conflict_do_nothing()
        # RETURNING, not rowcount: the drivers do not agree on an INSERT's rowcount.
        if (await session.execute(added.returning(ENTRY.c.id))).first() is None:
            return False
    else:
        await bulk_insert(session, ENTRY, [entry])
    await bulk_insert(session, POSTING, postings)
    changed = [(delta, account_id) for account_id, delta in deltas.items() if delta]
    if changed:
        connection = await session.connection()
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        await connection.exec_driver_sql(
            f"UPDATE ledger_accounts SET balance_minor = balance_minor + {mark} WHERE id = {mark}",
            changed,
        )
    return True


_BY_IDEM = (
    select(JournalEntry)
    .where(JournalEntry.idem_key == bindparam("idem_key"))
    .execution_options(populate_existing=True)
)


async def entry_by_idem(session: AsyncSession, idem_key: str) -> JournalEntry | None:
    """The entry posted under an idempotency key."""
    return await session.scalar(_BY_IDEM, {"idem_key": idem_key})


async def get_entry(session: AsyncSession, entry_id: str) -> JournalEntry | None:
    """An entry by id."""
    return await session.get(JournalEntry, entry_id)


async def reversal_of(session: AsyncSession, entry_id: str) -> str | None:
    """The id of the entry that reverses this one, if any."""
    return await session.scalar(select(JournalEntry.id).where(JournalEntry.reverses_id == entry_id))


async def lines_of(session: AsyncSession, entry_ids: Sequence[str]) -> dict[str, list[Line]]:
    """The lines of these entries, each entry's in posting order."""
    p, a = POSTING.c, ACCOUNT.c
    rows = await session.execute(
        select(p.entry_id, p.account_id, a.kind, a.store_id, p.amount_minor, p.currency)
        .join(ACCOUNT, a.id == p.account_id)
        .where(p.entry_id.in_(entry_ids))
        .order_by(p.entry_id, p.id)
    )
    lines: dict[str, list[Line]] = {entry_id: [] for entry_id in entry_ids}
    for entry_id, account_id, kind, store_id, amount, code in rows:
        lines[entry_id].append(Line(account_id, AccountKind(kind), store_id, int(amount), code))
    return lines


def entry_record(entry: JournalEntry, lines: list[Line]) -> Entry:
    """An entry row and its lines as a value."""
    return Entry(
        id=entry.id,
        kind=entry.kind,
        store_id=entry.store_id,
        currency=entry.currency,
        subject_type=entry.subject_type,
        subject_id=entry.subject_id,
        parts=dict(entry.parts),
        reverses_id=entry.reverses_id,
        idem_key=entry.idem_key,
        memo=entry.memo,
        actor_id=entry.actor_id,
        posted_at=entry.posted_at,
        lines=lines,
    )


async def entries_of_subject(
    session: AsyncSession, *, subject_type: str, subject_id: str
) -> list[JournalEntry]:
    """The entries about one object, oldest first."""
    rows = await session.scalars(
        select(JournalEntry)
        .where(JournalEntry.subject_type == subject_type, JournalEntry.subject_id == subject_id)
        .order_by(JournalEntry.posted_at, JournalEntry.id)
    )
    return list(rows)


async def movements(
    session: AsyncSession, *, account_id: str, cursor: str | None, limit: int
) -> tuple[list[Posting], str | None]:
    """An account's postings, newest first, a keyset page off ``ix_postings_account``."""
    query = select(Posting).where(Posting.account_id == account_id)
    return await MOVEMENTS.page(session, [query], cursor=cursor, limit=limit)


async def movements_of(
    session: AsyncSession,
    *,
    account_ids: Sequence[str],
    kind: EntryKind | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Posting], str | None]:
    """The postings of some accounts, newest first: one range of ``ix_postings_account`` per
    account (the period bounds it), merged; an entry kind is checked per posting read, in the
    index's order, so a page stops as soon as it is full."""
    queries = []
    for account_id in account_ids:
        query = select(Posting).where(Posting.account_id == account_id)
        if since is not None:
            query = query.where(Posting.posted_at >= since)
        if until is not None:
            query = query.where(Posting.posted_at < until)
        if kind is not None:
            query = query.where(
                exists().where(JournalEntry.id == Posting.entry_id, JournalEntry.kind == kind)
            )
        queries.append(query)
    if not queries:
        MOVEMENTS.seek(cursor)  # a cursor that is not ours is still a 400
        return [], None
    return await MOVEMENTS.page(session, queries, cursor=cursor, limit=limit)


async def entries_by_id(session: AsyncSession, entry_ids: Iterable[str]) -> dict[str, JournalEntry]:
    """Entries by id, in one query."""
    wanted = sorted(set(entry_ids))
    if not wanted:
        return {}
    rows = await session.scalars(select(JournalEntry).where(JournalEntry.id.in_(wanted)))
    return {entry.id: entry for entry in rows}


async def reversals(session: AsyncSession, entry_ids: Iterable[str]) -> dict[str, str]:
    """The entry that reverses each of these, where one does (off ``uq_journal_entries_reverses``)."""
    wanted = sorted(set(entry_ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(JournalEntry.reverses_id, JournalEntry.id).where(
            JournalEntry.reverses_id.in_(wanted)
        )
    )
    return {str(original): mirror for original, mirror in rows}


async def accounts_by_id(session: AsyncSession, account_ids: Iterable[str]) -> dict[str, Account]:
    """Accounts by id, unlocked, in one query."""
    wanted = sorted(set(account_ids))
    if not wanted:
        return {}
    rows = await session.execute(select(*_ACCOUNT_COLUMNS).where(ACCOUNT.c.id.in_(wanted)))
    return {row.id: _account(row) for row in rows}


async def list_accounts(
    session: AsyncSession,
    *,
    store_ids: Sequence[str] | None,
    platform: bool | None,
    currency: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Account], str | None]:
    """Accounts by id, a keyset page: of these stores (one range of
    ``uq_ledger_accounts_store_kind`` each, a store's handful sorted), the platform's
    (``platform`` True), every store's (False), or all (None)."""
    base = select(LedgerAccount)
    if currency is not None:
        base = base.where(LedgerAccount.currency == currency)
    if store_ids is not None:
        queries = [base.where(LedgerAccount.store_id == store_id) for store_id in store_ids]
    elif platform is None:
        queries = [base]
    elif platform:
        queries = [base.where(LedgerAccount.store_id.is_(None))]
    else:
        queries = [base.where(LedgerAccount.store_id.is_not(None))]
    if not queries:
        ACCOUNT_PAGES.seek(cursor)  # a cursor that is not ours is still a 400
        return [], None
    rows, next_cursor = await ACCOUNT_PAGES.page(session, queries, cursor=cursor, limit=limit)
    return [_account(row) for row in rows], next_cursor


async def seller_store_ids(session: AsyncSession, seller_id: str) -> list[str]:
    """A seller's stores (off ``ix_stores_seller``)."""
    rows = await session.scalars(
        select(Store.id).where(Store.seller_id == seller_id).order_by(Store.id)
    )
    return list(rows)


# -- the check ----------------------------------------------------------------------------------


async def stored_balances(session: AsyncSession) -> dict[str, Account]:
    """Every account with its stored balance."""
    rows = await session.execute(select(*_ACCOUNT_COLUMNS))
    return {row.id: _account(row) for row in rows}


async def sums_per_account(
    session: AsyncSession,
) -> AsyncIterator[tuple[str, str, int, int]]:
    """The postings summed per (account, currency), streamed: (account, currency, rows, sum)."""
    p = POSTING.c
    result = await session.stream(
        select(p.account_id, p.currency, func.count(), func.sum(p.amount_minor)).group_by(
            p.account_id, p.currency
        )
    )
    async for account_id, code, count, total in result:
        yield account_id, code, int(count), int(total)


async def unbalanced_entries(session: AsyncSession) -> list[tuple[str, str, int]]:
    """(entry, currency, sum) of each entry whose postings do not sum to zero in a currency."""
    p = POSTING.c
    total = func.sum(p.amount_minor)
    rows = await session.execute(
        select(p.entry_id, p.currency, total)
        .group_by(p.entry_id, p.currency)
        .having(total != 0)
        .order_by(p.entry_id)
    )
    return [(entry_id, code, int(amount)) for entry_id, code, amount in rows]

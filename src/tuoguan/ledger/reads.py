"""Ledger reads: an account and its balance on its normal side, an account's movements newest
first (keyset pages), an entry and the entries about one object, with their lines."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.errors import InvalidInput, NotFound
from tuoguan.ledger import amounts, repository
from tuoguan.ledger.accounts import ACCOUNTS, AccountKind, Owner
from tuoguan.ledger.models import Posting
from tuoguan.ledger.records import Account, Entry


async def get_account(session: AsyncSession, account_id: str) -> Account:
    """An account and its balance, as it is now (404 if there is none)."""
    account = await repository.get_account(session, account_id)
    if account is None:
        raise NotFound(f"account {account_id} does not exist", field="account_id")
    return account


async def balance(
    session: AsyncSession,
    *,
    kind: AccountKind,
    currency: str,
    store_id: str | None = None,
) -> int:
    """An account's balance on its normal side (a store's, or the platform's); 0 before any
    posting opened it."""
    if (ACCOUNTS[kind].owner is Owner.store) != (store_id is not None):
        raise InvalidInput(
            f"{kind.value} is a {ACCOUNTS[kind].owner.value}'s account",
            field="store_id",
            rule="account_owner",
        )
    account = await repository.find_account(
        session, kind=kind, currency=amounts.currency(currency), store_id=store_id
    )
    return account.shown_minor if account else 0


async def movements(
    session: AsyncSession, *, account_id: str, cursor: str | None = None, limit: int = 50
) -> tuple[list[Posting], str | None]:
    """An account's postings, newest first, and the cursor of the next page."""
    return await repository.movements(session, account_id=account_id, cursor=cursor, limit=limit)


async def entries_of(session: AsyncSession, *, subject_type: str, subject_id: str) -> list[Entry]:
    """The entries about one object (an order, a penalty, a claim), oldest first, with lines."""
    entries = await repository.entries_of_subject(
        session, subject_type=subject_type, subject_id=subject_id
    )
    lines = await repository.lines_of(session, [entry.id for entry in entries])
    return [repository.entry_record(entry, lines[entry.id]) for entry in entries]


async def get_entry(session: AsyncSession, entry_id: str) -> Entry:
    """An entry and its lines (404 if there is none)."""
    entry = await repository.get_entry(session, entry_id)
    if entry is None:
        raise NotFound(f"journal entry {entry_id} does not exist", field="entry_id")
    lines = await repository.lines_of(session, [entry.id])
    return repository.entry_record(entry, lines[entry.id])

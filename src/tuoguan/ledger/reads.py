"""Ledger reads: an account and its balance on its normal side, an account's movements newest
first (keyset pages), an entry and the entries about one object, with their lines; and the same
as a caller may read them (``*_for``: a seller its own stores' accounts and lines only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.errors import Forbidden, InvalidInput, NotFound
from tuoguan.ledger import amounts, repository
from tuoguan.ledger.accounts import ACCOUNTS, AccountKind, Owner
from tuoguan.ledger.kinds import EntryKind
from tuoguan.ledger.models import Posting
from tuoguan.ledger.records import Account, Entry, Movement
from tuoguan.principal import Principal, Role


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


# -- as a caller may read them: operators everything, a seller its own stores' accounts and, of
# an entry, only the lines on them (never the platform's margin, commission or costs) -----------


async def stores_of(session: AsyncSession, principal: Principal) -> frozenset[str] | None:
    """The stores whose accounts the caller reads: None for every one (operators, the system),
    a seller's own; any other role may not read the ledger (403)."""
    if principal.role in (Role.operator, Role.system):
        return None
    if principal.role is Role.seller and principal.seller_id:
        return frozenset(await repository.seller_store_ids(session, principal.seller_id))
    raise Forbidden(f"a {principal.role.value} may not read the ledger")


async def list_accounts(
    session: AsyncSession,
    principal: Principal,
    *,
    store_id: str | None = None,
    seller_id: str | None = None,
    owner: Owner | None = None,
    currency: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> tuple[list[Account], str | None]:
    """Accounts by id, a keyset page: operators any (a store's, a seller's stores', the
    platform's), a seller its own stores' (another store's, or the platform's: an empty page,
    the ledger not read)."""
    mine = await stores_of(session, principal)
    code = amounts.currency(currency) if currency is not None else None
    stores: list[str] | None = None
    if store_id is not None:
        stores = [store_id] if owner is not Owner.platform else []
    elif seller_id is not None and mine is None:
        found = await repository.seller_store_ids(session, seller_id)
        stores = found if owner is not Owner.platform else []
    if mine is not None:
        allowed = sorted(mine) if owner is not Owner.platform else []
        stores = [s for s in (stores if stores is not None else allowed) if s in mine]
    return await repository.list_accounts(
        session,
        store_ids=stores,
        platform=None if owner is None else owner is Owner.platform,
        currency=code,
        cursor=cursor,
        limit=limit,
    )


async def account_for(session: AsyncSession, principal: Principal, account_id: str) -> Account:
    """An account the caller may read; anyone else's is not found (no existence leak)."""
    mine = await stores_of(session, principal)
    account = await repository.get_account(session, account_id)
    if account is None or (mine is not None and account.store_id not in mine):
        raise NotFound(f"account {account_id} does not exist", field="account_id")
    return account


def _period(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and until <= since:
        raise InvalidInput("until comes after since", field="until", rule="after_since")


async def movements_of(
    session: AsyncSession,
    accounts: Sequence[Account],
    *,
    kind: EntryKind | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Movement], str | None]:
    """The postings of these accounts (already read through ``account_for`` or
    ``list_accounts``), newest first, with what each entry records; of one kind, in
    [since, until)."""
    _period(since, until)
    postings, next_cursor = await repository.movements_of(
        session,
        account_ids=[account.id for account in accounts],
        kind=kind,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
    by_id = {account.id: account for account in accounts}
    entries = await repository.entries_by_id(session, {p.entry_id for p in postings})
    return [
        Movement(
            id=p.id,
            entry_id=p.entry_id,
            account_id=p.account_id,
            account_kind=by_id[p.account_id].kind,
            store_id=by_id[p.account_id].store_id,
            kind=EntryKind(entries[p.entry_id].kind),
            amount_minor=p.amount_minor,
            currency=p.currency,
            posted_at=p.posted_at,
            subject_type=entries[p.entry_id].subject_type,
            subject_id=entries[p.entry_id].subject_id,
            reverses_id=entries[p.entry_id].reverses_id,
            memo=entries[p.entry_id].memo,
        )
        for p in postings
    ], next_cursor


def seen_by(entry: Entry, stores: frozenset[str] | None) -> Entry | None:
    """An entry as a reader of these stores sees it: only its lines on their accounts (None:
    every line), or None when it moves none of them."""
    if stores is None:
        return entry
    lines = [line for line in entry.lines if line.store_id is not None and line.store_id in stores]
    return replace(entry, lines=lines) if lines else None


async def entry_for(
    session: AsyncSession, principal: Principal, entry_id: str
) -> tuple[Entry, str | None]:
    """An entry as the caller may read it, and the entry reversing it if any; a seller's, only
    its stores' lines, and one that moves none of its accounts is not found."""
    mine = await stores_of(session, principal)
    shown = seen_by(await get_entry(session, entry_id), mine)
    if shown is None:
        raise NotFound(f"journal entry {entry_id} does not exist", field="entry_id")
    return shown, (await repository.reversals(session, [entry_id])).get(entry_id)


async def subject_entries_for(
    session: AsyncSession, principal: Principal, *, subject_type: str, subject_id: str
) -> list[tuple[Entry, str | None]]:
    """The entries about one object (whose visibility the caller checked), oldest first, as
    the caller may read them, each with the entry reversing it if any."""
    mine = await stores_of(session, principal)
    found = await entries_of(session, subject_type=subject_type, subject_id=subject_id)
    mirrors = await repository.reversals(session, [entry.id for entry in found])
    return [
        (shown, mirrors.get(entry.id))
        for entry in found
        if (shown := seen_by(entry, mine)) is not None
    ]

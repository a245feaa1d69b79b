"""Ledger use cases: post an entry of a kind, reverse one, an operator's adjustment, close an
account (the reads are in ``ledger.reads``). Each write is one entry, its postings and its
balances in the caller's transaction, with an audit event; nothing commits here, and a refused
write has written nothing.

Concurrency: the accounts an entry touches are locked in id order (SELECT ... FOR UPDATE on
PostgreSQL; SQLite admits one writer at a time) before their balances are read, so two entries
drawing on one account see each other's result and a balance that must not go below zero never
does. An account not opened yet counts as empty until the entry is known to be allowed; it is
then opened (INSERT ... ON CONFLICT DO NOTHING, so two openers of one account keep one), locked
and checked again. An entry with an idempotency key is looked up after the locks are taken, so
a retry finds the first post even when the first committed a moment before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput, NotFound
from tuoguan.kit.ids import new_id
from tuoguan.ledger import amounts, repository
from tuoguan.ledger.accounts import ACCOUNTS, AccountKind, Owner
from tuoguan.ledger.kinds import EntryKind
from tuoguan.ledger.models import JournalEntry
from tuoguan.ledger.records import Account, Entry, Line
from tuoguan.principal import Role

# Who may write an entry by hand or close an account.
_BOOKKEEPERS = (Role.operator, Role.system)


def _closed(account: Account, field: str) -> Conflict:
    return Conflict(
        f"account {account.id} ({account.kind.value}, {account.currency}) is closed: "
        "it takes no more postings",
        field=field,
        rule="account_open",
        account_id=account.id,
        account_kind=account.kind.value,
    )


def _check_accounts(
    accounts: Mapping[str, Account], deltas: Mapping[str, int], *, field: str
) -> None:
    """Refuse a posting to a closed account, or one that would take an account below zero
    where it must not go (409, naming the account kind and what it holds)."""
    for account_id, delta in sorted(deltas.items()):
        account = accounts[account_id]
        if account.closed:
            raise _closed(account, field)
        spec = ACCOUNTS[account.kind]
        if spec.breaks_floor(account.balance_minor + delta):
            whose = f"store {account.store_id}'s" if account.store_id else "the platform's"
            raise Conflict(
                f"insufficient {account.kind.value}: {whose} {account.kind.value} holds "
                f"{account.shown_minor} {account.currency} (minor units), this entry would "
                f"take it to {spec.shown(account.balance_minor + delta)}; it never goes below zero",
                field=field,
                rule="insufficient_balance",
                account_id=account.id,
                account_kind=account.kind.value,
                balance_minor=account.shown_minor,
                currency=account.currency,
            )


async def _write(
    session: AsyncSession,
    ctx: Ctx,
    *,
    kind: EntryKind,
    legs: Sequence[tuple[Account, int]],
    parts: dict[str, int],
    currency: str | None,
    store_id: str | None,
    subject: tuple[str, str | None] | None,
    reverses_id: str | None,
    idem_key: str | None,
    memo: str | None,
    action: str,
) -> Entry | None:
    """Append the entry, its postings and the balances; None when the entry's idempotency key
    or the entry it reverses was taken meanwhile (nothing written)."""
    now = ctx.clock.now()
    entry_id = new_id("journal_entry")
    row = {
        "id": entry_id,
        "kind": kind.value,
        "store_id": store_id,
        "currency": currency,
        "subject_type": subject[0] if subject else None,
        "subject_id": subject[1] if subject else None,
        "parts": parts,
        "reverses_id": reverses_id,
        "idem_key": idem_key,
        "memo": memo,
        "actor_id": ctx.principal.actor_id,
        "request_id": ctx.request_id,
        "posted_at": now,
    }
    postings = [
        {
            "entry_id": entry_id,
            "account_id": account.id,
            "amount_minor": amount,
            "currency": account.currency,
            "posted_at": now,
        }
        for account, amount in legs
    ]
    deltas: dict[str, int] = defaultdict(int)
    for account, amount in legs:
        deltas[account.id] += amount
    guarded = idem_key is not None or reverses_id is not None
    if not await repository.write_entry(session, row, postings, deltas, guarded=guarded):
        return None
    lines = [
        Line(account.id, account.kind, account.store_id, amount, account.currency)
        for account, amount in legs
    ]
    event = audit.event_row(
        ctx=ctx,
        subject_type="journal_entry",
        subject_id=entry_id,
        store_id=store_id,
        action=action,
        reason=memo,
        data={
            "kind": kind.value,
            "parts": parts,
            "currency": currency,
            "reverses_id": reverses_id,
            "postings": [[line.account_id, line.amount_minor, line.currency] for line in lines],
        },
    )
    await audit.record_many(session, [event])
    return Entry(
        id=entry_id,
        kind=kind,
        store_id=store_id,
        currency=currency,
        subject_type=subject[0] if subject else None,
        subject_id=subject[1] if subject else None,
        parts=parts,
        reverses_id=reverses_id,
        idem_key=idem_key,
        memo=memo,
        actor_id=ctx.principal.actor_id,
        posted_at=now,
        lines=lines,
    )


async def _record(session: AsyncSession, entry: JournalEntry) -> Entry:
    lines = await repository.lines_of(session, [entry.id])
    return repository.entry_record(entry, lines[entry.id])


async def _same_post(
    session: AsyncSession,
    idem_key: str,
    *,
    kind: EntryKind,
    currency: str,
    parts: dict[str, int],
    store_id: str | None,
) -> Entry | None:
    """The entry posted before under ``idem_key`` if it is this post; 409 if it is another."""
    existing = await repository.entry_by_idem(session, idem_key)
    if existing is None:
        return None
    same = (existing.kind, existing.currency, existing.store_id, dict(existing.parts)) == (
        kind,
        currency,
        store_id,
        parts,
    )
    if not same:
        raise Conflict(
            f"idempotency key {idem_key!r} was used for another entry ({existing.id}: "
            f"{existing.kind.value} {existing.parts} {existing.currency})",
            field="idem_key",
            rule="idem_key_reused",
            entry_id=existing.id,
        )
    return await _record(session, existing)


Key = tuple[str | None, AccountKind]


async def _accounts_for(
    session: AsyncSession, *, currency: str, store_id: str | None, needed: list[Key]
) -> dict[Key, Account]:
    """The accounts an entry posts to, locked; one not opened yet stands in as an empty,
    unsaved account (its id empty) until the entry is known to be allowed."""
    found = await repository.lock_accounts(session, currency=currency, keys=needed)
    opened = any(key[0] == store_id for key in found)
    if store_id is not None and not opened and not await repository.store_exists(session, store_id):
        raise InvalidInput(f"store {store_id} does not exist", field="store_id", rule="known_store")
    return {
        key: found.get(key)
        or Account(id="", kind=key[1], store_id=key[0], currency=currency, balance_minor=0)
        for key in needed
    }


def _legs(
    accounts: Mapping[Key, Account],
    owner_of: Mapping[AccountKind, str | None],
    postings: Sequence[tuple[AccountKind, int]],
) -> list[tuple[Account, int]]:
    """Each posting on its account, refused if one is closed or would go below its floor."""
    legs = [(accounts[(owner_of[kind], kind)], amount) for kind, amount in postings]
    deltas: dict[str, int] = defaultdict(int)
    by_id: dict[str, Account] = {}
    for account, amount in legs:
        label = account.id or f"(new {account.kind.value})"
        deltas[label] += amount
        by_id[label] = account
    _check_accounts(by_id, deltas, field="parts")
    return legs


async def post(
    session: AsyncSession,
    ctx: Ctx,
    kind: EntryKind | str,
    *,
    currency: str,
    parts: Mapping[str, Any],
    store_id: str | None = None,
    subject: tuple[str, str | None] | None = None,
    idem_key: str | None = None,
    memo: str | None = None,
) -> Entry:
    """Post one entry of a kind: its legs from the kinds table, the parts in minor units.

    Refused, with nothing written: an unknown kind or parts that are not its parts (422), a part
    that is not a non-negative integer (422, "fractions of a minor unit" for one with a fraction),
    a currency that is not ISO 4217 (422), a closed account or one that would go below zero
    where it must not (409), an idempotency key used for another entry (409). The same
    ``idem_key`` with the same kind, currency, store and parts returns the entry posted before.
    """
    spec = amounts.entry_kind(kind)
    if spec.free:
        raise InvalidInput(
            "an adjustment is made leg by leg (adjust), not from parts",
            field="kind",
            rule="adjustment_by_hand",
        )
    code = amounts.currency(currency)
    values = amounts.parts_of(spec, parts)
    amounts.fits(
        idem_key=idem_key,
        memo=memo,
        subject_type=subject[0] if subject else None,
        subject_id=subject[1] if subject else None,
    )
    if spec.needs_store and store_id is None:
        raise InvalidInput(
            f"a {spec.kind.value} entry posts to a store's accounts: name the store",
            field="store_id",
            rule="store_required",
        )
    postings = spec.postings(values)
    if not postings:
        raise InvalidInput(
            "an entry moves some money: every part is 0", field="parts", rule="not_empty"
        )
    owner_of = {
        account: (store_id if ACCOUNTS[account].owner is Owner.store else None)
        for account, _ in postings
    }
    needed = list(dict.fromkeys((owner_of[account], account) for account, _ in postings))
    accounts = await _accounts_for(session, currency=code, store_id=store_id, needed=needed)
    if idem_key is not None:
        before = await _same_post(
            session, idem_key, kind=spec.kind, currency=code, parts=values, store_id=store_id
        )
        if before is not None:
            return before
    legs = _legs(accounts, owner_of, postings)
    missing = [key for key, account in accounts.items() if not account.id]
    if missing:  # allowed: open them (another transaction may open them first), then lock
        await repository.open_accounts(session, currency=code, keys=missing, now=ctx.clock.now())
        found = await repository.lock_accounts(session, currency=code, keys=needed)
        legs = _legs(found, owner_of, postings)
    entry = await _write(
        session,
        ctx,
        kind=spec.kind,
        legs=legs,
        parts=values,
        currency=code,
        store_id=store_id,
        subject=subject,
        reverses_id=None,
        idem_key=idem_key,
        memo=memo,
        action="post",
    )
    if entry is None:  # another transaction posted this key first, on other accounts
        assert idem_key is not None
        before = await _same_post(
            session, idem_key, kind=spec.kind, currency=code, parts=values, store_id=store_id
        )
        assert before is not None
        return before
    return entry


async def reverse(session: AsyncSession, ctx: Ctx, entry_id: str, reason: str) -> Entry:
    """Post the mirror of an entry (every posting negated), naming it in ``reverses_id``.

    An entry is reversed at most once and a reversal is not reversed (409); the mirror obeys
    the same rules as any entry (an account it would empty below zero, a closed account: 409).
    """
    if not reason or not reason.strip():
        raise InvalidInput("say why the entry is reversed", field="reason", rule="reason_required")
    amounts.fits(reason=reason.strip())
    entry = await repository.get_entry(session, entry_id)
    if entry is None:
        raise NotFound(f"journal entry {entry_id} does not exist", field="entry_id")
    if entry.reverses_id is not None:
        raise Conflict(
            f"entry {entry_id} is itself a reversal (of {entry.reverses_id}); post the entry "
            "again instead of reversing its reversal",
            field="entry_id",
            rule="reversal_not_reversed",
        )
    lines = (await repository.lines_of(session, [entry_id]))[entry_id]
    accounts = await repository.lock_by_ids(session, [line.account_id for line in lines])
    once = _reversed_once(entry_id)
    if await repository.reversal_of(session, entry_id) is not None:
        raise once
    legs = [(accounts[line.account_id], -line.amount_minor) for line in lines]
    deltas: dict[str, int] = defaultdict(int)
    for account, amount in legs:
        deltas[account.id] += amount
    _check_accounts(accounts, deltas, field="entry_id")
    mirror = await _write(
        session,
        ctx,
        kind=entry.kind,
        legs=legs,
        parts=dict(entry.parts),
        currency=entry.currency,
        store_id=entry.store_id,
        subject=(entry.subject_type, entry.subject_id) if entry.subject_type else None,
        reverses_id=entry_id,
        idem_key=None,
        memo=reason.strip(),
        action="reverse",
    )
    if mirror is None:
        raise once
    return mirror


def _reversed_once(entry_id: str) -> Conflict:
    return Conflict(
        f"entry {entry_id} is reversed already; an entry is reversed at most once",
        field="entry_id",
        rule="reversed_once",
    )


async def adjust(
    session: AsyncSession, ctx: Ctx, legs: Sequence[tuple[str, Any, str]], memo: str
) -> Entry:
    """An operator's hand-made entry: (account id, signed amount, currency) per leg, balanced
    per currency, each leg in its account's currency, with a memo saying why."""
    if ctx.principal.role not in _BOOKKEEPERS:
        raise Forbidden("only an operator writes an entry by hand")
    if not memo or not memo.strip():
        raise InvalidInput("say why the entry is made", field="memo", rule="memo_required")
    amounts.fits(memo=memo.strip())
    if len(legs) < 2:
        raise InvalidInput("an entry has at least two legs", field="postings", rule="two_legs")
    checked = []
    for index, (account_id, amount, code) in enumerate(legs):
        value = amounts.minor_units(amount, field=f"postings.{index}", allow_negative=True)
        if value == 0:
            raise InvalidInput(
                "a leg moves some money", field=f"postings.{index}", rule="leg_not_zero"
            )
        checked.append((str(account_id), value, amounts.currency(code, field="currency")))
    amounts.legs_balanced(checked)
    accounts = await repository.lock_by_ids(session, [account_id for account_id, _, _ in checked])
    for account_id, _, code in checked:
        account = accounts.get(account_id)
        if account is None:
            raise InvalidInput(
                f"account {account_id} does not exist", field="postings", rule="known_account"
            )
        if account.currency != code:
            raise InvalidInput(
                f"a {code} leg on account {account_id}, which keeps {account.currency}",
                field="currency",
                rule="matches_account",
            )
    deltas: dict[str, int] = defaultdict(int)
    for account_id, value, _ in checked:
        deltas[account_id] += value
    _check_accounts(accounts, deltas, field="postings")
    stores = {accounts[a].store_id for a, _, _ in checked} - {None}
    currencies = {code for _, _, code in checked}
    entry = await _write(
        session,
        ctx,
        kind=EntryKind.adjustment,
        legs=[(accounts[account_id], value) for account_id, value, _ in checked],
        parts={},
        currency=currencies.pop() if len(currencies) == 1 else None,
        store_id=stores.pop() if len(stores) == 1 else None,
        subject=None,
        reverses_id=None,
        idem_key=None,
        memo=memo.strip(),
        action="adjust",
    )
    assert entry is not None
    return entry


async def close_account(session: AsyncSession, ctx: Ctx, account_id: str, reason: str) -> Account:
    """Close an account at zero balance: it takes no more postings (409 otherwise)."""
    if ctx.principal.role not in _BOOKKEEPERS:
        raise Forbidden("only an operator closes an account")
    amounts.fits(reason=reason)
    account = (await repository.lock_by_ids(session, [account_id])).get(account_id)
    if account is None:
        raise NotFound(f"account {account_id} does not exist", field="account_id")
    if account.closed:
        raise _closed(account, "account_id")
    if account.balance_minor != 0:
        raise Conflict(
            f"account {account_id} ({account.kind.value}) holds {account.shown_minor} "
            f"{account.currency} (minor units): an account closes at zero",
            field="account_id",
            rule="zero_balance",
        )
    now = ctx.clock.now()
    await repository.close(session, account_id, now)
    audit.record(
        session,
        ctx=ctx,
        subject_type="ledger_account",
        subject_id=account_id,
        store_id=account.store_id,
        action="close",
        reason=reason,
        data={"kind": account.kind.value, "currency": account.currency},
    )
    return Account(account.id, account.kind, account.store_id, account.currency, 0, closed_at=now)

"""Payout accounts (收款账户, S3): the bank account a store is paid to, one in force at a time.

Its seller or an operator binds it; rebinding replaces it and keeps the old one as history
(payouts prepared before keep the account they were prepared for). Reads show the number
masked to its last four characters; only the payment rail is given all of it.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Forbidden, InvalidInput
from tuoguan.kit.ids import new_id
from tuoguan.ledger import amounts
from tuoguan.principal import Principal, Role
from tuoguan.settlement.models import Payout, PayoutAccount
from tuoguan.settlement.schemas import PAYOUT_VIEWS, PayoutAccountBind, PayoutAccountRead, mask
from tuoguan.stores import service as stores
from tuoguan.stores.models import Store


async def account_in_force(session: AsyncSession, store_id: str) -> PayoutAccount | None:
    """The store's bound payout account, if it has one."""
    found = await session.execute(
        select(PayoutAccount).where(
            PayoutAccount.store_id == store_id, PayoutAccount.replaced_at.is_(None)
        )
    )
    return found.scalar_one_or_none()


_BINDERS = (Role.seller, Role.operator)
_NUMBER = re.compile(r"^[A-Za-z0-9]{6,34}$")


def account_number(text: str) -> str:
    """The account number typed, its group separators (spaces, dashes) dropped, upper-cased;
    6 to 34 letters and digits (422 ``account_number_format`` otherwise)."""
    # Checked before upper-casing, which turns some letters into ASCII ("ﬀ" -> "FF").
    number = re.sub(r"[\s-]", "", text)
    if not _NUMBER.fullmatch(number):
        raise InvalidInput(
            "an account number is 6 to 34 letters and digits (spaces and dashes between "
            "groups are dropped)",
            field="account_number",
            rule="account_number_format",
        )
    return number.upper()


async def store_of(session: AsyncSession, principal: Principal, store_id: str) -> Store:
    """A store the principal may see (a seller its own; anyone else's is not found)."""
    return await stores.get_store(session, principal=principal, store_id=store_id)


async def bind_account(
    session: AsyncSession, ctx: Ctx, store_id: str, data: PayoutAccountBind
) -> PayoutAccount:
    """Bind the account a store is paid to (its seller, or an operator), replacing the one in
    force, which is kept as history; the same details again change nothing. Payouts prepared
    before keep the account they were prepared for."""
    if ctx.principal.role not in _BINDERS:
        raise Forbidden("only the store's seller or an operator binds its payout account")
    store = await store_of(session, ctx.principal, store_id)
    number = account_number(data.account_number)
    currency = amounts.currency(data.currency or store.currency)
    await session.execute(select(Store.id).where(Store.id == store.id).with_for_update())
    current = await account_in_force(session, store.id)
    details = (data.holder_name, data.bank_name, number, currency)
    if current is not None:
        if (current.holder_name, current.bank_name, current.account_number, current.currency) == (
            details
        ):
            return current
        current.replaced_at = ctx.clock.now()
        await session.flush()
    account = PayoutAccount(
        id=new_id("payout_account"),
        store_id=store.id,
        holder_name=data.holder_name,
        bank_name=data.bank_name,
        account_number=number,
        currency=currency,
        bound_at=ctx.clock.now(),
        bound_by=ctx.principal.actor_id,
    )
    session.add(account)
    audit.record(
        session,
        ctx=ctx,
        subject_type="payout_account",
        subject_id=account.id,
        store_id=store.id,
        action="bind",
        data={
            "holder_name": data.holder_name,
            "bank_name": data.bank_name,
            "account_number_last4": number[-4:],
            "currency": currency,
            "replaces": current.id if current else None,
        },
    )
    await session.flush()
    return account


async def account_book(
    session: AsyncSession, *, principal: Principal, store_id: str
) -> tuple[PayoutAccount | None, list[PayoutAccount]]:
    """A store's account in force and the ones it replaced, newest first."""
    if principal.role not in PAYOUT_VIEWS:
        raise Forbidden(f"a {principal.role.value} does not read payout accounts")
    store = await store_of(session, principal, store_id)
    rows = await session.scalars(
        select(PayoutAccount)
        .where(PayoutAccount.store_id == store.id)
        .order_by(PayoutAccount.bound_at.desc(), PayoutAccount.id.desc())
    )
    accounts = list(rows)
    current = next((a for a in accounts if a.replaced_at is None), None)
    return current, [a for a in accounts if a.replaced_at is not None]


def present_account(account: PayoutAccount) -> PayoutAccountRead:
    """An account as people read it: the number masked."""
    return PayoutAccountRead(
        id=account.id,
        store_id=account.store_id,
        holder_name=account.holder_name,
        bank_name=account.bank_name,
        account_number_masked=mask(account.account_number),
        currency=account.currency,
        bound_at=account.bound_at,
        bound_by=account.bound_by,
        replaced_at=account.replaced_at,
    )


async def accounts_of(
    session: AsyncSession, payouts: Collection[Payout]
) -> dict[str, PayoutAccount]:
    """The accounts the payouts go to, by id."""
    ids = {p.payout_account_id for p in payouts}
    if not ids:
        return {}
    rows = await session.scalars(select(PayoutAccount).where(PayoutAccount.id.in_(ids)))
    return {a.id: a for a in rows}

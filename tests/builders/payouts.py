"""Payout builders: a store's bound payout account, money due to pay out, the sandbox bank's
book and the payouts as the database holds them."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.builders.ledger import operator
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.ledger import service as ledger
from tuoguan.ledger.kinds import EntryKind
from tuoguan.settlement import payout_accounts, payouts
from tuoguan.settlement.models import Payout, PayoutAccount, PayoutPurpose, RailInstruction
from tuoguan.settlement.schemas import PayoutAccountBind

NUMBER = "6222021234567890"


async def bind(
    db: Database,
    store_id: str,
    *,
    currency: str | None = None,
    number: str = NUMBER,
    ctx: Ctx | None = None,
) -> PayoutAccount:
    """Bind a payout account to the store (as an operator), committed; ``currency`` the
    store's own unless given."""
    data = PayoutAccountBind(
        holder_name="Shenzhen Trading Co.",
        bank_name="ICBC Shenzhen",
        account_number=number,
        currency=currency,
    )
    async with db.write() as session:
        account = await payout_accounts.bind_account(session, ctx or operator(), store_id, data)
        await session.commit()
    return account


async def owe(db: Database, store_id: str, amount_minor: int, currency: str = "CNY") -> None:
    """Make ``amount_minor`` due to the store: an insurance claim paid onto its receivable."""
    async with db.write() as session:
        await ledger.post(
            session,
            operator(),
            EntryKind.insurance_claim_paid,
            currency=currency,
            parts={"amount": amount_minor},
            store_id=store_id,
        )
        await session.commit()


async def prepared(
    db: Database,
    store_id: str,
    amount_minor: int,
    *,
    currency: str = "CNY",
    key: str = "test-payout-1",
    ctx: Ctx | None = None,
) -> Payout:
    """A settlement payout prepared for the store, committed."""
    async with db.write() as session:
        payout = await payouts.prepare(
            session,
            ctx or operator(),
            store_id=store_id,
            currency=currency,
            amount_minor=amount_minor,
            purpose=PayoutPurpose.settlement,
            subject=None,
            idem_key=key,
        )
        await session.commit()
    return payout


async def instructions(db: Database, key: str | None = None) -> int:
    """How many instructions the sandbox bank recorded (for one payout, if ``key``)."""
    query = select(func.count()).select_from(RailInstruction)
    if key is not None:
        query = query.where(RailInstruction.key == key)
    async with db.read() as session:
        return int(await session.scalar(query) or 0)


async def payout(db: Database, payout_id: str) -> Payout:
    """A payout as stored now."""
    async with db.read() as session:
        found = await session.get(Payout, payout_id)
        assert found is not None
        return found

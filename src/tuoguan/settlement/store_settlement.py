"""One store settled off-cycle, up to now (S4): a store leaving full-managed gets its last
settlement at once, by the runs' own rule (``runs.settle``). Never commits."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.ledger import service as ledger
from tuoguan.ledger.accounts import AccountKind
from tuoguan.ledger.kinds import EntryKind
from tuoguan.settlement import payouts, runs
from tuoguan.settlement import run_repository as repository
from tuoguan.settlement.run_models import StatementStatus


@dataclass(frozen=True)
class StoreSettlement:
    """A store's last settlement in one currency: its accounts as they were, what was netted,
    what was paid (the payout prepared, if any) and what it still owes (its payable after)."""

    store_id: str
    currency: str
    receivable: int
    payable: int
    netted: int
    payout: int
    owed: int
    payout_id: str | None
    status: StatementStatus


async def settle_store(
    session: AsyncSession, ctx: Ctx, *, store_id: str, currency: str, subject: tuple[str, str]
) -> StoreSettlement:
    """S4: settle one store up to now, outside its cycle: a store leaving full-managed gets its
    last settlement at once. The caller decided who may (an approved exit's unbinding).

    The run's own rule (``settle``) on the store's accounts as they are now, locked: its debts
    (payable) are netted from what it is due (``debt_netted``) and the rest of the receivable is
    set aside in one payout to its bound account (``payouts.prepare``, 409
    ``payout_account_bound`` when it has none, with nothing written). Unlike a cycle's run,
    everything posted until now is settled: no later sale is waiting for a boundary. What it
    still owes after netting stays on its payable (the deposit refund takes it first). The
    subject names the keys, so the same subject settles once."""
    balances = await repository.lock_balances(session, [(store_id, currency)])
    receivable = balances.get((store_id, currency, AccountKind.receivable), 0)
    payable = balances.get((store_id, currency, AccountKind.payable), 0)
    in_clearing = balances.get((store_id, currency, AccountKind.payout_clearing), 0)
    outcome = runs.settle(
        receivable=receivable,
        payable=payable,
        in_clearing=in_clearing,
        closing=receivable + in_clearing - payable,
        bound=True,
    )
    key = f"{subject[0]}:{subject[1]}:{store_id}:{currency}"
    if outcome.netted:
        await ledger.post(
            session,
            ctx,
            EntryKind.debt_netted,
            currency=currency,
            parts={"amount": outcome.netted},
            store_id=store_id,
            subject=subject,
            idem_key=f"net:{key}",
            memo=f"{subject[0]} {subject[1]}: the last settlement, debts netted",
        )
    payout_id = None
    if outcome.payout > 0:
        payout = await payouts.prepare(
            session,
            ctx,
            store_id=store_id,
            currency=currency,
            amount_minor=outcome.payout,
            purpose=payouts.PayoutPurpose.settlement,
            subject=subject,
            idem_key=f"payout:{key}",
        )
        payout_id = payout.id
    audit.record(
        session,
        ctx=ctx,
        subject_type=subject[0],
        subject_id=subject[1],
        store_id=store_id,
        action="settle",
        to_state=outcome.status.value,
        data={
            "currency": currency,
            "receivable_minor": receivable,
            "payable_minor": payable,
            "netted_minor": outcome.netted,
            "payout_minor": outcome.payout,
            "payout_id": payout_id,
        },
    )
    await session.flush()
    return StoreSettlement(
        store_id=store_id,
        currency=currency,
        receivable=receivable,
        payable=payable,
        netted=outcome.netted,
        payout=outcome.payout,
        owed=max(payable - outcome.netted, 0),
        payout_id=payout_id,
        status=outcome.status,
    )

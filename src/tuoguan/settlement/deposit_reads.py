"""Reading deposits (S3): a store's refund applications and the operators' queue, and each as
the API shows it. An approved application reads as paid or failed from its payout's status.
Every full-managed store's deposit, a page at a time, for the operators' list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.errors import Forbidden, NotFound
from tuoguan.kit.keyset import Keyset
from tuoguan.kit.pagination import encode_cursor
from tuoguan.ledger.accounts import ACCOUNTS, AccountKind
from tuoguan.ledger.models import LedgerAccount
from tuoguan.principal import Principal, Role
from tuoguan.settlement import deposit_rates
from tuoguan.settlement.deposit_checks import DebtLine
from tuoguan.settlement.deposit_models import (
    DepositRate,
    DepositRefund,
    DepositRefundStatus,
    DepositState,
)
from tuoguan.settlement.deposit_schemas import (
    DebtLineRead,
    DeductionRead,
    DepositRateRead,
    DepositRefundRead,
    DepositStatusRead,
    PreconditionRead,
)
from tuoguan.settlement.deposits import Status, state_of
from tuoguan.settlement.models import Payout, PayoutStatus
from tuoguan.stores import service as stores
from tuoguan.stores.models import Seller, Store, StoreMode

_READERS = (Role.operator, Role.seller, Role.system)
QUEUE = Keyset((DepositRefund.queue_rank, DepositRefund.id), ("int", "id"))
NEWEST = Keyset((DepositRefund.id,), ("id",), descending=True)
STORES = Keyset((Store.id,), ("id",))
# What an approved refund reads as once its payout has an answer from the rail.
_BY_PAYOUT = {
    PayoutStatus.sent: DepositRefundStatus.paid,
    PayoutStatus.failed: DepositRefundStatus.failed,
}


def _reader(principal: Principal) -> None:
    if principal.role not in _READERS:
        raise Forbidden(f"a {principal.role.value} does not read deposit refunds")


async def get_refund(
    session: AsyncSession, *, principal: Principal, refund_id: str
) -> DepositRefund:
    """An application the principal may see (a seller its own stores')."""
    _reader(principal)
    row = await session.get(DepositRefund, refund_id)
    mine = row is not None and (
        principal.role is not Role.seller or principal.seller_id == row.seller_id
    )
    if row is None or not mine:
        raise NotFound(f"deposit refund {refund_id} not found", field="refund_id")
    return row


async def store_refunds(
    session: AsyncSession,
    *,
    principal: Principal,
    store_id: str,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[DepositRefund], str | None]:
    """A store's applications, newest first (the record stays visible, S3)."""
    _reader(principal)
    store = await stores.get_store(session, principal=principal, store_id=store_id)
    query = select(DepositRefund).where(DepositRefund.store_id == store.id)
    return await NEWEST.page(session, [query], cursor=cursor, limit=limit)


async def queue(
    session: AsyncSession, *, principal: Principal, cursor: str | None = None, limit: int = 50
) -> tuple[list[DepositRefund], str | None]:
    """The operators' queue: the applications waiting for a decision first, oldest first, then
    the decided ones, oldest first."""
    if not principal.is_operator:
        raise Forbidden("only operators review deposit refunds")
    return await QUEUE.page(session, [select(DepositRefund)], cursor=cursor, limit=limit)


@dataclass(frozen=True)
class StoreDeposit:
    """A full-managed store's deposit as the operators' list shows it (S3)."""

    store: Store
    seller: str
    required_minor: int | None
    held_minor: int
    owed_minor: int
    refundable_minor: int
    state: DepositState


async def by_store(
    session: AsyncSession,
    *,
    principal: Principal,
    now: datetime,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[StoreDeposit], str | None]:
    """S3: every full-managed store's deposit, a keyset page by store id, figured as
    ``deposits.status_of`` does: the stores with their sellers in one query, their deposit held
    and payable in one, their waiting and approved applications in one, what each must hold in
    two (``deposit_rates.required_of``)."""
    if not principal.is_operator:
        raise Forbidden("only operators list every store's deposit")
    query = (
        select(Store, Seller.name)
        .join(Seller, Seller.id == Store.seller_id)
        .where(Store.mode == StoreMode.full_managed)
        .order_by(*STORES.order_by())
        .limit(limit + 1)
    )
    after = STORES.seek(cursor)
    if after is not None:
        query = query.where(after)
    rows = [(store, seller) for store, seller in await session.execute(query)]
    next_cursor = encode_cursor([rows[limit - 1][0].id]) if len(rows) > limit else None
    rows = rows[:limit]
    if not rows:
        return [], None
    ids = sorted(store.id for store, _ in rows)
    balances: dict[tuple[str, AccountKind, str], int] = {}
    accounts = await session.execute(
        select(
            LedgerAccount.store_id,
            LedgerAccount.kind,
            LedgerAccount.currency,
            LedgerAccount.balance_minor,
        ).where(
            LedgerAccount.store_id.in_(ids),
            LedgerAccount.kind.in_([AccountKind.deposit_held, AccountKind.payable]),
        )
    )
    for store_id, kind, currency, balance in accounts:
        kind = AccountKind(kind)
        balances[(str(store_id), kind, currency)] = ACCOUNTS[kind].shown(int(balance))
    waiting: dict[str, DepositRefund] = {}
    refunded: set[str] = set()
    applications = await session.scalars(
        select(DepositRefund).where(
            DepositRefund.store_id.in_(ids),
            DepositRefund.status.in_([DepositRefundStatus.applied, DepositRefundStatus.approved]),
        )
    )
    for refund in applications:
        if refund.status is DepositRefundStatus.applied:
            waiting[refund.store_id] = refund
        else:
            refunded.add(refund.store_id)
    required = await deposit_rates.required_of(session, [store for store, _ in rows], now)
    found = []
    for store, seller in rows:
        held = balances.get((store.id, AccountKind.deposit_held, store.currency), 0)
        owed = max(balances.get((store.id, AccountKind.payable, store.currency), 0), 0)
        need = required[store.id].amount_minor
        found.append(
            StoreDeposit(
                store=store,
                seller=seller,
                required_minor=need,
                held_minor=held,
                owed_minor=owed,
                refundable_minor=max(held - owed, 0),
                state=state_of(need, held, waiting.get(store.id), store.id in refunded),
            )
        )
    return found, next_cursor


async def payouts_of(session: AsyncSession, rows: Sequence[DepositRefund]) -> dict[str, Payout]:
    """The payouts of these applications, by id, in one query."""
    ids = sorted({row.payout_id for row in rows if row.payout_id})
    if not ids:
        return {}
    found = await session.scalars(select(Payout).where(Payout.id.in_(ids)))
    return {payout.id: payout for payout in found}


def shown_status(row: DepositRefund, payout: Payout | None) -> DepositRefundStatus:
    """The application's status as people read it: an approved one paid or failed on the rail
    reads as such."""
    if row.status is DepositRefundStatus.approved and payout is not None:
        return _BY_PAYOUT.get(payout.status, row.status)
    return row.status


def present_refund(row: DepositRefund, payout: Payout | None) -> DepositRefundRead:
    """An application as the API shows it (the same to its seller and to operators)."""
    return DepositRefundRead(
        id=row.id,
        store_id=row.store_id,
        seller_id=row.seller_id,
        currency=row.currency,
        amount_minor=row.amount_minor,
        reason=row.reason,
        status=shown_status(row, payout),
        deductions=[DeductionRead.model_validate(line) for line in row.deductions or []],
        deducted_minor=row.deducted_minor,
        payout_minor=row.payout_minor,
        payout_id=row.payout_id,
        payout_status=payout.status if payout else None,
        payout_failure=payout.failure_reason if payout else None,
        sent_at=payout.sent_at if payout else None,
        arrives_earliest=row.arrives_earliest,
        arrives_latest=row.arrives_latest,
        created_at=row.created_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        decision_note=row.decision_note,
    )


async def present_refunds(
    session: AsyncSession, rows: Sequence[DepositRefund]
) -> list[DepositRefundRead]:
    """Applications as the API shows them, their payouts read in one query."""
    payouts = await payouts_of(session, rows)
    return [present_refund(row, payouts.get(row.payout_id or "")) for row in rows]


def _debt(line: DebtLine) -> DebtLineRead:
    return DebtLineRead(
        entry_id=line.entry_id,
        kind=line.kind,
        subject_type=line.subject_type,
        subject_id=line.subject_id,
        posted_at=line.posted_at,
        amount_minor=line.amount_minor,
        left_minor=line.left_minor,
    )


async def present_status(session: AsyncSession, status: Status) -> DepositStatusRead:
    """A store's deposit as the API shows it."""
    open_refund = None
    if status.open_refund is not None:
        open_refund = (await present_refunds(session, [status.open_refund]))[0]
    return DepositStatusRead(
        store_id=status.store.id,
        currency=status.currency,
        required_minor=status.requirement.amount_minor,
        required_category=status.requirement.category,
        held_minor=status.held_minor,
        owed_minor=status.owed_minor,
        refundable_minor=status.refundable_minor,
        state=status.state,
        open_refund=open_refund,
        debts=[_debt(line) for line in status.debts],
        blockers=[
            PreconditionRead(rule=f.rule, count=f.count, what=f.what) for f in status.blockers
        ],
    )


def present_rate(rate: DepositRate, versions: list[DepositRate], now: datetime) -> DepositRateRead:
    """A rate version with its standing as of now."""
    return DepositRateRead.model_validate(
        {
            **{c: getattr(rate, c) for c in DepositRateRead.model_fields if c != "standing"},
            "standing": deposit_rates.standing(rate, versions, now),
        }
    )

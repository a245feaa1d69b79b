"""What stands between a full-managed store and its deposit (S3): its outstanding debts, line by
line, and the preconditions of a refund (seed 003: 申请退还保证金之前，要确保账户没有未解决的
争议、纠纷、未完成的订单以及未清偿的欠款).

**Outstanding debts.** The store's payable is what it owes. Its debits (a penalty, a shipping
fee, a refund charged to it ...) are paid off by its credits (netted against a settlement,
taken from the deposit ...) oldest first (FIFO), except that a reversal pays off the very
entry it reverses first. What is left of each debit is an outstanding line; their sum is the
payable (when it is above zero).

**Preconditions** of a refund, each named with how many things break it:

- ``no_unfinished_orders``: every order of the store is completed or cancelled, or its buyer
  was refunded in full (a lost parcel's order);
- ``no_open_cases``: no case about the store is open: an insurance claim waiting for its
  decision, a penalty under appeal or still within its appeal window; ``OPEN_CASES`` is the list
  the receiving-exception cases and the disputes join (issue 16);
- ``no_unpaid_debt``: the deposit covers what the store owes (the payable, in the store's
  currency, is not above the deposit held; nothing is owed in another currency).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.finance.models import Penalty
from tuoguan.finance.states import PenaltyStatus
from tuoguan.ledger.accounts import AccountKind
from tuoguan.ledger.kinds import EntryKind
from tuoguan.ledger.models import JournalEntry, LedgerAccount, Posting
from tuoguan.orders.models import Order
from tuoguan.orders.states import TERMINAL
from tuoguan.shipping.models import ClaimStatus, InsuranceClaim
from tuoguan.shipping.money_models import Refund
from tuoguan.stores.models import Store

NO_UNFINISHED_ORDERS = "no_unfinished_orders"
NO_OPEN_CASES = "no_open_cases"
NO_UNPAID_DEBT = "no_unpaid_debt"


# -- outstanding debts (pure) -------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """One posting on the store's payable: + raised what it owes, - paid some off."""

    entry_id: str
    kind: EntryKind
    subject_type: str | None
    subject_id: str | None
    posted_at: datetime
    amount_minor: int
    reverses_id: str | None = None


@dataclass
class DebtLine:
    """A debit of the payable and what of it is still owed."""

    entry_id: str
    kind: EntryKind
    subject_type: str | None
    subject_id: str | None
    posted_at: datetime
    amount_minor: int
    left_minor: int

    @property
    def is_penalty(self) -> bool:
        """Penalties are deducted from the deposit first (S3)."""
        return self.kind is EntryKind.penalty_charged


def outstanding(moves: Sequence[Move]) -> list[DebtLine]:
    """The debits not yet paid off, oldest first, given the payable's postings oldest first."""
    lines: list[DebtLine] = []
    credit = 0  # paid ahead: a credit with no debit left to pay off
    for move in moves:
        if move.amount_minor > 0:
            taken = min(credit, move.amount_minor)
            credit -= taken
            lines.append(
                DebtLine(
                    move.entry_id,
                    move.kind,
                    move.subject_type,
                    move.subject_id,
                    move.posted_at,
                    move.amount_minor,
                    move.amount_minor - taken,
                )
            )
            continue
        paying = -move.amount_minor
        first = [line for line in lines if line.entry_id == move.reverses_id]
        for line in first + [line for line in lines if line.entry_id != move.reverses_id]:
            taken = min(paying, line.left_minor)
            line.left_minor -= taken
            paying -= taken
            if not paying:
                break
        credit += paying
    return [line for line in lines if line.left_minor > 0]


def deduction_order(lines: Sequence[DebtLine]) -> list[DebtLine]:
    """The order debts are taken from the deposit in: penalties first, then oldest first."""
    return sorted(lines, key=lambda line: not line.is_penalty)


async def payable_moves(session: AsyncSession, store_id: str, currency: str) -> list[Move]:
    """The postings on a store's payable in a currency, oldest first, with their entries."""
    rows = await session.execute(
        select(
            JournalEntry.id,
            JournalEntry.kind,
            JournalEntry.subject_type,
            JournalEntry.subject_id,
            Posting.posted_at,
            Posting.amount_minor,
            JournalEntry.reverses_id,
        )
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(
            LedgerAccount.store_id == store_id,
            LedgerAccount.kind == AccountKind.payable,
            LedgerAccount.currency == currency,
        )
        .order_by(Posting.posted_at, Posting.id)
    )
    return [Move(*row) for row in rows]


# -- preconditions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failed:
    """A precondition of a refund that fails: its rule, how many things break it, in words."""

    rule: str
    count: int
    what: str
    cases: dict[str, int] = field(default_factory=dict)  # open cases by kind

    def problem(self) -> dict[str, object]:
        """As a problem's list item."""
        item: dict[str, object] = {"rule": self.rule, "count": self.count, "what": self.what}
        if self.cases:
            item["cases"] = dict(self.cases)
        return item


CaseCounter = Callable[[AsyncSession, Store, datetime], Awaitable[int]]


async def _claims_waiting(session: AsyncSession, store: Store, now: datetime) -> int:
    """Insurance claims on the store's parcels waiting for their decision (G3)."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(InsuranceClaim)
            .join(Order, Order.id == InsuranceClaim.order_id)
            .where(Order.store_id == store.id, InsuranceClaim.status == ClaimStatus.filed)
        )
        or 0
    )


async def _penalties_open(session: AsyncSession, store: Store, now: datetime) -> int:
    """Penalties under appeal, or still within their appeal window (F6)."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Penalty)
            .where(
                Penalty.store_id == store.id,
                (Penalty.status == PenaltyStatus.appealed)
                | ((Penalty.status == PenaltyStatus.assessed) & (Penalty.appeal_by > now)),
            )
        )
        or 0
    )


# The open cases that hold a refund back, by kind: a kind's counter of the store's cases that
# are not closed. ``tuoguan.cases.open_cases`` adds its kinds (receiving_exception, dispute).
OPEN_CASES: dict[str, CaseCounter] = {
    "insurance_claim": _claims_waiting,
    "penalty": _penalties_open,
}


async def unfinished_orders(session: AsyncSession, store: Store) -> int:
    """The store's orders neither completed nor cancelled, nor refunded to the buyer in full
    (a parcel lost for good leaves its order shipped; once the buyer has all their money back,
    nothing about it is open)."""
    refunded = (
        select(func.coalesce(func.sum(Refund.amount_minor), 0))
        .where(Refund.order_id == Order.id)
        .scalar_subquery()
    )
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Order)
            .where(
                Order.store_id == store.id,
                Order.status.not_in(sorted(TERMINAL)),
                refunded < Order.total_minor,
            )
        )
        or 0
    )


async def owed_elsewhere(session: AsyncSession, store: Store) -> dict[str, int]:
    """What the store owes in currencies other than its own (a deposit covers none of it)."""
    rows = await session.execute(
        select(LedgerAccount.currency, LedgerAccount.balance_minor).where(
            LedgerAccount.store_id == store.id,
            LedgerAccount.kind == AccountKind.payable,
            LedgerAccount.currency != store.currency,
            LedgerAccount.balance_minor > 0,
        )
    )
    return {code: int(balance) for code, balance in rows}


async def failing(
    session: AsyncSession,
    store: Store,
    now: datetime,
    *,
    held_minor: int,
    owed_minor: int,
    debts: int,
) -> list[Failed]:
    """Every precondition of a refund that fails now (empty: none)."""
    found = []
    orders = await unfinished_orders(session, store)
    if orders:
        found.append(
            Failed(NO_UNFINISHED_ORDERS, orders, f"{orders} order(s) not completed or cancelled")
        )
    cases = {kind: await count(session, store, now) for kind, count in OPEN_CASES.items()}
    cases = {kind: n for kind, n in cases.items() if n}
    if cases:
        said = ", ".join(f"{n} {kind.replace('_', ' ')}(s)" for kind, n in cases.items())
        found.append(Failed(NO_OPEN_CASES, sum(cases.values()), f"open: {said}", cases))
    elsewhere = await owed_elsewhere(session, store)
    if owed_minor > held_minor or elsewhere:
        what = (
            f"the store owes {owed_minor} and its deposit holds {held_minor} "
            f"({store.currency} minor units)"
        )
        if elsewhere:
            what += "; it also owes " + ", ".join(f"{v} {c}" for c, v in sorted(elsewhere.items()))
        found.append(Failed(NO_UNPAID_DEBT, debts + len(elsewhere), what))
    return found

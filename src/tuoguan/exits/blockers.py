"""What stands in the way of leaving full-managed (S4; seed 003: 退店前需处理好所有未完成的订单),
each thing listed with the console page that shows it, and what unbinding will do with the
store's money.

The rules are the deposit refund's preconditions (``settlement.deposit_checks``): unfinished
orders (``no_unfinished_orders``), open cases (``no_open_cases``: claims waiting, penalties under
appeal or within their window, and whatever ``OPEN_CASES`` grows) and debts the deposit does
not cover (``no_unpaid_debt``). They block applying and unbinding alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.cases.kinds import CaseState
from tuoguan.cases.models import Case
from tuoguan.finance.models import Penalty
from tuoguan.finance.states import PenaltyStatus
from tuoguan.ledger import reads
from tuoguan.ledger.accounts import AccountKind
from tuoguan.orders.models import Order
from tuoguan.orders.states import TERMINAL
from tuoguan.settlement import deposit_checks as checks
from tuoguan.settlement import deposits
from tuoguan.shipping.models import ClaimStatus, InsuranceClaim
from tuoguan.shipping.money_models import Refund
from tuoguan.stores.models import Store

# How many things of one rule a blocker lists (its count says how many there are in all).
ITEMS = 20


@dataclass(frozen=True)
class Item:
    """One thing in the way: its kind, its id and the console page that shows it."""

    kind: str
    id: str | None
    link: str
    amount_minor: int | None = None


@dataclass(frozen=True)
class Blocker:
    """A rule that fails now, how many things break it and the first ``ITEMS`` of them."""

    rule: str
    count: int
    what: str
    items: list[Item] = field(default_factory=list)

    def problem(self) -> dict[str, object]:
        """As a problem's list item."""
        return {
            "rule": self.rule,
            "count": self.count,
            "what": self.what,
            "items": [{"kind": i.kind, "id": i.id, "link": i.link} for i in self.items],
        }


def order_link(order_id: str) -> str:
    return f"/console/orders/{order_id}"


async def _unfinished_orders(session: AsyncSession, store: Store) -> list[Item]:
    refunded = (
        select(func.coalesce(func.sum(Refund.amount_minor), 0))
        .where(Refund.order_id == Order.id)
        .scalar_subquery()
    )
    rows = await session.scalars(
        select(Order.id)
        .where(
            Order.store_id == store.id,
            Order.status.not_in(sorted(TERMINAL)),
            refunded < Order.total_minor,
        )
        .order_by(Order.id)
        .limit(ITEMS)
    )
    return [Item("order", order_id, order_link(order_id)) for order_id in rows]


async def _open_cases(session: AsyncSession, store: Store, now: datetime) -> list[Item]:
    claims = await session.execute(
        select(InsuranceClaim.id, InsuranceClaim.order_id)
        .join(Order, Order.id == InsuranceClaim.order_id)
        .where(Order.store_id == store.id, InsuranceClaim.status == ClaimStatus.filed)
        .order_by(InsuranceClaim.id)
        .limit(ITEMS)
    )
    penalties = await session.execute(
        select(Penalty.id, Penalty.order_id)
        .where(
            Penalty.store_id == store.id,
            (Penalty.status == PenaltyStatus.appealed)
            | ((Penalty.status == PenaltyStatus.assessed) & (Penalty.appeal_by > now)),
        )
        .order_by(Penalty.id)
        .limit(ITEMS)
    )
    cases = await session.execute(
        select(Case.id, Case.kind, Case.order_id, Case.notice_id)
        .where(Case.store_id == store.id, Case.state != CaseState.closed)
        .order_by(Case.id)
        .limit(ITEMS)
    )
    found = [Item("insurance_claim", c, order_link(o)) for c, o in claims]
    # A case is shown on its subject's page (the order, the inbound notice).
    found += [
        Item(kind.value, c, order_link(o) if o else f"/console/inbound/{n}")
        for c, kind, o, n in cases
    ]
    found += [
        Item("penalty", p, f"/console/penalties?store={store.id}&order={o}") for p, o in penalties
    ]
    return found[:ITEMS]


def _debt_items(store: Store, lines: list[checks.DebtLine]) -> list[Item]:
    items = []
    for line in checks.deduction_order(lines)[:ITEMS]:
        if line.subject_type == "order" and line.subject_id:
            link = order_link(line.subject_id)
        elif line.subject_type == "penalty":
            link = f"/console/penalties?store={store.id}"
        else:
            link = f"/console/deposit?store={store.id}"
        items.append(Item(line.kind.value, line.subject_id, link, line.left_minor))
    return items


@dataclass(frozen=True)
class Money:
    """The store's money as unbinding will find it, in its currency (minor units)."""

    held: int  # the deposit held
    receivable: int  # due to the seller
    payable: int  # what it owes (below zero: paid ahead)
    debts: list[checks.DebtLine]


async def money_of(session: AsyncSession, store: Store) -> Money:
    """The store's deposit, receivable and payable now, and its debts line by line."""
    held, payable = await deposits.balances(session, store)
    receivable = await reads.balance(
        session, kind=AccountKind.receivable, currency=store.currency, store_id=store.id
    )
    debts = checks.outstanding(await checks.payable_moves(session, store.id, store.currency))
    return Money(held=held, receivable=receivable, payable=payable, debts=debts)


async def blockers(session: AsyncSession, store: Store, now: datetime) -> list[Blocker]:
    """Every rule that stands in the way of the store's exit now (empty: none)."""
    money = await money_of(session, store)
    failed = await checks.failing(
        session,
        store,
        now,
        held_minor=money.held,
        owed_minor=max(money.payable, 0),
        debts=len(money.debts),
    )
    found = []
    for rule in failed:
        if rule.rule == checks.NO_UNFINISHED_ORDERS:
            items = await _unfinished_orders(session, store)
        elif rule.rule == checks.NO_OPEN_CASES:
            items = await _open_cases(session, store, now)
        else:
            items = _debt_items(store, money.debts)
        found.append(Blocker(rule.rule, rule.count, rule.what, items))
    return found


@dataclass(frozen=True)
class Outlook:
    """What unbinding would do with the money now (S4): the fees charged, what is netted from
    what the store is due, the last settlement's payout, and the deposit refunded after the
    debts left are taken from it. ``short`` is what neither covers (it blocks unbinding)."""

    fees: int
    netted: int
    settlement_payout: int
    deducted_from_deposit: int
    deposit_refund: int
    short: int


def outlook(money: Money, fees: int) -> Outlook:
    """Pure: the money rules of unbinding applied to the store's accounts and the fees."""
    owed = money.payable + fees  # paid ahead (below zero) pays the fees first
    netted = max(0, min(money.receivable, owed))
    left = max(owed - netted, 0)
    taken = min(left, max(money.held, 0))
    return Outlook(
        fees=fees,
        netted=netted,
        settlement_payout=money.receivable - netted,
        deducted_from_deposit=taken,
        deposit_refund=max(money.held, 0) - taken,
        short=left - taken,
    )

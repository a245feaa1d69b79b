"""The ledger's accounts, as data: whose each kind is, its normal side, whether it may go negative.

Sign convention: a posting's ``amount_minor`` is signed, ``+`` a debit and ``-`` a credit, and
the postings of one entry sum to zero per currency. An account's stored ``balance_minor`` is
the plain sum of its postings; the balance people read is on the account's normal side: the
sum for a debit-normal account, minus the sum for a credit-normal one. So a seller's
receivable of 100.00 is stored as -10000 and shown as 10000.

Accounts the platform holds for a store (deposit held, receivable, payout clearing) are money
the platform owes that store; they never go below zero on their normal side, nor does what
the insurer owes (insurance recoverable). The others may: the platform's cash can be overdrawn
on the rail for a moment, a store may have paid more than it owed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Owner(StrEnum):
    """Whose money an account counts."""

    store = "store"
    platform = "platform"


class Side(StrEnum):
    """The side on which an account's balance normally lies."""

    debit = "debit"  # 借: assets, expenses, what others owe the platform
    credit = "credit"  # 贷: what the platform owes, its income


class AccountKind(StrEnum):
    """A kind of ledger account; a store or the platform has one per kind and currency."""

    deposit_held = "deposit_held"  # 保证金: the store's deposit the platform holds
    receivable = "receivable"  # 应收货款: sales (and compensations) due to the seller
    payable = "payable"  # 应付: what the seller owes: penalties, fees, refunds charged to it
    payout_clearing = "payout_clearing"  # 待打款: prepared for a payout, not yet sent
    cash = "cash"  # the platform's funds on the payment rail
    revenue = "revenue"  # the platform's margin and penalties
    commission = "commission"  # 佣金
    shipping_income = "shipping_income"  # shipping fees charged to sellers
    shipping_cost = "shipping_cost"  # what carriers are paid
    compensation_expense = "compensation_expense"  # G2 delivery-commitment compensation
    insurance_recoverable = "insurance_recoverable"  # G3: what the insurer owes the platform
    refunds_borne = "refunds_borne"  # M3, G6: buyer refunds the platform bears
    carrier_recoverable = "carrier_recoverable"  # R3: what a carrier owes for a loss it bore


@dataclass(frozen=True)
class AccountSpec:
    """One kind of account: its owner, its normal side and whether it may go below zero."""

    kind: AccountKind
    owner: Owner
    normal: Side
    may_go_negative: bool
    meaning: str

    def shown(self, balance_minor: int) -> int:
        """A stored balance (the sum of postings) as people read it, on the normal side."""
        return balance_minor if self.normal is Side.debit else -balance_minor

    def breaks_floor(self, balance_minor: int) -> bool:
        """Whether a stored balance would put this account below zero where it must not be."""
        return not self.may_go_negative and self.shown(balance_minor) < 0


A = AccountKind
S, P = Owner.store, Owner.platform
DR, CR = Side.debit, Side.credit
ACCOUNTS: dict[AccountKind, AccountSpec] = {
    spec.kind: spec
    for spec in (
        AccountSpec(
            A.deposit_held, S, CR, False, "the store's deposit the platform holds (保证金)"
        ),
        AccountSpec(A.receivable, S, CR, False, "sales and compensation due to the seller"),
        AccountSpec(A.payable, S, DR, True, "what the seller owes: penalties, fees, refunds"),
        AccountSpec(A.payout_clearing, S, CR, False, "prepared for a payout, not yet sent"),
        AccountSpec(A.cash, P, DR, True, "funds on the payment rail: buyers pay in, payouts out"),
        AccountSpec(A.revenue, P, CR, True, "the platform's margin and penalties"),
        AccountSpec(A.commission, P, CR, True, "commission on self-run and semi-managed sales"),
        AccountSpec(A.shipping_income, P, CR, True, "shipping fees charged to sellers"),
        AccountSpec(A.shipping_cost, P, DR, True, "what carriers are paid"),
        AccountSpec(A.compensation_expense, P, DR, True, "delivery-commitment compensation (G2)"),
        AccountSpec(A.insurance_recoverable, P, DR, False, "what the insurer owes (G3)"),
        AccountSpec(
            A.carrier_recoverable, P, DR, False, "what carriers owe for losses they bore (R3)"
        ),
        AccountSpec(A.refunds_borne, P, DR, True, "buyer refunds the platform bears (M3, G6)"),
    )
}


def spec_of(kind: AccountKind | str) -> AccountSpec:
    """The spec of an account kind."""
    return ACCOUNTS[AccountKind(kind)]


def floor_sql() -> tuple[str, str]:
    """The database's own guard for the floors, as two CHECK expressions on ``balance_minor``:
    (credit-normal kinds that must not go negative, debit-normal ones)."""

    def names(side: Side) -> str:
        kinds = [
            s.kind.value for s in ACCOUNTS.values() if not s.may_go_negative and s.normal is side
        ]
        return ", ".join(f"'{k}'" for k in kinds)

    return (
        f"kind NOT IN ({names(CR)}) OR balance_minor <= 0",
        f"kind NOT IN ({names(DR)}) OR balance_minor >= 0",
    )


def accounts_markdown() -> str:
    """The accounts table as Markdown (for docs/finance.md)."""
    lines = [
        "| account | owner | normal side | may go negative | meaning |",
        "|---|---|---|---|---|",
    ]
    for spec in ACCOUNTS.values():
        negative = "yes" if spec.may_go_negative else "**no**"
        lines.append(
            f"| `{spec.kind.value}` | {spec.owner.value} | {spec.normal.value} | {negative} "
            f"| {spec.meaning} |"
        )
    return "\n".join(lines)

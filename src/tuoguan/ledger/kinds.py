"""The kinds of journal entry, as data: each names its amount parts and its legs.

A leg is an account kind and, per part, a coefficient: the leg's posting is the sum of
coefficient x part, ``+`` a debit and ``-`` a credit. Every kind balances for any values,
because for each part the coefficients across the legs sum to zero (a unit test proves it).
A sale on commission, for example, is ``cash +(net + commission)``, ``receivable -net``,
``commission -commission``.

``adjustment`` is the one kind without legs here: an operator gives them account by account,
and they must balance per currency. This table is the only place that says which accounts a
kind moves: the service applies it, the docs render it, the tests drive random posts through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from tuoguan.ledger.accounts import ACCOUNTS, AccountKind, Owner


class EntryKind(StrEnum):
    """What a journal entry records."""

    deposit_funded = "deposit_funded"  # 缴纳保证金 (S3)
    deposit_refunded = "deposit_refunded"  # 退还保证金 (S3)
    deposit_applied_to_debt = "deposit_applied_to_debt"  # 保证金抵扣 (S3, F6)
    sale_commissioned = "sale_commissioned"  # self-run, semi-managed: sale less commission
    sale_supplied = "sale_supplied"  # full-managed: the supply price, no commission (M3)
    sale_below_supply = "sale_below_supply"  # full-managed sold below supply: platform bears it
    penalty_charged = "penalty_charged"  # 罚款 (F6, O2)
    delivery_compensation = "delivery_compensation"  # 时效赔付 (G2)
    delivery_compensation_platform = "delivery_compensation_platform"  # the platform's own parcel
    compensation_recovered = "compensation_recovered"  # a compensation already paid out, owed back
    insurance_claim_paid = "insurance_claim_paid"  # 保险理赔 (G3)
    insurance_recovered = "insurance_recovered"  # the insurer paid the platform back (G3)
    shipping_fee_charged = "shipping_fee_charged"  # 运费
    shipping_cost_incurred = "shipping_cost_incurred"
    refund_charged_to_seller = "refund_charged_to_seller"  # 退款由卖家承担
    refund_borne_by_platform = "refund_borne_by_platform"  # 平台承担退款 (M3, G6)
    case_compensation = "case_compensation"  # 异常赔付: a case decided for the seller (R3)
    carrier_charged = "carrier_charged"  # the carrier bears a case's compensation (R3)
    exit_fee_charged = "exit_fee_charged"  # 退店费用: 店铺管理费 + 退款手续费 (S4, S5)
    debt_netted = "debt_netted"  # 欠款抵扣: what the seller owes, netted against what is due
    payout_prepared = "payout_prepared"  # 结算
    payout_sent = "payout_sent"  # 打款
    adjustment = "adjustment"  # 手工调账: an operator's entry, legs given explicitly


@dataclass(frozen=True)
class Leg:
    """One posting of a kind: an account kind and each part's coefficient."""

    account: AccountKind
    coefficients: Mapping[str, int]

    def amount(self, parts: Mapping[str, int]) -> int:
        """The signed posting for these part values (+ debit, - credit)."""
        return sum(coefficient * parts[part] for part, coefficient in self.coefficients.items())


@dataclass(frozen=True)
class EntrySpec:
    """What an entry kind takes (its amount parts) and posts (its legs)."""

    kind: EntryKind
    parts: tuple[str, ...]
    legs: tuple[Leg, ...]
    meaning: str

    @property
    def free(self) -> bool:
        """Whether the legs are given entry by entry (``adjustment``)."""
        return not self.legs

    @property
    def needs_store(self) -> bool:
        """Whether a leg posts to a store's account, so the entry must name the store."""
        return any(ACCOUNTS[leg.account].owner is Owner.store for leg in self.legs)

    def postings(self, parts: Mapping[str, int]) -> list[tuple[AccountKind, int]]:
        """(account kind, signed amount) of each leg that moves money, in the table's order."""
        amounts = [(leg.account, leg.amount(parts)) for leg in self.legs]
        return [(account, amount) for account, amount in amounts if amount]


def _pair(kind: EntryKind, debit: AccountKind, credit: AccountKind, meaning: str) -> EntrySpec:
    """A kind of one part, ``amount``, debited to one account and credited to another."""
    return EntrySpec(
        kind, ("amount",), (Leg(debit, {"amount": 1}), Leg(credit, {"amount": -1})), meaning
    )


K, A = EntryKind, AccountKind
KINDS: dict[EntryKind, EntrySpec] = {
    spec.kind: spec
    for spec in (
        _pair(K.deposit_funded, A.cash, A.deposit_held, "the seller paid its deposit (S3)"),
        _pair(
            K.deposit_refunded,
            A.deposit_held,
            A.payout_clearing,
            "an approved deposit refund, set aside for its payout (S3)",
        ),
        _pair(
            K.deposit_applied_to_debt,
            A.deposit_held,
            A.payable,
            "what the seller owed, taken from its deposit",
        ),
        EntrySpec(
            K.sale_commissioned,
            ("net", "commission"),
            (
                Leg(A.cash, {"net": 1, "commission": 1}),
                Leg(A.receivable, {"net": -1}),
                Leg(A.commission, {"commission": -1}),
            ),
            "a completed self-run or semi-managed sale: the seller is due it less commission",
        ),
        EntrySpec(
            K.sale_supplied,
            ("supply", "margin"),
            (
                Leg(A.cash, {"supply": 1, "margin": 1}),
                Leg(A.receivable, {"supply": -1}),
                Leg(A.revenue, {"margin": -1}),
            ),
            "a completed full-managed sale: the seller is due the supply price (M3)",
        ),
        EntrySpec(
            K.sale_below_supply,
            ("paid", "shortfall"),
            (
                Leg(A.cash, {"paid": 1}),
                Leg(A.revenue, {"shortfall": 1}),
                Leg(A.receivable, {"paid": -1, "shortfall": -1}),
            ),
            "a full-managed sale below the supply price: the seller is due the supply price "
            "all the same and the platform's revenue bears the shortfall (M3)",
        ),
        _pair(K.penalty_charged, A.payable, A.revenue, "a penalty upheld or past appeal (F6)"),
        _pair(
            K.delivery_compensation,
            A.compensation_expense,
            A.receivable,
            "a parcel late against its delivery commitment (G2)",
        ),
        _pair(
            K.delivery_compensation_platform,
            A.compensation_expense,
            A.revenue,
            "a parcel the platform shipped, late against its delivery commitment: its logistics "
            "compensates its own sales (G2, F11)",
        ),
        _pair(
            K.compensation_recovered,
            A.payable,
            A.compensation_expense,
            "a compensation the buyer's fault undid, owed back by a seller already paid (G2)",
        ),
        _pair(
            K.insurance_claim_paid,
            A.insurance_recoverable,
            A.receivable,
            "an approved insurance claim paid to the seller (G3)",
        ),
        _pair(
            K.insurance_recovered,
            A.cash,
            A.insurance_recoverable,
            "the insurer paid the claim back (G3)",
        ),
        _pair(
            K.shipping_fee_charged,
            A.payable,
            A.shipping_income,
            "a shipping fee charged to the seller",
        ),
        _pair(K.shipping_cost_incurred, A.shipping_cost, A.cash, "a carrier paid for a parcel"),
        _pair(K.refund_charged_to_seller, A.payable, A.cash, "a buyer refund the seller bears"),
        _pair(
            K.refund_borne_by_platform,
            A.refunds_borne,
            A.cash,
            "a buyer refund the platform bears (M3, G6)",
        ),
        _pair(
            K.case_compensation,
            A.compensation_expense,
            A.receivable,
            "a receiving exception decided for the seller: the platform compensates it (R3)",
        ),
        _pair(
            K.carrier_charged,
            A.carrier_recoverable,
            A.compensation_expense,
            "a case's compensation the carrier bears: it owes the platform (R3)",
        ),
        EntrySpec(
            K.exit_fee_charged,
            ("management", "refund_handling"),
            (
                Leg(A.payable, {"management": 1, "refund_handling": 1}),
                Leg(A.revenue, {"management": -1, "refund_handling": -1}),
            ),
            "the fees of leaving full-managed, as the seller acknowledged them: store "
            "management fee and refund handling fee (S4, S5)",
        ),
        _pair(K.debt_netted, A.receivable, A.payable, "what the seller owes, netted from its due"),
        _pair(
            K.payout_prepared,
            A.receivable,
            A.payout_clearing,
            "what is due set aside for a payout",
        ),
        _pair(K.payout_sent, A.payout_clearing, A.cash, "the payout went out on the rail"),
        EntrySpec(K.adjustment, (), (), "an operator's correction, legs given one by one"),
    )
}


def spec_of(kind: EntryKind | str) -> EntrySpec:
    """The spec of an entry kind."""
    return KINDS[EntryKind(kind)]


def _terms(coefficients: Mapping[str, int]) -> str:
    """``net + commission`` for {net: 1, commission: 1}; signs dropped (the column says them)."""
    words = [part if abs(c) == 1 else f"{abs(c)} x {part}" for part, c in coefficients.items()]
    return " + ".join(words)


def kinds_markdown() -> str:
    """The entry kinds as Markdown (for docs/finance.md): parts, debits, credits, meaning."""
    lines = [
        "| kind | parts | debit (+) | credit (-) | meaning |",
        "|---|---|---|---|---|",
    ]
    for spec in KINDS.values():
        if spec.free:
            debits = credits = "any accounts, balanced per currency"
        else:
            debits = "; ".join(
                f"`{leg.account.value}` {_terms(leg.coefficients)}"
                for leg in spec.legs
                if all(c > 0 for c in leg.coefficients.values())
            )
            credits = "; ".join(
                f"`{leg.account.value}` {_terms(leg.coefficients)}"
                for leg in spec.legs
                if all(c < 0 for c in leg.coefficients.values())
            )
        parts = ", ".join(spec.parts) or "-"
        lines.append(f"| `{spec.kind.value}` | {parts} | {debits} | {credits} | {spec.meaning} |")
    return "\n".join(lines)

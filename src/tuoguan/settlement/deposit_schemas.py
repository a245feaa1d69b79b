"""API shapes for the deposit (保证金, S3): its rates, its status, fundings, refund applications
and their decisions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from tuoguan.finance.schemas import RateCategory
from tuoguan.kit.clock import UTCInstant
from tuoguan.ledger.kinds import EntryKind
from tuoguan.settlement.deposit_models import DepositRefundStatus, DepositState
from tuoguan.settlement.models import PayoutStatus
from tuoguan.stores.schemas import CurrencyCode, Strict

MAX_AMOUNT = 10**12


def _whole(value: Any) -> Any:
    """Name a fraction of a minor unit as such (the strict integer check names the rest)."""
    if isinstance(value, float) and not value.is_integer():
        raise PydanticCustomError(
            "no_fractions",
            "fractions of a minor unit are refused ({value}): send whole minor units",
            {"value": value},
        )
    return value


Positive = Annotated[
    int,
    BeforeValidator(_whole),
    Field(ge=1, le=MAX_AMOUNT, strict=True, description="Minor units, a whole positive number."),
]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class DepositRateCreate(Strict):
    """A new version of the deposit of one product category (or "*") in one currency."""

    category: RateCategory = Field(
        description="A product category (it also covers its subcategories without a rate of "
        'their own), or "*" for every category.'
    )
    currency: CurrencyCode
    amount_minor: Annotated[
        int,
        BeforeValidator(_whole),
        Field(ge=0, le=MAX_AMOUNT, strict=True, description="The deposit, in minor units."),
    ]
    effective_from: UTCInstant | None = Field(
        default=None, description="When it takes over; now if omitted. Never in the past."
    )
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class DepositRateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    category: str
    currency: str
    version: int
    amount_minor: int
    effective_from: datetime
    note: str | None
    created_at: datetime
    created_by: str
    standing: str = Field(description="scheduled, in_force or superseded, as of now.")


class DepositFundingCreate(Strict):
    """A deposit the seller paid by bank transfer, recorded by an operator on receipt."""

    amount_minor: Positive
    currency: CurrencyCode = Field(description="The store's currency (422 otherwise).")
    reference: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ] = Field(
        description="The bank transfer's reference: the same reference again records nothing "
        "more (the first recording is answered)."
    )


class DepositFundingRead(BaseModel):
    store_id: str
    entry_id: str = Field(description="The deposit_funded journal entry.")
    amount_minor: int
    currency: str
    reference: str
    posted_at: datetime
    held_minor: int = Field(description="The deposit held after it.")


class DepositRefundCreate(Strict):
    """申请退还保证金: how much of the deposit back, and why."""

    amount_minor: Positive = Field(description="At most the refundable amount (held less owed).")
    reason: Reason


class RefundApproval(Strict):
    """The operator's note on an approval (optional, shown to the seller)."""

    note: Note | None = None


class RefundRejection(Strict):
    """Why the operator rejects the application (shown to the seller)."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class DeductionRead(BaseModel):
    """A debt taken from the deposit at approval (a snapshot)."""

    entry_id: str
    kind: EntryKind
    subject_type: str | None
    subject_id: str | None
    posted_at: datetime
    amount_minor: int = Field(description="What was deducted for it.")


class DepositRefundRead(BaseModel):
    id: str
    store_id: str
    seller_id: str
    currency: str
    amount_minor: int = Field(description="What the seller applied for.")
    reason: str
    status: DepositRefundStatus = Field(
        description="applied, approved (its payout on its way), rejected, paid (the payout "
        "left), failed (the payout failed: the money is back in the deposit)."
    )
    deductions: list[DeductionRead] = Field(
        description="The debts deducted from the deposit at approval, penalties first."
    )
    deducted_minor: int
    payout_minor: int | None = Field(description="What the payout pays (set at approval).")
    payout_id: str | None
    payout_status: PayoutStatus | None
    payout_failure: str | None = Field(description="Why the rail refused it, if it did.")
    sent_at: datetime | None = Field(description="When the rail accepted the payout.")
    arrives_earliest: date | None = Field(
        description="The 3rd business day after it was sent, in the seller's country."
    )
    arrives_latest: date | None = Field(description="The 5th business day (S3).")
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str | None


class DebtLineRead(BaseModel):
    """A debit of the store's payable not yet paid off (credits pay the oldest first)."""

    entry_id: str
    kind: EntryKind
    subject_type: str | None = Field(description="penalty, order, claim ...")
    subject_id: str | None
    posted_at: datetime
    amount_minor: int = Field(description="What the entry put on the payable.")
    left_minor: int = Field(description="What of it is still owed.")


class PreconditionRead(BaseModel):
    """A condition of a refund that fails now."""

    rule: str = Field(description="no_unfinished_orders, no_open_cases or no_unpaid_debt.")
    count: int
    what: str


class DepositStatusRead(BaseModel):
    store_id: str
    currency: str
    required_minor: int | None = Field(
        description="The deposit the store must hold: the highest rate in force among its "
        "products' categories (null: no rate in this currency)."
    )
    required_category: str | None = Field(description="The category whose rate that is.")
    held_minor: int
    owed_minor: int = Field(description="The store's payable (what it owes), not below 0.")
    refundable_minor: int = Field(description="held - owed, never below 0.")
    state: DepositState
    open_refund: DepositRefundRead | None
    debts: list[DebtLineRead] = Field(description="What the store owes, line by line.")
    blockers: list[PreconditionRead] = Field(
        description="The refund's preconditions that fail now (empty: it may apply)."
    )

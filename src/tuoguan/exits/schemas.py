"""API shapes for leaving full-managed (S4, S5): the terms, the exit page, an application and
its steps, the archive."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from tuoguan.exits.models import ExitStatus, StockChoice
from tuoguan.exports.states import ExportStatus
from tuoguan.kit.clock import UTCInstant
from tuoguan.onboarding.review_schemas import DocumentRead
from tuoguan.stores.schemas import Address, CurrencyCode, Strict

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


Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Fee = Annotated[
    int,
    BeforeValidator(_whole),
    Field(ge=0, le=MAX_AMOUNT, strict=True, description="Minor units; 0 charges nothing."),
]
# How many documents one application carries at most.
MAX_DOCUMENTS = 10


class ExitTermsCreate(Strict):
    """The next version of the exit terms in one currency (S5)."""

    currency: CurrencyCode
    management_fee_minor: Fee = Field(description="Store management fee (店铺管理费).")
    refund_fee_minor: Fee = Field(description="Refund handling fee (退款手续费).")
    review_days: int = Field(
        ge=1, le=30, strict=True, description="The review takes at most this many business days."
    )
    effective_from: UTCInstant | None = Field(
        default=None, description="When it takes over; now if omitted. Never in the past."
    )
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class ExitTermsRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    currency: str
    version: int
    management_fee_minor: int
    refund_fee_minor: int
    review_days: int
    effective_from: datetime
    note: str | None
    created_at: datetime
    standing: str = Field(description="scheduled, in_force or superseded, as of now.")


class BlockerItem(BaseModel):
    """One thing in the way, and where the console shows it."""

    kind: str = Field(description="order, penalty, insurance_claim, debt, …")
    id: str | None
    link: str = Field(description="The console page that shows it.")
    amount_minor: int | None = None


class BlockerRead(BaseModel):
    """A condition of an exit that fails now, named by its rule, with what breaks it."""

    rule: str = Field(description="no_unfinished_orders, no_open_cases or no_unpaid_debt.")
    count: int
    what: str
    items: list[BlockerItem]


class ExitApply(Strict):
    """The seller's application: why, its documents, and that it read the fees."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
    document_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=40)]] = Field(
        default_factory=list,
        max_length=MAX_DOCUMENTS,
        description='Documents uploaded with purpose "exit" (at most 10).',
    )
    fees_acknowledged: bool = Field(
        strict=True, description="The seller read the fees and the timing (422 when false)."
    )


class ExitDecision(Strict):
    """An operator's decision, with reasons (a rejection needs one)."""

    decision: Literal["approve", "reject"]
    reasons: list[Reason] = Field(default_factory=list, max_length=20)


class ExitUnbind(Strict):
    """The seller's choice for the stock the platform's warehouses hold (S4)."""

    stock: StockChoice
    return_address: Address | None = Field(
        default=None, description="Where returned stock goes: required with stock=return."
    )


class StoreClose(Strict):
    """Closing an exited store: the confirmation that it cannot be undone."""

    confirm: bool = Field(strict=True, description="true: the store closes for good.")


class ExitRead(BaseModel):
    """An exit application and each of its steps."""

    id: str
    store_id: str
    store_name: str
    seller_id: str
    status: ExitStatus
    allowed_actions: list[str]
    reason: str
    documents: list[DocumentRead] = Field(description="Its papers, each with a short-lived link.")
    currency: str
    management_fee_minor: int
    refund_fee_minor: int
    review_days: int
    review_by: datetime
    fees_acknowledged_at: datetime
    created_at: datetime
    created_by: str
    decided_at: datetime | None
    decided_by: str | None
    decision_reasons: list[str]
    stock_choice: StockChoice | None
    stock_moved: list[dict[str, Any]]
    fee_entry_id: str | None
    settled_netted_minor: int | None
    settled_payout_minor: int | None
    settlement_payout_id: str | None
    deposit_refund_id: str | None
    deposit_deducted_minor: int | None
    unbound_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None


class ArchiveRead(BaseModel):
    """The store's archive: its progress, and where to fetch it once done (kept 7 days)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    store_id: str
    status: ExportStatus
    steps_done: int
    steps_total: int
    percent: int
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None = Field(description="When the file is deleted.")
    size_bytes: int | None
    sha256: str | None
    error: str | None
    download: str | None = Field(default=None, description="Where to fetch the zip when done.")


class ExitPageRead(BaseModel):
    """What a seller reads before leaving: the terms in force, the fees, the timing, what is
    in the way, the current application and the archive (S4, S5)."""

    store_id: str
    store_status: str
    currency: str
    terms: ExitTermsRead | None
    management_fee_minor: int | None
    refund_fee_minor: int | None
    review_days: int | None
    blockers: list[BlockerRead]
    can_apply: bool
    application: ExitRead | None
    archive: ArchiveRead | None

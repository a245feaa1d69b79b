"""What the case API takes and gives."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from tuoguan.cases.kinds import Bearer, CaseKind, CaseParty, CaseState
from tuoguan.cases.return_schemas import ReturnRead
from tuoguan.stores.schemas import Strict

MAX_AMOUNT = 10**12
Said = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Amount = Annotated[int, Field(gt=0, le=MAX_AMOUNT, strict=True, description="Minor units.")]
Units = Annotated[
    int,
    Field(
        ge=-100_000,
        le=100_000,
        strict=True,
        description="adjust_quantities: units put on hand (negative: taken off), not 0.",
    ),
]


class ReceivingCaseCreate(Strict):
    """A receiving exception (R2) on an inbound notice, raised by the warehouse, its seller or
    an operator; from one of the notice's discrepancies where there is one."""

    notice_id: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    discrepancy_id: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    cause: (
        Literal[
            "short",
            "over",
            "damaged",
            "wrong_item",
            "label_or_address",
            "info_mismatch",
            "system_fault",
        ]
        | None
    ) = Field(
        default=None, description="R2's cause; from the discrepancy's kind when one is named."
    )
    summary: Said
    carrier_code: (
        Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_\-]{1,31}$")] | None
    ) = Field(
        default=None, description="The carrier that brought the goods, if it is on the platform."
    )


class DisputeCreate(Strict):
    """A buyer's dispute on an order that shipped (G4), opened by the storefront."""

    order_id: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    cause: Literal["not_received", "not_as_described", "damaged", "wrong_item"]
    summary: Said


class CaseMove(Strict):
    """An operator moves a case to its next step (R3: ask the carrier, ask the seller,
    escalate; a dispute from the seller to the platform's investigation)."""

    to: CaseState
    note: Reason | None = None
    carrier_code: (
        Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_\-]{1,31}$")] | None
    ) = None


class CaseMessage(Strict):
    text: Said


class CaseDecide(Strict):
    """A decision from the kind's list, who bears it where the decision names a bearer, the
    amount where it moves money, and why."""

    decision: Annotated[str, StringConstraints(min_length=1, max_length=30)]
    bearer: Bearer | None = None
    amount_minor: Amount | None = None
    units: Units | None = None
    reason: Reason


class CaseAppeal(Strict):
    reason: Reason


class AppealDecide(Strict):
    """The appeal's final result: the decision stands (``upheld``) or another replaces it
    (``overturned``, with the new decision, bearer and amount as for a decision)."""

    outcome: Literal["upheld", "overturned"]
    decision: Annotated[str, StringConstraints(min_length=1, max_length=30)] | None = None
    bearer: Bearer | None = None
    amount_minor: Amount | None = None
    units: Units | None = None
    reason: Reason


class AppealRead(BaseModel):
    """The appeal as recorded: by which party, when, why, and until when it is decided."""

    case_id: str
    state: CaseState
    appealed_party: CaseParty
    appealed_at: datetime
    reason: str
    decide_by: datetime | None


class CaseEntryRead(BaseModel):
    """One entry of the timeline."""

    position: int
    type: str = Field(
        description="opened, moved, evidence, message, decided, appealed, appeal_decided, "
        "deadline_warned, deadline_missed, closed"
    )
    party: CaseParty | None
    actor_id: str = Field(description='Who; "platform" for an operator, to anyone else.')
    actor_role: str
    at: datetime
    text: str | None
    file_name: str | None = None
    content_type: str | None = None
    link: str | None = Field(default=None, description="A short-lived signed link to the file.")
    sha256: str | None
    data: dict[str, object]


class CaseRead(BaseModel):
    """A case as one of its parties reads it."""

    id: str
    kind: CaseKind
    cause: str
    state: CaseState
    store_id: str
    seller_id: str
    notice_id: str | None
    discrepancy_id: str | None
    order_id: str | None
    warehouse_id: str | None
    carrier_code: str | None
    currency: str
    summary: str
    opened_at: datetime
    opened_role: str
    step_owner: CaseParty | None
    step_due_at: datetime | None
    overdue: bool
    next_steps: list[CaseState]
    decisions: list[str] = Field(description="The decisions this kind may end in.")
    decision: str | None
    bearer: Bearer | None
    amount_minor: int | None
    units: int | None = Field(description="The units a quantity adjustment put on hand.")
    decision_reason: str | None
    decided_by: str | None = Field(description="The deciding operator (operators only).")
    decided_at: datetime | None
    appeal_by: datetime | None = Field(description="Until when one appeal may be made.")
    appealed_party: CaseParty | None
    appealed_at: datetime | None
    appeal_reason: str | None
    appeal_outcome: str | None
    appeal_decided_at: datetime | None
    closed_at: datetime | None
    your_party: CaseParty | None = Field(description="Which party the reader is on the case.")
    origin_case_id: str | None = Field(
        default=None, description="The case this one came from (a dispute that sent a return)."
    )
    return_parcel: ReturnRead | None = Field(
        default=None, description="A return's parcel, once authorized (after-sales only)."
    )
    entries: list[CaseEntryRead] | None = Field(
        default=None, description="The timeline (one case's read; lists leave it out)."
    )


class PartyEntryRead(BaseModel):
    """One entry of the timeline as the storefront or a carrier reads it: who (by party),
    when and what, without the platform's internal data."""

    position: int
    type: str
    party: CaseParty | None
    at: datetime
    text: str | None
    file_name: str | None = None
    content_type: str | None = None
    link: str | None = None
    sha256: str | None


class PartyCaseRead(BaseModel):
    """A case as the storefront (the buyer) or a carrier reads it: the subject, the step and
    its deadline, the decision and what it moved (``decided_minor``: the buyer's refund, the
    carrier's compensation), the appeal, the timeline."""

    id: str
    kind: CaseKind
    cause: str
    state: CaseState
    order_id: str | None
    notice_id: str | None
    currency: str
    summary: str
    opened_at: datetime
    step_owner: CaseParty | None
    step_due_at: datetime | None
    overdue: bool
    decision: str | None
    decided_minor: int | None
    decision_reason: str | None
    decided_at: datetime | None
    appeal_by: datetime | None
    appealed_party: CaseParty | None
    appealed_at: datetime | None
    appeal_reason: str | None
    appeal_outcome: str | None
    appeal_decided_at: datetime | None
    closed_at: datetime | None
    your_party: CaseParty | None
    return_parcel: ReturnRead | None = None
    entries: list[PartyEntryRead] | None = None


class RateRead(BaseModel):
    """Receiving exceptions over the notices that arrived, for a week, a seller or a carrier."""

    key: str = Field(description="The week's Monday, the seller's id or the carrier's name.")
    label: str
    notices: int
    exceptions: int
    rate: float | None = Field(description="exceptions / notices; null without notices.")
    recent: int = Field(description="Exceptions in the last 30 days.")
    repeat: bool = Field(description="A repeat offender: 3 or more in the last 30 days.")


class CauseCount(BaseModel):
    cause: str
    exceptions: int


class ReceivingReportRead(BaseModel):
    """R4: receiving exception rates by week, seller, carrier and cause."""

    weeks: list[RateRead]
    sellers: list[RateRead]
    carriers: list[RateRead]
    causes: list[CauseCount]


class DisputeWeekRead(BaseModel):
    """G4: the disputes opened in a week and how long their decisions took."""

    week: str = Field(description="The week's Monday (China time), YYYY-MM-DD.")
    opened: int
    decided: int
    p50_hours: float | None
    p95_hours: float | None
    within_target: int
    late: int
    share_within: float | None = Field(description="Decided within 3 days / decided or late.")


class PreSendCheckRead(BaseModel):
    """One thing to check before sending an inbound notice (R4); none refuses the send."""

    check: str = Field(description="supply_counts, cartons, labels or history.")
    level: str = Field(description="warn or info.")
    data: dict[str, object] = Field(
        description="supply_counts: sku_id, announced, asked; cartons: cartons, units; "
        "labels: warehouse; history: cause, count (the last 90 days)."
    )

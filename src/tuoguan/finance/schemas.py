"""API shapes for penalty policies, penalties, seller ratings and commission rates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tuoguan.finance.policy import MAX_HOURS, MAX_RATE_BP
from tuoguan.finance.states import PenaltyAction, PenaltyStatus
from tuoguan.kit.clock import UTCInstant
from tuoguan.stores.schemas import Strict
from tuoguan.timing.kinds import BreachKind

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class TierIn(Strict):
    """Lateness in [from_hours, to_hours) is fined rate_bp of the order total."""

    from_hours: int = Field(ge=0, le=MAX_HOURS, strict=True)
    to_hours: int | None = Field(default=None, ge=1, le=MAX_HOURS, strict=True)
    rate_bp: int = Field(
        ge=0, le=MAX_RATE_BP, strict=True, description="Basis points of the order total."
    )
    rating_points: int = Field(ge=0, le=100, strict=True)


class PenaltyPolicyCreate(Strict):
    """A new version of the policy for one kind of breach."""

    kind: BreachKind
    effective_from: UTCInstant | None = Field(
        default=None, description="When it takes over; now if omitted. Never in the past."
    )
    tiers: list[TierIn] = Field(min_length=1, max_length=20)
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class PenaltyPolicyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: BreachKind
    version: int
    effective_from: datetime
    tiers: list[TierIn]
    note: str | None
    created_at: datetime
    created_by: str
    standing: str = Field(description="scheduled, in_force or superseded, as of now.")


class AppealBody(Strict):
    """申诉: why the seller contests the penalty."""

    reason: Reason


class DecisionBody(Strict):
    """The operator's reasons, shown to the seller."""

    reason: Reason


class PenaltyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    breach_id: str
    order_id: str
    store_id: str
    seller_id: str
    kind: BreachKind
    policy_id: str
    policy_version: int
    tier_index: int
    lateness_seconds: int
    amount_minor: int
    currency: str
    rating_points: int
    status: PenaltyStatus
    assessed_at: datetime
    appeal_by: datetime
    appeal_reason: str | None
    appealed_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None
    charged_at: datetime | None = Field(
        description="When it became payable by the store and was posted to the ledger."
    )
    version: int
    allowed_actions: list[PenaltyAction] = Field(default_factory=list)


class Rating(BaseModel):
    """F6: the seller's rating over a window, from its breaches and the penalties that count."""

    seller_id: str
    score: int = Field(description="100 less the rating points of penalties not waived.")
    window_days: int
    points_deducted: int
    breaches: dict[str, int]
    penalties_counting: int
    penalties_waived: int


# A product category as the catalog spells it, or "*": every category without a rate of its own.
RateCategory = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^(\*|[a-z0-9][a-z0-9_\-/]{0,59})$"),
]


class CommissionRateCreate(Strict):
    """A new version of the commission rate of one product category (or "*")."""

    category: RateCategory = Field(
        description='A product category (e.g. "electronics/audio"; it also covers its '
        'subcategories without a rate of their own), or "*" for every category.'
    )
    rate_bp: int = Field(
        ge=0, le=MAX_RATE_BP, strict=True, description="Basis points of each line's total."
    )
    effective_from: UTCInstant | None = Field(
        default=None, description="When it takes over; now if omitted. Never in the past."
    )
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class CommissionRateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    category: str
    version: int
    rate_bp: int
    effective_from: datetime
    note: str | None
    created_at: datetime
    created_by: str
    standing: str = Field(description="scheduled, in_force or superseded, as of now.")

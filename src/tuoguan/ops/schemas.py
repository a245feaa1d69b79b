"""API shapes for sweep failures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tuoguan.ops.models import FailureStatus
from tuoguan.ops.states import FailureAction
from tuoguan.stores.schemas import Strict


class SweepFailureRead(BaseModel):
    """A row a worker sweep set aside, with its error and what an operator may do."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    sweep: str = Field(description="The worker sweep, e.g. record_breaches.")
    subject_type: str = Field(description="order, breach, shipment; sweep for a whole sweep.")
    subject_id: str
    error: str = Field(description="The exception's class and message (bounded).")
    attempts: int = Field(description="Failed tries, counting reopened ones.")
    status: FailureStatus
    first_seen_at: datetime
    last_seen_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None
    resolved_at: datetime | None
    allowed_actions: list[FailureAction] = Field(default_factory=list)


class FailureDecision(Strict):
    """Why the operator retries or dismisses the row (kept in the audit trail)."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]

"""API shapes of documents and the business-info review (S1, S2)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from tuoguan.onboarding.review_models import ReviewDecision, ReviewStage, ReviewStatus
from tuoguan.stores.schemas import Strict

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
DocumentId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Category = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9_\-/]{0,59}$")
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
FieldName = Annotated[str, StringConstraints(min_length=1, max_length=120)]


class BusinessInfoUpdate(Strict):
    """Fields of the business info to set; those left out keep their value. A returned review
    changes only its rejected fields (422 ``field_not_rejected``), never a field of an approved
    stage (422 ``stage_approved``). Documents are named by the id their upload answered."""

    company_name: Text | None = None
    registration_number: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)] | None
    ) = None
    licence: DocumentId | None = Field(default=None, description="A document of purpose licence.")
    legal_representative: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
        | None
    ) = None
    legal_representative_id: DocumentId | None = Field(
        default=None, description="A document of purpose legal_representative_id."
    )
    registered_address: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
        | None
    ) = None
    contact_phone: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 \-]{5,19}$")
        ]
        | None
    ) = None
    contact_email: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254)]
        | None
    ) = None
    account_holder: Text | None = None
    bank_name: Text | None = None
    account_number: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None
    ) = Field(
        default=None,
        description="6 to 34 letters and digits; read back masked to its last four characters.",
    )
    bank_proof: DocumentId | None = Field(
        default=None, description="A document of purpose bank_proof."
    )
    categories: list[Category] | None = Field(
        default=None,
        max_length=30,
        description="The product categories the store sells in (e.g. liquid/perfume).",
    )
    brand_authorisations: dict[Category, DocumentId] | None = Field(
        default=None,
        max_length=30,
        description="Per category that requires one, a document of purpose brand_authorisation.",
    )


class BusinessInfoRead(BaseModel):
    """The business info as people read it: documents by id, the account number masked."""

    company_name: str | None = None
    registration_number: str | None = None
    licence: str | None = None
    legal_representative: str | None = None
    legal_representative_id: str | None = None
    registered_address: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    account_holder: str | None = None
    bank_name: str | None = None
    account_number_masked: str | None = Field(
        default=None, description="The last four characters: •••• 1234."
    )
    bank_proof: str | None = None
    categories: list[str] = Field(default_factory=list)
    brand_authorisations: dict[str, str] = Field(default_factory=dict)


class DocumentRead(BaseModel):
    """A document and a short-lived link to its bytes (good until ``url_expires_at``)."""

    id: str
    store_id: str
    purpose: str
    file_name: str
    content_type: str
    size: int
    uploaded_at: datetime
    url: str = Field(description="/files/<id>?exp=..&sig=..: works without a token, briefly.")
    url_expires_at: datetime


class StageDecisionRead(BaseModel):
    """An operator's decision on one stage of one round."""

    stage: ReviewStage
    decision: ReviewDecision
    reasons: dict[str, str] = Field(description="Per field (or document), why it was rejected.")
    decided_by: str
    decided_at: datetime
    waited_seconds: int = Field(description="How long the stage waited for this decision.")


class ReviewRoundRead(BaseModel):
    """One submission: what was submitted, what changed since the last one, the decisions."""

    number: int
    started_stage: ReviewStage
    submitted_at: datetime
    submitted_by: str
    fields: BusinessInfoRead
    changed: list[str]
    decisions: list[StageDecisionRead]


class BusinessReviewRead(BaseModel):
    """A store's business-info review: where it stands, since when, and what to do next."""

    id: str | None = Field(description="Null until the seller first saves something.")
    store_id: str
    store_name: str
    seller_id: str
    status: ReviewStatus
    stage: ReviewStage | None = Field(
        description="Under review: the stage being decided; returned: the stage it resumes at."
    )
    approved_stages: list[ReviewStage]
    round: int = Field(description="Rounds submitted so far.")
    fields: BusinessInfoRead
    documents: list[DocumentRead] = Field(description="The documents the fields name.")
    brand_authorisation_required: list[str] = Field(
        description="The listed categories that require a brand authorisation."
    )
    missing: list[str] = Field(description="Fields still to fill before submitting.")
    rejected: dict[str, str] = Field(
        description="Returned: the fields to correct, each with the operator's reason."
    )
    stage_entered_at: datetime | None
    waiting_seconds: int | None = Field(description="How long it has been at its stage.")
    typical_business_days: int = Field(description="S2: a stage's typical longest stay.")
    stuck_after: datetime | None = Field(description="S2: past this, the stay is flagged.")
    stuck: bool
    flagged_at: datetime | None
    advice: list[str] = Field(
        description="When stuck, what to check: check_complete, check_file_formats, "
        "check_content_matches, contact_support."
    )
    submitted_at: datetime | None
    approved_at: datetime | None
    updated_at: datetime | None


class DecisionCreate(Strict):
    """An operator's decision on the stage under review: approve, or reject with a reason per
    field or document the seller must correct."""

    stage: ReviewStage = Field(description="The stage under review now (409 otherwise).")
    decision: ReviewDecision
    reasons: dict[FieldName, Reason] = Field(
        default_factory=dict,
        max_length=40,
        description="Reject: per field of the stage (e.g. licence, brand_authorisations."
        "liquid/perfume), why. Approve: none.",
    )

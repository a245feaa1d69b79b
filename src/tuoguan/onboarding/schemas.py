"""API shapes of joining the full-managed program: invitations (M2), the program agreement (M4)
and the joining checklist."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tuoguan.kit.clock import UTCInstant
from tuoguan.onboarding.models import InvitationStatus
from tuoguan.stores.schemas import CountryCode, CurrencyCode, Name, Strict

# How long an invitation stays open, in days: two weeks unless the operator says otherwise.
DEFAULT_EXPIRY_DAYS = 14
MAX_EXPIRY_DAYS = 60

Message = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Language = Literal["zh-CN", "en"]


class InvitationCreate(Strict):
    """An operator invites a seller to the full-managed program (M2)."""

    seller_id: str = Field(min_length=1, max_length=40)
    store_id: str = Field(
        min_length=1,
        max_length=40,
        description="The seller's store in good standing (active, not full-managed) the "
        "full-managed store is opened beside.",
    )
    message: Message = Field(description="What the seller reads with the invitation.")
    expires_in_days: int = Field(
        default=DEFAULT_EXPIRY_DAYS,
        ge=1,
        le=MAX_EXPIRY_DAYS,
        strict=True,
        description="How long the seller has to answer.",
    )
    store_name: Name | None = Field(
        default=None, description="The full-managed store's name; the linked store's if omitted."
    )
    currency: CurrencyCode | None = Field(
        default=None,
        description="The full-managed store's currency; the linked store's if omitted.",
    )
    country: CountryCode | None = Field(
        default=None,
        description="The country the full-managed store ships from; the linked store's if omitted.",
    )


class InvitationDecline(Strict):
    """The seller declines, optionally saying why."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class InvitationWithdraw(Strict):
    """An operator withdraws an open invitation, saying why (the seller reads it)."""

    reason: Reason


class InvitationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    seller_id: str
    store_id: str = Field(description="The seller's store the full-managed store links to.")
    store_name: str
    currency: str
    country: str
    message: str
    expires_at: datetime
    status: InvitationStatus = Field(
        description="An open invitation past its expiry reads as expired."
    )
    invited_by: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decided_from: str | None = Field(description="The client address the answer came from.")
    decision_note: str | None
    full_managed_store_id: str | None
    on_behalf: bool
    on_behalf_reason: str | None
    allowed_actions: list[str] = Field(
        default_factory=list, description="accept, decline, withdraw: what the reader may do now."
    )


class AgreementCreate(Strict):
    """An operator publishes a new version of the program agreement (M4)."""

    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    title_zh: Name
    title_en: Name
    body_zh: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50_000)
    ]
    body_en: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50_000)
    ]
    effective_from: UTCInstant | None = Field(
        default=None, description="When it takes over; now if omitted. Never in the past."
    )
    requires_acceptance: bool = Field(
        default=True,
        strict=True,
        description="Sellers must accept it: until they do, their new supply orders are refused "
        "(orders already promised still ship). False: a correction earlier acceptances cover.",
    )


class AgreementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    version: int
    label: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    effective_from: datetime
    requires_acceptance: bool
    published_by: str
    created_at: datetime
    standing: str = Field(description="scheduled, in_force or superseded, as of now.")
    accepted_at: datetime | None = Field(
        default=None, description="When the reading seller accepted it (sellers only)."
    )


class AgreementText(BaseModel):
    """The version in force, in one language, and whether the reading seller must accept it."""

    id: str
    version: int
    label: str
    lang: Language
    title: str
    body: str
    effective_from: datetime
    requires_acceptance: bool
    accepted_at: datetime | None = None
    pending: bool = Field(
        default=False,
        description="The reading seller has not accepted it and must (new supply orders wait).",
    )


class AcceptanceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    version_id: str
    seller_id: str
    accepted_by: str
    accepted_at: datetime
    client_address: str
    user_agent: str


class ChecklistRead(BaseModel):
    """Where a full-managed store stands in joining the program (M2, M4, S1, S3)."""

    store_id: str
    joined_at: datetime | None
    agreement_id: str | None = Field(description="The version in force; null: none published.")
    agreement_label: str | None
    agreement_accepted: bool
    review_approved: bool
    deposit_currency: str
    deposit_required_minor: int | None = Field(description="Null: no deposit rate applies.")
    deposit_held_minor: int
    deposit_funded: bool
    done: bool = Field(description="All three hold: the store joins (or has joined).")

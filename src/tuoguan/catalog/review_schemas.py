"""API shapes of product review, listing and category rules (C1, C2, S2)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tuoguan.catalog.review_models import RevisionStatus
from tuoguan.catalog.schemas import (
    MAX_SKUS,
    Attributes,
    Barcode,
    Category,
    Grams,
    Millimetres,
    Minor,
    SkuCreate,
)
from tuoguan.kit.outbound import WebUrl
from tuoguan.stores.schemas import Name, Storable, Strict

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), Storable]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), Storable
]
ReasonField = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]
# A category rule's name: a category, or ``*`` for every category without a rule of its own.
RuleCategory = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^(\*|[a-z0-9][a-z0-9_\-/]{0,59})$"),
]


class ProductSubmit(Strict):
    """A submission for review, with an optional note to the reviewer."""

    note: Note | None = None


class SkuRevise(Strict):
    """Proposed changes to one SKU of an approved product; null clears a barcode, weight, size
    or supply price (the product's then apply)."""

    id: str = Field(min_length=1, max_length=40, description="The SKU changed.")
    attributes: Attributes | None = None
    barcode: Barcode | None = None
    weight_g: Grams | None = None
    length_mm: Millimetres | None = None
    width_mm: Millimetres | None = None
    height_mm: Millimetres | None = None
    supply_price_minor: Minor | None = None


class ProductRevisionCreate(Strict):
    """C2: changes to an approved product's buyer-visible values, or (full-managed) its supply
    prices, proposed for review; the approved values keep selling until an operator decides."""

    name: Name | None = None
    description: str | None = Field(default=None, max_length=10_000)
    images: list[WebUrl] | None = Field(default=None, max_length=20)
    category: Category | None = None
    declared_value_minor: Minor | None = None
    weight_g: Grams | None = None
    length_mm: Millimetres | None = None
    width_mm: Millimetres | None = None
    height_mm: Millimetres | None = None
    supply_price_minor: Minor | None = Field(
        default=None, description="The product's supply price; full-managed stores only."
    )
    skus: list[SkuRevise] | None = Field(
        default=None, max_length=MAX_SKUS, description="Changes to SKUs it has."
    )
    new_skus: list[SkuCreate] | None = Field(
        default=None, max_length=MAX_SKUS, description="SKUs to add."
    )
    note: Note | None = None


class ProductDecision(StrEnum):
    """An operator's answer to a revision."""

    approve = "approve"
    reject = "reject"


class RevisionDecision(Strict):
    """C2: approve (full-managed: with the retail price; required the first time) or reject
    with a reason per field (``name``, ``images``, ``supply_price_minor``, ``skus``, …, or
    ``product`` for the whole)."""

    decision: ProductDecision
    retail_price_minor: Minor | None = Field(
        default=None, description="Full-managed: the retail price buyers pay (C1)."
    )
    reasons: dict[ReasonField, Reason] = Field(default_factory=dict, max_length=20)
    note: Note | None = None


class Suspension(Strict):
    """Quality supervision: why the product's sale stops."""

    reason: Reason


class Unsuspension(Strict):
    note: Note | None = None


class ProductRevisionRead(BaseModel):
    """One submission and its decision."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    product_id: str
    store_id: str
    number: int
    first: bool = Field(description="The product's first review (deciding it lists or rejects).")
    status: RevisionStatus
    currency: str
    proposed: dict[str, Any] = Field(description="The values proposed, SKUs included.")
    base: dict[str, Any] | None = Field(description="The approved values they would replace.")
    changed: list[str] = Field(description="The fields whose value the revision changes.")
    note: str | None
    submitted_at: datetime
    review_due: datetime = Field(description="S2: waiting past this is stuck.")
    stuck: bool = Field(description="Waiting past its review_due (S2).")
    flagged_at: datetime | None
    reasons: dict[str, str] = Field(description="A rejection's reasons by field.")
    retail_price_minor: int | None
    decision_note: str | None
    decided_at: datetime | None
    decided_by: str | None
    version: int


class CategoryRuleSet(Strict):
    """What a category requires (C2, S1)."""

    review_required: bool = Field(
        strict=True, description="Semi-managed and self-run listings wait for review (C2)."
    )
    brand_authorisation_required: bool = Field(
        strict=True, description="Sellers upload a brand authorisation (S1)."
    )


class CategoryRuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    category: str
    review_required: bool
    brand_authorisation_required: bool
    updated_at: datetime
    updated_by: str


class CategoryRequirementsRead(BaseModel):
    """A category's requirements, from the nearest rule of its lineage (``a/b`` → ``a`` → ``*``)."""

    category: str
    review_required: bool
    brand_authorisation_required: bool
    source: str | None = Field(description="The rule's category that says so (null: no rule).")

"""Tables: documents kept outside the database, and the business-info review (经营信息审核, S1,
S2) of a full-managed store with every round of it.

A document row says what a file is and where storage keeps it (``kit/storage.py``); its bytes
are never in the database. A business review is one store's: the fields the seller fills, the
stage it is at (商业背景评估 → 财务状况审查 → 产品类别审核), and since when. Each submission is a
round that keeps what was submitted and each stage's decision with its reasons per field.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.db import Base, UTCDateTime


class Document(Base):
    """An uploaded file (a licence, an identity document, a bank proof, a brand authorisation,
    an exit's papers): checked by its content, kept by ``storage_key``, served only to its
    seller and operators through short-lived signed links."""

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_store", "store_id", "id"),
        Index("ix_documents_key", "storage_key"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    # What it is for: licence, legal_representative_id, bank_proof, brand_authorisation, exit...
    purpose: Mapped[str] = mapped_column(String(40))
    # The name it was uploaded with, cleaned, for people only (never part of a path).
    file_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(60))  # from its content, not its name
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(400))
    uploaded_by: Mapped[str] = mapped_column(String(40))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReviewStage(StrEnum):
    """The stages of the business-info review, in order (S1)."""

    background = "background"  # 商业背景评估
    financial = "financial"  # 财务状况审查
    categories = "categories"  # 产品类别审核


class ReviewStatus(StrEnum):
    """Where a business review stands (S1)."""

    draft = "draft"  # 填写中: never submitted
    under_review = "under_review"  # 审核中: an operator decides its stage
    returned = "returned"  # 已退回: the seller corrects the rejected fields and resubmits
    approved = "approved"  # 审核通过: every stage approved


class ReviewDecision(StrEnum):
    """An operator's decision on a stage."""

    approve = "approve"
    reject = "reject"


class BusinessReview(Base):
    """One full-managed store's business-info review: the fields as they stand now, the stage
    it is at and since when, and (while returned) the fields open for correction with why."""

    __tablename__ = "business_reviews"
    __table_args__ = (
        UniqueConstraint("store_id", name="uq_business_reviews_store"),
        # The operators' queue (waiting, oldest first) and the stuck sweep (S2).
        Index("ix_business_reviews_queue", "status", "stage_entered_at", "id"),
        Index("ix_business_reviews_stuck", "status", "stuck_after"),
        Index("ix_business_reviews_seller", "seller_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    status: Mapped[ReviewStatus] = mapped_column(
        Enum(ReviewStatus, native_enum=False, length=20), default=ReviewStatus.draft
    )
    # Under review: the stage an operator decides now; returned: the stage the review resumes
    # at (every stage before it is approved); approved or draft: none.
    stage: Mapped[ReviewStage | None] = mapped_column(
        Enum(ReviewStage, native_enum=False, length=20)
    )
    # The seller's answers (onboarding/review_fields.py): text, document ids, categories.
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Returned: the fields the seller may change, each with the operator's reason.
    rejected: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    round_no: Mapped[int] = mapped_column(Integer, default=0)  # rounds submitted so far
    # S2: when the review entered its stage (or was returned), and when that stay passes the
    # typical time (``timing.deadlines.audit_stuck_after``, "onboarding"); flagged once.
    stage_entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stuck_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the latest round's
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class ReviewRound(Base):
    """One submission: the fields as submitted, which changed since the last round, the stage
    it started at, and each stage's decision (stage, decision, reasons per field, decided_by,
    decided_at, how long the stage waited), in order."""

    __tablename__ = "review_rounds"
    __table_args__ = (UniqueConstraint("review_id", "number", name="uq_review_rounds_number"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    review_id: Mapped[str] = mapped_column(ForeignKey("business_reviews.id"))
    number: Mapped[int] = mapped_column(Integer)
    started_stage: Mapped[ReviewStage] = mapped_column(
        Enum(ReviewStage, native_enum=False, length=20)
    )
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed: Mapped[list[str]] = mapped_column(JSON, default=list)
    decisions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_by: Mapped[str] = mapped_column(String(40))

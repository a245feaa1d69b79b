"""Product revisions: what a seller submits for the platform's review (平台审核, C1, C2, S2)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.db import Base, UTCDateTime

# At most one revision of a product waits for its decision.
OPEN = "status = 'submitted'"


class RevisionStatus(StrEnum):
    """Where one submission stands."""

    submitted = "submitted"  # 审核中: waiting for an operator
    approved = "approved"  # 审核通过: its values are the product's
    rejected = "rejected"  # 审核驳回: with reasons by field


class ProductRevision(Base):
    """One submission of a product's buyer-visible values (and, full-managed, its supply prices)
    for review. The product keeps selling its approved values meanwhile; approval applies the
    proposed ones in one transaction, rejection leaves the product as it was (C2)."""

    __tablename__ = "product_revisions"
    __table_args__ = (
        UniqueConstraint("product_id", "number", name="uq_product_revisions_number"),
        Index(
            "uq_product_revisions_open",
            "product_id",
            unique=True,
            postgresql_where=text(OPEN),
            sqlite_where=text(OPEN),
        ),
        # The operators' queue: waiting ones by due time (stuck first, then oldest: S2), and
        # the stuck-review sweep's range.
        Index("ix_product_revisions_queue", "status", "review_due", "id"),
        Index("ix_product_revisions_store", "store_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    # 1, 2, … per product, in the order submitted.
    number: Mapped[int] = mapped_column(Integer)
    # The product's first review: deciding it lists the product or rejects it. A later one
    # (a change to an approved product) never stops the product selling.
    first: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[RevisionStatus] = mapped_column(
        Enum(RevisionStatus, native_enum=False, length=20)
    )
    # The values proposed, whole: the reviewed fields and the SKUs ({id or None, code, …}).
    proposed: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The approved values they would replace (None: the first review, nothing approved yet).
    base: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The fields whose proposed value differs from the base ("skus" for any SKU's).
    changed: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(String(500))  # the seller's, to the reviewer
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_by: Mapped[str] = mapped_column(String(40))
    # S2: the end of the second business day after submission, Shanghai time, China's calendar;
    # waiting past it is stuck.
    review_due: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the sweep flagged it stuck (once).
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The decision: reasons by field (rejections), the retail price set (full-managed).
    reasons: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    retail_price_minor: Mapped[int | None] = mapped_column(BigInteger)
    decision_note: Mapped[str | None] = mapped_column(String(500))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

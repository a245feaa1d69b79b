"""The products table."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.db import Base, UTCDateTime


class ProductStatus(StrEnum):
    """Where a product stands in review (C2)."""

    draft = "draft"
    under_review = "under_review"  # 审核中
    active = "active"
    rejected = "rejected"


class Product(Base):
    """A listed good (C1). Prices are integer minor units of the store's currency."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("weight_g > 0", name="weight_positive"),
        CheckConstraint("price_minor IS NULL OR price_minor >= 0", name="price_not_negative"),
        # The list (newest first): a store's, the storefront's active ones, both.
        Index("ix_products_store", "store_id", "id"),
        Index("ix_products_status", "status", "id"),
        Index("ix_products_store_status", "store_id", "status", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    category: Mapped[str] = mapped_column(String(60))
    currency: Mapped[str] = mapped_column(String(3))
    # Retail price; in full-managed stores the operator sets it (C1).
    price_minor: Mapped[int | None] = mapped_column(BigInteger)
    # Supply price reported by a full-managed seller (上报价格).
    supply_price_minor: Mapped[int | None] = mapped_column(BigInteger)
    declared_value_minor: Mapped[int] = mapped_column(BigInteger)
    weight_g: Mapped[int] = mapped_column(Integer)
    length_mm: Mapped[int] = mapped_column(Integer)
    width_mm: Mapped[int] = mapped_column(Integer)
    height_mm: Mapped[int] = mapped_column(Integer)
    status: Mapped[ProductStatus] = mapped_column(
        Enum(ProductStatus, native_enum=False, length=20), default=ProductStatus.draft
    )
    review_note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

"""Products and their SKUs (规格)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.schema import UniqueConstraint

from tuoguan.db import Base, UTCDateTime


class ProductStatus(StrEnum):
    """Where a product stands in review and on sale (C1, C2); the moves are ``states.py``'s."""

    draft = "draft"  # 草稿: the seller's, not yet submitted
    under_review = "under_review"  # 审核中: its first review is waiting for an operator
    active = "active"  # 在售 (上架): buyers may order it
    rejected = "rejected"  # 审核驳回: the seller edits and submits again
    delisted = "delisted"  # 已下架: taken off sale by its seller
    suspended = "suspended"  # 已暂停: an operator stopped its sale (quality supervision, C2)


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
        # Order search by product name: everyone's, or a seller's stores'.
        Index("ix_products_name", "name", "store_id"),
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
    # C2: when its first review approved it; from then on a full-managed product (or one whose
    # category needs review) changes what the buyer sees only through a reviewed revision.
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When it last went on sale (上架).
    listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The revision waiting for an operator's decision, if any (one at a time).
    pending_revision_id: Mapped[str | None] = mapped_column(String(40))
    # The last rejection's reasons by field, shown beside the fields until the next submission.
    review_reasons: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # Why an operator suspended its sale (quality supervision), while suspended.
    suspended_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    # Loaded with the product (one query per batch of products): every read shows them and
    # an order resolves its lines against them (C3).
    skus: Mapped[list[Sku]] = relationship(order_by=lambda: (Sku.position, Sku.id), lazy="selectin")

    __mapper_args__ = {"version_id_col": version}


class Sku(Base):
    """One sellable variant of a product (规格): its attributes (colour, size…), a barcode, and its
    own weight and size where they differ from the product's. Order lines, stock and inbound
    notices count SKUs, never products (C3, M5)."""

    __tablename__ = "skus"
    __table_args__ = (
        UniqueConstraint("store_id", "code", name="uq_skus_store_code"),
        UniqueConstraint("store_id", "barcode", name="uq_skus_store_barcode"),
        CheckConstraint("weight_g IS NULL OR weight_g > 0", name="sku_weight_positive"),
        CheckConstraint(
            "supply_price_minor IS NULL OR supply_price_minor >= 0", name="sku_supply_not_negative"
        ),
        # A product's SKUs in the order they were added; a store's SKUs page by id.
        Index("ix_skus_product", "product_id", "position"),
        Index("ix_skus_store", "store_id", "id"),
        # Order search by SKU code across every store (a store's: uq_skus_store_code).
        Index("ix_skus_code", "code"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    # The product's store, kept here so stock and inbound scope by seller without a join.
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The seller's own code for the variant (商家编码), unique in the store.
    code: Mapped[str] = mapped_column(String(64))
    # Attribute name -> value, e.g. {"colour": "red", "size": "M"}; {} for a product's only SKU.
    attributes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # EAN/UPC or the seller's own barcode, as a scanner types it; unique in the store.
    barcode: Mapped[str | None] = mapped_column(String(64))
    # Where the variant differs from the product (None: the product's value applies).
    weight_g: Mapped[int | None] = mapped_column(Integer)
    length_mm: Mapped[int | None] = mapped_column(Integer)
    width_mm: Mapped[int | None] = mapped_column(Integer)
    height_mm: Mapped[int | None] = mapped_column(Integer)
    # The full-managed supplier's price for this variant (None: the product's).
    supply_price_minor: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

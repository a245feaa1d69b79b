"""What a product category requires: review before listing, brand authorisation (C2, S1)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.db import Base, UTCDateTime


class CategoryRule(Base):
    """One category's requirements; a category without a row takes its nearest parent's, then
    ``*``'s (the lineage ``a/b/c`` → ``a/b`` → ``a`` → ``*``), then none at all."""

    __tablename__ = "category_rules"

    category: Mapped[str] = mapped_column(String(60), primary_key=True)
    # C2: semi-managed and self-run listings in this category wait for an operator's review
    # (full-managed products are always reviewed).
    review_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # S1: a seller selling in this category uploads a brand authorisation with its business info.
    brand_authorisation_required: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(40))

"""Tables: the full-managed program agreement (全托管合作协议, 签订合同) and its acceptances (M4).

The agreement is versioned text in Chinese and English. A version is never edited: a change is a
new version that takes effect later (``kit.versions``). Each seller's acceptance of a version
records who accepted it, when, and from where (client address and user agent).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.db import Base, UTCDateTime


class AgreementVersion(Base):
    """One version of the program agreement, in force from ``effective_from`` until the next
    version starts. ``requires_acceptance``: sellers must accept it (a new version that does not
    require it is a correction that earlier acceptances cover)."""

    __tablename__ = "agreement_versions"
    __table_args__ = (
        UniqueConstraint("version", name="uq_agreement_versions_version"),
        Index("ix_agreement_versions_effective", "effective_from"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(40))  # what people call it, e.g. "2026版"
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    body_zh: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    requires_acceptance: Mapped[bool] = mapped_column(Boolean, default=True)
    published_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AgreementAcceptance(Base):
    """A seller's acceptance of one agreement version: who, when, from where (M4)."""

    __tablename__ = "agreement_acceptances"
    __table_args__ = (
        UniqueConstraint("version_id", "seller_id", name="uq_agreement_acceptances_seller"),
        Index("ix_agreement_acceptances_seller", "seller_id", "version_id"),
        Index("ix_agreement_acceptances_version", "version_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version_id: Mapped[str] = mapped_column(ForeignKey("agreement_versions.id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    accepted_by: Mapped[str] = mapped_column(String(40))  # the user or token that accepted
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    client_address: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(500))

"""Tables for penalty policies, penalties and commission rates."""

from __future__ import annotations

from datetime import datetime
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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.db import Base, UTCDateTime
from tuoguan.finance.policy import Tier
from tuoguan.finance.states import PenaltyStatus
from tuoguan.timing.kinds import BreachKind

# Penalties the charge sweep may still take: not charged, neither upheld (charged when upheld)
# nor waived (never charged).
_UNCHARGED = "charged_at IS NULL AND status IN ('assessed', 'appealed')"


class PenaltyPolicy(Base):
    """One version of the fines for one kind of breach, in force from ``effective_from``.

    Versions are never edited: a change is a new version with a later start,
    so every penalty can name the exact rules it was assessed under.
    """

    __tablename__ = "penalty_policies"
    __table_args__ = (
        UniqueConstraint("kind", "version", name="uq_penalty_policies_kind_version"),
        Index("ix_penalty_policies_kind_effective", "kind", "effective_from"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[BreachKind] = mapped_column(Enum(BreachKind, native_enum=False, length=20))
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    tiers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(40))

    def tier_list(self) -> list[Tier]:
        """The tiers as values."""
        return [Tier(**tier) for tier in self.tiers]


class Penalty(Base):
    """The fine for one breach: its rule version, amount and where its appeal stands."""

    __tablename__ = "penalties"
    __table_args__ = (
        UniqueConstraint("breach_id", name="uq_penalties_breach"),
        # The list (newest first) under each filter: none, status, seller or store, with status.
        Index("ix_penalties_assessed", "assessed_at", "id"),
        Index("ix_penalties_seller_assessed", "seller_id", "assessed_at", "id"),
        Index("ix_penalties_status_assessed", "status", "assessed_at", "id"),
        Index("ix_penalties_seller_status_assessed", "seller_id", "status", "assessed_at", "id"),
        Index("ix_penalties_store_assessed", "store_id", "assessed_at", "id"),
        Index("ix_penalties_store_status_assessed", "store_id", "status", "assessed_at", "id"),
        # The charge sweep's range (F6, O2): penalties whose appeal window closes, not charged.
        Index(
            "ix_penalties_uncharged",
            "appeal_by",
            "id",
            postgresql_where=text(_UNCHARGED),
            sqlite_where=text(_UNCHARGED),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    breach_id: Mapped[str] = mapped_column(ForeignKey("breaches.id"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    kind: Mapped[BreachKind] = mapped_column(Enum(BreachKind, native_enum=False, length=20))
    policy_id: Mapped[str] = mapped_column(ForeignKey("penalty_policies.id"))
    policy_version: Mapped[int] = mapped_column(Integer)
    tier_index: Mapped[int] = mapped_column(Integer)
    lateness_seconds: Mapped[int] = mapped_column(BigInteger)
    # The fine is a share of the order total, so it is in the order's currency.
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    rating_points: Mapped[int] = mapped_column(Integer)
    status: Mapped[PenaltyStatus] = mapped_column(Enum(PenaltyStatus, native_enum=False, length=20))
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    appeal_by: Mapped[datetime] = mapped_column(UTCDateTime())
    appeal_reason: Mapped[str | None] = mapped_column(String(1000))
    appealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(40))
    decision_reason: Mapped[str | None] = mapped_column(String(1000))
    # When it became payable by the store and was posted to the ledger (``penalty_charged``):
    # upheld, or its appeal window closed without a decision waiving it.
    charged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class CommissionRate(Base):
    """One version of the commission rate (佣金比例) of a product category, or of ``*`` (every
    category without a rate of its own), in force from ``effective_from`` (M3).

    Versions are never edited: a change is a new version with a later start, and an order line
    keeps the rate in force when the order was placed.
    """

    __tablename__ = "commission_rates"
    __table_args__ = (
        UniqueConstraint("category", "version", name="uq_commission_rates_category_version"),
        Index("ix_commission_rates_category_effective", "category", "effective_from"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    category: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    rate_bp: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(40))

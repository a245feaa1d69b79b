"""Tables: deposit rates (保证金标准) and deposit refund applications (退还保证金申请) (S3).

The money itself is the ledger's (``deposit_held``); these rows say how much a full-managed
store must hold, and why and how each refund left it.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
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

# At most one application of a store waits for its decision.
OPEN = "status = 'applied'"


class DepositRate(Base):
    """One version of the deposit a full-managed store selling in a product category must hold,
    in one currency (S3); ``*`` is every category without a rate of its own.

    Versions are never edited: a change is a new version of the (category, currency) that
    starts later, never in the past. A store's requirement is the highest rate in force among
    the categories of its products.
    """

    __tablename__ = "deposit_rates"
    __table_args__ = (
        UniqueConstraint("category", "currency", "version", name="uq_deposit_rates_version"),
        Index("ix_deposit_rates_category", "category", "currency", "effective_from"),
        CheckConstraint("amount_minor >= 0", name="not_negative"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    category: Mapped[str] = mapped_column(String(60))
    currency: Mapped[str] = mapped_column(String(3))
    version: Mapped[int] = mapped_column(Integer)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(40))


class DepositRefundStatus(StrEnum):
    """Where a deposit refund application stands (S3).

    Stored: applied, approved, rejected. ``paid`` and ``failed`` are what an approved refund
    reads as once its payout was sent or failed on the rail (the payout's own status).
    """

    applied = "applied"  # 已申请: waiting for an operator
    approved = "approved"  # 审核通过: its payout is on its way
    rejected = "rejected"  # 已驳回
    paid = "paid"  # 已退还: the payout left
    failed = "failed"  # 打款失败: the money went back to the deposit


class DepositState(StrEnum):
    """Where a full-managed store's deposit stands, in one word (S3)."""

    unfunded = "unfunded"  # 未缴纳
    partly_funded = "partly_funded"  # 未缴足
    funded = "funded"  # 已缴足
    refund_applied = "refund_applied"  # 退还申请中
    refunded = "refunded"  # 已退还


class DepositRefund(Base):
    """A seller's application for its deposit back, the operator's decision, what was deducted
    from the deposit for the store's debts (line by line) and the payout that pays the rest."""

    __tablename__ = "deposit_refunds"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="positive"),
        Index(
            "uq_deposit_refunds_open",
            "store_id",
            unique=True,
            postgresql_where=text(OPEN),
            sqlite_where=text(OPEN),
        ),
        # The operators' queue: waiting first (queue_rank 0), oldest first.
        Index("ix_deposit_refunds_queue", "queue_rank", "id"),
        Index("ix_deposit_refunds_store", "store_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    currency: Mapped[str] = mapped_column(String(3))
    # What the seller asked for, paid as asked once approved (never more than refundable).
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[DepositRefundStatus] = mapped_column(
        Enum(DepositRefundStatus, native_enum=False, length=20)
    )
    queue_rank: Mapped[int] = mapped_column(Integer, default=0)  # 0 waiting, 1 decided
    # The debts taken from the deposit at approval, penalties first: a snapshot of each line.
    deductions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    deducted_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    debt_entry_id: Mapped[str | None] = mapped_column(ForeignKey("journal_entries.id"))
    payout_minor: Mapped[int | None] = mapped_column(BigInteger)
    payout_id: Mapped[str | None] = mapped_column(ForeignKey("payouts.id"))
    # 3-5 business days (S3), local dates of the seller's country.
    arrives_earliest: Mapped[date | None] = mapped_column(Date)
    arrives_latest: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(40))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(40))
    decision_note: Mapped[str | None] = mapped_column(String(1000))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

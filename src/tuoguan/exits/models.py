"""Tables: the exit terms (退店条款), the exit applications (退出全托管申请) and the exit archives
(店铺资料导出) (S4, S5).

The money of an exit is the ledger's (the fees charged, the last settlement, the deposit
refund); these rows say what the seller was shown and acknowledged, who decided, what the
seller chose for its stock, and where each step's money and stock moves are.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
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
from tuoguan.exports.states import ExportStatus
from tuoguan.principal import Role

# At most one application of a store is open (waiting for its review, or approved and not yet
# unbound).
OPEN = "status IN ('applied', 'approved')"


class ExitTerms(Base):
    """One version of the exit terms in one currency (S5): the store management fee (店铺管理费)
    and the refund handling fee (退款手续费), either possibly zero, and how many business days
    the review takes. Never edited: a change is a new version that starts later."""

    __tablename__ = "exit_terms"
    __table_args__ = (
        UniqueConstraint("currency", "version", name="uq_exit_terms_version"),
        Index("ix_exit_terms_currency", "currency", "effective_from"),
        CheckConstraint("management_fee_minor >= 0", name="management_fee_not_negative"),
        CheckConstraint("refund_fee_minor >= 0", name="refund_fee_not_negative"),
        CheckConstraint("review_days BETWEEN 1 AND 30", name="review_days_range"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    version: Mapped[int] = mapped_column(Integer)
    management_fee_minor: Mapped[int] = mapped_column(BigInteger)
    refund_fee_minor: Mapped[int] = mapped_column(BigInteger)
    # The operators review an application within this many business days (platform calendar).
    review_days: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(40))


class ExitStatus(StrEnum):
    """Where an exit application stands (S4); the moves are in ``exits.states``."""

    applied = "applied"  # 已申请: waiting for an operator's review
    approved = "approved"  # 审核通过: the seller may unbind
    rejected = "rejected"  # 已驳回
    unbound = "unbound"  # 已解绑: the store left full-managed
    closed = "closed"  # 已关店: contact details cleared


class StockChoice(StrEnum):
    """What becomes of the stock the platform's warehouses hold for the store (S4)."""

    return_ = "return"  # 退回: sent back to the seller's return address
    dispose = "dispose"  # 销毁: disposed of by the warehouse


class ExitApplication(Base):
    """A store's application to leave full-managed and each step it went through."""

    __tablename__ = "exits"
    __table_args__ = (
        Index(
            "uq_exits_open",
            "store_id",
            unique=True,
            postgresql_where=text(OPEN),
            sqlite_where=text(OPEN),
        ),
        # The operators' queue: waiting first (queue_rank 0), oldest first.
        Index("ix_exits_queue", "queue_rank", "id"),
        Index("ix_exits_store", "store_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    status: Mapped[ExitStatus] = mapped_column(Enum(ExitStatus, native_enum=False, length=20))
    queue_rank: Mapped[int] = mapped_column(Integer, default=0)  # 0 waiting, 1 decided
    reason: Mapped[str] = mapped_column(String(1000))
    # The documents the seller attached (onboarding documents of purpose "exit").
    document_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The terms shown and acknowledged when applying: what unbinding charges.
    terms_id: Mapped[str] = mapped_column(ForeignKey("exit_terms.id"))
    currency: Mapped[str] = mapped_column(String(3))
    management_fee_minor: Mapped[int] = mapped_column(BigInteger)
    refund_fee_minor: Mapped[int] = mapped_column(BigInteger)
    review_days: Mapped[int] = mapped_column(Integer)
    review_by: Mapped[datetime] = mapped_column(UTCDateTime())
    fees_acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(40))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(40))
    # The operator's reasons, one a line (a rejection needs at least one).
    decision_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Unbinding: the seller's choice for the stock, where a return goes, what moved.
    stock_choice: Mapped[StockChoice | None] = mapped_column(
        Enum(
            StockChoice,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    return_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    stock_moved: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    fee_entry_id: Mapped[str | None] = mapped_column(ForeignKey("journal_entries.id"))
    settled_netted_minor: Mapped[int | None] = mapped_column(BigInteger)
    settled_payout_minor: Mapped[int | None] = mapped_column(BigInteger)
    settlement_payout_id: Mapped[str | None] = mapped_column(ForeignKey("payouts.id"))
    deposit_refund_id: Mapped[str | None] = mapped_column(ForeignKey("deposit_refunds.id"))
    deposit_deducted_minor: Mapped[int | None] = mapped_column(BigInteger)
    unbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unbound_by: Mapped[str | None] = mapped_column(String(40))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class ExitArchive(Base):
    """One export of a store's information, statements and orders (CSV and XLSX in a zip),
    written by the worker under a lease and kept seven days (S4)."""

    __tablename__ = "exit_archives"
    __table_args__ = (
        Index("ix_exit_archives_store", "store_id", "id"),
        # The worker's look-ups: queued jobs, running ones whose lease ran out.
        Index("ix_exit_archives_status_lease", "status", "lease_until"),
        # Done archives whose file is due for deletion.
        Index("ix_exit_archives_status_expires", "status", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    requested_by: Mapped[str] = mapped_column(String(40))
    requested_role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    # The language its statements' words are in (the requester's).
    language: Mapped[str] = mapped_column(String(10))
    status: Mapped[ExportStatus] = mapped_column(Enum(ExportStatus, native_enum=False, length=20))
    # Progress: the parts written of the parts in all (the store, each month, each order page).
    steps_done: Mapped[int] = mapped_column(Integer, default=0)
    steps_total: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The zip's name inside TUOGUAN_EXPORT_DIR, its size and SHA-256, once done.
    file_name: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

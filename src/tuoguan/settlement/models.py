"""Tables: payout accounts, payouts, the sandbox rail's instructions.

A store binds one payout account (收款账户) at a time: rebinding replaces it and keeps the old
one as history. A payout (打款) is money set aside on the store's payout clearing for that
account, sent on the payment rail at most once. ``rail_instructions`` is the sandbox bank's
own book: the rail writes it in its own transactions, never in the caller's.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.db import Base, UTCDateTime

IN_FORCE = "replaced_at IS NULL"
# The sweep's due list: payouts waiting to be sent, or sent with no answer recorded yet.
UNSETTLED = "status IN ('prepared', 'sending')"


class PayoutPurpose(StrEnum):
    """Why the money goes to the seller."""

    settlement = "settlement"  # 结算: what a settlement run found due
    deposit_refund = "deposit_refund"  # 退还保证金 (S3)


class PayoutStatus(StrEnum):
    """Where a payout stands on the rail."""

    prepared = "prepared"  # set aside on payout clearing, not sent yet
    sending = "sending"  # handed to the rail; its answer not recorded yet
    sent = "sent"  # the rail accepted it: the money left
    failed = "failed"  # the rail refused it: the money went back where it came from


class InstructionStatus(StrEnum):
    """The rail's answer to an instruction."""

    accepted = "accepted"
    rejected = "rejected"


class PayoutAccount(Base):
    """A bank account a store is paid to; at most one in force per store (``replaced_at`` null)."""

    __tablename__ = "payout_accounts"
    __table_args__ = (
        Index(
            "uq_payout_accounts_in_force",
            "store_id",
            unique=True,
            postgresql_where=text(IN_FORCE),
            sqlite_where=text(IN_FORCE),
        ),
        Index("ix_payout_accounts_store", "store_id", "bound_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    holder_name: Mapped[str] = mapped_column(String(200))
    bank_name: Mapped[str] = mapped_column(String(200))
    account_number: Mapped[str] = mapped_column(String(34))
    currency: Mapped[str] = mapped_column(String(3))
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime())
    bound_by: Mapped[str] = mapped_column(String(40))
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Payout(Base):
    """Money owed to a store, set aside on its payout clearing and sent once on the rail."""

    __tablename__ = "payouts"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="positive"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index(
            "ix_payouts_unsettled",
            "status",
            "created_at",
            postgresql_where=text(UNSETTLED),
            sqlite_where=text(UNSETTLED),
        ),
        Index("ix_payouts_store", "store_id", "id"),
        Index("ix_payouts_status", "status", "id"),
        Index("ix_payouts_subject", "subject_type", "subject_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[PayoutPurpose] = mapped_column(
        Enum(PayoutPurpose, native_enum=False, length=20)
    )
    status: Mapped[PayoutStatus] = mapped_column(Enum(PayoutStatus, native_enum=False, length=20))
    # What the payout pays: a run's statement, a deposit refund ...
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[str | None] = mapped_column(String(40))
    payout_account_id: Mapped[str] = mapped_column(ForeignKey("payout_accounts.id"))
    prepare_entry_id: Mapped[str] = mapped_column(ForeignKey("journal_entries.id"))
    sent_entry_id: Mapped[str | None] = mapped_column(ForeignKey("journal_entries.id"))
    reversal_entry_id: Mapped[str | None] = mapped_column(ForeignKey("journal_entries.id"))
    rail_reference: Mapped[str | None] = mapped_column(String(64))
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    idem_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(40))
    sending_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RailInstruction(Base):
    """The sandbox bank's record of one instruction, keyed by the payout it pays."""

    __tablename__ = "rail_instructions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    holder_name: Mapped[str] = mapped_column(String(200))
    bank_name: Mapped[str] = mapped_column(String(200))
    account_number: Mapped[str] = mapped_column(String(34))
    status: Mapped[InstructionStatus] = mapped_column(
        Enum(InstructionStatus, native_enum=False, length=20)
    )
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

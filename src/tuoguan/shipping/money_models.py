"""Tables of the money rules that parcels and orders drive: the delivery-commitment compensation
policy and what each late parcel got (G2), and the refunds paid to buyers (G6, M3).

The postings themselves are the ledger's (``tuoguan.ledger``); these rows say why each was made
and name its journal entry.
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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.db import Base, UTCDateTime
from tuoguan.stores.modes import Party

ANY = "*"  # a policy for every region, or (with no fixed amount) for every currency


class CompensationPolicy(Base):
    """One version of what a late parcel is compensated in a destination region (G2).

    ``region`` is the rate card zone's ``region`` (e.g. ``Europe``), whose transit days set the
    parcel's ``commit_by``; ``*`` is any region. The compensation is ``amount_minor`` plus
    ``rate_bp`` basis points of the parcel's quoted shipping fee, in ``currency`` (``*``: the
    parcel's own, for a policy with no fixed amount). Versions are never edited: a change is a
    new version that takes effect later, and a parcel is judged by the version in force at its
    ``commit_by``.
    """

    __tablename__ = "compensation_policies"
    __table_args__ = (
        UniqueConstraint("region", "currency", "version", name="uq_compensation_policies_version"),
        Index("ix_compensation_policies_region", "region", "currency", "effective_from"),
        CheckConstraint("amount_minor >= 0 AND rate_bp >= 0", name="not_negative"),
        CheckConstraint("currency <> '*' OR amount_minor = 0", name="fixed_amount_currency"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    region: Mapped[str] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    version: Mapped[int] = mapped_column(Integer)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    rate_bp: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(40))


class CompensationOutcome(StrEnum):
    """What became of a parcel that missed its delivery commitment (G2)."""

    compensated = "compensated"  # posted: to the seller's receivable, or the platform's own
    reversed = "reversed"  # posted, then the carrier proved the parcel was not the carrier's fault
    buyer_caused = "buyer_caused"  # the carrier showed the buyer caused it before the deadline
    # The platform's own parcel, judged before its own kind existed: nothing was posted.
    platform_shipped = "platform_shipped"
    nothing_due = "nothing_due"  # no policy in force for its region and currency, or zero


class DeliveryCompensation(Base):
    """A parcel that missed its ``commit_by``, judged once by the worker (G2)."""

    __tablename__ = "delivery_compensations"
    __table_args__ = (
        Index("ix_delivery_compensations_store", "store_id", "judged_at"),
        Index("ix_delivery_compensations_order", "order_id"),
    )

    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    payer: Mapped[Party] = mapped_column(Enum(Party, native_enum=False, length=20))
    region: Mapped[str] = mapped_column(String(100))
    commit_by: Mapped[datetime] = mapped_column(UTCDateTime())
    policy_id: Mapped[str | None] = mapped_column(ForeignKey("compensation_policies.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    outcome: Mapped[CompensationOutcome] = mapped_column(
        Enum(CompensationOutcome, native_enum=False, length=20)
    )
    entry_id: Mapped[str | None] = mapped_column(ForeignKey("journal_entries.id"))
    judged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reversal_entry_id: Mapped[str | None] = mapped_column(ForeignKey("journal_entries.id"))
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reversal_reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Refund(Base):
    """Money given back to a buyer on an order, and who bore it (G6, M3)."""

    __tablename__ = "refunds"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="positive"),
        Index("ix_refunds_order", "order_id", "id"),
        Index("ix_refunds_store_created", "store_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(500))
    bearer: Mapped[Party] = mapped_column(Enum(Party, native_enum=False, length=20))
    entry_id: Mapped[str] = mapped_column(ForeignKey("journal_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(40))

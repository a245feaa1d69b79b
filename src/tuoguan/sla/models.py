"""Breaches: a deadline that passed with its work undone, recorded once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.db import Base, UTCDateTime


class BreachKind(StrEnum):
    """Which promise was broken."""

    confirm_late = "confirm_late"  # O2: not confirmed within 24 h (超时未接单)
    ship_late = "ship_late"  # F1/F6: not shipped by the promise (发货超时)


class Breach(Base):
    """One missed deadline of one order; the penalty policy reads these."""

    __tablename__ = "breaches"
    __table_args__ = (
        UniqueConstraint("order_id", "kind", name="uq_breaches_order_kind"),
        Index("ix_breaches_seller_detected", "seller_id", "detected_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    kind: Mapped[BreachKind] = mapped_column(Enum(BreachKind, native_enum=False, length=20))
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())

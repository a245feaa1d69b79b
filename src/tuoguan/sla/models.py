"""Breaches: a deadline that passed with its work undone, recorded once."""

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
from tuoguan.orders.states import OrderStatus
from tuoguan.stores.modes import Party
from tuoguan.timing.kinds import BreachKind

# The state an order sits in while each kind of breach runs, and its inverse.
LATE_STATUS: dict[BreachKind, OrderStatus] = {
    BreachKind.confirm_late: OrderStatus.awaiting_confirmation,
    BreachKind.ship_late: OrderStatus.awaiting_shipment,
}
BREACH_OF: dict[OrderStatus, BreachKind] = {status: kind for kind, status in LATE_STATUS.items()}


class Breach(Base):
    """One missed deadline of one order; the penalty policy reads these."""

    __tablename__ = "breaches"
    __table_args__ = (
        UniqueConstraint("order_id", "kind", name="uq_breaches_order_kind"),
        # The list (newest first): everyone's, a seller's, an order's, a store's.
        Index("ix_breaches_detected", "detected_at", "id"),
        Index("ix_breaches_seller_detected", "seller_id", "detected_at", "id"),
        Index("ix_breaches_order_detected", "order_id", "detected_at", "id"),
        Index("ix_breaches_store_detected", "store_id", "detected_at", "id"),
        # The penalty sweep's range: breaches whose fine is not settled yet.
        Index(
            "ix_breaches_unassessed",
            "assess_by",
            postgresql_where=text("assessed_at IS NULL"),
            sqlite_where=text("assessed_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    kind: Mapped[BreachKind] = mapped_column(Enum(BreachKind, native_enum=False, length=20))
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the fine stops growing (the policy's open-ended tier starts): assess by then at the latest.
    assess_by: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set once the penalty policy has been applied (with or without a fine).
    assessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # How late the work was when the order left the late state (or when assessed, if still undone).
    lateness_seconds: Mapped[int | None] = mapped_column(BigInteger)
    # Whose promise it was (F11): the seller's, or the platform's when its warehouse ships. Only
    # the seller's breaches are fined; the platform's are the warehouse's, never the seller's.
    responsible: Mapped[Party] = mapped_column(
        Enum(Party, native_enum=False, length=20), default=Party.seller, server_default="seller"
    )
    # The warehouse whose ship deadline it was, for the platform's breaches.
    warehouse_id: Mapped[str | None] = mapped_column(ForeignKey("warehouses.id"))


class RiskWarning(Base):
    """An early warning (G5) sent once per order and deadline, with the score and its reasons."""

    __tablename__ = "risk_warnings"
    __table_args__ = (
        UniqueConstraint("order_id", "deadline_kind", name="uq_risk_warnings_order_kind"),
        Index("ix_risk_warnings_seller_warned", "seller_id", "warned_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    deadline_kind: Mapped[str] = mapped_column(String(30))
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())
    score: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    warned_at: Mapped[datetime] = mapped_column(UTCDateTime())

"""Tables for orders and order lines."""

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
    SmallInteger,
    String,
    column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tuoguan.catalog.models import Sku
from tuoguan.db import Base, UTCDateTime
from tuoguan.orders.states import OrderStatus
from tuoguan.stores.models import StoreMode

_UNMISSED = (
    "deadline_missed_at IS NULL AND status IN ('awaiting_confirmation', 'awaiting_shipment')"
)
_RUNNING = "deadline_at IS NOT NULL"
_SCORED = "risk_score IS NOT NULL"
_SHIPPED = "tracking_number IS NOT NULL"


class Order(Base):
    """A buyer's order in one store (O1: generated the moment it is placed)."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_status_deadline", "status", "deadline_at", "id"),
        Index("ix_orders_seller_deadline", "seller_id", "deadline_at", "id"),
        Index("ix_orders_seller_created", "seller_id", "id"),
        Index("ix_orders_store", "store_id", "id"),
        Index("ix_orders_carrier", "carrier_code", "id"),
        # Lists (O5): each filter and sort reads one index, newest by id, deadline soonest first.
        Index("ix_orders_status_id", "status", "id"),
        Index("ix_orders_seller_status_id", "seller_id", "status", "id"),
        Index("ix_orders_store_status_id", "store_id", "status", "id"),
        Index("ix_orders_carrier_status_id", "carrier_code", "status", "id"),
        Index("ix_orders_carrier_store_status_id", "carrier_code", "store_id", "status", "id"),
        *(
            Index(name, *columns, postgresql_where=text(_RUNNING), sqlite_where=text(_RUNNING))
            for name, columns in (
                ("ix_orders_deadline", ("deadline_at", "id")),
                ("ix_orders_seller_status_deadline", ("seller_id", "status", "deadline_at", "id")),
                ("ix_orders_store_deadline", ("store_id", "deadline_at", "id")),
                ("ix_orders_store_status_deadline", ("store_id", "status", "deadline_at", "id")),
            )
        ),
        # The breach sweep's range: running deadlines not yet recorded as missed.
        Index(
            "ix_orders_deadline_unmissed",
            "status",
            "deadline_at",
            postgresql_where=text(_UNMISSED),
            sqlite_where=text(_UNMISSED),
        ),
        # The early-warning sweep's range (G5): orders due a fresh look at their risk.
        Index(
            "ix_orders_risk_check",
            "risk_check_at",
            postgresql_where=text("risk_check_at IS NOT NULL"),
            sqlite_where=text("risk_check_at IS NOT NULL"),
        ),
        # At-risk pages (G5): stored scores, highest first, then the deadline soonest.
        *(
            Index(
                name,
                *scope,
                column("risk_score").desc(),
                "deadline_at",
                "id",
                postgresql_where=text(_SCORED),
                sqlite_where=text(_SCORED),
            )
            for name, scope in (
                ("ix_orders_risk", ()),
                ("ix_orders_seller_risk", ("seller_id",)),
                ("ix_orders_store_risk", ("store_id",)),
            )
        ),
        # Search (G7): exact matches, newest first, everyone's or one store's; a tracking
        # number finds the few orders that carry it.
        Index(
            "ix_orders_tracking",
            "tracking_number",
            postgresql_where=text(_SHIPPED),
            sqlite_where=text(_SHIPPED),
        ),
        Index("ix_orders_phone", "recipient_phone", "id"),
        Index("ix_orders_store_phone", "store_id", "recipient_phone", "id"),
        Index("ix_orders_name", "recipient_name", "id"),
        Index("ix_orders_store_name", "store_id", "recipient_name", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    # The store's owner and mode, copied at placement: they never change for an order.
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    mode: Mapped[StoreMode] = mapped_column(Enum(StoreMode, native_enum=False, length=20))
    status: Mapped[OrderStatus] = mapped_column(Enum(OrderStatus, native_enum=False, length=30))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    shipping_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    buyer_ref: Mapped[str | None] = mapped_column(String(64))
    # The buyer's language, zh-CN or en (None: English), for what the storefront is told (O6).
    buyer_locale: Mapped[str | None] = mapped_column(String(5))
    recipient_name: Mapped[str] = mapped_column(String(100))
    recipient_phone: Mapped[str] = mapped_column(String(24))
    address_line1: Mapped[str] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    postcode: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    # F9: what the buyer tracks the parcel with.
    carrier_code: Mapped[str | None] = mapped_column(String(32))
    tracking_number: Mapped[str | None] = mapped_column(String(40))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirm_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ship_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deliver_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    auto_complete_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The deadline running in the current state (states.DEADLINE_OF), indexed for sweeps and lists.
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when the running deadline passed with its work undone (a breach was recorded).
    deadline_missed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the worker next scores the running deadline's risk (G5; checkpoints of its window).
    risk_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    # When a cancel waited on the carrier voiding the booked parcel (F10, O4).
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)
    # G5: the running deadline's risk as the warning sweep last scored it (None: not scored
    # since the state was entered, or no deadline runs), its reasons and when.
    risk_score: Mapped[int | None] = mapped_column(SmallInteger)
    risk_reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))
    risk_scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.position", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}


class OrderLine(Base):
    """One product in an order, priced at the moment of placement."""

    __tablename__ = "order_lines"
    # Search by product: a SKU's orders, newest first.
    __table_args__ = (Index("ix_order_lines_sku", "sku_id", "order_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    # The variant sold (C3): stock is reserved and shipped per SKU.
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id"))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    line_total_minor: Mapped[int] = mapped_column(BigInteger)
    # What the sale posts when the order completes, fixed at placement (M3, O3): the commission
    # rate in force for the product's category where the mode takes commission, the SKU's
    # supply price per unit where the seller reports one (full-managed). None on lines placed
    # before they were recorded.
    commission_bp: Mapped[int | None] = mapped_column(Integer)
    supply_price_minor: Mapped[int | None] = mapped_column(BigInteger)

    order: Mapped[Order] = relationship(back_populates="lines")
    # Joined into the lines' own query: every order view shows the SKU's attributes (C3).
    sku: Mapped[Sku] = relationship(lazy="joined", innerjoin=True)

"""Tables: fulfilment orders, supply orders (备货单), inbound notices (ASN) and their receipts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

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
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tuoguan.db import Base, UTCDateTime
from tuoguan.stores.modes import Party


class FulfilmentStatus(StrEnum):
    """Where a fulfilment order stands (Shopify's FulfillmentOrder, reduced to what we need)."""

    # The seller ships it from its own origin or overseas warehouse with the online-shipping
    # flow (self-run, semi-managed, JIT): the buyer order's own states say the rest.
    seller_ships = "seller_ships"
    awaiting_stock = "awaiting_stock"  # full-managed, no stock: a supply order is out (O2 × M5)
    reserved = "reserved"  # stock held in the platform warehouse; the warehouse's clock runs (F11)
    picked = "picked"  # taken from the shelf (拣货), to be packed
    shipped = "shipped"  # the parcel left the warehouse
    cancelled = "cancelled"


class FulfilmentOrder(Base):
    """The part of a buyer order that one warehouse fulfils; today every order has exactly one."""

    __tablename__ = "fulfilment_orders"
    __table_args__ = (
        UniqueConstraint("order_id", name="uq_fulfilment_orders_order"),
        # A warehouse's work queue by its deadline (pick list), a seller's by id.
        Index("ix_fulfilment_orders_warehouse", "warehouse_id", "status", "ship_by", "id"),
        Index("ix_fulfilment_orders_store", "store_id", "id"),
        # Restock suggestions (M5): the sales of a window, a seller's stores' or all the
        # platform shipped.
        Index("ix_fulfilment_orders_store_created", "store_id", "created_at"),
        Index("ix_fulfilment_orders_shipper_created", "shipper", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    # Where it ships from; None when the seller ships from an address not registered as a warehouse.
    warehouse_id: Mapped[str | None] = mapped_column(ForeignKey("warehouses.id"))
    # Who ships it: the mode table's answer when the order was placed (M1).
    shipper: Mapped[Party] = mapped_column(Enum(Party, native_enum=False, length=20))
    status: Mapped[FulfilmentStatus] = mapped_column(
        Enum(FulfilmentStatus, native_enum=False, length=20)
    )
    # The platform's own ship deadline from the warehouse (F11), set when the stock is reserved.
    ship_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reserved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    picked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    lines: Mapped[list[FulfilmentLine]] = relationship(
        back_populates="fulfilment_order",
        order_by="FulfilmentLine.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    __mapper_args__ = {"version_id_col": version}


class FulfilmentLine(Base):
    """One SKU and quantity of a fulfilment order, from one order line."""

    __tablename__ = "fulfilment_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    fulfilment_order_id: Mapped[str] = mapped_column(ForeignKey("fulfilment_orders.id"), index=True)
    order_line_id: Mapped[str] = mapped_column(ForeignKey("order_lines.id"))
    position: Mapped[int] = mapped_column(Integer)
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id"))
    quantity: Mapped[int] = mapped_column(Integer)

    fulfilment_order: Mapped[FulfilmentOrder] = relationship(back_populates="lines")


class SupplyStatus(StrEnum):
    """A supply order's life (备货单): the seller confirms within 24 h (O2), ships in, is received."""

    awaiting_confirmation = "awaiting_confirmation"
    confirmed = "confirmed"  # the seller will send the goods; an inbound notice follows
    in_transit = "in_transit"  # its inbound notice left the seller
    received = "received"  # the warehouse received (part of) it; the order was served
    cancelled = "cancelled"  # the buyer cancelled first, or an operator cancelled it


class SupplyOrder(Base):
    """What the platform asks a full-managed seller to send to its warehouse for one buyer order."""

    __tablename__ = "supply_orders"
    __table_args__ = (
        # The seller's list and the 24 h clock's sweep; the operators' list by status.
        Index("ix_supply_orders_store", "store_id", "status", "id"),
        Index("ix_supply_orders_seller", "seller_id", "status", "id"),
        Index("ix_supply_orders_status", "status", "id"),
        Index(
            "ix_supply_orders_confirm_by",
            "confirm_by",
            postgresql_where=text("status = 'awaiting_confirmation'"),
            sqlite_where=text("status = 'awaiting_confirmation'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    fulfilment_order_id: Mapped[str] = mapped_column(ForeignKey("fulfilment_orders.id"), index=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"))
    status: Mapped[SupplyStatus] = mapped_column(Enum(SupplyStatus, native_enum=False, length=30))
    # The currency of the lines' supply prices: the store's.
    currency: Mapped[str] = mapped_column(String(3))
    # O2: created + 24 natural hours; the buyer order's confirm_by is the same instant.
    confirm_by: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    lines: Mapped[list[SupplyLine]] = relationship(
        back_populates="supply_order",
        order_by="SupplyLine.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    __mapper_args__ = {"version_id_col": version}


class SupplyLine(Base):
    """One SKU and quantity the seller is asked to supply, at its supply price (M3)."""

    __tablename__ = "supply_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    supply_order_id: Mapped[str] = mapped_column(ForeignKey("supply_orders.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    # The SKU's supply price when the order was made (integer minor units, the store's currency).
    supply_price_minor: Mapped[int | None] = mapped_column(BigInteger)

    supply_order: Mapped[SupplyOrder] = relationship(back_populates="lines")


class InboundStatus(StrEnum):
    """An inbound notice's life (R1): draft → in transit → arrived → receiving → received."""

    draft = "draft"
    in_transit = "in_transit"
    arrived = "arrived"
    receiving = "receiving"
    received = "received"  # every line counted as announced
    closed_with_discrepancies = "closed_with_discrepancies"  # counted; some lines differ
    cancelled = "cancelled"  # withdrawn before it left


class InboundNotice(Base):
    """An advance shipping notice (ASN, 入库单): what a seller sends to which warehouse, how."""

    __tablename__ = "inbound_notices"
    __table_args__ = (
        CheckConstraint("cartons > 0", name="cartons_positive"),
        # The list, newest first: each filter the leading columns of one index, per status.
        Index("ix_inbound_notices_store", "store_id", "id"),
        Index("ix_inbound_notices_store_status", "store_id", "status", "id"),
        Index("ix_inbound_notices_store_warehouse", "store_id", "warehouse_id", "status", "id"),
        Index("ix_inbound_notices_seller", "seller_id", "status", "id"),
        Index("ix_inbound_notices_seller_warehouse", "seller_id", "warehouse_id", "status", "id"),
        Index("ix_inbound_notices_warehouse", "warehouse_id", "status", "id"),
        Index("ix_inbound_notices_status", "status", "id"),
        # A scanner types the carrier's tracking number to find the notice.
        Index("ix_inbound_notices_tracking", "tracking_number"),
        # R4: stale inbound, shipped long ago and not arrived, oldest first.
        Index(
            "ix_inbound_notices_in_transit",
            "shipped_at",
            "id",
            postgresql_where=text("status = 'in_transit'"),
            sqlite_where=text("status = 'in_transit'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"))
    # The supply order it answers, if any (a restock suggestion accepted has none).
    supply_order_id: Mapped[str | None] = mapped_column(ForeignKey("supply_orders.id"), index=True)
    status: Mapped[InboundStatus] = mapped_column(Enum(InboundStatus, native_enum=False, length=30))
    cartons: Mapped[int] = mapped_column(Integer, default=1)
    carrier_name: Mapped[str | None] = mapped_column(String(100))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    lines: Mapped[list[InboundLine]] = relationship(
        back_populates="notice",
        order_by="InboundLine.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    __mapper_args__ = {"version_id_col": version}


class InboundLine(Base):
    """One SKU announced on a notice, and what receiving counted of it."""

    __tablename__ = "inbound_lines"
    __table_args__ = (
        UniqueConstraint("notice_id", "sku_id", name="uq_inbound_lines_notice_sku"),
        CheckConstraint("expected > 0", name="expected_positive"),
        CheckConstraint(
            "received_good >= 0 AND received_defective >= 0", name="counts_not_negative"
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    notice_id: Mapped[str] = mapped_column(ForeignKey("inbound_notices.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id"))
    expected: Mapped[int] = mapped_column(Integer)
    received_good: Mapped[int] = mapped_column(Integer, default=0)
    received_defective: Mapped[int] = mapped_column(Integer, default=0)

    notice: Mapped[InboundNotice] = relationship(back_populates="lines")


class DiscrepancyKind(StrEnum):
    """How a count differs from its notice (R2's causes that receiving can see)."""

    short = "short"  # 少货
    over = "over"  # 多货
    wrong_sku = "wrong_sku"  # 错货: a SKU that is not on the notice
    damaged = "damaged"  # 破损


class InboundDiscrepancy(Base):
    """A receiving discrepancy, kept with who, when and what (the input of R2-R3 cases)."""

    __tablename__ = "inbound_discrepancies"
    __table_args__ = (Index("ix_inbound_discrepancies_notice", "notice_id", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    notice_id: Mapped[str] = mapped_column(ForeignKey("inbound_notices.id"))
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    kind: Mapped[DiscrepancyKind] = mapped_column(
        Enum(DiscrepancyKind, native_enum=False, length=20)
    )
    # The SKU as scanned or typed; for a wrong SKU it may be a code that is not in the catalogue.
    sku_id: Mapped[str | None] = mapped_column(ForeignKey("skus.id"))
    scanned_code: Mapped[str | None] = mapped_column(String(64))
    expected: Mapped[int] = mapped_column(Integer, default=0)
    counted: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(String(1000))
    # Photos: [{"name", "content_type", "size", "sha256", "path"}], files kept outside the database.
    photos: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    recorded_by: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

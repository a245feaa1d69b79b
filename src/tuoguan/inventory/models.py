"""Tables: warehouses, the stock ledger (``stock_moves``) and the balances derived from it."""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Time,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.db import Base, UTCDateTime


class WarehouseOwner(StrEnum):
    """Who runs a warehouse."""

    platform = "platform"  # the marketplace's own (优选仓)
    third_party = "third_party"  # a logistics company's (第三方物流), e.g. an overseas warehouse
    seller = "seller"  # a seller's own origin or overseas warehouse


class WarehouseKind(StrEnum):
    """What a warehouse is for (M1, M5, F1)."""

    consolidation = "consolidation"  # 优选仓: the platform's domestic consolidation warehouse
    overseas = "overseas"  # 海外仓: ships to buyers from the destination market
    seller_origin = "seller_origin"  # the seller's own premises, where JIT parcels start


class MoveKind(StrEnum):
    """What a stock ledger row records; its deltas are in ``inventory.ledger.EFFECTS``."""

    inbound = "inbound"  # an inbound notice (ASN) announced units
    inbound_cancel = "inbound_cancel"  # announced units settled: arrived, or will not arrive
    receipt = "receipt"  # counted good and put away (入库)
    reserve = "reserve"  # held for an order (占用)
    release = "release"  # the hold dropped
    pick = "pick"  # taken from the shelf for packing (拣货)
    ship = "ship"  # left the warehouse in a parcel (出库)
    adjust = "adjust"  # an operator's count correction, with a reason (盘点调整)
    defective = "defective"  # good units found damaged (次品)


class Warehouse(Base):
    """A place where stock is kept and parcels start: its owner, kind, calendar and cut-off."""

    __tablename__ = "warehouses"
    __table_args__ = (
        CheckConstraint("ship_days BETWEEN 1 AND 3", name="ship_days_range"),
        CheckConstraint(
            "(owner = 'seller' AND seller_id IS NOT NULL)"
            " OR (owner <> 'seller' AND seller_id IS NULL)",
            name="seller_owner",
        ),
        Index("ix_warehouses_seller", "seller_id", "id"),
        Index("ix_warehouses_owner", "owner", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    owner: Mapped[WarehouseOwner] = mapped_column(
        Enum(WarehouseOwner, native_enum=False, length=20)
    )
    seller_id: Mapped[str | None] = mapped_column(ForeignKey("sellers.id"))
    kind: Mapped[WarehouseKind] = mapped_column(Enum(WarehouseKind, native_enum=False, length=20))
    # Where parcels start and inbound goods go (name, phone, line1, line2, city, region, ...).
    address: Mapped[dict[str, Any]] = mapped_column(JSON)
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    # Days the warehouse does not work beyond its country's holidays (ISO dates).
    closed_days: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Work arriving after this local time is taken in on the next business day (F11).
    pickup_cutoff: Mapped[time] = mapped_column(Time())
    # The platform's own ship deadline from here, in business days (F11: 1-3).
    ship_days: Mapped[int] = mapped_column(Integer, default=2)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class StockMove(Base):
    """One change of stock, never updated or deleted: the deltas of each bucket, and why.

    The balance of a (warehouse, SKU) is the sum of its rows (M5).
    """

    __tablename__ = "stock_moves"
    __table_args__ = (
        # A key's rows: the check's GROUP BY per range of keys, and the ledger filtered by both.
        Index("ix_stock_moves_key", "warehouse_id", "sku_id", "id"),
        Index("ix_stock_moves_warehouse", "warehouse_id", "id"),
        Index("ix_stock_moves_sku", "sku_id", "id"),
        Index("ix_stock_moves_store", "store_id", "id"),
        Index("ix_stock_moves_store_warehouse", "store_id", "warehouse_id", "id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), Identity(), primary_key=True
    )
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"))
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id"))
    # The SKU's store, so a seller's ledger is read without a join.
    store_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[MoveKind] = mapped_column(Enum(MoveKind, native_enum=False, length=20))
    # The units the move is about (a pick moves no bucket but names how many); None: adjust.
    quantity: Mapped[int | None] = mapped_column(Integer)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    defective: Mapped[int] = mapped_column(Integer, default=0)
    inbound: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(500))
    actor_id: Mapped[str] = mapped_column(String(40))
    actor_role: Mapped[str] = mapped_column(String(20))
    # What the move is for: an order, a fulfilment order, an inbound notice...
    ref_type: Mapped[str | None] = mapped_column(String(30))
    ref_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StockBalance(Base):
    """The stock of one SKU in one warehouse: the sums of its ledger rows, kept in step.

    available = on_hand - reserved. Units in ``defective`` are not on hand; ``inbound`` are
    announced, not yet received.
    """

    __tablename__ = "stock_balances"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("defective >= 0", name="defective_not_negative"),
        CheckConstraint("inbound >= 0", name="inbound_not_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
        Index("ix_stock_balances_store", "store_id", "warehouse_id", "sku_id"),
        Index("ix_stock_balances_sku", "sku_id", "warehouse_id"),
    )

    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"), primary_key=True)
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id"), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(40))
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    defective: Mapped[int] = mapped_column(Integer, default=0)
    inbound: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def available(self) -> int:
        """What can still be reserved."""
        return self.on_hand - self.reserved

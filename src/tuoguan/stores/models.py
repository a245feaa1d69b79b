"""Tables for sellers and stores."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.db import Base, UTCDateTime


class StoreMode(StrEnum):
    """M1: how a store is run (经营模式)."""

    self_run = "self_run"  # 自运营
    semi_managed = "semi_managed"  # 半托管
    full_managed = "full_managed"  # 全托管


class StoreStatus(StrEnum):
    """Whether a store trades."""

    active = "active"
    suspended = "suspended"
    # S4: left the full-managed program (unbound); it takes no new orders, and may then close.
    exited = "exited"
    closed = "closed"


class Seller(Base):
    """A merchant (卖家/商家) that owns stores."""

    __tablename__ = "sellers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Store(Base):
    """A storefront of one seller, run in one mode."""

    __tablename__ = "stores"
    __table_args__ = (
        CheckConstraint("ship_promise_days IN (1, 2)", name="ship_promise"),
        Index("ix_stores_seller", "seller_id", "id"),  # a seller's stores, listed by id
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    name: Mapped[str] = mapped_column(String(200))
    mode: Mapped[StoreMode] = mapped_column(Enum(StoreMode, native_enum=False, length=20))
    status: Mapped[StoreStatus] = mapped_column(
        Enum(StoreStatus, native_enum=False, length=20), default=StoreStatus.active
    )
    # Where the work happens: the seller's or the warehouse's country and zone (SPEC Time).
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    # F1: the ship promise, one or two business days.
    ship_promise_days: Mapped[int] = mapped_column(Integer, default=2)
    # Days the store's warehouse does not work beyond its country's holidays (ISO dates).
    closed_days: Mapped[list[str]] = mapped_column(JSON, default=list)
    # M2: a full-managed store is opened beside an existing store of the same seller.
    linked_store_id: Mapped[str | None] = mapped_column(ForeignKey("stores.id"))
    # Who the store's parcels come from, as printed on labels (F8).
    sender_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # M2, M4: when a full-managed store joined the program (入驻完成). A store opened by accepting
    # an invitation is "joining" (NULL) until its agreement, business review and deposit are
    # done (onboarding.joining); it takes no orders meanwhile. Other stores joined when opened.
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

"""Tables for logistics services, rate cards, route rules, shipments and tracking events."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.db import Base, UTCDateTime
from tuoguan.shipping.rates import Limits, RateCard
from tuoguan.shipping.routes import Conditions, Effect, Rule
from tuoguan.stores.modes import Party


class ServiceKind(StrEnum):
    """The families of logistics service a seller chooses among (F8 step 2)."""

    postal_small_parcel = "postal_small_parcel"  # 邮政小包
    registered_parcel = "registered_parcel"  # 挂号小包
    standard = "standard"  # 标准类
    express = "express"  # 国际快递


class LogisticsService(Base):
    """A service one carrier sells: what it accepts and from where it ships."""

    __tablename__ = "logistics_services"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    carrier_code: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[ServiceKind] = mapped_column(Enum(ServiceKind, native_enum=False, length=30))
    origin_countries: Mapped[list[str]] = mapped_column(JSON)
    max_weight_g: Mapped[int] = mapped_column(Integer)
    max_sum_sides_mm: Mapped[int] = mapped_column(Integer)
    max_longest_side_mm: Mapped[int] = mapped_column(Integer)
    volumetric_divisor: Mapped[int | None] = mapped_column(Integer)
    tracked: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    def limits(self) -> Limits:
        """The service's limits as a value."""
        return Limits(
            max_weight_g=self.max_weight_g,
            max_sum_sides_mm=self.max_sum_sides_mm,
            max_longest_side_mm=self.max_longest_side_mm,
            volumetric_divisor=self.volumetric_divisor,
        )


class RateCardVersion(Base):
    """One version of a service's prices in one currency, in force from ``effective_from``.

    Versions are never edited, so a quote that names one can be recomputed
    exactly (G1).
    """

    __tablename__ = "rate_cards"
    __table_args__ = (
        UniqueConstraint("service_code", "currency", "version", name="uq_rate_cards_version"),
        Index("ix_rate_cards_service_effective", "service_code", "currency", "effective_from"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("logistics_services.code"))
    currency: Mapped[str] = mapped_column(String(3))
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    card: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(40))

    def rate_card(self) -> RateCard:
        """The prices as a validated value."""
        return RateCard.model_validate(self.card)


class RouteRule(Base):
    """One ordered route rule (F5); the first that applies decides."""

    __tablename__ = "route_rules"
    __table_args__ = (Index("ix_route_rules_active_position", "active", "position"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    effect: Mapped[Effect] = mapped_column(Enum(Effect, native_enum=False, length=10))
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    def rule(self) -> Rule:
        """The rule as the evaluator sees it."""
        return Rule(
            id=self.id,
            position=self.position,
            name=self.name,
            effect=self.effect,
            conditions=Conditions.model_validate(self.conditions),
        )


class CarrierAccount(Base):
    """How tuoguan reaches one carrier: its adapter, endpoint and credentials.

    ``webhook_secret`` checks the carrier's signed pushes; ``api_key`` is what
    tuoguan sends. ``options`` holds what an adapter needs beyond them (for
    karrio: the carrier, its settings and credentials, the service map).
    None of these is ever shown back through the API.
    """

    __tablename__ = "carrier_accounts"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    adapter: Mapped[str] = mapped_column(String(20))
    base_url: Mapped[str] = mapped_column(String(300))
    api_key: Mapped[str] = mapped_column(String(200))
    webhook_secret: Mapped[str] = mapped_column(String(200))
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def carrier(self) -> str | None:
        """The karrio carrier behind a karrio account."""
        return (self.options or {}).get("carrier")


class ShipmentStatus(StrEnum):
    """Where a parcel stands (F8 steps 3-6, F10)."""

    created = "created"  # label printable, tracking number assigned (打印面单)
    submitted = "submitted"  # shipping info synced to the carrier (提交发货)
    pickup_scheduled = "pickup_scheduled"  # 预约揽收
    picked_up = "picked_up"  # 已揽收
    in_transit = "in_transit"  # 运输中
    out_for_delivery = "out_for_delivery"  # 派送中
    delivered = "delivered"  # 已妥投
    exception = "exception"  # 异常 (damaged, held)
    lost = "lost"  # 丢失
    returned = "returned"  # 已退回
    cancel_requested = "cancel_requested"  # 取消发货申请中, waiting for the carrier
    cancelled = "cancelled"  # the carrier confirmed the cancellation


# A shipment in any other status holds its order: no second shipment may be made (F10).
_LIVE = "status <> 'cancelled'"
# G2: parcels whose delivery commitment is running, not yet settled (on time, or judged late).
_COMMIT_OPEN = "commit_by IS NOT NULL AND commit_settled_at IS NULL"


class Shipment(Base):
    """One parcel of one order with one carrier: its quote, label, handover and tracking."""

    __tablename__ = "shipments"
    __table_args__ = (
        Index(
            "uq_shipments_live_order",
            "order_id",
            unique=True,
            postgresql_where=text(_LIVE),
            sqlite_where=text(_LIVE),
        ),
        UniqueConstraint("carrier_code", "tracking_number", name="uq_shipments_tracking"),
        Index("ix_shipments_seller_created", "seller_id", "id"),
        Index("ix_shipments_status_created", "status", "id"),
        # The compensation sweep's range (G2): open commitments, soonest due first.
        Index(
            "ix_shipments_commit_open",
            "commit_by",
            "id",
            postgresql_where=text(_COMMIT_OPEN),
            sqlite_where=text(_COMMIT_OPEN),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    service_code: Mapped[str] = mapped_column(ForeignKey("logistics_services.code"))
    carrier_code: Mapped[str] = mapped_column(String(32))
    tracking_number: Mapped[str] = mapped_column(String(40))
    carrier_ref: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[ShipmentStatus] = mapped_column(
        Enum(ShipmentStatus, native_enum=False, length=30)
    )
    # The parcel as quoted, and who sends it to whom (snapshots for the label).
    weight_g: Mapped[int] = mapped_column(Integer)
    length_mm: Mapped[int] = mapped_column(Integer)
    width_mm: Mapped[int] = mapped_column(Integer)
    height_mm: Mapped[int] = mapped_column(Integer)
    declared_value_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    insured: Mapped[bool] = mapped_column(Boolean)
    sender: Mapped[dict[str, Any]] = mapped_column(JSON)
    receiver: Mapped[dict[str, Any]] = mapped_column(JSON)
    # F11: who pays the carrier: the seller (its own parcels), or the platform, whose warehouse
    # ships a full-managed order (``warehouse_id``: the warehouse it left from; its staff print
    # its label). A seller never sees the platform's parcels or their freight.
    payer: Mapped[Party] = mapped_column(
        Enum(Party, native_enum=False, length=20), default=Party.seller, server_default="seller"
    )
    warehouse_id: Mapped[str | None] = mapped_column(ForeignKey("warehouses.id"))
    # What is inside, per kind of goods, for the customs declaration.
    contents: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # G1: the quote it was made under, and what the carrier charged after a reweigh.
    rate_card_id: Mapped[str] = mapped_column(ForeignKey("rate_cards.id"))
    zone: Mapped[str] = mapped_column(String(32))
    quote_lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    quote_total_minor: Mapped[int] = mapped_column(BigInteger)
    charged_weight_g: Mapped[int | None] = mapped_column(Integer)
    charged_lines: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    charged_total_minor: Mapped[int | None] = mapped_column(BigInteger)
    transit_max_days: Mapped[int] = mapped_column(Integer)
    # F8 step 5 / F4: how the parcel reaches the carrier.
    handover: Mapped[str | None] = mapped_column(String(10))  # pickup | self_drop
    pickup_ref: Mapped[str | None] = mapped_column(String(64))
    pickup_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pickup_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pickup_place: Mapped[str | None] = mapped_column(String(300))
    handover_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # G2: deliver by, counted from the pickup scan in the destination's business days.
    commit_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the commitment was settled: delivered in time, or judged late by the worker (G2).
    commit_settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the worker last asked the carrier for news (carriers that do not push).
    polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(String(40))
    cancel_note: Mapped[str | None] = mapped_column(String(500))
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The status to return to if the carrier refuses the cancellation.
    status_before_cancel: Mapped[ShipmentStatus | None] = mapped_column(
        Enum(ShipmentStatus, native_enum=False, length=30)
    )
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class CarrierLabel(Base):
    """The label a carrier issued for a shipment, printed instead of tuoguan's own."""

    __tablename__ = "carrier_labels"

    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), primary_key=True)
    format: Mapped[str] = mapped_column(String(8))  # PDF | ZPL
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TrackingEvent(Base):
    """One normalized tracking event (F9); the carrier's id makes duplicates harmless."""

    __tablename__ = "tracking_events"
    __table_args__ = (
        UniqueConstraint("carrier_code", "carrier_event_id", name="uq_tracking_events_carrier"),
        Index("ix_tracking_events_shipment", "shipment_id", "occurred_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"))
    carrier_code: Mapped[str] = mapped_column(String(32))
    carrier_event_id: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(30))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    location: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[str | None] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ClaimStatus(StrEnum):
    """Where an insurance claim stands (G3)."""

    filed = "filed"  # 已提交
    approved = "approved"  # 已赔付审批: owed to the seller
    rejected = "rejected"  # 已驳回


class ClaimKind(StrEnum):
    loss = "loss"  # 丢失
    damage = "damage"  # 破损


# A shipment has at most one claim that was not rejected.
_CLAIM_OPEN = "status <> 'rejected'"


class InsuranceClaim(Base):
    """A claim on an insured shipment's loss or damage, with its evidence and decision (G3)."""

    __tablename__ = "insurance_claims"
    __table_args__ = (
        Index(
            "uq_insurance_claims_open",
            "shipment_id",
            unique=True,
            postgresql_where=text(_CLAIM_OPEN),
            sqlite_where=text(_CLAIM_OPEN),
        ),
        Index("ix_insurance_claims_status", "status", "id"),
        Index("ix_insurance_claims_seller", "seller_id", "id"),
        Index("ix_insurance_claims_seller_status", "seller_id", "status", "id"),
        Index("ix_insurance_claims_order_status", "order_id", "status", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    kind: Mapped[ClaimKind] = mapped_column(Enum(ClaimKind, native_enum=False, length=10))
    status: Mapped[ClaimStatus] = mapped_column(Enum(ClaimStatus, native_enum=False, length=10))
    currency: Mapped[str] = mapped_column(String(3))
    claimed_minor: Mapped[int] = mapped_column(BigInteger)
    cover_minor: Mapped[int] = mapped_column(BigInteger)
    approved_minor: Mapped[int | None] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(2000))
    evidence: Mapped[list[str]] = mapped_column(JSON)
    decision_reason: Mapped[str | None] = mapped_column(String(1000))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    filed_by: Mapped[str] = mapped_column(String(40))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

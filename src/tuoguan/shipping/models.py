"""Tables for logistics services, their rate cards, and route rules."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.db import Base, UTCDateTime
from tuoguan.shipping.rates import Limits, RateCard
from tuoguan.shipping.routes import Conditions, Effect, Rule


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


"""The notifications table."""

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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.db import Base, UTCDateTime


class Audience(StrEnum):
    """Who a notification or a webhook endpoint is for."""

    seller = "seller"  # one seller (``seller_id`` set)
    platform = "platform"  # the operators
    storefront = "storefront"  # the buyer's channel (``Role.buyer_channel``), about an order


_PLATFORM = "audience = 'platform'"


class Notification(Base):
    """A message to a seller, to the operators, or to the storefront (``audience``)."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_seller_id", "seller_id", "id"),
        # A seller's unread inbox (newest first).
        Index(
            "ix_notifications_seller_unread",
            "seller_id",
            "id",
            postgresql_where=text("read_at IS NULL"),
            sqlite_where=text("read_at IS NULL"),
        ),
        # The operators' inbox, all and unread (newest first): what is addressed to them, not
        # a seller's mail nor the storefront's. Their own partial indexes: PostgreSQL orders by
        # id after ``audience = 'platform'`` on no other.
        Index(
            "ix_notifications_platform",
            "id",
            postgresql_where=text(_PLATFORM),
            sqlite_where=text(_PLATFORM),
        ),
        Index(
            "ix_notifications_platform_unread",
            "id",
            postgresql_where=text(f"{_PLATFORM} AND read_at IS NULL"),
            sqlite_where=text(f"{_PLATFORM} AND read_at IS NULL"),
        ),
        # The webhook fan-out's range: notifications not yet handed to endpoints.
        Index(
            "ix_notifications_unfanned",
            "created_at",
            postgresql_where=text("fanned_out_at IS NULL"),
            sqlite_where=text("fanned_out_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    seller_id: Mapped[str | None] = mapped_column(ForeignKey("sellers.id"))
    audience: Mapped[Audience] = mapped_column(Enum(Audience, native_enum=False, length=12))
    kind: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[str] = mapped_column(String(40))
    # What it says: a catalog key and its parameters (``tuoguan.kit.i18n``), put into words
    # in the reader's language when read.
    message_key: Mapped[str] = mapped_column(String(80))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When webhook deliveries were made for it (set even when nobody subscribed).
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookEndpoint(Base):
    """Where a seller, the operators or the storefront (``audience``) receives signed
    notifications."""

    __tablename__ = "webhook_endpoints"
    # A seller's endpoints by id (its list, and the fan-out of its notifications).
    __table_args__ = (Index("ix_webhook_endpoints_seller", "seller_id", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    seller_id: Mapped[str | None] = mapped_column(ForeignKey("sellers.id"))
    audience: Mapped[Audience] = mapped_column(Enum(Audience, native_enum=False, length=12))
    url: Mapped[str] = mapped_column(String(500))
    # Kept to sign each delivery (HMAC-SHA256); shown once, when the endpoint is created.
    secret: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeliveryStatus(StrEnum):
    """Where one webhook delivery stands."""

    pending = "pending"
    delivered = "delivered"
    failed = "failed"  # gave up after the last retry


class WebhookDelivery(Base):
    """One notification to one endpoint, retried with backoff until it lands or gives up."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "notification_id", name="uq_webhook_deliveries_once"),
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id"))
    notification_id: Mapped[str] = mapped_column(ForeignKey("notifications.id"))
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, native_enum=False, length=20)
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

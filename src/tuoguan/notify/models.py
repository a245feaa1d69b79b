"""The notifications table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.db import Base, UTCDateTime


class Notification(Base):
    """A message to a seller (or, with no seller, to the operators)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_seller_id", "seller_id", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    seller_id: Mapped[str | None] = mapped_column(ForeignKey("sellers.id"))
    kind: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(500))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

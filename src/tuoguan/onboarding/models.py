"""Tables: invitations to the full-managed program (邀约制, M2).

An operator invites a seller whose store is in good standing; the seller accepts, which opens a
second, linked full-managed store, or declines; an operator may withdraw an invitation still
open. An open invitation past its expiry reads as expired. At most one invitation of a seller is
open at a time.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Enum, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.db import Base, UTCDateTime

# At most one invitation of a seller waits for its answer.
OPEN = "status = 'invited'"


class InvitationStatus(StrEnum):
    """Where an invitation stands (M2). ``expired`` is also what an open invitation past its
    ``expires_at`` reads as, before anything writes it."""

    invited = "invited"  # 待回复: waiting for the seller
    accepted = "accepted"  # 已接受: the full-managed store is open
    declined = "declined"  # 已谢绝
    expired = "expired"  # 已过期
    withdrawn = "withdrawn"  # 已撤回 by an operator


class Invitation(Base):
    """An operator's invitation of a seller to the full-managed program, and its answer."""

    __tablename__ = "invitations"
    __table_args__ = (
        Index(
            "uq_invitations_open",
            "seller_id",
            unique=True,
            postgresql_where=text(OPEN),
            sqlite_where=text(OPEN),
        ),
        Index("ix_invitations_seller", "seller_id", "id"),
        Index("ix_invitations_status", "status", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    # The seller's existing store in good standing the full-managed store is opened beside.
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    # The full-managed store proposed: its name, currency and the country it ships from.
    store_name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    country: Mapped[str] = mapped_column(String(2))
    message: Mapped[str] = mapped_column(String(2000))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[InvitationStatus] = mapped_column(
        Enum(InvitationStatus, native_enum=False, length=20)
    )
    invited_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_from: Mapped[str | None] = mapped_column(String(64))  # the client address
    decision_note: Mapped[str | None] = mapped_column(String(500))  # a decline's or withdrawal's
    full_managed_store_id: Mapped[str | None] = mapped_column(ForeignKey("stores.id"))
    # Accepted by an operator on the seller's behalf (the store opened directly), and why.
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False)
    on_behalf_reason: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

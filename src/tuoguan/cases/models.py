"""A case and its timeline: the one row that says where it stands, and every entry (step,
evidence, message, decision, appeal, deadline) appended for good."""

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
    LargeBinary,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.cases.kinds import Bearer, CaseKind, CaseParty, CaseState
from tuoguan.db import Base, UTCDateTime
from tuoguan.principal import Role
from tuoguan.stores.models import StoreMode

_OPEN = "state != 'closed'"


class Case(Base):
    """One case: its kind, subject, parties, the step it is at (owner and deadline), its
    decision, its appeal."""

    __tablename__ = "cases"
    __table_args__ = (
        # The operators' queue per kind: working cases first, the most at risk (the nearest
        # deadline) first, then decided ones, then closed.
        Index("ix_cases_queue", "kind", "queue_rank", "queue_due_at", "id"),
        Index("ix_cases_seller", "seller_id", "queue_rank", "queue_due_at", "id"),
        # A seller's queue of one kind (bench/cases.py: without it a seller with few cases of
        # the kind asked for reads through the others).
        Index("ix_cases_seller_kind", "seller_id", "kind", "queue_rank", "queue_due_at", "id"),
        Index("ix_cases_store", "store_id", "state"),
        # The deadline sweep's range: working steps not yet warned or missed.
        Index(
            "ix_cases_step_due",
            "step_due_at",
            postgresql_where=text("step_due_at IS NOT NULL AND breached_at IS NULL"),
            sqlite_where=text("step_due_at IS NOT NULL AND breached_at IS NULL"),
        ),
        # One case per receiving discrepancy; one open dispute per order.
        Index("uq_cases_discrepancy", "discrepancy_id", unique=True),
        Index(
            "uq_cases_open_dispute",
            "order_id",
            unique=True,
            postgresql_where=text(f"kind = 'dispute' AND {_OPEN}"),
            sqlite_where=text(f"kind = 'dispute' AND {_OPEN}"),
        ),
        # One open return per order (G6).
        Index(
            "uq_cases_open_return",
            "order_id",
            unique=True,
            postgresql_where=text(f"kind = 'after_sale' AND {_OPEN}"),
            sqlite_where=text(f"kind = 'after_sale' AND {_OPEN}"),
        ),
        Index("ix_cases_notice", "notice_id"),
        Index("ix_cases_order", "order_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[CaseKind] = mapped_column(Enum(CaseKind, native_enum=False, length=30))
    cause: Mapped[str] = mapped_column(String(30))
    state: Mapped[CaseState] = mapped_column(Enum(CaseState, native_enum=False, length=20))
    # The subject: an inbound notice (and its discrepancy) or an order.
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("sellers.id"))
    mode: Mapped[StoreMode] = mapped_column(Enum(StoreMode, native_enum=False, length=20))
    notice_id: Mapped[str | None] = mapped_column(ForeignKey("inbound_notices.id"))
    discrepancy_id: Mapped[str | None] = mapped_column(ForeignKey("inbound_discrepancies.id"))
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"))
    warehouse_id: Mapped[str | None] = mapped_column(ForeignKey("warehouses.id"))
    carrier_code: Mapped[str | None] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    summary: Mapped[str] = mapped_column(String(2000))
    # The case this one came from (a return a dispute's decision opened).
    origin_case_id: Mapped[str | None] = mapped_column(String(40))
    opened_by: Mapped[str] = mapped_column(String(40))
    opened_role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The step: since when, whose, until when; warned before and flagged after its deadline.
    state_entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    step_owner: Mapped[CaseParty | None] = mapped_column(
        Enum(CaseParty, native_enum=False, length=20)
    )
    step_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    queue_rank: Mapped[int] = mapped_column(Integer, default=0)  # 0 working, 1 decided, 2 closed
    queue_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The decision (and, after an appeal that overturned it, the final one).
    decision: Mapped[str | None] = mapped_column(String(30))
    bearer: Mapped[Bearer | None] = mapped_column(Enum(Bearer, native_enum=False, length=20))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    # Units a quantity adjustment put on hand (negative: taken off), undone by an overturn.
    units: Mapped[int | None] = mapped_column(Integer)
    decision_reason: Mapped[str | None] = mapped_column(String(2000))
    decided_by: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The journal entries and the refund the decision (and the appeal's) posted.
    entry_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    refund_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The appeal: once, by a party on the case, decided by another operator; final.
    appealed_by: Mapped[str | None] = mapped_column(String(40))
    appealed_party: Mapped[CaseParty | None] = mapped_column(
        Enum(CaseParty, native_enum=False, length=20)
    )
    appealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    appeal_reason: Mapped[str | None] = mapped_column(String(2000))
    appeal_outcome: Mapped[str | None] = mapped_column(String(20))  # upheld, overturned
    appeal_decided_by: Mapped[str | None] = mapped_column(String(40))
    appeal_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    entry_count: Mapped[int] = mapped_column(Integer, default=0)


class CaseEntry(Base):
    """One thing that happened on a case, appended and never changed: a step, evidence (a file
    or a text, with its SHA-256), a message, a decision, an appeal, a deadline warned or
    missed; with who (party, actor, role) and when."""

    __tablename__ = "case_entries"
    __table_args__ = (Index("ix_case_entries_case", "case_id", "position"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    position: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(30))
    party: Mapped[CaseParty | None] = mapped_column(Enum(CaseParty, native_enum=False, length=20))
    actor_id: Mapped[str] = mapped_column(String(40))
    actor_role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    text: Mapped[str | None] = mapped_column(String(4000))
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))
    sha256: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CaseReturn(Base):
    """An after-sales case's return parcel (G6): where it goes (the platform's warehouse that
    shipped the order, or the seller), the carrier's booking and label, and its receipt."""

    __tablename__ = "case_returns"
    # The carrier's events for the parcel find it by its tracking number.
    __table_args__ = (Index("ix_case_returns_tracking", "carrier_code", "tracking_number"),)

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    destination: Mapped[str] = mapped_column(String(20))  # "warehouse" or "seller"
    warehouse_id: Mapped[str | None] = mapped_column(ForeignKey("warehouses.id"))
    service_code: Mapped[str] = mapped_column(String(40))
    carrier_code: Mapped[str] = mapped_column(String(40))
    tracking_number: Mapped[str] = mapped_column(String(40))
    carrier_ref: Mapped[str] = mapped_column(String(200))
    sender: Mapped[dict[str, Any]] = mapped_column(JSON)  # the buyer's address
    receiver: Mapped[dict[str, Any]] = mapped_column(JSON)  # where the return goes
    weight_g: Mapped[int] = mapped_column(Integer)
    # The carrier's own label, when it issued one; else tuoguan draws it.
    label: Mapped[bytes | None] = mapped_column(LargeBinary)
    label_format: Mapped[str | None] = mapped_column(String(10))
    authorized_by: Mapped[str] = mapped_column(String(40))
    authorized_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_by: Mapped[str | None] = mapped_column(String(40))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    condition: Mapped[str | None] = mapped_column(String(20))  # resellable, damaged, wrong_item
    received_note: Mapped[str | None] = mapped_column(String(1000))
    # Units the platform's warehouse took back on its books (full-managed), per SKU.
    restocked: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The carrier's events for the parcel, as they came: {event_id, code, at, location}.
    scans: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

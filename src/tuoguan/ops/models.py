"""Sweep failures: a row a worker sweep could not process, set aside with its error."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.db import Base, UTCDateTime

ERROR_LENGTH = 1000


class FailureStatus(StrEnum):
    """Where a set-aside row stands (the transitions are in ``ops/states.py``)."""

    set_aside = "set_aside"  # 已搁置: the sweep skips the row until an operator acts
    retrying = "retrying"  # an operator asked for another try: the next sweep takes it alone
    resolved = "resolved"  # a later try went through, or the row had nothing left to do
    dismissed = "dismissed"  # an operator closed it: the sweep keeps skipping the row


class SweepFailure(Base):
    """One row (or one whole sweep) that failed, once per sweep and subject.

    A subject that fails again reopens its row: ``attempts`` counts every failed
    try, ``first_seen_at`` stays, ``last_seen_at`` and ``error`` follow the latest.
    """

    __tablename__ = "sweep_failures"
    __table_args__ = (
        # One row per sweep and subject; its prefix is the sweep's look-up of what to skip.
        UniqueConstraint("sweep", "subject_type", "subject_id", name="uq_sweep_failures_subject"),
        # The list: one range per status, most recently failed first.
        Index("ix_sweep_failures_status_seen", "status", "last_seen_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The worker sweep's name (worker/loop.py SWEEPS), e.g. record_breaches.
    sweep: Mapped[str] = mapped_column(String(40))
    # What the sweep handles one of: order, breach, shipment; "sweep" when the whole sweep failed.
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str] = mapped_column(String(40))
    # The exception's class and message, without SQL text or parameters, bounded.
    error: Mapped[str] = mapped_column(String(ERROR_LENGTH))
    attempts: Mapped[int] = mapped_column(Integer)
    status: Mapped[FailureStatus] = mapped_column(Enum(FailureStatus, native_enum=False, length=20))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The operator's latest retry or dismissal.
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(40))
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

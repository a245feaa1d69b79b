"""Tables: payout runs (结算批次) and their per-store statements.

A run settles one cycle (the store mode whose stores it pays) up to a cycle boundary: first a
preview, which computes each store's figures and changes no money, then one execution, which
nets debts and prepares the payouts. At most one run of a cycle is executed per boundary: a
partial unique index says so in the database, whatever the code does.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
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
from tuoguan.stores.models import StoreMode

EXECUTED = "status = 'executed'"


class RunStatus(StrEnum):
    """Where a payout run stands."""

    previewed = "previewed"  # figures computed, nothing posted; may be executed once
    executed = "executed"  # debts netted and payouts prepared; never again
    superseded = "superseded"  # a newer preview of the same cycle replaced it


class StatementStatus(StrEnum):
    """What a run did (or, previewed, would do) with one store's money in one currency."""

    paid = "paid"  # a payout was prepared for what is due after netting
    carried = "carried"  # the store owes more than it is due: the difference is carried forward
    held_no_account = "held_no_account"  # due, but the store has no bound payout account
    nothing_due = "nothing_due"  # nothing left to pay after netting


class PayoutRun(Base):
    """One settlement run of a cycle, for the period [period_start, period_end)."""

    __tablename__ = "payout_runs"
    __table_args__ = (
        # A second execution of a cycle's boundary is impossible, whatever the code does.
        Index(
            "uq_payout_runs_executed",
            "cycle",
            "period_end",
            unique=True,
            postgresql_where=text(EXECUTED),
            sqlite_where=text(EXECUTED),
        ),
        Index("ix_payout_runs_cycle", "cycle", "status", "period_end"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The store mode whose stores the run settles (M3: each mode has its cycle).
    cycle: Mapped[StoreMode] = mapped_column(Enum(StoreMode, native_enum=False, length=20))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    # The cycle boundary the run settles up to (00:00 platform time), excluded.
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[RunStatus] = mapped_column(Enum(RunStatus, native_enum=False, length=20))
    created_by: Mapped[str] = mapped_column(String(40))
    previewed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    executed_by: Mapped[str | None] = mapped_column(String(40))
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    store_count: Mapped[int] = mapped_column(Integer, default=0)


class RunStatement(Base):
    """One store's money in one currency in a run: what was due, netted, paid and carried.

    Figures are in minor units, "due" as the seller reads it (receivable + payout clearing -
    payable). ``opening_due + movements = closing_due`` at the period's end, and
    ``closing_due = in_clearing + payout + carried_forward``. A previewed run's figures say what
    it would do; execution writes what it did.
    """

    __tablename__ = "run_statements"
    __table_args__ = (
        UniqueConstraint("run_id", "store_id", "currency", name="uq_run_statements_store"),
        Index("ix_run_statements_store", "store_id", "run_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("payout_runs.id"))
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    currency: Mapped[str] = mapped_column(String(3))
    opening_due_minor: Mapped[int] = mapped_column(BigInteger)
    movements_minor: Mapped[int] = mapped_column(BigInteger)
    closing_due_minor: Mapped[int] = mapped_column(BigInteger)
    # The three accounts at the period's end, on their normal side.
    receivable_minor: Mapped[int] = mapped_column(BigInteger)
    payable_minor: Mapped[int] = mapped_column(BigInteger)
    in_clearing_minor: Mapped[int] = mapped_column(BigInteger)
    netted_minor: Mapped[int] = mapped_column(BigInteger)
    payout_minor: Mapped[int] = mapped_column(BigInteger)
    # What the next run starts from, beyond what is on its way: negative when the store owes.
    carried_forward_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[StatementStatus] = mapped_column(
        Enum(StatementStatus, native_enum=False, length=20)
    )
    payout_id: Mapped[str | None] = mapped_column(ForeignKey("payouts.id"))
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

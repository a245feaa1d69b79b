"""Tables: ledger accounts (with their derived balances), journal entries and their postings.

``journal_entries`` and ``postings`` are append-only: the migration puts triggers on both
engines that refuse an UPDATE or a DELETE (and a TRUNCATE on PostgreSQL), and takes those
privileges away from the application role ``tuoguan_app``. ``ledger_accounts.balance_minor``
is derived: the sum of the account's postings, kept in step by the service and rebuilt by
``tuoguan finance check``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.db import Base, UTCDateTime
from tuoguan.ledger.accounts import AccountKind, Owner, floor_sql
from tuoguan.ledger.kinds import EntryKind

_CREDIT_FLOOR, _DEBIT_FLOOR = floor_sql()


class LedgerAccount(Base):
    """One account: a store's or the platform's, of one kind, in one currency."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("store_id", "kind", "currency", name="uq_ledger_accounts_store_kind"),
        # The platform's accounts have no store; NULLs never collide in a unique constraint.
        Index(
            "uq_ledger_accounts_platform_kind",
            "kind",
            "currency",
            unique=True,
            postgresql_where=text("store_id IS NULL"),
            sqlite_where=text("store_id IS NULL"),
        ),
        CheckConstraint(
            "(owner_type = 'store' AND store_id IS NOT NULL)"
            " OR (owner_type = 'platform' AND store_id IS NULL)",
            name="owner_store",
        ),
        # A backstop for the service's own check: what the platform owes never goes below zero.
        CheckConstraint(_CREDIT_FLOOR, name="credit_floor"),
        CheckConstraint(_DEBIT_FLOOR, name="debit_floor"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_type: Mapped[Owner] = mapped_column(Enum(Owner, native_enum=False, length=10))
    store_id: Mapped[str | None] = mapped_column(ForeignKey("stores.id"))
    kind: Mapped[AccountKind] = mapped_column(Enum(AccountKind, native_enum=False, length=30))
    currency: Mapped[str] = mapped_column(String(3))
    # The sum of the postings (+ debit, - credit), not the side people read.
    balance_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JournalEntry(Base):
    """One money movement: a kind, its amount parts, what it is about; its postings balance."""

    __tablename__ = "journal_entries"
    __table_args__ = (
        UniqueConstraint("reverses_id", name="uq_journal_entries_reverses"),
        UniqueConstraint("idem_key", name="uq_journal_entries_idem_key"),
        Index("ix_journal_entries_subject", "subject_type", "subject_id"),
        Index("ix_journal_entries_store", "store_id", "posted_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[EntryKind] = mapped_column(Enum(EntryKind, native_enum=False, length=40))
    store_id: Mapped[str | None] = mapped_column(ForeignKey("stores.id"))
    # The one currency of a kind's entry; None for an adjustment across currencies.
    currency: Mapped[str | None] = mapped_column(String(3))
    # What the entry is about: an order, a penalty, a claim, a payout...
    subject_type: Mapped[str | None] = mapped_column(String(30))
    subject_id: Mapped[str | None] = mapped_column(String(40))
    # The kind's amount parts (minor units), e.g. {"net": 9000, "commission": 1000}.
    parts: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The entry this one reverses; an entry is reversed at most once.
    reverses_id: Mapped[str | None] = mapped_column(ForeignKey("journal_entries.id"))
    # A rule posts once: e.g. "sale:<order id>".
    idem_key: Mapped[str | None] = mapped_column(String(200))
    memo: Mapped[str | None] = mapped_column(String(500))
    actor_id: Mapped[str] = mapped_column(String(40))
    request_id: Mapped[str | None] = mapped_column(String(64))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Posting(Base):
    """One leg of an entry: a signed amount (+ debit, - credit) on one account."""

    __tablename__ = "postings"
    __table_args__ = (
        CheckConstraint("amount_minor <> 0", name="moves_money"),
        # An account's movements, newest first (and the check's sums per account).
        Index("ix_postings_account", "account_id", "posted_at", "id"),
        Index("ix_postings_entry", "entry_id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), Identity(), primary_key=True
    )
    entry_id: Mapped[str] = mapped_column(ForeignKey("journal_entries.id"))
    account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())

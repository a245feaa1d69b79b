"""deposits: deposit rates and deposit refunds

Revision ID: d6e7f809a1bd
Revises: c5d6e7f8092d
Create Date: 2026-11-28 17:00:00

- ``deposit_rates``: the deposit (保证金) a full-managed store must hold, per product category
  (or ``*``) and currency, versioned and never edited (S3). Seeded with two defaults for every
  category, in force from 2026-01-01: 10,000.00 CNY and 1,500.00 USD (the currencies the
  platform's full-managed stores sell in); an operator adds categories and versions.
- ``deposit_refunds``: the sellers' applications for their deposit back, the operators'
  decisions, the debts deducted line by line and the payout of the rest; at most one
  application of a store waits for its decision.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "d6e7f809a1bd"
down_revision: str | None = "c5d6e7f8092d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "status = 'applied'"
STATUS = sa.Enum(
    "applied",
    "approved",
    "rejected",
    "paid",
    "failed",
    name="depositrefundstatus",
    native_enum=False,
    length=20,
)
_SEEDED = {
    "effective_from": datetime(2026, 1, 1, tzinfo=UTC),
    "created_at": datetime(2026, 11, 28, 17, 0, tzinfo=UTC),
    "created_by": "migration",
    "category": "*",
    "version": 1,
}
DEFAULT_RATES = [
    {
        "id": "dpr_01KB0000000000000000000000",
        "currency": "CNY",
        "amount_minor": 1_000_000,
        "note": "默认：所有类目 / default for every category (S3)",
        **_SEEDED,
    },
    {
        "id": "dpr_01KB0000000000000000000001",
        "currency": "USD",
        "amount_minor": 150_000,
        "note": "默认：所有类目 / default for every category (S3)",
        **_SEEDED,
    },
]


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    rates = op.create_table(
        "deposit_rates",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("effective_from", _ts(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.CheckConstraint("amount_minor >= 0", name=op.f("ck_deposit_rates_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deposit_rates")),
        sa.UniqueConstraint("category", "currency", "version", name="uq_deposit_rates_version"),
    )
    op.create_index(
        "ix_deposit_rates_category",
        "deposit_rates",
        ["category", "currency", "effective_from"],
        unique=False,
    )
    op.create_table(
        "deposit_refunds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("queue_rank", sa.Integer(), nullable=False),
        sa.Column("deductions", sa.JSON(), nullable=False),
        sa.Column("deducted_minor", sa.BigInteger(), nullable=False),
        sa.Column("debt_entry_id", sa.String(length=40), nullable=True),
        sa.Column("payout_minor", sa.BigInteger(), nullable=True),
        sa.Column("payout_id", sa.String(length=40), nullable=True),
        sa.Column("arrives_earliest", sa.Date(), nullable=True),
        sa.Column("arrives_latest", sa.Date(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("decided_at", _ts(), nullable=True),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("decision_note", sa.String(length=1000), nullable=True),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_deposit_refunds_positive")),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_deposit_refunds_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["sellers.id"], name=op.f("fk_deposit_refunds_seller_id_sellers")
        ),
        sa.ForeignKeyConstraint(
            ["debt_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_deposit_refunds_debt_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["payout_id"], ["payouts.id"], name=op.f("fk_deposit_refunds_payout_id_payouts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deposit_refunds")),
    )
    op.create_index(
        "uq_deposit_refunds_open",
        "deposit_refunds",
        ["store_id"],
        unique=True,
        postgresql_where=sa.text(_OPEN),
        sqlite_where=sa.text(_OPEN),
    )
    op.create_index(
        "ix_deposit_refunds_queue", "deposit_refunds", ["queue_rank", "id"], unique=False
    )
    op.create_index("ix_deposit_refunds_store", "deposit_refunds", ["store_id", "id"], unique=False)
    sqlite = op.get_bind().dialect.name == "sqlite"
    rows = [dict(row) for row in DEFAULT_RATES]
    if sqlite:
        rows = [
            {k: v.replace(tzinfo=None) if isinstance(v, datetime) else v for k, v in row.items()}
            for row in rows
        ]
    op.bulk_insert(rates, rows)


def downgrade() -> None:
    op.drop_index("ix_deposit_refunds_store", table_name="deposit_refunds")
    op.drop_index("ix_deposit_refunds_queue", table_name="deposit_refunds")
    op.drop_index("uq_deposit_refunds_open", table_name="deposit_refunds")
    op.drop_table("deposit_refunds")
    op.drop_index("ix_deposit_rates_category", table_name="deposit_rates")
    op.drop_table("deposit_rates")

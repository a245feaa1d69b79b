"""exits: terms, applications, the archive (S4, S5)

Revision ID: e7f8091a2b6f
Revises: e7f8091a2b5e
Create Date: 2026-11-28 18:30:00

- ``exit_terms``: the fees of leaving full-managed (store management fee, refund handling fee)
  and the review's business days, per currency, versioned and never edited (S5). Seeded for
  the currencies the full-managed stores sell in, CNY and USD, at zero fees and three business
  days from 2026-01-01; an operator adds versions.
- ``exits``: the applications, their review, unbinding (the stock choice, the fees' entry, the
  last settlement's payout, the deposit refund) and closing; one open per store.
- ``exit_archives``: the store archives the worker writes (CSV and XLSX in a zip), kept 7 days.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "e7f8091a2b6f"
down_revision: str | None = "e7f8091a2b5e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "status IN ('applied', 'approved')"
EXIT_STATUS = sa.Enum(
    "applied",
    "approved",
    "rejected",
    "unbound",
    "closed",
    name="exitstatus",
    native_enum=False,
    length=20,
)
STOCK_CHOICE = sa.Enum("return", "dispose", name="stockchoice", native_enum=False, length=20)
EXPORT_STATUS = sa.Enum(
    "queued",
    "running",
    "done",
    "failed",
    "expired",
    name="exportstatus",
    native_enum=False,
    length=20,
)
ROLE = sa.Enum(
    "operator",
    "seller",
    "carrier",
    "buyer_channel",
    "warehouse",
    "system",
    name="role",
    native_enum=False,
    length=20,
)
_SEEDED = {
    "version": 1,
    "management_fee_minor": 0,
    "refund_fee_minor": 0,
    "review_days": 3,
    "effective_from": datetime(2026, 1, 1, tzinfo=UTC),
    "note": "默认：不收费，3 个工作日内审核 / default: no fees, reviewed within 3 business days",
    "created_at": datetime(2026, 11, 28, 18, 30, tzinfo=UTC),
    "created_by": "migration",
}
DEFAULT_TERMS = [
    {"id": "xtm_01KB0000000000000000000000", "currency": "CNY", **_SEEDED},
    {"id": "xtm_01KB0000000000000000000001", "currency": "USD", **_SEEDED},
]


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    terms = op.create_table(
        "exit_terms",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("management_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("refund_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("review_days", sa.Integer(), nullable=False),
        sa.Column("effective_from", _ts(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.CheckConstraint(
            "management_fee_minor >= 0", name=op.f("ck_exit_terms_management_fee_not_negative")
        ),
        sa.CheckConstraint(
            "refund_fee_minor >= 0", name=op.f("ck_exit_terms_refund_fee_not_negative")
        ),
        sa.CheckConstraint(
            "review_days BETWEEN 1 AND 30", name=op.f("ck_exit_terms_review_days_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exit_terms")),
        sa.UniqueConstraint("currency", "version", name="uq_exit_terms_version"),
    )
    op.create_index(
        "ix_exit_terms_currency", "exit_terms", ["currency", "effective_from"], unique=False
    )
    op.create_table(
        "exits",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("status", EXIT_STATUS, nullable=False),
        sa.Column("queue_rank", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("document_ids", sa.JSON(), nullable=False),
        sa.Column("terms_id", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("management_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("refund_fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("review_days", sa.Integer(), nullable=False),
        sa.Column("review_by", _ts(), nullable=False),
        sa.Column("fees_acknowledged_at", _ts(), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("decided_at", _ts(), nullable=True),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("decision_reasons", sa.JSON(), nullable=False),
        sa.Column("stock_choice", STOCK_CHOICE, nullable=True),
        sa.Column("return_address", sa.JSON(), nullable=True),
        sa.Column("stock_moved", sa.JSON(), nullable=False),
        sa.Column("fee_entry_id", sa.String(length=40), nullable=True),
        sa.Column("settled_netted_minor", sa.BigInteger(), nullable=True),
        sa.Column("settled_payout_minor", sa.BigInteger(), nullable=True),
        sa.Column("settlement_payout_id", sa.String(length=40), nullable=True),
        sa.Column("deposit_refund_id", sa.String(length=40), nullable=True),
        sa.Column("deposit_deducted_minor", sa.BigInteger(), nullable=True),
        sa.Column("unbound_at", _ts(), nullable=True),
        sa.Column("unbound_by", sa.String(length=40), nullable=True),
        sa.Column("closed_at", _ts(), nullable=True),
        sa.Column("closed_by", sa.String(length=40), nullable=True),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_exits_store_id_stores")),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["sellers.id"], name=op.f("fk_exits_seller_id_sellers")
        ),
        sa.ForeignKeyConstraint(
            ["terms_id"], ["exit_terms.id"], name=op.f("fk_exits_terms_id_exit_terms")
        ),
        sa.ForeignKeyConstraint(
            ["fee_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_exits_fee_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["settlement_payout_id"],
            ["payouts.id"],
            name=op.f("fk_exits_settlement_payout_id_payouts"),
        ),
        sa.ForeignKeyConstraint(
            ["deposit_refund_id"],
            ["deposit_refunds.id"],
            name=op.f("fk_exits_deposit_refund_id_deposit_refunds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exits")),
    )
    op.create_index(
        "uq_exits_open",
        "exits",
        ["store_id"],
        unique=True,
        postgresql_where=sa.text(_OPEN),
        sqlite_where=sa.text(_OPEN),
    )
    op.create_index("ix_exits_queue", "exits", ["queue_rank", "id"], unique=False)
    op.create_index("ix_exits_store", "exits", ["store_id", "id"], unique=False)
    op.create_table(
        "exit_archives",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("requested_by", sa.String(length=40), nullable=False),
        sa.Column("requested_role", ROLE, nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("status", EXPORT_STATUS, nullable=False),
        sa.Column("steps_done", sa.Integer(), nullable=False),
        sa.Column("steps_total", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", _ts(), nullable=True),
        sa.Column("file_name", sa.String(length=100), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("started_at", _ts(), nullable=True),
        sa.Column("finished_at", _ts(), nullable=True),
        sa.Column("expires_at", _ts(), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_exit_archives_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exit_archives")),
    )
    op.create_index("ix_exit_archives_store", "exit_archives", ["store_id", "id"], unique=False)
    op.create_index(
        "ix_exit_archives_status_lease", "exit_archives", ["status", "lease_until"], unique=False
    )
    op.create_index(
        "ix_exit_archives_status_expires", "exit_archives", ["status", "expires_at"], unique=False
    )
    rows = [dict(row) for row in DEFAULT_TERMS]
    if op.get_bind().dialect.name == "sqlite":
        rows = [
            {k: v.replace(tzinfo=None) if isinstance(v, datetime) else v for k, v in row.items()}
            for row in rows
        ]
    op.bulk_insert(terms, rows)


def downgrade() -> None:
    op.drop_index("ix_exit_archives_status_expires", table_name="exit_archives")
    op.drop_index("ix_exit_archives_status_lease", table_name="exit_archives")
    op.drop_index("ix_exit_archives_store", table_name="exit_archives")
    op.drop_table("exit_archives")
    op.drop_index("ix_exits_store", table_name="exits")
    op.drop_index("ix_exits_queue", table_name="exits")
    op.drop_index("uq_exits_open", table_name="exits")
    op.drop_table("exits")
    op.drop_index("ix_exit_terms_currency", table_name="exit_terms")
    op.drop_table("exit_terms")

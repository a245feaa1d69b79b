"""settlement: payout accounts, payouts, the sandbox rail

Revision ID: c5d6e7f8091c
Revises: b4c5d6e7f80b
Create Date: 2026-11-28 16:00:00

- ``payout_accounts``: the bank account each store is paid to; at most one in force per store
  (a partial unique index on ``replaced_at IS NULL``), the replaced ones kept as history.
- ``payouts``: money set aside on a store's payout clearing and sent once on the rail; the
  sweep's partial index of payouts not settled yet, a store's newest first, by status.
- ``rail_instructions``: the sandbox bank's own book, one row per payout (the key).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c5d6e7f8091c"
down_revision: str | None = "b4c5d6e7f80b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_IN_FORCE = "replaced_at IS NULL"
_UNSETTLED = "status IN ('prepared', 'sending')"
PURPOSE = sa.Enum(
    "settlement", "deposit_refund", name="payoutpurpose", native_enum=False, length=20
)
STATUS = sa.Enum(
    "prepared", "sending", "sent", "failed", name="payoutstatus", native_enum=False, length=20
)
ANSWER = sa.Enum("accepted", "rejected", name="instructionstatus", native_enum=False, length=20)


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "payout_accounts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("bank_name", sa.String(length=200), nullable=False),
        sa.Column("account_number", sa.String(length=34), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("bound_at", _ts(), nullable=False),
        sa.Column("bound_by", sa.String(length=40), nullable=False),
        sa.Column("replaced_at", _ts(), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_payout_accounts_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_accounts")),
    )
    op.create_index(
        "uq_payout_accounts_in_force",
        "payout_accounts",
        ["store_id"],
        unique=True,
        postgresql_where=sa.text(_IN_FORCE),
        sqlite_where=sa.text(_IN_FORCE),
    )
    op.create_index(
        "ix_payout_accounts_store", "payout_accounts", ["store_id", "bound_at"], unique=False
    )
    op.create_table(
        "payouts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("purpose", PURPOSE, nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=True),
        sa.Column("subject_id", sa.String(length=40), nullable=True),
        sa.Column("payout_account_id", sa.String(length=40), nullable=False),
        sa.Column("prepare_entry_id", sa.String(length=40), nullable=False),
        sa.Column("sent_entry_id", sa.String(length=40), nullable=True),
        sa.Column("reversal_entry_id", sa.String(length=40), nullable=True),
        sa.Column("rail_reference", sa.String(length=64), nullable=True),
        sa.Column("failure_reason", sa.String(length=500), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("idem_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("sending_at", _ts(), nullable=True),
        sa.Column("sent_at", _ts(), nullable=True),
        sa.Column("failed_at", _ts(), nullable=True),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payouts_positive")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_payouts_attempts")),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_payouts_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["payout_account_id"],
            ["payout_accounts.id"],
            name=op.f("fk_payouts_payout_account_id_payout_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["prepare_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_payouts_prepare_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["sent_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_payouts_sent_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["reversal_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_payouts_reversal_entry_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
        sa.UniqueConstraint("idem_key", name=op.f("uq_payouts_idem_key")),
    )
    op.create_index(
        "ix_payouts_unsettled",
        "payouts",
        ["status", "created_at"],
        unique=False,
        postgresql_where=sa.text(_UNSETTLED),
        sqlite_where=sa.text(_UNSETTLED),
    )
    op.create_index("ix_payouts_store", "payouts", ["store_id", "id"], unique=False)
    op.create_index("ix_payouts_status", "payouts", ["status", "id"], unique=False)
    op.create_index("ix_payouts_subject", "payouts", ["subject_type", "subject_id"], unique=False)
    op.create_table(
        "rail_instructions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("bank_name", sa.String(length=200), nullable=False),
        sa.Column("account_number", sa.String(length=34), nullable=False),
        sa.Column("status", ANSWER, nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rail_instructions")),
        sa.UniqueConstraint("key", name=op.f("uq_rail_instructions_key")),
    )


def downgrade() -> None:
    op.drop_table("rail_instructions")
    op.drop_index("ix_payouts_subject", table_name="payouts")
    op.drop_index("ix_payouts_status", table_name="payouts")
    op.drop_index("ix_payouts_store", table_name="payouts")
    op.drop_index("ix_payouts_unsettled", table_name="payouts")
    op.drop_table("payouts")
    op.drop_index("ix_payout_accounts_store", table_name="payout_accounts")
    op.drop_index("uq_payout_accounts_in_force", table_name="payout_accounts")
    op.drop_table("payout_accounts")

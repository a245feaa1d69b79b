"""payout_runs: settlement runs and their per-store statements

Revision ID: c5d6e7f8092d
Revises: c5d6e7f8091c
Create Date: 2026-11-28 16:50:00

- ``payout_runs``: one settlement run of a cycle (a store mode) up to a cycle boundary,
  previewed, then executed once; a partial unique index allows one executed run per cycle and
  boundary, so a second execution is impossible in the database too.
- ``run_statements``: each store's due, netting, payout and carry forward per currency.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c5d6e7f8092d"
down_revision: str | None = "c5d6e7f8091c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EXECUTED = "status = 'executed'"
MODE = sa.Enum(
    "self_run", "semi_managed", "full_managed", name="storemode", native_enum=False, length=20
)
RUN_STATUS = sa.Enum(
    "previewed", "executed", "superseded", name="runstatus", native_enum=False, length=20
)
STATEMENT_STATUS = sa.Enum(
    "paid",
    "carried",
    "held_no_account",
    "nothing_due",
    name="statementstatus",
    native_enum=False,
    length=20,
)


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "payout_runs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("cycle", MODE, nullable=False),
        sa.Column("period_start", _ts(), nullable=False),
        sa.Column("period_end", _ts(), nullable=False),
        sa.Column("status", RUN_STATUS, nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("previewed_at", _ts(), nullable=False),
        sa.Column("executed_by", sa.String(length=40), nullable=True),
        sa.Column("executed_at", _ts(), nullable=True),
        sa.Column("superseded_at", _ts(), nullable=True),
        sa.Column("store_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_runs")),
    )
    op.create_index(
        "uq_payout_runs_executed",
        "payout_runs",
        ["cycle", "period_end"],
        unique=True,
        postgresql_where=sa.text(_EXECUTED),
        sqlite_where=sa.text(_EXECUTED),
    )
    op.create_index(
        "ix_payout_runs_cycle", "payout_runs", ["cycle", "status", "period_end"], unique=False
    )
    op.create_table(
        "run_statements",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("opening_due_minor", sa.BigInteger(), nullable=False),
        sa.Column("movements_minor", sa.BigInteger(), nullable=False),
        sa.Column("closing_due_minor", sa.BigInteger(), nullable=False),
        sa.Column("receivable_minor", sa.BigInteger(), nullable=False),
        sa.Column("payable_minor", sa.BigInteger(), nullable=False),
        sa.Column("in_clearing_minor", sa.BigInteger(), nullable=False),
        sa.Column("netted_minor", sa.BigInteger(), nullable=False),
        sa.Column("payout_minor", sa.BigInteger(), nullable=False),
        sa.Column("carried_forward_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", STATEMENT_STATUS, nullable=False),
        sa.Column("payout_id", sa.String(length=40), nullable=True),
        sa.Column("settled_at", _ts(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["payout_runs.id"], name=op.f("fk_run_statements_run_id_payout_runs")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_run_statements_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["payout_id"], ["payouts.id"], name=op.f("fk_run_statements_payout_id_payouts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_statements")),
        sa.UniqueConstraint("run_id", "store_id", "currency", name="uq_run_statements_store"),
    )
    op.create_index(
        "ix_run_statements_store", "run_statements", ["store_id", "run_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_run_statements_store", table_name="run_statements")
    op.drop_table("run_statements")
    op.drop_index("ix_payout_runs_cycle", table_name="payout_runs")
    op.drop_index("uq_payout_runs_executed", table_name="payout_runs")
    op.drop_table("payout_runs")

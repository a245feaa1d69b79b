"""cases: receiving exceptions and disputes on one engine (R2, R3, G4)

Revision ID: e7f8091a2b7a
Revises: e7f8091a2b6f
Create Date: 2026-11-28 19:00:00

- ``cases``: one row per case: kind, cause, subject (a notice and its discrepancy, or an
  order), the step it is at with its owner and deadline, the decision, the one appeal. One
  case per discrepancy, one open dispute per order; the operators' queue per kind reads
  ``ix_cases_queue`` (working first, the nearest deadline first).
- ``case_entries``: the timeline, appended for good: steps, evidence (a file kept as a
  document, or a text, each with its SHA-256), messages, decisions, deadlines.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e7f8091a2b7a"
down_revision: str | None = "e7f8091a2b6f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "receiving_exception", "dispute", name="casekind", native_enum=False, length=30
            ),
            nullable=False,
        ),
        sa.Column("cause", sa.String(length=30), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "checking",
                "awaiting_carrier",
                "awaiting_seller",
                "escalated",
                "investigating",
                "decided",
                "appealed",
                "closed",
                name="casestate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column(
            "mode",
            sa.Enum(
                "self_run",
                "semi_managed",
                "full_managed",
                name="storemode",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("notice_id", sa.String(length=40), nullable=True),
        sa.Column("discrepancy_id", sa.String(length=40), nullable=True),
        sa.Column("order_id", sa.String(length=40), nullable=True),
        sa.Column("warehouse_id", sa.String(length=40), nullable=True),
        sa.Column("carrier_code", sa.String(length=40), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("summary", sa.String(length=2000), nullable=False),
        sa.Column("opened_by", sa.String(length=40), nullable=False),
        sa.Column(
            "opened_role",
            sa.Enum(
                "operator",
                "seller",
                "carrier",
                "buyer_channel",
                "warehouse",
                "system",
                name="role",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("opened_at", _ts(), nullable=False),
        sa.Column("state_entered_at", _ts(), nullable=False),
        sa.Column(
            "step_owner",
            sa.Enum(
                "seller",
                "buyer",
                "carrier",
                "warehouse",
                "platform",
                name="caseparty",
                native_enum=False,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("step_due_at", _ts(), nullable=True),
        sa.Column("warned_at", _ts(), nullable=True),
        sa.Column("breached_at", _ts(), nullable=True),
        sa.Column("queue_rank", sa.Integer(), nullable=False),
        sa.Column("queue_due_at", _ts(), nullable=False),
        sa.Column("decision", sa.String(length=30), nullable=True),
        sa.Column(
            "bearer",
            sa.Enum("seller", "carrier", "platform", name="bearer", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("units", sa.Integer(), nullable=True),
        sa.Column("decision_reason", sa.String(length=2000), nullable=True),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("decided_at", _ts(), nullable=True),
        sa.Column("entry_ids", sa.JSON(), nullable=False),
        sa.Column("refund_ids", sa.JSON(), nullable=False),
        sa.Column("appealed_by", sa.String(length=40), nullable=True),
        sa.Column(
            "appealed_party",
            sa.Enum(
                "seller",
                "buyer",
                "carrier",
                "warehouse",
                "platform",
                name="caseparty",
                native_enum=False,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("appealed_at", _ts(), nullable=True),
        sa.Column("appeal_reason", sa.String(length=2000), nullable=True),
        sa.Column("appeal_outcome", sa.String(length=20), nullable=True),
        sa.Column("appeal_decided_by", sa.String(length=40), nullable=True),
        sa.Column("appeal_decided_at", _ts(), nullable=True),
        sa.Column("closed_at", _ts(), nullable=True),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["discrepancy_id"],
            ["inbound_discrepancies.id"],
            name=op.f("fk_cases_discrepancy_id_inbound_discrepancies"),
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["inbound_notices.id"], name=op.f("fk_cases_notice_id_inbound_notices")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_cases_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["sellers.id"], name=op.f("fk_cases_seller_id_sellers")
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_cases_store_id_stores")),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_cases_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_notice", ["notice_id"], unique=False)
        batch_op.create_index("ix_cases_order", ["order_id"], unique=False)
        batch_op.create_index(
            "ix_cases_queue", ["kind", "queue_rank", "queue_due_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_cases_seller", ["seller_id", "queue_rank", "queue_due_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_cases_seller_kind",
            ["seller_id", "kind", "queue_rank", "queue_due_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_cases_step_due",
            ["step_due_at"],
            unique=False,
            postgresql_where=sa.text("step_due_at IS NOT NULL AND breached_at IS NULL"),
            sqlite_where=sa.text("step_due_at IS NOT NULL AND breached_at IS NULL"),
        )
        batch_op.create_index("ix_cases_store", ["store_id", "state"], unique=False)
        batch_op.create_index("uq_cases_discrepancy", ["discrepancy_id"], unique=True)
        batch_op.create_index(
            "uq_cases_open_dispute",
            ["order_id"],
            unique=True,
            postgresql_where=sa.text("kind = 'dispute' AND state != 'closed'"),
            sqlite_where=sa.text("kind = 'dispute' AND state != 'closed'"),
        )

    op.create_table(
        "case_entries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column(
            "party",
            sa.Enum(
                "seller",
                "buyer",
                "carrier",
                "warehouse",
                "platform",
                name="caseparty",
                native_enum=False,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("actor_id", sa.String(length=40), nullable=False),
        sa.Column(
            "actor_role",
            sa.Enum(
                "operator",
                "seller",
                "carrier",
                "buyer_channel",
                "warehouse",
                "system",
                name="role",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("text", sa.String(length=4000), nullable=True),
        sa.Column("document_id", sa.String(length=40), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_entries_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_case_entries_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_entries")),
    )
    with op.batch_alter_table("case_entries", schema=None) as batch_op:
        batch_op.create_index("ix_case_entries_case", ["case_id", "position"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_case_entries_case")

    op.drop_table("case_entries")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_cases_open_dispute",
            postgresql_where=sa.text("kind = 'dispute' AND state != 'closed'"),
            sqlite_where=sa.text("kind = 'dispute' AND state != 'closed'"),
        )
        batch_op.drop_index("uq_cases_discrepancy")
        batch_op.drop_index("ix_cases_store")
        batch_op.drop_index(
            "ix_cases_step_due",
            postgresql_where=sa.text("step_due_at IS NOT NULL AND breached_at IS NULL"),
            sqlite_where=sa.text("step_due_at IS NOT NULL AND breached_at IS NULL"),
        )
        batch_op.drop_index("ix_cases_seller_kind")
        batch_op.drop_index("ix_cases_seller")
        batch_op.drop_index("ix_cases_queue")
        batch_op.drop_index("ix_cases_order")
        batch_op.drop_index("ix_cases_notice")

    op.drop_table("cases")

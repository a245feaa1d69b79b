"""money_rules: delivery compensation policies, refunds, shipping fees and insurance posted to the ledger

Revision ID: b4c5d6e7f80b
Revises: a3b4c5d6e70a
Create Date: 2026-11-28 15:00:00

- ``compensation_policies``: versioned, never edited (G2), seeded with one default: any region,
  any currency, the parcel's quoted shipping fee back (``rate_bp`` 10000).
- ``delivery_compensations``: each parcel that missed its commitment, judged once.
- ``refunds``: money back to buyers and who bore it (G6, M3).
- ``shipments.commit_settled_at`` and the partial index of open commitments the worker sweeps.
  Commitments that fell due before this revision, and parcels already delivered, are settled
  here: the rule compensates the delays that come due from now on, not history.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "b4c5d6e7f80b"
down_revision: str | None = "a3b4c5d6e70a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COMMIT_OPEN = "commit_by IS NOT NULL AND commit_settled_at IS NULL"
PARTY = sa.Enum("seller", "platform", name="party", native_enum=False, length=20)
OUTCOME = sa.Enum(
    "compensated",
    "reversed",
    "buyer_caused",
    "platform_shipped",
    "nothing_due",
    name="compensationoutcome",
    native_enum=False,
    length=20,
)
DEFAULT_POLICY = {
    "id": "cpo_01KB0000000000000000000000",
    "region": "*",
    "currency": "*",
    "version": 1,
    "amount_minor": 0,
    "rate_bp": 10_000,
    "effective_from": datetime(2026, 1, 1, tzinfo=UTC),
    "note": "default: a late parcel's quoted shipping fee back, in any region (G2)",
    "created_at": datetime(2026, 11, 28, 15, 0, tzinfo=UTC),
    "created_by": "migration",
}


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    policies = op.create_table(
        "compensation_policies",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("effective_from", _ts(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.CheckConstraint(
            "amount_minor >= 0 AND rate_bp >= 0", name=op.f("ck_compensation_policies_not_negative")
        ),
        sa.CheckConstraint(
            "currency <> '*' OR amount_minor = 0",
            name=op.f("ck_compensation_policies_fixed_amount_currency"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compensation_policies")),
        sa.UniqueConstraint(
            "region", "currency", "version", name="uq_compensation_policies_version"
        ),
    )
    op.create_index(
        "ix_compensation_policies_region",
        "compensation_policies",
        ["region", "currency", "effective_from"],
        unique=False,
    )
    op.create_table(
        "delivery_compensations",
        sa.Column("shipment_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("payer", PARTY, nullable=False),
        sa.Column("region", sa.String(length=100), nullable=False),
        sa.Column("commit_by", _ts(), nullable=False),
        sa.Column("policy_id", sa.String(length=40), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("outcome", OUTCOME, nullable=False),
        sa.Column("entry_id", sa.String(length=40), nullable=True),
        sa.Column("judged_at", _ts(), nullable=False),
        sa.Column("reversal_entry_id", sa.String(length=40), nullable=True),
        sa.Column("reversed_at", _ts(), nullable=True),
        sa.Column("reversal_reason", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_delivery_compensations_shipment_id_shipments"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_delivery_compensations_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_delivery_compensations_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["compensation_policies.id"],
            name=op.f("fk_delivery_compensations_policy_id_compensation_policies"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_delivery_compensations_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["reversal_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_delivery_compensations_reversal_entry_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("shipment_id", name=op.f("pk_delivery_compensations")),
    )
    op.create_index(
        "ix_delivery_compensations_store",
        "delivery_compensations",
        ["store_id", "judged_at"],
        unique=False,
    )
    op.create_index(
        "ix_delivery_compensations_order", "delivery_compensations", ["order_id"], unique=False
    )
    op.create_table(
        "refunds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("bearer", PARTY, nullable=False),
        sa.Column("entry_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_refunds_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_refunds_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_refunds_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["sellers.id"], name=op.f("fk_refunds_seller_id_sellers")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_refunds_entry_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
    )
    op.create_index("ix_refunds_order", "refunds", ["order_id", "id"], unique=False)
    op.create_index("ix_refunds_store_created", "refunds", ["store_id", "created_at"], unique=False)

    op.add_column("shipments", sa.Column("commit_settled_at", _ts(), nullable=True))
    # History is settled: commitments already due, and parcels already delivered.
    sqlite = op.get_bind().dialect.name == "sqlite"
    now = datetime.now(UTC)
    op.get_bind().execute(
        sa.text(
            "UPDATE shipments SET commit_settled_at = :now "
            "WHERE commit_by IS NOT NULL AND (commit_by <= :now OR delivered_at IS NOT NULL)"
        ).bindparams(sa.bindparam("now", type_=_ts())),
        {"now": now.replace(tzinfo=None) if sqlite else now},
    )
    op.create_index(
        "ix_shipments_commit_open",
        "shipments",
        ["commit_by", "id"],
        unique=False,
        postgresql_where=sa.text(_COMMIT_OPEN),
        sqlite_where=sa.text(_COMMIT_OPEN),
    )
    row = dict(DEFAULT_POLICY)
    if sqlite:
        row = {k: v.replace(tzinfo=None) if isinstance(v, datetime) else v for k, v in row.items()}
    op.bulk_insert(policies, [row])


def downgrade() -> None:
    op.drop_index("ix_shipments_commit_open", table_name="shipments")
    with op.batch_alter_table("shipments") as batch_op:
        batch_op.drop_column("commit_settled_at")
    op.drop_index("ix_refunds_store_created", table_name="refunds")
    op.drop_index("ix_refunds_order", table_name="refunds")
    op.drop_table("refunds")
    op.drop_index("ix_delivery_compensations_order", table_name="delivery_compensations")
    op.drop_index("ix_delivery_compensations_store", table_name="delivery_compensations")
    op.drop_table("delivery_compensations")
    op.drop_index("ix_compensation_policies_region", table_name="compensation_policies")
    op.drop_table("compensation_policies")

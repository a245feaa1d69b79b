"""sales_postings: commission rates and the sales, penalties posted to the ledger

- ``commission_rates``: versions of the commission rate per product category (M3), seeded with
  version 1 of ``*`` (every category) at 8% from 2000-01-01, so every sale has a rate;
- ``order_lines.commission_bp`` and ``order_lines.supply_price_minor``: what a line's sale posts,
  recorded at placement (null on the lines placed before);
- ``penalties.charged_at`` and the charge sweep's partial index ``ix_penalties_uncharged``.

Revision ID: a3b4c5d6e70a
Revises: f2a3b4c5d609
Create Date: 2026-11-28 14:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "a3b4c5d6e70a"
down_revision: str | None = "f2a3b4c5d609"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNCHARGED = "charged_at IS NULL AND status IN ('assessed', 'appealed')"
SEED = {
    "id": "cmr_01JA0000000000000000000000",
    "category": "*",
    "version": 1,
    "rate_bp": 800,
    "effective_from": datetime(2000, 1, 1, tzinfo=UTC),
    "note": "the platform's default rate, seeded by the migration",
    "created_at": datetime(2026, 11, 28, 6, 0, tzinfo=UTC),
    "created_by": "system",
}


def upgrade() -> None:
    rates = op.create_table(
        "commission_rates",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commission_rates")),
        sa.UniqueConstraint("category", "version", name="uq_commission_rates_category_version"),
    )
    with op.batch_alter_table("commission_rates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_commission_rates_category_effective", ["category", "effective_from"], unique=False
        )
    bind = op.get_bind()
    seed = dict(SEED)
    if bind.dialect.name == "sqlite":
        # As tuoguan.db.UTCDateTime binds instants on SQLite: naive, in UTC.
        for column in ("effective_from", "created_at"):
            instant = seed[column]
            assert isinstance(instant, datetime)
            seed[column] = instant.replace(tzinfo=None)
    op.bulk_insert(rates, [seed])

    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("commission_bp", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("supply_price_minor", sa.BigInteger(), nullable=True))

    with op.batch_alter_table("penalties", schema=None) as batch_op:
        batch_op.add_column(sa.Column("charged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_penalties_uncharged",
            ["appeal_by", "id"],
            unique=False,
            postgresql_where=sa.text(_UNCHARGED),
            sqlite_where=sa.text(_UNCHARGED),
        )


def downgrade() -> None:
    with op.batch_alter_table("penalties", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_penalties_uncharged",
            postgresql_where=sa.text(_UNCHARGED),
            sqlite_where=sa.text(_UNCHARGED),
        )
        batch_op.drop_column("charged_at")
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_column("supply_price_minor")
        batch_op.drop_column("commission_bp")
    with op.batch_alter_table("commission_rates", schema=None) as batch_op:
        batch_op.drop_index("ix_commission_rates_category_effective")
    op.drop_table("commission_rates")

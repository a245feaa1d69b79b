"""product review: revisions, suspension, listing (C1, C2, F7)

Revision ID: e7f8091a2b5e
Revises: e7f8091a2b4d
Create Date: 2026-11-28 18:20:00

- ``product_revisions``: each submission of a product's reviewed values, its decision and
  reasons, its review due time (S2) and when it was flagged stuck.
- ``products``: when it was approved and listed, the revision waiting, the last rejection's
  reasons, why it is suspended; two more statuses (``delisted``, ``suspended``: the column is a
  plain string). Products on sale before this revision were put there by an operator: they
  count as approved and listed then.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e7f8091a2b5e"
down_revision: str | None = "e7f8091a2b4d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "status = 'submitted'"
STATUS = sa.Enum(
    "submitted", "approved", "rejected", name="revisionstatus", native_enum=False, length=20
)


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "product_revisions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("first", sa.Boolean(), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("proposed", sa.JSON(), nullable=False),
        sa.Column("base", sa.JSON(), nullable=True),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("submitted_at", _ts(), nullable=False),
        sa.Column("submitted_by", sa.String(length=40), nullable=False),
        sa.Column("review_due", _ts(), nullable=False),
        sa.Column("flagged_at", _ts(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("retail_price_minor", sa.BigInteger(), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.Column("decided_at", _ts(), nullable=True),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_revisions_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_product_revisions_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["sellers.id"], name=op.f("fk_product_revisions_seller_id_sellers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_revisions")),
        sa.UniqueConstraint("product_id", "number", name="uq_product_revisions_number"),
    )
    op.create_index(
        "uq_product_revisions_open",
        "product_revisions",
        ["product_id"],
        unique=True,
        postgresql_where=sa.text(_OPEN),
        sqlite_where=sa.text(_OPEN),
    )
    op.create_index(
        "ix_product_revisions_queue",
        "product_revisions",
        ["status", "review_due", "id"],
        unique=False,
    )
    op.create_index(
        "ix_product_revisions_store", "product_revisions", ["store_id", "id"], unique=False
    )
    op.add_column("products", sa.Column("approved_at", _ts(), nullable=True))
    op.add_column("products", sa.Column("listed_at", _ts(), nullable=True))
    op.add_column("products", sa.Column("pending_revision_id", sa.String(length=40), nullable=True))
    op.add_column("products", sa.Column("review_reasons", sa.JSON(), nullable=True))
    op.add_column("products", sa.Column("suspended_reason", sa.String(length=500), nullable=True))
    op.get_bind().execute(
        sa.text(
            "UPDATE products SET approved_at = updated_at, listed_at = updated_at "
            "WHERE status = 'active'"
        )
    )


def downgrade() -> None:
    # Statuses the old code does not know go back to the nearest it does.
    op.get_bind().execute(
        sa.text("UPDATE products SET status = 'draft' WHERE status IN ('delisted', 'suspended')")
    )
    with op.batch_alter_table("products") as batch_op:
        batch_op.drop_column("suspended_reason")
        batch_op.drop_column("review_reasons")
        batch_op.drop_column("pending_revision_id")
        batch_op.drop_column("listed_at")
        batch_op.drop_column("approved_at")
    op.drop_index("ix_product_revisions_store", table_name="product_revisions")
    op.drop_index("ix_product_revisions_queue", table_name="product_revisions")
    op.drop_index("uq_product_revisions_open", table_name="product_revisions")
    op.drop_table("product_revisions")

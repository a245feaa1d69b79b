"""skus: one or more SKUs per product, order lines refer to a SKU

Revision ID: d1b2c3a4e501
Revises: c0a18293e408
Create Date: 2026-11-28 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from ulid import ULID

revision: str = "d1b2c3a4e501"
down_revision: str | None = "c0a18293e408"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5_000

# The rows as this migration knows them (the models may move on). The timestamps are copied
# as the driver reads them, without a type, so they go back exactly as they were stored.
_products = sa.table(
    "products",
    sa.column("id", sa.String()),
    sa.column("store_id", sa.String()),
    sa.column("created_at"),
    sa.column("updated_at"),
)
_skus = sa.table(
    "skus",
    sa.column("id", sa.String()),
    sa.column("product_id", sa.String()),
    sa.column("store_id", sa.String()),
    sa.column("position", sa.Integer()),
    sa.column("code", sa.String()),
    sa.column("attributes", sa.JSON()),
    sa.column("active", sa.Boolean()),
    sa.column("created_at"),
    sa.column("updated_at"),
    sa.column("version", sa.Integer()),
)


def upgrade() -> None:
    op.create_table(
        "skus",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("barcode", sa.String(length=64), nullable=True),
        sa.Column("weight_g", sa.Integer(), nullable=True),
        sa.Column("length_mm", sa.Integer(), nullable=True),
        sa.Column("width_mm", sa.Integer(), nullable=True),
        sa.Column("height_mm", sa.Integer(), nullable=True),
        sa.Column("supply_price_minor", sa.BigInteger(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "supply_price_minor IS NULL OR supply_price_minor >= 0",
            name=op.f("ck_skus_sku_supply_not_negative"),
        ),
        sa.CheckConstraint(
            "weight_g IS NULL OR weight_g > 0", name=op.f("ck_skus_sku_weight_positive")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_skus_product_id_products")
        ),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_skus_store_id_stores")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skus")),
        sa.UniqueConstraint("store_id", "barcode", name="uq_skus_store_barcode"),
        sa.UniqueConstraint("store_id", "code", name="uq_skus_store_code"),
    )
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.create_index("ix_skus_product", ["product_id", "position"], unique=False)
        batch_op.create_index("ix_skus_store", ["store_id", "id"], unique=False)

    _one_sku_per_product()

    # C3: a line names the variant it sold. Added empty, filled from the product's only SKU,
    # then required (on SQLite the batch copies the table once, with the key and NOT NULL).
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sku_id", sa.String(length=40), nullable=True))
    op.execute(
        "UPDATE order_lines SET sku_id = "
        "(SELECT skus.id FROM skus WHERE skus.product_id = order_lines.product_id)"
    )
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.alter_column("sku_id", existing_type=sa.String(length=40), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_order_lines_sku_id_skus"), "skus", ["sku_id"], ["id"]
        )


def _one_sku_per_product() -> None:
    """Every product made before SKUs gets one: code = the product's id, no attributes, the
    product's own weight, size and supply price (all columns left null), its timestamps."""
    conn = op.get_bind()
    last = ""
    while True:
        rows = conn.execute(
            sa.select(
                _products.c.id,
                _products.c.store_id,
                _products.c.created_at,
                _products.c.updated_at,
            )
            .where(_products.c.id > last)
            .order_by(_products.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        conn.execute(
            _skus.insert(),
            [
                {
                    "id": f"sku_{ULID()}",
                    "product_id": product_id,
                    "store_id": store_id,
                    "position": 0,
                    "code": product_id,
                    "attributes": {},
                    "active": True,
                    "created_at": created_at,
                    "updated_at": updated_at,
                    "version": 1,
                }
                for product_id, store_id, created_at, updated_at in rows
            ],
        )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_order_lines_sku_id_skus"), type_="foreignkey")
        batch_op.drop_column("sku_id")

    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.drop_index("ix_skus_store")
        batch_op.drop_index("ix_skus_product")

    op.drop_table("skus")

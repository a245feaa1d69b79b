"""inventory: warehouses, the stock ledger and stock balances

Revision ID: e2c3d4b5f602
Revises: d1b2c3a4e501
Create Date: 2026-11-28 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e2c3d4b5f602"
down_revision: str | None = "d1b2c3a4e501"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUCKETS = ("on_hand", "reserved", "defective", "inbound")


def upgrade() -> None:
    op.create_table(
        "warehouses",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "owner",
            sa.Enum(
                "platform",
                "third_party",
                "seller",
                name="warehouseowner",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("seller_id", sa.String(length=40), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "consolidation",
                "overseas",
                "seller_origin",
                name="warehousekind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("address", sa.JSON(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("closed_days", sa.JSON(), nullable=False),
        sa.Column("pickup_cutoff", sa.Time(), nullable=False),
        sa.Column("ship_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(owner = 'seller' AND seller_id IS NOT NULL)"
            " OR (owner <> 'seller' AND seller_id IS NULL)",
            name=op.f("ck_warehouses_seller_owner"),
        ),
        sa.CheckConstraint("ship_days BETWEEN 1 AND 3", name=op.f("ck_warehouses_ship_days_range")),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["sellers.id"], name=op.f("fk_warehouses_seller_id_sellers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouses")),
        sa.UniqueConstraint("code", name=op.f("uq_warehouses_code")),
    )
    op.create_index("ix_warehouses_owner", "warehouses", ["owner", "id"], unique=False)
    op.create_index("ix_warehouses_seller", "warehouses", ["seller_id", "id"], unique=False)

    op.create_table(
        "stock_balances",
        sa.Column("warehouse_id", sa.String(length=40), nullable=False),
        sa.Column("sku_id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        *(sa.Column(bucket, sa.Integer(), nullable=False) for bucket in BUCKETS),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *(
            sa.CheckConstraint(
                f"{bucket} >= 0", name=op.f(f"ck_stock_balances_{bucket}_not_negative")
            )
            for bucket in BUCKETS
        ),
        sa.CheckConstraint(
            "reserved <= on_hand", name=op.f("ck_stock_balances_reserved_within_on_hand")
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_stock_balances_sku_id_skus")),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_stock_balances_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("warehouse_id", "sku_id", name=op.f("pk_stock_balances")),
    )
    op.create_index(
        "ix_stock_balances_sku", "stock_balances", ["sku_id", "warehouse_id"], unique=False
    )
    op.create_index(
        "ix_stock_balances_store",
        "stock_balances",
        ["store_id", "warehouse_id", "sku_id"],
        unique=False,
    )

    op.create_table(
        "stock_moves",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("warehouse_id", sa.String(length=40), nullable=False),
        sa.Column("sku_id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "inbound",
                "inbound_cancel",
                "receipt",
                "reserve",
                "release",
                "pick",
                "ship",
                "adjust",
                "defective",
                name="movekind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("quantity", sa.Integer(), nullable=True),
        *(sa.Column(bucket, sa.Integer(), nullable=False) for bucket in BUCKETS),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("actor_id", sa.String(length=40), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("ref_type", sa.String(length=30), nullable=True),
        sa.Column("ref_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_stock_moves_sku_id_skus")),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_stock_moves_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_moves")),
    )
    for name, columns in (
        ("ix_stock_moves_key", ["warehouse_id", "sku_id", "id"]),
        ("ix_stock_moves_sku", ["sku_id", "id"]),
        ("ix_stock_moves_store", ["store_id", "id"]),
        ("ix_stock_moves_store_warehouse", ["store_id", "warehouse_id", "id"]),
        ("ix_stock_moves_warehouse", ["warehouse_id", "id"]),
    ):
        op.create_index(name, "stock_moves", columns, unique=False)


def downgrade() -> None:
    op.drop_table("stock_moves")
    op.drop_table("stock_balances")
    op.drop_table("warehouses")

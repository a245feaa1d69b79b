"""fulfilment: fulfilment orders, supply orders (备货单), inbound notices (ASN), receiving
discrepancies; whose breach it was (the platform's when its warehouse ships)

Revision ID: a4e5f6d7b804
Revises: f3d4e5c6a703
Create Date: 2026-11-28 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tuoguan.db

revision: str = "a4e5f6d7b804"
down_revision: str | None = "f3d4e5c6a703"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fulfilment_orders",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("warehouse_id", sa.String(length=40), nullable=True),
        sa.Column(
            "shipper",
            sa.Enum("seller", "platform", name="party", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "seller_ships",
                "awaiting_stock",
                "reserved",
                "picked",
                "shipped",
                "cancelled",
                name="fulfilmentstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("ship_by", tuoguan.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reserved_at", tuoguan.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("picked_at", tuoguan.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", tuoguan.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", tuoguan.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tuoguan.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_fulfilment_orders_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["sellers.id"], name=op.f("fk_fulfilment_orders_seller_id_sellers")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_fulfilment_orders_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_fulfilment_orders_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfilment_orders")),
        sa.UniqueConstraint("order_id", name="uq_fulfilment_orders_order"),
    )
    with op.batch_alter_table("fulfilment_orders", schema=None) as batch_op:
        batch_op.create_index("ix_fulfilment_orders_store", ["store_id", "id"], unique=False)
        batch_op.create_index(
            "ix_fulfilment_orders_warehouse",
            ["warehouse_id", "status", "ship_by", "id"],
            unique=False,
        )

    op.create_table(
        "supply_orders",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("fulfilment_order_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("warehouse_id", sa.String(length=40), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "awaiting_confirmation",
                "confirmed",
                "in_transit",
                "received",
                "cancelled",
                name="supplystatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("confirm_by", tuoguan.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", tuoguan.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", tuoguan.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", tuoguan.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tuoguan.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fulfilment_order_id"],
            ["fulfilment_orders.id"],
            name=op.f("fk_supply_orders_fulfilment_order_id_fulfilment_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_supply_orders_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["sellers.id"], name=op.f("fk_supply_orders_seller_id_sellers")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_supply_orders_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_supply_orders_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_orders")),
    )
    with op.batch_alter_table("supply_orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_supply_orders_confirm_by",
            ["confirm_by"],
            unique=False,
            postgresql_where=sa.text("status = 'awaiting_confirmation'"),
            sqlite_where=sa.text("status = 'awaiting_confirmation'"),
        )
        batch_op.create_index(
            batch_op.f("ix_supply_orders_fulfilment_order_id"),
            ["fulfilment_order_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_supply_orders_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            "ix_supply_orders_seller", ["seller_id", "status", "id"], unique=False
        )
        batch_op.create_index("ix_supply_orders_status", ["status", "id"], unique=False)
        batch_op.create_index("ix_supply_orders_store", ["store_id", "status", "id"], unique=False)

    op.create_table(
        "fulfilment_lines",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("fulfilment_order_id", sa.String(length=40), nullable=False),
        sa.Column("order_line_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_fulfilment_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["fulfilment_order_id"],
            ["fulfilment_orders.id"],
            name=op.f("fk_fulfilment_lines_fulfilment_order_id_fulfilment_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_fulfilment_lines_order_line_id_order_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["skus.id"], name=op.f("fk_fulfilment_lines_sku_id_skus")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfilment_lines")),
    )
    with op.batch_alter_table("fulfilment_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fulfilment_lines_fulfilment_order_id"),
            ["fulfilment_order_id"],
            unique=False,
        )

    op.create_table(
        "inbound_notices",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("warehouse_id", sa.String(length=40), nullable=False),
        sa.Column("supply_order_id", sa.String(length=40), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "in_transit",
                "arrived",
                "receiving",
                "received",
                "closed_with_discrepancies",
                "cancelled",
                name="inboundstatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("cartons", sa.Integer(), nullable=False),
        sa.Column("carrier_name", sa.String(length=100), nullable=True),
        sa.Column("tracking_number", sa.String(length=64), nullable=True),
        sa.Column("shipped_at", tuoguan.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("arrived_at", tuoguan.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_at", tuoguan.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", tuoguan.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tuoguan.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("cartons > 0", name=op.f("ck_inbound_notices_cartons_positive")),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["sellers.id"], name=op.f("fk_inbound_notices_seller_id_sellers")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_inbound_notices_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["supply_order_id"],
            ["supply_orders.id"],
            name=op.f("fk_inbound_notices_supply_order_id_supply_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_inbound_notices_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_notices")),
    )
    with op.batch_alter_table("inbound_notices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inbound_notices_in_transit",
            ["shipped_at", "id"],
            unique=False,
            postgresql_where=sa.text("status = 'in_transit'"),
            sqlite_where=sa.text("status = 'in_transit'"),
        )
        batch_op.create_index("ix_inbound_notices_status", ["status", "id"], unique=False)
        batch_op.create_index("ix_inbound_notices_tracking", ["tracking_number"], unique=False)
        batch_op.create_index(
            "ix_inbound_notices_seller", ["seller_id", "status", "id"], unique=False
        )
        batch_op.create_index("ix_inbound_notices_store", ["store_id", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_inbound_notices_supply_order_id"), ["supply_order_id"], unique=False
        )
        batch_op.create_index(
            "ix_inbound_notices_warehouse", ["warehouse_id", "status", "id"], unique=False
        )

    op.create_table(
        "supply_lines",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("supply_order_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("supply_price_minor", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_supply_lines_quantity_positive")),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_supply_lines_sku_id_skus")),
        sa.ForeignKeyConstraint(
            ["supply_order_id"],
            ["supply_orders.id"],
            name=op.f("fk_supply_lines_supply_order_id_supply_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_lines")),
    )
    with op.batch_alter_table("supply_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supply_lines_supply_order_id"), ["supply_order_id"], unique=False
        )

    op.create_table(
        "inbound_discrepancies",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("notice_id", sa.String(length=40), nullable=False),
        sa.Column("warehouse_id", sa.String(length=40), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "short",
                "over",
                "wrong_sku",
                "damaged",
                name="discrepancykind",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("sku_id", sa.String(length=40), nullable=True),
        sa.Column("scanned_code", sa.String(length=64), nullable=True),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=40), nullable=False),
        sa.Column("recorded_at", tuoguan.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["inbound_notices.id"],
            name=op.f("fk_inbound_discrepancies_notice_id_inbound_notices"),
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["sellers.id"], name=op.f("fk_inbound_discrepancies_seller_id_sellers")
        ),
        sa.ForeignKeyConstraint(
            ["sku_id"], ["skus.id"], name=op.f("fk_inbound_discrepancies_sku_id_skus")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_inbound_discrepancies_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_discrepancies")),
    )
    with op.batch_alter_table("inbound_discrepancies", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_discrepancies_notice", ["notice_id", "id"], unique=False)

    op.create_table(
        "inbound_lines",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("notice_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.String(length=40), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("received_good", sa.Integer(), nullable=False),
        sa.Column("received_defective", sa.Integer(), nullable=False),
        sa.CheckConstraint("expected > 0", name=op.f("ck_inbound_lines_expected_positive")),
        sa.CheckConstraint(
            "received_good >= 0 AND received_defective >= 0",
            name=op.f("ck_inbound_lines_counts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["inbound_notices.id"],
            name=op.f("fk_inbound_lines_notice_id_inbound_notices"),
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_inbound_lines_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_lines")),
        sa.UniqueConstraint("notice_id", "sku_id", name="uq_inbound_lines_notice_sku"),
    )
    with op.batch_alter_table("inbound_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbound_lines_notice_id"), ["notice_id"], unique=False)

    with op.batch_alter_table("breaches", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "responsible",
                sa.Enum("seller", "platform", name="party", native_enum=False, length=20),
                server_default="seller",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("warehouse_id", sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_breaches_warehouse_id_warehouses"),
            "warehouses",
            ["warehouse_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("breaches", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_breaches_warehouse_id_warehouses"), type_="foreignkey"
        )
        batch_op.drop_column("warehouse_id")
        batch_op.drop_column("responsible")

    with op.batch_alter_table("inbound_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_lines_notice_id"))

    op.drop_table("inbound_lines")
    with op.batch_alter_table("inbound_discrepancies", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_discrepancies_notice")

    op.drop_table("inbound_discrepancies")
    with op.batch_alter_table("supply_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_lines_supply_order_id"))

    op.drop_table("supply_lines")
    with op.batch_alter_table("inbound_notices", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_notices_warehouse")
        batch_op.drop_index(batch_op.f("ix_inbound_notices_supply_order_id"))
        batch_op.drop_index("ix_inbound_notices_store")
        batch_op.drop_index("ix_inbound_notices_seller")
        batch_op.drop_index("ix_inbound_notices_status")
        batch_op.drop_index("ix_inbound_notices_tracking")
        batch_op.drop_index(
            "ix_inbound_notices_in_transit",
            postgresql_where=sa.text("status = 'in_transit'"),
            sqlite_where=sa.text("status = 'in_transit'"),
        )

    op.drop_table("inbound_notices")
    with op.batch_alter_table("fulfilment_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fulfilment_lines_fulfilment_order_id"))

    op.drop_table("fulfilment_lines")
    with op.batch_alter_table("supply_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_supply_orders_store")
        batch_op.drop_index("ix_supply_orders_status")
        batch_op.drop_index("ix_supply_orders_seller")
        batch_op.drop_index(batch_op.f("ix_supply_orders_order_id"))
        batch_op.drop_index(batch_op.f("ix_supply_orders_fulfilment_order_id"))
        batch_op.drop_index(
            "ix_supply_orders_confirm_by",
            postgresql_where=sa.text("status = 'awaiting_confirmation'"),
            sqlite_where=sa.text("status = 'awaiting_confirmation'"),
        )

    op.drop_table("supply_orders")
    with op.batch_alter_table("fulfilment_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_fulfilment_orders_warehouse")
        batch_op.drop_index("ix_fulfilment_orders_store")

    op.drop_table("fulfilment_orders")

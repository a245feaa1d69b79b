"""warehouse_shipping: who pays a shipment (the seller, or the platform whose warehouse ships a
full-managed order, F11) and the warehouse it left from

Revision ID: b5f6a7e8c905
Revises: a4e5f6d7b804
Create Date: 2026-11-28 09:00:00

Every shipment made before this was booked by a seller from its store's sender address: they
are the seller's (``payer`` seller, no warehouse).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b5f6a7e8c905"
down_revision: str | None = "a4e5f6d7b804"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "payer",
                sa.Enum("seller", "platform", name="party", native_enum=False, length=20),
                server_default="seller",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("warehouse_id", sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_shipments_warehouse_id_warehouses"),
            "warehouses",
            ["warehouse_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_shipments_warehouse_id_warehouses"), type_="foreignkey"
        )
        batch_op.drop_column("warehouse_id")
        batch_op.drop_column("payer")

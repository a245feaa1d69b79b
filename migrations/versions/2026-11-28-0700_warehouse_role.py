"""warehouse_role: warehouse staff, bound to the warehouses they work in

Revision ID: f3d4e5c6a703
Revises: e2c3d4b5f602
Create Date: 2026-11-28 07:00:00

The role itself needs no change: ``users.role`` and ``api_tokens.role`` are strings of up to
20 characters checked by the application (``Enum(native_enum=False)``, no CHECK constraint).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f3d4e5c6a703"
down_revision: str | None = "e2c3d4b5f602"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_warehouses",
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("warehouse_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_warehouses_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_user_warehouses_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("user_id", "warehouse_id", name=op.f("pk_user_warehouses")),
    )
    op.create_index(op.f("ix_user_warehouses_warehouse_id"), "user_warehouses", ["warehouse_id"])
    op.create_table(
        "api_token_warehouses",
        sa.Column("token_id", sa.String(length=40), nullable=False),
        sa.Column("warehouse_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["api_tokens.id"],
            name=op.f("fk_api_token_warehouses_token_id_api_tokens"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_api_token_warehouses_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("token_id", "warehouse_id", name=op.f("pk_api_token_warehouses")),
    )
    op.create_index(
        op.f("ix_api_token_warehouses_warehouse_id"), "api_token_warehouses", ["warehouse_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_api_token_warehouses_warehouse_id"), table_name="api_token_warehouses")
    op.drop_table("api_token_warehouses")
    op.drop_index(op.f("ix_user_warehouses_warehouse_id"), table_name="user_warehouses")
    op.drop_table("user_warehouses")

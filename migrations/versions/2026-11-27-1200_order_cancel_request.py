"""order_cancel_request

Revision ID: 7b5c3d4e9f03
Revises: 6a4b2c3d8e02
Create Date: 2026-11-27 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7b5c3d4e9f03"
down_revision: str | None = "6a4b2c3d8e02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # O4 with F10: an order whose booked parcel must be voided waits in cancel_requested.
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cancel_requested_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("cancel_requested_at")

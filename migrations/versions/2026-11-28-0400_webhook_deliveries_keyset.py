"""webhook_deliveries_keyset: an endpoint's deliveries page on (endpoint_id, created_at, id)

Revision ID: c0a18293e408
Revises: bf907182d307
Create Date: 2026-11-28 04:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c0a18293e408"
down_revision: str | None = "bf907182d307"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_endpoint")
        batch_op.create_index(
            "ix_webhook_deliveries_endpoint", ["endpoint_id", "created_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_endpoint")
        batch_op.create_index(
            "ix_webhook_deliveries_endpoint", ["endpoint_id", "created_at"], unique=False
        )

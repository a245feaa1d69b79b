"""inventory: warehouses, the stock ledger and stock balances

Revision ID: e2c3d4b5f602
Revises: d1b2c3a4e501
Create Date: 2026-11-28 06:00:00
"""

from collections.abc import Sequence

from alembic import op  # noqa: F401

revision: str = "e2c3d4b5f602"
down_revision: str | None = "d1b2c3a4e501"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

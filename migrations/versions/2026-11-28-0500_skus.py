"""skus: one or more SKUs per product, order lines refer to a SKU

Revision ID: d1b2c3a4e501
Revises: c0a18293e408
Create Date: 2026-11-28 05:00:00
"""

from collections.abc import Sequence

from alembic import op  # noqa: F401

revision: str = "d1b2c3a4e501"
down_revision: str | None = "c0a18293e408"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

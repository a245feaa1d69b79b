"""payout_runs: settlement runs and their per-store statements

Revision ID: c5d6e7f8092d
Revises: c5d6e7f8091c
Create Date: 2026-11-28 16:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "c5d6e7f8092d"
down_revision: str | None = "c5d6e7f8091c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

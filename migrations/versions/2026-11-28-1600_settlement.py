"""settlement: payout accounts, payouts, the sandbox rail

Revision ID: c5d6e7f8091c
Revises: b4c5d6e7f80b
Create Date: 2026-11-28 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "c5d6e7f8091c"
down_revision: str | None = "b4c5d6e7f80b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

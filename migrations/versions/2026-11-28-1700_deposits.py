"""deposits: deposit rates and deposit refunds

Revision ID: d6e7f809a1bd
Revises: c5d6e7f8092d
Create Date: 2026-11-28 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision: str = "d6e7f809a1bd"
down_revision: str | None = "c5d6e7f8092d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

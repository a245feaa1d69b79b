"""sweep_failures

Revision ID: 5e3f1a2b7c01
Revises: d8c47f09b077
Create Date: 2026-11-27 10:00:00
"""

from collections.abc import Sequence

revision: str = "5e3f1a2b7c01"
down_revision: str | None = "d8c47f09b077"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

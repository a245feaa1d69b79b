"""login_throttle

Revision ID: 6a4b2c3d8e02
Revises: 5e3f1a2b7c01
Create Date: 2026-11-27 11:00:00
"""

from collections.abc import Sequence

revision: str = "6a4b2c3d8e02"
down_revision: str | None = "5e3f1a2b7c01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""order_cancel_request

Revision ID: 7b5c3d4e9f03
Revises: 6a4b2c3d8e02
Create Date: 2026-11-27 12:00:00
"""

from collections.abc import Sequence

revision: str = "7b5c3d4e9f03"
down_revision: str | None = "6a4b2c3d8e02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

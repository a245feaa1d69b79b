"""login_throttle: sign-in attempts charged per account and per client address

Revision ID: 6a4b2c3d8e02
Revises: 5e3f1a2b7c01
Create Date: 2026-11-27 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6a4b2c3d8e02"
down_revision: str | None = "5e3f1a2b7c01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    op.create_index(
        op.f("ix_login_throttle_last_attempt_at"), "login_throttle", ["last_attempt_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_login_throttle_last_attempt_at"), table_name="login_throttle")
    op.drop_table("login_throttle")

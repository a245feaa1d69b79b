"""sweep_failures

Revision ID: 5e3f1a2b7c01
Revises: d8c47f09b077
Create Date: 2026-11-27 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e3f1a2b7c01"
down_revision: str | None = "d8c47f09b077"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sweep_failures",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("sweep", sa.String(length=40), nullable=False),
        sa.Column("subject_type", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "set_aside",
                "retrying",
                "resolved",
                "dismissed",
                name="failurestatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("decision_reason", sa.String(length=500), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sweep_failures")),
        sa.UniqueConstraint(
            "sweep", "subject_type", "subject_id", name="uq_sweep_failures_subject"
        ),
    )
    with op.batch_alter_table("sweep_failures", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sweep_failures_status_seen", ["status", "last_seen_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sweep_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_sweep_failures_status_seen")
    op.drop_table("sweep_failures")

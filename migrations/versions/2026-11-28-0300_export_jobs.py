"""export_jobs: large exports run in the background

Revision ID: bf907182d307
Revises: ae8f6071c206
Create Date: 2026-11-28 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "bf907182d307"
down_revision: str | None = "ae8f6071c206"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "export_jobs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("owner_id", sa.String(length=40), nullable=False),
        sa.Column(
            "owner_role",
            sa.Enum(
                "operator",
                "seller",
                "carrier",
                "buyer_channel",
                "system",
                name="role",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("seller_id", sa.String(length=40), nullable=True),
        sa.Column("statuses", sa.JSON(), nullable=False),
        sa.Column("store_id", sa.String(length=40), nullable=True),
        sa.Column("row_limit", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "done",
                "failed",
                "expired",
                name="exportstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("rows_expected", sa.Integer(), nullable=False),
        sa.Column("rows_written", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("file_name", sa.String(length=100), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_jobs")),
    )
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_export_jobs_owner", ["owner_id", "id"], unique=False)
        batch_op.create_index(
            "ix_export_jobs_status_lease", ["status", "lease_until"], unique=False
        )
        batch_op.create_index(
            "ix_export_jobs_status_expires", ["status", "expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_export_jobs_status_expires")
        batch_op.drop_index("ix_export_jobs_status_lease")
        batch_op.drop_index("ix_export_jobs_owner")
    op.drop_table("export_jobs")

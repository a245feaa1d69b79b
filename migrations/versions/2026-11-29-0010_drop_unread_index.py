"""notifications: drop the index of every seller's unread mail, which nothing reads

Revision ID: e7f8091a2b7b
Revises: e7f8091a2b7a
Create Date: 2026-11-29 00:10:00

An inbox is a seller's (``ix_notifications_seller_unread``) or the operators'
(``ix_notifications_platform_unread``); no list reads every seller's unread mail at once. The
index cost every notification a write, and on a small table PostgreSQL could pick it for a
seller's unread inbox and filter the other sellers' rows out by hand.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e7f8091a2b7b"
down_revision: str | None = "e7f8091a2b7a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_notifications_unread", table_name="notifications")


def downgrade() -> None:
    op.create_index(
        "ix_notifications_unread",
        "notifications",
        ["id"],
        postgresql_where=sa.text("read_at IS NULL"),
        sqlite_where=sa.text("read_at IS NULL"),
    )

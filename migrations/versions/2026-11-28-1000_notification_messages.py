"""notification_messages: a notification is a message key and its parameters, rendered in the
reader's language when read (G7), no longer English text

Revision ID: c6a7b8f9da06
Revises: b5f6a7e8c905
Create Date: 2026-11-28 10:00:00

The English text of every notification written before this is kept as the parameter of the
``note_text`` message, which shows it as it was.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c6a7b8f9da06"
down_revision: str | None = "b5f6a7e8c905"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "message_key", sa.String(length=80), server_default="note_text", nullable=False
            )
        )
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("UPDATE notifications SET params = json_build_object('text', message)")
    else:
        op.execute("UPDATE notifications SET params = json_object('text', message)")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("params", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column(
            "message_key", existing_type=sa.String(length=80), server_default=None
        )
        batch_op.drop_column("message")


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("message", sa.String(length=500), server_default="", nullable=False)
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE notifications SET message = COALESCE(params->>'text', message_key)")
    else:
        op.execute(
            "UPDATE notifications SET message = COALESCE(json_extract(params, '$.text'), message_key)"
        )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("params")
        batch_op.drop_column("message_key")

"""storefront_webhooks: notifications and webhook endpoints name their audience (a seller, the
operators or the storefront), and an order keeps its buyer's language (O6)

Revision ID: e7f8091a2b7c
Revises: e7f8091a2b7b
Create Date: 2026-11-29 00:20:00

Until now a notification or an endpoint with no seller was the operators'. Those rows become
the ``platform`` audience and the rest the ``seller`` one; the storefront's come with this
revision. The operators' inbox now reads ``audience = 'platform'``, so its two partial indexes
are made again on that condition. Going back deletes the storefront's endpoints, notifications
and their deliveries: with no audience they would read as the operators'.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e7f8091a2b7c"
down_revision: str | None = "e7f8091a2b7b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDIENCE = sa.Enum(
    "seller", "platform", "storefront", name="audience", native_enum=False, length=12
)
WHO = "CASE WHEN seller_id IS NULL THEN 'platform' ELSE 'seller' END"


def _platform_indexes(platform: str) -> None:
    op.create_index(
        "ix_notifications_platform",
        "notifications",
        ["id"],
        postgresql_where=sa.text(platform),
        sqlite_where=sa.text(platform),
    )
    op.create_index(
        "ix_notifications_platform_unread",
        "notifications",
        ["id"],
        postgresql_where=sa.text(f"{platform} AND read_at IS NULL"),
        sqlite_where=sa.text(f"{platform} AND read_at IS NULL"),
    )


def upgrade() -> None:
    op.drop_index("ix_notifications_platform_unread", table_name="notifications")
    op.drop_index("ix_notifications_platform", table_name="notifications")
    for table in ("notifications", "webhook_endpoints"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("audience", AUDIENCE, nullable=True))
        op.execute(f"UPDATE {table} SET audience = {WHO}")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("audience", existing_type=AUDIENCE, nullable=False)
    _platform_indexes("audience = 'platform'")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("buyer_locale", sa.String(length=5), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("buyer_locale")
    op.execute(
        "DELETE FROM webhook_deliveries WHERE notification_id IN "
        "(SELECT id FROM notifications WHERE audience = 'storefront') OR endpoint_id IN "
        "(SELECT id FROM webhook_endpoints WHERE audience = 'storefront')"
    )
    op.execute("DELETE FROM notifications WHERE audience = 'storefront'")
    op.execute("DELETE FROM webhook_endpoints WHERE audience = 'storefront'")
    op.drop_index("ix_notifications_platform_unread", table_name="notifications")
    op.drop_index("ix_notifications_platform", table_name="notifications")
    for table in ("notifications", "webhook_endpoints"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("audience")
    _platform_indexes("seller_id IS NULL")

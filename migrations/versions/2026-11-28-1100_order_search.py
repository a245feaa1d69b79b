"""order_search: operators and sellers find an order by its number, its tracking number, the
buyer's name or phone, or a product (name or SKU code); breaches and penalties filter by store

Revision ID: d8e9f0a1b207
Revises: c6a7b8f9da06
Create Date: 2026-11-28 11:00:00

Every search form is an exact match read off an index: the buyer's name and phone newest first
(everyone's, or one store's), the tracking number (set once an order ships), a SKU's code and a
product's name, then the order lines of the SKUs found, newest order first. The operators'
inbox (the notifications addressed to no seller) gets partial indexes of its own.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d8e9f0a1b207"
down_revision: str | None = "c6a7b8f9da06"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SHIPPED = "tracking_number IS NOT NULL"
_PLATFORM = "seller_id IS NULL"

# (table, name, columns, partial where or None) created by this revision.
NEW: list[tuple[str, str, list[str], str | None]] = [
    ("orders", "ix_orders_tracking", ["tracking_number"], _SHIPPED),
    ("orders", "ix_orders_phone", ["recipient_phone", "id"], None),
    ("orders", "ix_orders_store_phone", ["store_id", "recipient_phone", "id"], None),
    ("orders", "ix_orders_name", ["recipient_name", "id"], None),
    ("orders", "ix_orders_store_name", ["store_id", "recipient_name", "id"], None),
    ("order_lines", "ix_order_lines_sku", ["sku_id", "order_id"], None),
    ("products", "ix_products_name", ["name", "store_id"], None),
    ("skus", "ix_skus_code", ["code"], None),
    ("breaches", "ix_breaches_store_detected", ["store_id", "detected_at", "id"], None),
    ("penalties", "ix_penalties_store_assessed", ["store_id", "assessed_at", "id"], None),
    (
        "penalties",
        "ix_penalties_store_status_assessed",
        ["store_id", "status", "assessed_at", "id"],
        None,
    ),
    # The operators' inbox: the notifications no seller is sent, all and unread.
    ("notifications", "ix_notifications_platform", ["id"], _PLATFORM),
    (
        "notifications",
        "ix_notifications_platform_unread",
        ["id"],
        f"{_PLATFORM} AND read_at IS NULL",
    ),
]


def upgrade() -> None:
    for table, name, columns, where in NEW:
        partial = (
            {}
            if where is None
            else {"postgresql_where": sa.text(where), "sqlite_where": sa.text(where)}
        )
        op.create_index(name, table, columns, unique=False, **partial)


def downgrade() -> None:
    for table, name, _, _ in reversed(NEW):
        op.drop_index(name, table_name=table)

"""list_indexes: every list reads an index matching its filter and sort

Revision ID: 9d7e5f60b105
Revises: 8c6d4e5fa004
Create Date: 2026-11-28 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d7e5f60b105"
down_revision: str | None = "8c6d4e5fa004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RUNNING = "deadline_at IS NOT NULL"
_UNREAD = "read_at IS NULL"

# (table, name, columns, partial where or None) created by this revision.
NEW: list[tuple[str, str, list[str], str | None]] = [
    ("orders", "ix_orders_status_id", ["status", "id"], None),
    ("orders", "ix_orders_seller_status_id", ["seller_id", "status", "id"], None),
    ("orders", "ix_orders_store_status_id", ["store_id", "status", "id"], None),
    ("orders", "ix_orders_carrier_status_id", ["carrier_code", "status", "id"], None),
    (
        "orders",
        "ix_orders_carrier_store_status_id",
        ["carrier_code", "store_id", "status", "id"],
        None,
    ),
    ("orders", "ix_orders_deadline", ["deadline_at", "id"], _RUNNING),
    (
        "orders",
        "ix_orders_seller_status_deadline",
        ["seller_id", "status", "deadline_at", "id"],
        _RUNNING,
    ),
    ("orders", "ix_orders_store_deadline", ["store_id", "deadline_at", "id"], _RUNNING),
    (
        "orders",
        "ix_orders_store_status_deadline",
        ["store_id", "status", "deadline_at", "id"],
        _RUNNING,
    ),
    ("breaches", "ix_breaches_detected", ["detected_at", "id"], None),
    ("breaches", "ix_breaches_order_detected", ["order_id", "detected_at", "id"], None),
    ("penalties", "ix_penalties_assessed", ["assessed_at", "id"], None),
    (
        "penalties",
        "ix_penalties_seller_status_assessed",
        ["seller_id", "status", "assessed_at", "id"],
        None,
    ),
    ("insurance_claims", "ix_insurance_claims_seller_status", ["seller_id", "status", "id"], None),
    (
        "insurance_claims",
        "ix_insurance_claims_order_status",
        ["order_id", "status", "id"],
        None,
    ),
    ("notifications", "ix_notifications_unread", ["id"], _UNREAD),
    ("notifications", "ix_notifications_seller_unread", ["seller_id", "id"], _UNREAD),
    ("products", "ix_products_store", ["store_id", "id"], None),
    ("products", "ix_products_status", ["status", "id"], None),
    ("products", "ix_products_store_status", ["store_id", "status", "id"], None),
    ("stores", "ix_stores_seller", ["seller_id", "id"], None),
]

# (table, name, columns before, columns after): indexes that gain the id as their tie-break.
WIDENED: list[tuple[str, str, list[str], list[str]]] = [
    (
        "breaches",
        "ix_breaches_seller_detected",
        ["seller_id", "detected_at"],
        ["seller_id", "detected_at", "id"],
    ),
    (
        "penalties",
        "ix_penalties_seller_assessed",
        ["seller_id", "assessed_at"],
        ["seller_id", "assessed_at", "id"],
    ),
    (
        "penalties",
        "ix_penalties_status_assessed",
        ["status", "assessed_at"],
        ["status", "assessed_at", "id"],
    ),
    (
        "sweep_failures",
        "ix_sweep_failures_status_seen",
        ["status", "last_seen_at"],
        ["status", "last_seen_at", "id"],
    ),
]

# (table, name, columns): single-column indexes the composite ones above replace.
REPLACED: list[tuple[str, str, list[str]]] = [
    ("products", "ix_products_store_id", ["store_id"]),
    ("stores", "ix_stores_seller_id", ["seller_id"]),
]


def _create(table: str, name: str, columns: list[str], where: str | None) -> None:
    partial = (
        {}
        if where is None
        else {"postgresql_where": sa.text(where), "sqlite_where": sa.text(where)}
    )
    op.create_index(name, table, columns, unique=False, **partial)


# SQLite text of instants written by db.bulk_insert before it applied the dialect's format:
# a whole second lacked ".000000", so it compared below the same instant bound by a query
# (a keyset cursor on detected_at would have repeated its page).
BULK_INSTANTS = {
    "breaches": ["deadline_at", "detected_at", "assess_by"],
    "notifications": ["created_at"],
    "events": ["at"],
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, columns in BULK_INSTANTS.items():
            for column in columns:
                op.execute(
                    f"UPDATE {table} SET {column} = {column} || '.000000' "
                    f"WHERE length({column}) = 19"
                )
    for table, name, _, after in WIDENED:
        op.drop_index(name, table_name=table)
        _create(table, name, after, None)
    for table, name, columns, where in NEW:
        _create(table, name, columns, where)
    for table, name, _ in REPLACED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for table, name, columns in REPLACED:
        _create(table, name, columns, None)
    for table, name, _, _ in reversed(NEW):
        op.drop_index(name, table_name=table)
    for table, name, before, _ in WIDENED:
        op.drop_index(name, table_name=table)
        _create(table, name, before, None)

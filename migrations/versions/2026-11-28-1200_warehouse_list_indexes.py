"""warehouse_list_indexes: the warehouse's lists (stock, moves, inbound notices, pick list,
exports) read an index matching their filter and their order

Revision ID: e1f2a3b4c508
Revises: d8e9f0a1b207
Create Date: 2026-11-28 12:00:00

The inbound-notice list filtered by a store and a status, by a store and a warehouse, or by a
seller and a warehouse read one index on part of its filter and dropped the rest of the rows it
read: each now has an index whose leading columns are the whole filter (the status per range,
newest first by id). Restock suggestions sum a window of sales, a seller's stores' or, for an
operator, everything the platform shipped: each is now a range of ``created_at``, not every
fulfilment order of the stores. A seller's webhook endpoints, listed by id, read the seller's
index in that order (it held ``seller_id`` alone, and SQLite read every endpoint in id order
instead). The stock lists and the ledger needed no index: they now seek on the index column
after the warehouse or SKU they name, and read a SKU's rows off its own index once its store is
checked (tests/integration/test_warehouse_list_plans.py).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e1f2a3b4c508"
down_revision: str | None = "d8e9f0a1b207"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, name, columns) created by this revision.
NEW: list[tuple[str, str, list[str]]] = [
    ("inbound_notices", "ix_inbound_notices_store_status", ["store_id", "status", "id"]),
    (
        "inbound_notices",
        "ix_inbound_notices_store_warehouse",
        ["store_id", "warehouse_id", "status", "id"],
    ),
    (
        "inbound_notices",
        "ix_inbound_notices_seller_warehouse",
        ["seller_id", "warehouse_id", "status", "id"],
    ),
    ("fulfilment_orders", "ix_fulfilment_orders_store_created", ["store_id", "created_at"]),
    ("fulfilment_orders", "ix_fulfilment_orders_shipper_created", ["shipper", "created_at"]),
]


# (table, name, columns before, columns after) of indexes this revision widens.
WIDENED: list[tuple[str, str, list[str], list[str]]] = [
    ("webhook_endpoints", "ix_webhook_endpoints_seller", ["seller_id"], ["seller_id", "id"]),
]


def upgrade() -> None:
    for table, name, columns in NEW:
        op.create_index(name, table, columns, unique=False)
    for table, name, _, after in WIDENED:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, after, unique=False)


def downgrade() -> None:
    for table, name, before, _ in reversed(WIDENED):
        op.drop_index(name, table_name=table)
        op.create_index(name, table, before, unique=False)
    for table, name, _ in reversed(NEW):
        op.drop_index(name, table_name=table)

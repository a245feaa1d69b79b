"""cases: after-sales returns (G6, M3, O4)

Revision ID: e7f8091a2b7d
Revises: e7f8091a2b7c
Create Date: 2026-11-29 00:30:00

- ``cases.origin_case_id``: the case a return came from (a dispute decided
  ``return_and_refund``).
- ``uq_cases_open_return``: one open return per order.
- ``case_returns``: a return's parcel: where it goes, the carrier's booking and label, its
  receipt and what went back on the platform warehouse's books, and the carrier's events for it
  (found by ``ix_case_returns_tracking``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e7f8091a2b7d"
down_revision: str | None = "e7f8091a2b7c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN_RETURN = "kind = 'after_sale' AND state != 'closed'"


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("origin_case_id", sa.String(length=40), nullable=True))
    op.create_index(
        "uq_cases_open_return",
        "cases",
        ["order_id"],
        unique=True,
        postgresql_where=sa.text(_OPEN_RETURN),
        sqlite_where=sa.text(_OPEN_RETURN),
    )
    op.create_table(
        "case_returns",
        sa.Column("case_id", sa.String(length=40), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("order_id", sa.String(length=40), sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("destination", sa.String(length=20), nullable=False),
        sa.Column(
            "warehouse_id", sa.String(length=40), sa.ForeignKey("warehouses.id"), nullable=True
        ),
        sa.Column("service_code", sa.String(length=40), nullable=False),
        sa.Column("carrier_code", sa.String(length=40), nullable=False),
        sa.Column("tracking_number", sa.String(length=40), nullable=False),
        sa.Column("carrier_ref", sa.String(length=200), nullable=False),
        sa.Column("sender", sa.JSON(), nullable=False),
        sa.Column("receiver", sa.JSON(), nullable=False),
        sa.Column("weight_g", sa.Integer(), nullable=False),
        sa.Column("label", sa.LargeBinary(), nullable=True),
        sa.Column("label_format", sa.String(length=10), nullable=True),
        sa.Column("authorized_by", sa.String(length=40), nullable=False),
        sa.Column("authorized_at", _ts(), nullable=False),
        sa.Column("received_by", sa.String(length=40), nullable=True),
        sa.Column("received_at", _ts(), nullable=True),
        sa.Column("condition", sa.String(length=20), nullable=True),
        sa.Column("received_note", sa.String(length=1000), nullable=True),
        sa.Column("restocked", sa.JSON(), nullable=False),
        sa.Column("scans", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_index("ix_case_returns_tracking", "case_returns", ["carrier_code", "tracking_number"])


def downgrade() -> None:
    op.drop_index("ix_case_returns_tracking", table_name="case_returns")
    op.drop_table("case_returns")
    op.drop_index("uq_cases_open_return", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("origin_case_id")

"""risk_aggregates: rolling pace and lane aggregates, stored risk scores

Revision ID: ae8f6071c206
Revises: 9d7e5f60b105
Create Date: 2026-11-28 02:00:00
"""

import bisect
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "ae8f6071c206"
down_revision: str | None = "9d7e5f60b105"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SCORED = "risk_score IS NOT NULL"
# (name, leading columns) of the at-risk indexes: (…, risk_score DESC, deadline_at, id).
_RISK_INDEXES = [
    ("ix_orders_risk", []),
    ("ix_orders_seller_risk", ["seller_id"]),
    ("ix_orders_store_risk", ["store_id"]),
]
_BATCH = 5000


def _steps(start_h: int, stop_h: int, step_min: int) -> list[int]:
    return list(range(start_h * 3600, stop_h * 3600, step_min * 60))


# A copy of tuoguan/sla/risk.py::EDGES as of this revision (migrations import no app code).
EDGES = (
    *_steps(0, 2, 10),
    *_steps(2, 48, 30),
    *_steps(48, 168, 120),
    *_steps(168, 720, 720),
    720 * 3600,
)
# deadline -> (scope, start stamp, done stamp)
KINDS = {
    "confirm_by": ("seller", "placed_at", "confirmed_at"),
    "ship_by": ("seller", "placed_at", "shipped_at"),
    "deliver_by": ("lane", "shipped_at", "delivered_at"),
}


def upgrade() -> None:
    op.create_table(
        "pace_buckets",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bucket", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("late", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", "kind", "day", "bucket", name="pk_pace_buckets"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_pace_buckets_day", "pace_buckets", ["day"], unique=False)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        # The risk scores read the aggregates now, not the orders' recent history.
        batch_op.drop_index("ix_orders_seller_shipped")
        batch_op.drop_index("ix_orders_country_delivered")
        batch_op.add_column(sa.Column("risk_score", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("risk_reasons", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("risk_scored_at", sa.DateTime(timezone=True), nullable=True))
    for name, scope in _RISK_INDEXES:
        op.create_index(
            name,
            "orders",
            [*scope, sa.text("risk_score DESC"), "deadline_at", "id"],
            unique=False,
            postgresql_where=sa.text(_SCORED),
            sqlite_where=sa.text(_SCORED),
        )
    _backfill()


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _backfill() -> None:
    """Count every confirmed, shipped and delivered order; score open orders at once."""
    bind = op.get_bind()
    stamps = ["placed_at", "confirmed_at", "shipped_at", "delivered_at"]
    orders = sa.table(
        "orders",
        sa.column("id", sa.String()),
        sa.column("seller_id", sa.String()),
        sa.column("store_id", sa.String()),
        sa.column("country", sa.String()),
        sa.column("status", sa.String()),
        sa.column("deadline_at", sa.DateTime(timezone=True)),
        sa.column("risk_check_at", sa.DateTime(timezone=True)),
        *(sa.column(s, sa.DateTime(timezone=True)) for s in stamps),
        *(sa.column(k, sa.DateTime(timezone=True)) for k in KINDS),
    )
    stores = sa.table("stores", sa.column("id", sa.String()), sa.column("country", sa.String()))
    pace = sa.table(
        "pace_buckets",
        sa.column("scope", sa.String()),
        sa.column("key", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("day", sa.Date()),
        sa.column("bucket", sa.SmallInteger()),
        sa.column("n", sa.Integer()),
        sa.column("late", sa.Integer()),
    )
    origins = {i: c for i, c in bind.execute(sa.select(stores.c.id, stores.c.country))}
    totals: dict[tuple[str, str, str, object, int], list[int]] = {}
    last = ""
    columns = [orders.c[c] for c in ("id", "seller_id", "store_id", "country", *stamps, *KINDS)]
    while True:
        batch = bind.execute(
            sa.select(*columns).where(orders.c.id > last).order_by(orders.c.id).limit(_BATCH)
        ).all()
        for row in batch:
            values = row._mapping
            for kind, (scope, start_name, done_name) in KINDS.items():
                start, done = _utc(values[start_name]), _utc(values[done_name])
                deadline = _utc(values[kind])
                if start is None or done is None or deadline is None:
                    continue
                key = (
                    f"{origins[values['store_id']]}>{values['country']}"
                    if scope == "lane"
                    else values["seller_id"]
                )
                seconds = (done - start).total_seconds()
                bucket = max(0, bisect.bisect_right(EDGES, seconds) - 1)
                slot = totals.setdefault((scope, key, kind, done.date(), bucket), [0, 0])
                slot[0] += 1
                slot[1] += int(done > deadline)
        if len(batch) < _BATCH:
            break
        last = batch[-1][0]
    rows = [
        {"scope": s, "key": k, "kind": kind, "day": day, "bucket": b, "n": n, "late": late}
        for (s, k, kind, day, b), (n, late) in totals.items()
    ]
    for at in range(0, len(rows), _BATCH):
        bind.execute(pace.insert(), rows[at : at + _BATCH])
    # Open orders get a first look from the worker at once, so the at-risk list has them.
    for status, opened in (
        ("awaiting_confirmation", "placed_at"),
        ("awaiting_shipment", "placed_at"),
        ("shipped", "shipped_at"),
    ):
        bind.execute(
            orders.update()
            .where(
                orders.c.status == status,
                orders.c.deadline_at.is_not(None),
                orders.c[opened].is_not(None),
            )
            .values(risk_check_at=orders.c[opened])
        )


def downgrade() -> None:
    for name, _ in reversed(_RISK_INDEXES):
        op.drop_index(
            name,
            table_name="orders",
            postgresql_where=sa.text(_SCORED),
            sqlite_where=sa.text(_SCORED),
        )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("risk_scored_at")
        batch_op.drop_column("risk_reasons")
        batch_op.drop_column("risk_score")
        batch_op.create_index("ix_orders_country_delivered", ["country", "delivered_at"])
        batch_op.create_index("ix_orders_seller_shipped", ["seller_id", "shipped_at"])
    op.drop_table("pace_buckets")

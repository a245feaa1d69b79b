"""Rolling pace aggregates (G5): how long sellers take to confirm and ship, lanes to deliver.

Each confirmation, shipment and delivery adds one to a daily row of a duration
histogram (``timing/risk.py::EDGES``) in the same transaction as the order's move,
so the early warnings read a few hundred small rows from the primary key instead
of a seller's orders. Daily rows let the window roll without deletes: a reader
sums the days it wants. ``rebuild`` recounts them from the orders table.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, Index, Integer, SmallInteger, String, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from tuoguan.db import Base, bulk_insert, table_of
from tuoguan.kit.clock import as_utc
from tuoguan.orders.models import Order
from tuoguan.stores.models import Store
from tuoguan.timing import risk

# Days of history kept by a rebuild: the longest window read (a seller's 30 days) and today.
KEEP_DAYS = 31
# Per deadline: whose pace it measures, and the stamps that open and close the work.
KINDS = {
    "confirm_by": ("seller", "placed_at", "confirmed_at"),
    "ship_by": ("seller", "placed_at", "shipped_at"),
    "deliver_by": ("lane", "shipped_at", "delivered_at"),
}
_BATCH = 5000


class PaceBucket(Base):
    """How many pieces of one kind of work, finished on one day, took one bucket's duration."""

    __tablename__ = "pace_buckets"
    # Clustered on the primary key in SQLite: a window's rows lie together, read in one seek.
    # By day: the worker drops the days no window reads any more (``prune``).
    __table_args__ = (Index("ix_pace_buckets_day", "day"), {"sqlite_with_rowid": False})

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)  # seller | lane
    key: Mapped[str] = mapped_column(String(40), primary_key=True)  # seller id | "CN>US"
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)  # the deadline
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # UTC day the work was done
    bucket: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    late: Mapped[int] = mapped_column(Integer)  # of n, done after the deadline


def lane(origin: str, destination: str) -> str:
    """The key of a lane: origin country to destination country."""
    return f"{origin}>{destination}"


def _row(
    kind: str, key: str, start: datetime, done: datetime, deadline: datetime
) -> dict[str, Any]:
    done = as_utc(done)
    return {
        "scope": KINDS[kind][0],
        "key": key,
        "kind": kind,
        "day": done.date(),
        "bucket": risk.bucket_of(done - as_utc(start)),
        "n": 1,
        "late": int(done > as_utc(deadline)),
    }


async def count(
    session: AsyncSession, *, order: Order, kind: str, origin: str, undo: bool = False
) -> None:
    """Count the order's finished work of this kind (``undo``: take it back, F10 unship).

    Nothing happens when the work has no deadline or is not stamped done.
    """
    _, start_field, done_field = KINDS[kind]
    start, done, deadline = (getattr(order, f) for f in (start_field, done_field, kind))
    if start is None or done is None or deadline is None:
        return
    key = lane(origin, order.country) if kind == "deliver_by" else order.seller_id
    row = _row(kind, key, start, done, deadline)
    if undo:
        row["n"], row["late"] = -1, -row["late"]
    dialect = (await session.connection()).dialect.name
    upsert = (pg_insert if dialect == "postgresql" else sqlite_insert)(PaceBucket).values(row)
    table = table_of(PaceBucket)
    await session.execute(
        upsert.on_conflict_do_update(
            index_elements=[c.name for c in table.primary_key.columns],
            set_={"n": table.c.n + upsert.excluded.n, "late": table.c.late + upsert.excluded.late},
        )
    )


async def history(session: AsyncSession, *, kind: str, key: str, since: date) -> risk.History:
    """The histogram of the work of this kind done since a day (a range of the primary key)."""
    rows = await session.execute(
        select(PaceBucket.bucket, PaceBucket.n, PaceBucket.late).where(
            PaceBucket.scope == KINDS[kind][0],
            PaceBucket.key == key,
            PaceBucket.kind == kind,
            PaceBucket.day >= since,
        )
    )
    counts: dict[int, int] = {}
    late = 0
    for bucket, n, late_n in rows:
        counts[bucket] = counts.get(bucket, 0) + n
        late += late_n
    counts = {bucket: n for bucket, n in counts.items() if n > 0}
    return risk.History(counts=counts, total=sum(counts.values()), late=max(0, late))


async def rebuild(session: AsyncSession, *, now: datetime) -> int:
    """Recount the last KEEP_DAYS of aggregates from the orders table; the rows written.

    Reads the orders in batches along the primary key, so memory stays flat; older
    days are dropped. The caller commits.
    """
    since = datetime.combine((now - timedelta(days=KEEP_DAYS)).date(), datetime.min.time(), UTC)
    origins = {i: c for i, c in await session.execute(select(Store.id, Store.country))}
    stamps = ["placed_at", "confirmed_at", "shipped_at", "delivered_at", *KINDS]
    columns = [Order.id, Order.seller_id, Order.store_id, Order.country]
    columns += [getattr(Order, name) for name in stamps]
    recent = or_(*(getattr(Order, done) >= since for _, _, done in KINDS.values()))
    totals: dict[tuple[str, str, str, date, int], list[int]] = {}
    last = ""
    while True:
        batch = (
            await session.execute(
                select(*columns).where(Order.id > last, recent).order_by(Order.id).limit(_BATCH)
            )
        ).all()
        for row in batch:
            stamp = dict(zip(stamps, row[4:], strict=True))
            for kind, (scope, start, done) in KINDS.items():
                began, ended, due = stamp[start], stamp[done], stamp[kind]
                if began is None or ended is None or due is None or as_utc(ended) < since:
                    continue
                key = lane(origins[row.store_id], row.country) if scope == "lane" else row.seller_id
                sample = _row(kind, key, began, ended, due)
                slot = totals.setdefault(
                    (scope, key, kind, sample["day"], sample["bucket"]), [0, 0]
                )
                slot[0] += 1
                slot[1] += sample["late"]
        if len(batch) < _BATCH:
            break
        last = batch[-1].id
    await session.execute(delete(PaceBucket))
    rows = [
        {"scope": s, "key": k, "kind": kind, "day": day, "bucket": b, "n": n, "late": late}
        for (s, k, kind, day, b), (n, late) in totals.items()
    ]
    for at in range(0, len(rows), _BATCH):
        await bulk_insert(session, table_of(PaceBucket), rows[at : at + _BATCH])
    return len(rows)


async def prune(session: AsyncSession, *, now: datetime) -> int:
    """Drop the oldest day older than any window reads (KEEP_DAYS); the rows dropped.

    One day per call, found and deleted on ``ix_pace_buckets_day``; the caller commits
    and calls again until nothing is left to drop.
    """
    cutoff = (now - timedelta(days=KEEP_DAYS)).date()
    oldest = await session.scalar(select(func.min(PaceBucket.day)))
    if oldest is None or oldest >= cutoff:
        return 0
    result = await session.execute(delete(PaceBucket).where(PaceBucket.day == oldest))
    return max(1, int(getattr(result, "rowcount", 1) or 1))

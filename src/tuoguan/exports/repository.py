"""Queries for export jobs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.exports.models import ExportJob
from tuoguan.exports.states import ExportStatus
from tuoguan.kit.pagination import decode_cursor, encode_cursor
from tuoguan.orders.models import Order
from tuoguan.orders.repository import visible_orders
from tuoguan.orders.states import OrderStatus
from tuoguan.principal import Principal


async def count_orders(
    session: AsyncSession,
    principal: Principal,
    *,
    statuses: Sequence[OrderStatus],
    store_id: str | None,
    upto: int,
) -> int:
    """How many orders an export would write: the principal's matching orders, at most ``upto``.

    Counts ids under a LIMIT, so the cost stops at ``upto`` index entries.
    """
    query = visible_orders(principal).with_only_columns(Order.id)
    if statuses:
        query = query.where(Order.status.in_(list(statuses)))
    if store_id:
        query = query.where(Order.store_id == store_id)
    bounded = query.limit(upto).subquery()
    return int(await session.scalar(select(func.count()).select_from(bounded)) or 0)


async def count_open(session: AsyncSession, *, owner_id: str, seller_id: str | None) -> int:
    """Queued or running jobs of a seller (any of its tokens or users), else of one owner.

    Reads ix_export_jobs_status_lease: only open jobs, which the cap keeps few. On
    PostgreSQL the count is taken under a transaction-scoped advisory lock on the
    seller (or owner), so two requests at once cannot both see room for one more job;
    SQLite's write transactions already run one at a time.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = f"export_jobs:{seller_id or owner_id}"
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))
    mine = ExportJob.seller_id == seller_id if seller_id else ExportJob.owner_id == owner_id
    query = select(func.count()).where(
        ExportJob.status.in_([ExportStatus.queued, ExportStatus.running]), mine
    )
    return int(await session.scalar(query) or 0)


async def get(session: AsyncSession, job_id: str, *, lock: bool = False) -> ExportJob | None:
    """One job, freshly read; locked until the transaction ends when ``lock``."""
    query = select(ExportJob).where(ExportJob.id == job_id)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query.execution_options(populate_existing=True))


async def owned_page(
    session: AsyncSession, *, owner_id: str, cursor: str | None, limit: int
) -> tuple[list[ExportJob], str | None]:
    """An owner's jobs, newest first (ix_export_jobs_owner), and the cursor of the next page."""
    query = select(ExportJob).where(ExportJob.owner_id == owner_id)
    if cursor:
        (last_id,) = decode_cursor(cursor, ("id",))
        query = query.where(ExportJob.id < last_id)
    rows = list(await session.scalars(query.order_by(ExportJob.id.desc()).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor([rows[-1].id])


async def next_due(session: AsyncSession, *, now: datetime, skip_locked: bool) -> ExportJob | None:
    """The oldest job a worker may take, locked: queued, or running with its lease run out."""
    query = (
        select(ExportJob)
        .where(
            or_(
                ExportJob.status == ExportStatus.queued,
                and_(ExportJob.status == ExportStatus.running, ExportJob.lease_until < now),
            )
        )
        .order_by(ExportJob.id)
        .limit(1)
        .with_for_update(skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )
    return await session.scalar(query)


async def due_expiry(
    session: AsyncSession, *, now: datetime, limit: int, skip_locked: bool
) -> list[ExportJob]:
    """Done jobs whose file has been kept long enough (ix_export_jobs_status_expires), locked."""
    query = (
        select(ExportJob)
        .where(ExportJob.status == ExportStatus.done, ExportJob.expires_at <= now)
        .order_by(ExportJob.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=skip_locked)
    )
    return list(await session.scalars(query))

"""Queries for sweep failures."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.kit.keyset import Keyset
from tuoguan.ops.models import FailureStatus, SweepFailure
from tuoguan.ops.states import OPEN, SKIPPED


async def skipped(
    session: AsyncSession, *, sweep: str, subject_type: str
) -> list[tuple[str, FailureStatus]]:
    """(subject id, status) of the rows a sweep must not take in its normal batches.

    Reads the prefix of uq_sweep_failures_subject: a handful of rows at most,
    none at all while nothing has failed, so a healthy sweep pays one index probe.
    """
    rows = await session.execute(
        select(SweepFailure.subject_id, SweepFailure.status).where(
            SweepFailure.sweep == sweep,
            SweepFailure.subject_type == subject_type,
            SweepFailure.status.in_(list(SKIPPED)),
        )
    )
    return [(subject_id, FailureStatus(status)) for subject_id, status in rows]


async def for_subject(
    session: AsyncSession, *, sweep: str, subject_type: str, subject_id: str
) -> SweepFailure | None:
    """The row of one sweep's subject, locked, if it ever failed."""
    return await session.scalar(
        select(SweepFailure)
        .where(
            SweepFailure.sweep == sweep,
            SweepFailure.subject_type == subject_type,
            SweepFailure.subject_id == subject_id,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def get_for_update(session: AsyncSession, failure_id: str) -> SweepFailure | None:
    """One row, freshly read and locked until the transaction ends."""
    return await session.scalar(
        select(SweepFailure)
        .where(SweepFailure.id == failure_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


LATEST = Keyset((SweepFailure.last_seen_at, SweepFailure.id), ("instant", "id"), descending=True)


async def page(
    session: AsyncSession, *, statuses: list[FailureStatus], cursor: str | None, limit: int
) -> tuple[list[SweepFailure], str | None]:
    """Rows in the given statuses, most recently failed first, and the next page's cursor:
    one ``(status, last_seen_at, id)`` range per status, merged."""
    queries = [select(SweepFailure).where(SweepFailure.status == s) for s in statuses]
    return await LATEST.page(session, queries, cursor=cursor, limit=limit)


async def open_counts(session: AsyncSession) -> dict[str, int]:
    """How many rows each sweep has set aside and not yet settled."""
    rows = await session.execute(
        select(SweepFailure.sweep, func.count())
        .where(SweepFailure.status.in_(list(OPEN)))
        .group_by(SweepFailure.sweep)
    )
    return {sweep: int(n) for sweep, n in rows}


async def failing_sweeps(session: AsyncSession, *, subject_type: str) -> set[str]:
    """Sweeps with an open failure of the whole sweep (``subject_type`` is the marker)."""
    rows = await session.scalars(
        select(SweepFailure.sweep).where(
            SweepFailure.subject_type == subject_type, SweepFailure.status.in_(list(OPEN))
        )
    )
    return set(rows)

"""The worker's export sweeps (O5) and SQLite's periodic statistics refresh."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text

from tuoguan.config import Settings
from tuoguan.db import Database
from tuoguan.exports import service as exports
from tuoguan.exports import tasks
from tuoguan.exports.states import ExportStatus
from tuoguan.kit.clock import Clock
from tuoguan.ops import service as failures
from tuoguan.worker.isolation import Outcome, set_aside, system_ctx, transient

RUN_EXPORTS = "run_exports"
SUBJECT = "export"
# What the owner reads when a job fails; the error itself goes to the operators' list.
FAILED = "the export could not be written; the operators have been told. Start it again later."
# SQLite's query planner statistics are refreshed this often (PostgreSQL's autovacuum does it).
OPTIMIZE_EVERY = timedelta(hours=1)
# Rows ANALYZE samples per index: bounded, so a refresh is quick on a big file.
ANALYSIS_LIMIT = 1000
_optimized: dict[str, datetime] = {}


async def run_exports(db: Database, clock: Clock, settings: Settings) -> Outcome:
    """O5: write the files of due export jobs, one job at a time, until none is due.

    A job whose worker died is taken again once its lease runs out. A job that fails
    on its own account is marked failed for its owner and set aside for the operators
    (an operator's retry queues it again); an error of the connection, the server or
    the disk is raised, so the sweep counts as failed and the job is taken again later.
    """
    ctx = system_ctx(clock, settings)
    outcome = Outcome()
    async with db.read() as session:
        _, retry = await failures.skipped(session, sweep=RUN_EXPORTS, subject_type=SUBJECT)
    for job_id in retry:
        async with db.write() as session:
            await exports.requeue(session, ctx=ctx, job_id=job_id)
            await failures.resolve(
                session, ctx=ctx, sweep=RUN_EXPORTS, subject_type=SUBJECT, subject_id=job_id
            )
            await session.commit()
    while (take := await tasks.take_next(db, ctx)) is not None:
        if take.status is not ExportStatus.running:  # given up after too many takes
            outcome.handled += 1
            continue
        try:
            await tasks.write(db, ctx, take, settings.export_dir)
        except Exception as exc:  # noqa: BLE001 - one bad job is set aside, the rest go on
            if transient(exc):
                raise
            await tasks.fail(db, ctx, take, FAILED)
            await set_aside(db, ctx, RUN_EXPORTS, SUBJECT, take.job_id, failures.describe(exc))
            outcome.set_aside += 1
            continue
        outcome.handled += 1
    return outcome


async def expire_exports(db: Database, clock: Clock, settings: Settings) -> int:
    """O5: delete export files kept their 7 days; their jobs show expired."""
    ctx = system_ctx(clock, settings)
    async with db.write() as session:
        count = await exports.expire_due(
            session,
            ctx=ctx,
            export_dir=settings.export_dir,
            limit=settings.worker_batch_size,
            skip_locked=not db.sqlite,
        )
        await session.commit()
    return count


async def optimize_sqlite(db: Database, clock: Clock, settings: Settings) -> int:
    """Refresh SQLite's planner statistics (``PRAGMA optimize``) at most hourly; 1 if it ran."""
    if not db.sqlite:
        return 0
    now = clock.now()
    last = _optimized.get(db.url)
    if last is not None and now - last < OPTIMIZE_EVERY:
        return 0
    async with db.write() as session:
        await session.execute(text(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}"))
        await session.execute(text("PRAGMA optimize"))
        await session.commit()
    _optimized[db.url] = now
    return 1

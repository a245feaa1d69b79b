"""The worker's exit-archive sweeps (S4): write the archives asked for, delete them after seven
days. As for order exports (``worker/exports.py``): one archive at a time, under a lease; one
that fails on its own account is marked failed and set aside for the operators."""

from __future__ import annotations

from tuoguan.config import Settings
from tuoguan.db import Database
from tuoguan.exits import archive, archive_tasks
from tuoguan.exports.states import ExportStatus
from tuoguan.kit.clock import Clock
from tuoguan.ops import service as failures
from tuoguan.worker.isolation import Outcome, set_aside, system_ctx, transient

RUN_EXIT_ARCHIVES = "run_exit_archives"
SUBJECT = archive.SUBJECT
# What the seller reads when an archive fails; the error itself goes to the operators' list.
FAILED = "the archive could not be written; the operators have been told. Start it again later."


async def run_exit_archives(db: Database, clock: Clock, settings: Settings) -> Outcome:
    """S4: write the due exit archives, one at a time, until none is due (a take whose worker
    died is taken again once its lease runs out)."""
    ctx = system_ctx(clock, settings)
    outcome = Outcome()
    async with db.read() as session:
        _, retry = await failures.skipped(session, sweep=RUN_EXIT_ARCHIVES, subject_type=SUBJECT)
    for archive_id in retry:
        async with db.write() as session:
            await archive.requeue(session, ctx=ctx, archive_id=archive_id)
            await failures.resolve(
                session,
                ctx=ctx,
                sweep=RUN_EXIT_ARCHIVES,
                subject_type=SUBJECT,
                subject_id=archive_id,
            )
            await session.commit()
    while (take := await archive_tasks.take_next(db, ctx)) is not None:
        if take.status is not ExportStatus.running:  # given up after too many takes
            outcome.handled += 1
            continue
        try:
            await archive_tasks.write(db, ctx, take, settings.export_dir)
        except Exception as exc:  # noqa: BLE001 - one bad archive is set aside, the rest go on
            if transient(exc):
                raise
            await archive_tasks.fail(db, ctx, take, FAILED)
            await set_aside(
                db, ctx, RUN_EXIT_ARCHIVES, SUBJECT, take.archive_id, failures.describe(exc)
            )
            outcome.set_aside += 1
            continue
        outcome.handled += 1
    return outcome


async def expire_exit_archives(db: Database, clock: Clock, settings: Settings) -> int:
    """S4: delete the exit archives kept their seven days; they show expired."""
    ctx = system_ctx(clock, settings)
    async with db.write() as session:
        count = await archive.expire_due(
            session,
            ctx=ctx,
            export_dir=settings.export_dir,
            limit=settings.worker_batch_size,
            skip_locked=not db.sqlite,
        )
        await session.commit()
    return count

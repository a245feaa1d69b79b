"""The worker's side of an export job: write its CSV file, committing progress each chunk.

The file is written under a temporary name and renamed when complete, so a download
never sees half a file; each take of a job has names of its own, so a worker that lost
its lease never touches the file of the one that took over.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.exports import service
from tuoguan.exports.models import ExportJob
from tuoguan.exports.states import ExportStatus
from tuoguan.orders import views
from tuoguan.orders.repository import OrderFilter
from tuoguan.principal import Principal


@dataclass(frozen=True)
class Take:
    """A job as one worker took it: enough to write it without holding its row."""

    job_id: str
    attempt: int
    status: ExportStatus
    owner: Principal
    flt: OrderFilter

    @classmethod
    def of(cls, job: ExportJob, attempt: int) -> Take:
        """The take of a claimed job."""
        return cls(
            job_id=job.id,
            attempt=attempt,
            status=job.status,
            owner=service.owner_principal(job),
            flt=service.order_filter(job),
        )


async def take_next(db: Database, ctx: Ctx) -> Take | None:
    """Claim the oldest due job in a transaction of its own (SKIP LOCKED on PostgreSQL)."""
    async with db.write() as session:
        claimed = await service.claim(session, ctx=ctx, skip_locked=not db.sqlite)
        take = Take.of(*claimed) if claimed else None
        # Also when nothing is due: SQLite's write lock is let go now, not when the session
        # closes in a task of its own (another worker's BEGIN IMMEDIATE would wait on it).
        await session.commit()
    return take


class _File:
    """A job's file being written: a temporary name, renamed when complete, with its hash.

    Its methods block on the disk (an fsync of a big file can take a while), so the
    worker runs them in a thread.
    """

    def __init__(self, export_dir: str, name: str) -> None:
        directory = Path(export_dir)
        directory.mkdir(parents=True, exist_ok=True)
        self.part, self.final = directory / f"{name}.part", directory / f"{name}.csv"
        self.out = self.part.open("wb")
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.out.write(data)
        self.digest.update(data)
        self.size += len(data)

    def complete(self) -> None:
        self.out.flush()
        os.fsync(self.out.fileno())
        self.out.close()
        os.replace(self.part, self.final)

    def discard(self, *, final: bool) -> None:
        self.out.close()
        self.part.unlink(missing_ok=True)
        if final:
            self.final.unlink(missing_ok=True)


async def write(db: Database, ctx: Ctx, take: Take, export_dir: str) -> bool:
    """Write the job's file and mark it done; False if another worker took the job over.

    Progress (rows written) is committed after every chunk, which also renews the
    lease. On any error the partial file is removed and the error raised.
    """
    file = await asyncio.to_thread(_File, export_dir, f"{take.job_id}-{take.attempt}")
    rows = 0
    done = False
    try:
        async for text, count in views.csv_pages(db.read, principal=take.owner, flt=take.flt):
            await asyncio.to_thread(file.write, text.encode())
            rows += count
            async with db.write() as session:
                ours = await service.progress(
                    session, ctx=ctx, job_id=take.job_id, attempt=take.attempt, rows_written=rows
                )
                await session.commit()
            if not ours:
                return False
        await asyncio.to_thread(file.complete)
        async with db.write() as session:
            finished = await service.finish(
                session,
                ctx=ctx,
                job_id=take.job_id,
                attempt=take.attempt,
                file_name=file.final.name,
                rows_written=rows,
                size_bytes=file.size,
                sha256=file.digest.hexdigest(),
            )
            await session.commit()
        done = finished
        return done
    finally:
        if not done:
            await asyncio.to_thread(file.discard, final=True)


async def fail(db: Database, ctx: Ctx, take: Take, reason: str) -> None:
    """Mark the job failed with a short reason, in a transaction of its own."""
    async with db.write() as session:
        await service.fail(
            session, ctx=ctx, job_id=take.job_id, attempt=take.attempt, reason=reason
        )
        await session.commit()

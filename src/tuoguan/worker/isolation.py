"""Keeping one bad row from stopping a sweep, and one failing sweep from stopping the others.

A row sweep runs its batch set-wise, in one transaction, as fast as it can.
Only when that transaction fails does it take the same rows again one at a
time, each in a transaction of its own: the good rows go through, and a row
that fails alone is set aside (``ops.service.set_aside``) with its error.
From then on the sweep leaves it out of its batches, until an operator asks
for a retry (the next batch takes it alone, first) or dismisses it.

Errors of the connection or the server (a restart, a lock timeout) say
nothing about a row: they are not set aside but raised, and the loop counts
the sweep as failed for this interval and tries it again at the next.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import httpx
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.kit.clock import Clock
from tuoguan.ops import service as failures
from tuoguan.principal import SYSTEM

log = logging.getLogger("tuoguan.worker")

# When this many rows fail alone and none goes through, the fault is the sweep's (a bug, a
# missing table), not the rows': none is set aside, and the sweep counts as failed.
STREAK = 5


class Work(Protocol):
    """One batch of a row sweep: handle up to ``limit`` due rows; how many it handled."""

    async def __call__(
        self,
        session: AsyncSession,
        *,
        ctx: Ctx,
        limit: int,
        skip_locked: bool,
        exclude: Collection[str] = (),
        only: Collection[str] | None = None,
    ) -> int: ...


class Due(Protocol):
    """The ids of the rows a batch would take next, read without locks."""

    async def __call__(
        self, session: AsyncSession, *, now: datetime, limit: int, exclude: Collection[str]
    ) -> list[str]: ...


@dataclass(frozen=True)
class Rows:
    """A sweep over rows of one kind (``subject_type``) that can be split when a batch fails."""

    name: str
    subject_type: str
    work: Work
    due: Due


@dataclass
class Outcome:
    """What one batch did: rows handled, rows set aside."""

    handled: int = 0
    set_aside: int = 0

    @property
    def taken(self) -> int:
        """Rows the batch took off the due list, either way (the loop's "full batch" test)."""
        return self.handled + self.set_aside


@dataclass(frozen=True)
class Sweep:
    """A named sweep: one batch at a time."""

    name: str
    batch: Callable[[Database, Clock, Settings], Awaitable[Outcome]]


class SweepFailed(Exception):
    """Every row tried alone failed the same way: the sweep is broken, not a row."""


def transient(exc: BaseException) -> bool:
    """Whether an error is about the connection or the server, not about the row at hand."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(
        exc,
        sa_exc.OperationalError
        | sa_exc.InterfaceError
        | sa_exc.DisconnectionError
        | sa_exc.TimeoutError
        | httpx.TransportError
        | OSError
        | TimeoutError,
    )


def system_ctx(clock: Clock, settings: Settings) -> Ctx:
    """The worker acts as the system."""
    return Ctx(principal=SYSTEM, clock=clock, settings=settings)


async def set_aside(
    db: Database, ctx: Ctx, sweep: str, subject_type: str, subject_id: str, error: str
) -> None:
    """Record a failed row in its own transaction (the failed one was rolled back)."""
    async with db.write() as session:
        await failures.set_aside(
            session,
            ctx=ctx,
            sweep=sweep,
            subject_type=subject_type,
            subject_id=subject_id,
            error=error,
        )
        await session.commit()
    log.error("%s set %s %s aside: %s", sweep, subject_type, subject_id, error)


@dataclass
class _Alone:
    """Rows tried one at a time, and the errors of those that failed."""

    rows: Rows
    db: Database
    ctx: Ctx
    outcome: Outcome = field(default_factory=Outcome)
    failed: list[tuple[str, str]] = field(default_factory=list)

    async def attempt(self, subject_id: str, *, retrying: bool = False) -> bool:
        """Run the sweep on one row in its own transaction; whether it went through."""
        try:
            async with self.db.write() as session:
                count = await self.rows.work(
                    session,
                    ctx=self.ctx,
                    limit=1,
                    skip_locked=not self.db.sqlite,
                    only=[subject_id],
                )
                if retrying:
                    await failures.resolve(
                        session,
                        ctx=self.ctx,
                        sweep=self.rows.name,
                        subject_type=self.rows.subject_type,
                        subject_id=subject_id,
                    )
                await session.commit()
        except Exception as exc:  # noqa: BLE001 - any error of one row sets that row aside
            if transient(exc):
                raise
            self.failed.append((subject_id, failures.describe(exc)))
            return False
        self.outcome.handled += count
        return True

    async def set_failed_aside(self) -> None:
        for subject_id, error in self.failed:
            await set_aside(
                self.db, self.ctx, self.rows.name, self.rows.subject_type, subject_id, error
            )
        self.outcome.set_aside += len(self.failed)
        self.failed.clear()


async def row_batch(db: Database, clock: Clock, settings: Settings, rows: Rows) -> Outcome:
    """One batch of a row sweep: retried rows alone first, then the rest set-wise, split on failure."""
    ctx = system_ctx(clock, settings)
    async with db.read() as session:
        skipped, retry = await failures.skipped(
            session, sweep=rows.name, subject_type=rows.subject_type
        )
    alone = _Alone(rows, db, ctx)
    for subject_id in retry:
        await alone.attempt(subject_id, retrying=True)
    await alone.set_failed_aside()
    try:
        async with db.write() as session:
            count = await rows.work(
                session,
                ctx=ctx,
                limit=settings.worker_batch_size,
                skip_locked=not db.sqlite,
                exclude=skipped,
            )
            await session.commit()
        alone.outcome.handled += count
        return alone.outcome
    except Exception as exc:  # noqa: BLE001 - the batch is split below to find the bad row
        if transient(exc):
            raise
        error = failures.describe(exc)
        log.warning("%s: a batch failed (%s); trying its rows one by one", rows.name, error)
    async with db.read() as session:
        due = await rows.due(
            session, now=clock.now(), limit=settings.worker_batch_size, exclude=skipped
        )
    if not due:
        raise SweepFailed(error)  # no row to blame: the fault is the sweep's
    went_through = [await alone.attempt(subject_id) for subject_id in due]
    if not any(went_through) and len(alone.failed) >= STREAK:
        raise SweepFailed(alone.failed[0][1])
    await alone.set_failed_aside()
    return alone.outcome

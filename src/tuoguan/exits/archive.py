"""The exit archive (一键导出, S4): a store's information, its month statements and its orders,
as CSV and XLSX in one zip, written by the worker under a lease with its progress, downloadable
by the store's seller and the operators for seven days, then deleted. Never commits.

The job's moves are the export job's (``exports.states``: queued → running → done → expired,
or failed), as are its lease, its tries and its keeping time (``exports.service``). A store
has one archive being written at a time: starting another while one is queued or running
answers that one. The files are written by ``exits.archive_files``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, NotFound
from tuoguan.exits.models import ExitArchive
from tuoguan.exports.service import KEEP, LEASE, MAX_ATTEMPTS
from tuoguan.exports.states import ExportStatus, check_move
from tuoguan.kit.i18n import language as supported
from tuoguan.kit.ids import new_id
from tuoguan.principal import Principal, Role
from tuoguan.stores import service as stores
from tuoguan.stores.models import Store, StoreMode, StoreStatus

SUBJECT = "exit_archive"
ARCHIVERS = (Role.operator, Role.seller)
OPEN = (ExportStatus.queued, ExportStatus.running)
ERROR_LENGTH = 300


def percent(archive: ExitArchive) -> int:
    """How far the worker got, 0-100 (100 once done)."""
    if archive.status is ExportStatus.done:
        return 100
    if not archive.steps_total:
        return 0
    return min(99, archive.steps_done * 100 // archive.steps_total)


def file_path(export_dir: str, archive: ExitArchive) -> Path | None:
    """Where a finished archive lives (named by the worker, never by user input)."""
    return Path(export_dir) / archive.file_name if archive.file_name else None


def _event(
    session: AsyncSession, ctx: Ctx, archive: ExitArchive, action: str, source: ExportStatus | None
) -> None:
    audit.record(
        session,
        ctx=ctx,
        subject_type=SUBJECT,
        subject_id=archive.id,
        store_id=archive.store_id,
        action=action,
        from_state=source.value if source else None,
        to_state=archive.status.value,
        reason=archive.error,
        data={
            "steps_done": archive.steps_done,
            "steps_total": archive.steps_total,
            "attempts": archive.attempts,
        },
    )


def _move(
    session: AsyncSession, ctx: Ctx, archive: ExitArchive, to: ExportStatus, action: str
) -> None:
    source = archive.status
    check_move(source, to)
    archive.status = to
    _event(session, ctx, archive, action, source)


async def _store(session: AsyncSession, principal: Principal, store_id: str) -> Store:
    if principal.role not in ARCHIVERS:
        raise Forbidden(f"a {principal.role.value} does not export a store's archive")
    store = await stores.get_store(session, principal=principal, store_id=store_id)
    if store.mode is not StoreMode.full_managed:
        raise Conflict(
            f"store {store.id} is {store.mode.value}: the exit archive is a full-managed store's",
            field="store_id",
            rule="full_managed_only",
        )
    return store


async def latest(session: AsyncSession, store_id: str) -> ExitArchive | None:
    """The store's newest archive."""
    found = await session.scalars(
        select(ExitArchive)
        .where(ExitArchive.store_id == store_id)
        .order_by(ExitArchive.id.desc())
        .limit(1)
    )
    return found.first()


async def start(session: AsyncSession, *, ctx: Ctx, store_id: str, language: str) -> ExitArchive:
    """S4: queue the store's archive (its seller or an operator); one being written already is
    answered instead. 409 ``store_closed`` for a closed store (its data were cleared)."""
    store = await _store(session, ctx.principal, store_id)
    await session.execute(select(Store.id).where(Store.id == store.id).with_for_update())
    if store.status is StoreStatus.closed:
        raise Conflict(
            f"store {store.id} is closed: its details were cleared, there is nothing to export",
            field="store_id",
            rule="store_closed",
        )
    current = await latest(session, store.id)
    if current is not None and current.status in OPEN:
        return current
    archive = ExitArchive(
        id=new_id("exit_archive"),
        store_id=store.id,
        requested_by=ctx.principal.actor_id,
        requested_role=ctx.principal.role,
        language=supported(language),
        status=ExportStatus.queued,
        steps_done=0,
        steps_total=0,
        attempts=0,
        created_at=ctx.clock.now(),
    )
    session.add(archive)
    _event(session, ctx, archive, "archive_created", None)
    await session.flush()
    return archive


async def current(session: AsyncSession, *, principal: Principal, store_id: str) -> ExitArchive:
    """The store's newest archive, for its seller or an operator (404 when there is none)."""
    store = await _store(session, principal, store_id)
    found = await latest(session, store.id)
    if found is None:
        raise NotFound(f"store {store.id} has no archive yet", field="archive")
    return found


async def archive_file(
    session: AsyncSession, *, principal: Principal, store_id: str, export_dir: str
) -> tuple[ExitArchive, Path]:
    """The finished zip of the store's newest archive; 409 ``archive_done`` until it is done,
    and once it expired or failed."""
    found = await current(session, principal=principal, store_id=store_id)
    if found.status is not ExportStatus.done:
        raise Conflict(
            f"archive {found.id} is {found.status.value}; its file is there only while it is done",
            field="archive",
            rule="archive_done",
            current_state=found.status.value,
        )
    path = file_path(export_dir, found)
    if path is None or not path.is_file():
        raise Conflict(
            f"the file of archive {found.id} is no longer there; start a new one",
            field="archive",
            rule="archive_done",
        )
    return found, path


# -- the worker's side ----------------------------------------------------------------------------


async def _get(session: AsyncSession, archive_id: str, *, lock: bool = False) -> ExitArchive | None:
    query = select(ExitArchive).where(ExitArchive.id == archive_id)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query.execution_options(populate_existing=True))


async def claim(
    session: AsyncSession, *, ctx: Ctx, skip_locked: bool
) -> tuple[ExitArchive, int] | None:
    """Take the oldest due archive under a lease: (archive, this take's number), or None. One
    taken ``MAX_ATTEMPTS`` times is failed instead."""
    now = ctx.clock.now()
    query = (
        select(ExitArchive)
        .where(
            or_(
                ExitArchive.status == ExportStatus.queued,
                and_(ExitArchive.status == ExportStatus.running, ExitArchive.lease_until < now),
            )
        )
        .order_by(ExitArchive.id)
        .limit(1)
        .with_for_update(skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )
    found = await session.scalar(query)
    if found is None:
        return None
    if found.attempts >= MAX_ATTEMPTS:
        found.error = f"gave up after {found.attempts} tries; start a new archive"
        found.finished_at, found.lease_until = now, None
        _move(session, ctx, found, ExportStatus.failed, "archive_failed")
        return found, found.attempts
    found.attempts += 1
    found.steps_done = 0
    found.started_at = now
    found.lease_until = now + LEASE
    _move(session, ctx, found, ExportStatus.running, "archive_started")
    return found, found.attempts


async def _ours(session: AsyncSession, archive_id: str, attempt: int) -> ExitArchive | None:
    found = await _get(session, archive_id, lock=True)
    if found is None or found.status is not ExportStatus.running or found.attempts != attempt:
        return None
    return found


async def progress(
    session: AsyncSession, *, ctx: Ctx, archive_id: str, attempt: int, done: int, total: int
) -> bool:
    """Record the steps written and renew the lease; False if no longer this take's."""
    found = await _ours(session, archive_id, attempt)
    if found is None:
        return False
    found.steps_done, found.steps_total = done, total
    found.lease_until = ctx.clock.now() + LEASE
    return True


async def finish(
    session: AsyncSession,
    *,
    ctx: Ctx,
    archive_id: str,
    attempt: int,
    file_name: str,
    size_bytes: int,
    sha256: str,
) -> bool:
    """The zip is complete: done and kept ``KEEP``; False if no longer this take's."""
    found = await _ours(session, archive_id, attempt)
    if found is None:
        return False
    now = ctx.clock.now()
    found.steps_done = found.steps_total
    found.file_name, found.size_bytes, found.sha256 = file_name, size_bytes, sha256
    found.finished_at, found.expires_at, found.lease_until = now, now + KEEP, None
    _move(session, ctx, found, ExportStatus.done, "archive_done")
    return True


async def fail(
    session: AsyncSession, *, ctx: Ctx, archive_id: str, attempt: int, reason: str
) -> bool:
    """The archive failed, with a short reason; False if no longer this take's."""
    found = await _ours(session, archive_id, attempt)
    if found is None:
        return False
    found.error = reason[:ERROR_LENGTH]
    found.finished_at, found.lease_until = ctx.clock.now(), None
    _move(session, ctx, found, ExportStatus.failed, "archive_failed")
    return True


async def requeue(session: AsyncSession, *, ctx: Ctx, archive_id: str) -> bool:
    """An operator retried an archive the worker set aside: queue it again, tries reset."""
    found = await _get(session, archive_id, lock=True)
    if found is None or found.status is not ExportStatus.failed:
        return False
    found.attempts, found.error, found.finished_at = 0, None, None
    _move(session, ctx, found, ExportStatus.queued, "archive_requeued")
    return True


async def expire_due(
    session: AsyncSession, *, ctx: Ctx, export_dir: str, limit: int, skip_locked: bool
) -> int:
    """Delete the archives kept their days; they show expired. How many expired."""
    due = list(
        await session.scalars(
            select(ExitArchive)
            .where(
                ExitArchive.status == ExportStatus.done, ExitArchive.expires_at <= ctx.clock.now()
            )
            .order_by(ExitArchive.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=skip_locked)
        )
    )
    for found in due:
        path = file_path(export_dir, found)
        if path is not None:
            path.unlink(missing_ok=True)
        found.file_name = None
        _move(session, ctx, found, ExportStatus.expired, "archive_expired")
    return len(due)


def expires_soon(archive: ExitArchive, now: datetime) -> bool:
    """Whether a done archive is deleted within a day."""
    return bool(archive.expires_at and (archive.expires_at - now).total_seconds() < 86_400)

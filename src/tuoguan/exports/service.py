"""Use cases of export jobs: start one, follow it, fetch its file; the worker's claims and marks.

The caller commits. Every change of status writes its audit event in the same transaction.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, NotFound
from tuoguan.exports import repository
from tuoguan.exports.models import ERROR_LENGTH, ExportJob
from tuoguan.exports.schemas import ExportCreate
from tuoguan.exports.states import ExportStatus, check_move
from tuoguan.kit.ids import new_id
from tuoguan.orders.repository import OrderFilter
from tuoguan.orders.states import OrderStatus
from tuoguan.principal import Principal, Role
from tuoguan.stores import service as stores

# A worker holds a job this long past its last progress; then another worker may take it.
LEASE = timedelta(minutes=2)
# A job taken this many times without finishing is given up.
MAX_ATTEMPTS = 3
# How long a finished file is kept (O5).
KEEP = timedelta(days=7)
EXPORTERS = (Role.operator, Role.seller)


def owner_principal(job: ExportJob) -> Principal:
    """Who the worker reads as: the job's owner, so a seller's export covers its orders only."""
    return Principal(role=job.owner_role, actor_id=job.owner_id, seller_id=job.seller_id)


def order_filter(job: ExportJob, *, limit: int | None = None) -> OrderFilter:
    """The job's filters as the order list takes them, newest first."""
    return OrderFilter(
        statuses=tuple(OrderStatus(s) for s in job.statuses),
        store_id=job.store_id,
        sort="newest",
        limit=job.row_limit if limit is None else limit,
    )


def file_path(export_dir: str, job: ExportJob) -> Path | None:
    """Where a job's finished file lives (named by the worker, never by user input)."""
    return Path(export_dir) / job.file_name if job.file_name else None


def _event(
    session: AsyncSession, ctx: Ctx, job: ExportJob, action: str, source: ExportStatus | None
) -> None:
    audit.record(
        session,
        ctx=ctx,
        subject_type="export",
        subject_id=job.id,
        action=action,
        from_state=source.value if source else None,
        to_state=job.status.value,
        reason=job.error,
        data={
            "owner_id": job.owner_id,
            "rows_written": job.rows_written,
            "rows_expected": job.rows_expected,
            "attempts": job.attempts,
        },
    )


def _move(session: AsyncSession, ctx: Ctx, job: ExportJob, to: ExportStatus, action: str) -> None:
    source = job.status
    check_move(source, to)
    job.status = to
    _event(session, ctx, job, action, source)


# Open (queued or running) jobs a seller, across its tokens and users, or an operator may
# have at once: a flood of million-row jobs would fill the disk and hold every other
# owner's export behind it in the worker's queue.
MAX_OPEN_PER_OWNER = 3


async def create_export(session: AsyncSession, *, ctx: Ctx, data: ExportCreate) -> ExportJob:
    """O5: queue an export of the caller's orders; a seller's store_id must be its own (404)."""
    principal = ctx.principal
    if principal.role not in EXPORTERS:
        raise Forbidden("only operators and sellers export orders")
    if data.store_id is not None:
        await stores.get_store(session, principal=principal, store_id=data.store_id)
    running = await repository.count_open(
        session,
        owner_id=principal.actor_id,
        seller_id=principal.seller_id if principal.role is Role.seller else None,
    )
    if running >= MAX_OPEN_PER_OWNER:
        raise Conflict(
            f"{running} exports of yours are still queued or running; start another when one "
            f"is done (at most {MAX_OPEN_PER_OWNER} at a time)",
            field="limit",
            rule="export_jobs_open",
        )
    statuses = list(dict.fromkeys(data.status))
    expected = await repository.count_orders(
        session, principal, statuses=statuses, store_id=data.store_id, upto=data.limit
    )
    job = ExportJob(
        id=new_id("export"),
        kind=data.kind,
        owner_id=principal.actor_id,
        owner_role=principal.role,
        seller_id=principal.seller_id if principal.role is Role.seller else None,
        statuses=[s.value for s in statuses],
        store_id=data.store_id,
        row_limit=data.limit,
        status=ExportStatus.queued,
        rows_expected=expected,
        rows_written=0,
        attempts=0,
        created_at=ctx.clock.now(),
    )
    session.add(job)
    _event(session, ctx, job, "export_created", None)
    return job


async def get_export(session: AsyncSession, *, principal: Principal, job_id: str) -> ExportJob:
    """One of the caller's jobs; anyone else's is not found."""
    job = await repository.get(session, job_id)
    if job is None or job.owner_id != principal.actor_id:
        raise NotFound(f"export {job_id} not found")
    return job


async def list_exports(
    session: AsyncSession, *, principal: Principal, cursor: str | None, limit: int
) -> tuple[list[ExportJob], str | None]:
    """The caller's jobs, newest first, and the cursor of the next page."""
    return await repository.owned_page(
        session, owner_id=principal.actor_id, cursor=cursor, limit=limit
    )


async def export_file(
    session: AsyncSession, *, principal: Principal, job_id: str, export_dir: str
) -> tuple[ExportJob, Path]:
    """The finished file of one of the caller's jobs; 409 until it is done or once expired."""
    job = await get_export(session, principal=principal, job_id=job_id)
    if job.status is not ExportStatus.done:
        raise Conflict(
            f"export {job_id} is {job.status.value}; its file is there only while it is done",
            current_state=job.status.value,
        )
    path = file_path(export_dir, job)
    if path is None or not path.is_file():
        raise Conflict(f"the file of export {job_id} is no longer there; start a new export")
    return job, path


async def claim(
    session: AsyncSession, *, ctx: Ctx, skip_locked: bool
) -> tuple[ExportJob, int] | None:
    """Take the oldest due job under a lease: (job, this take's number), or None.

    A job already taken ``MAX_ATTEMPTS`` times is failed instead (its status says so).
    """
    now = ctx.clock.now()
    job = await repository.next_due(session, now=now, skip_locked=skip_locked)
    if job is None:
        return None
    if job.attempts >= MAX_ATTEMPTS:
        job.error = f"gave up after {job.attempts} tries; start a new export"
        job.finished_at = now
        job.lease_until = None
        _move(session, ctx, job, ExportStatus.failed, "export_failed")
        return job, job.attempts
    job.attempts += 1
    job.rows_written = 0
    job.started_at = now
    job.lease_until = now + LEASE
    _move(session, ctx, job, ExportStatus.running, "export_started")
    return job, job.attempts


async def _ours(session: AsyncSession, job_id: str, attempt: int) -> ExportJob | None:
    """The job, locked, if this take still holds it (no other worker took it over)."""
    job = await repository.get(session, job_id, lock=True)
    if job is None or job.status is not ExportStatus.running or job.attempts != attempt:
        return None
    return job


async def progress(
    session: AsyncSession, *, ctx: Ctx, job_id: str, attempt: int, rows_written: int
) -> bool:
    """Record rows written and renew the lease; False if the job is no longer this take's."""
    job = await _ours(session, job_id, attempt)
    if job is None:
        return False
    job.rows_written = rows_written
    job.lease_until = ctx.clock.now() + LEASE
    return True


async def finish(
    session: AsyncSession,
    *,
    ctx: Ctx,
    job_id: str,
    attempt: int,
    file_name: str,
    rows_written: int,
    size_bytes: int,
    sha256: str,
) -> bool:
    """The file is complete: the job is done and kept ``KEEP``; False if no longer ours."""
    job = await _ours(session, job_id, attempt)
    if job is None:
        return False
    now = ctx.clock.now()
    job.rows_written = rows_written
    job.size_bytes = size_bytes
    job.sha256 = sha256
    job.file_name = file_name
    job.finished_at = now
    job.expires_at = now + KEEP
    job.lease_until = None
    _move(session, ctx, job, ExportStatus.done, "export_done")
    return True


async def fail(session: AsyncSession, *, ctx: Ctx, job_id: str, attempt: int, reason: str) -> bool:
    """The job failed, with a short reason its owner sees; False if no longer this take's."""
    job = await _ours(session, job_id, attempt)
    if job is None:
        return False
    job.error = reason[:ERROR_LENGTH]
    job.finished_at = ctx.clock.now()
    job.lease_until = None
    _move(session, ctx, job, ExportStatus.failed, "export_failed")
    return True


async def expire_due(
    session: AsyncSession, *, ctx: Ctx, export_dir: str, limit: int, skip_locked: bool
) -> int:
    """Delete the files kept their days; their jobs show expired. How many expired."""
    due = await repository.due_expiry(
        session, now=ctx.clock.now(), limit=limit, skip_locked=skip_locked
    )
    for job in due:
        path = file_path(export_dir, job)
        if path is not None:
            path.unlink(missing_ok=True)
        _move(session, ctx, job, ExportStatus.expired, "export_expired")
    return len(due)


async def requeue(session: AsyncSession, *, ctx: Ctx, job_id: str) -> bool:
    """An operator retried a failed job the worker set aside: queue it again, tries reset."""
    job = await repository.get(session, job_id, lock=True)
    if job is None or job.status is not ExportStatus.failed:
        return False
    job.attempts = 0
    job.error = None
    job.finished_at = None
    _move(session, ctx, job, ExportStatus.queued, "export_requeued")
    return True

"""Use cases for sweep failures: the worker sets rows aside, operators retry or dismiss them.

The caller commits. A row is set aside in its own transaction, after the one
that failed was rolled back, so the failure is kept even though the work is not.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Forbidden, NotFound
from tuoguan.kit import i18n
from tuoguan.kit.ids import new_id
from tuoguan.notify import service as notify
from tuoguan.ops import repository
from tuoguan.ops.models import ERROR_LENGTH, FailureStatus, SweepFailure
from tuoguan.ops.states import OPEN, FailureAction, next_status
from tuoguan.principal import Principal

SWEEP = "sweep"  # the subject type of a failure of a whole sweep, not of one of its rows


def describe(exc: BaseException) -> str:
    """The exception's class and message on one line, bounded.

    SQLAlchemy wraps the driver's error and adds the SQL and its parameters
    (addresses, phone numbers) to its text: only the driver's own message is kept.
    """
    cause = getattr(exc, "orig", None) or exc
    text = " ".join(str(cause).split()) or "(no message)"
    return f"{type(cause).__name__}: {text}"[:ERROR_LENGTH]


def _operator(principal: Principal) -> None:
    if not principal.is_operator:
        raise Forbidden("only operators see what the worker set aside")


def _event(
    session: AsyncSession,
    ctx: Ctx,
    row: SweepFailure,
    action: str,
    source: str | None,
    reason: str | None = None,
) -> None:
    audit.record(
        session,
        ctx=ctx,
        subject_type="sweep_failure",
        subject_id=row.id,
        action=action,
        from_state=source,
        to_state=row.status.value,
        reason=reason,
        data={
            "sweep": row.sweep,
            "subject_type": row.subject_type,
            "subject_id": row.subject_id,
            "attempts": row.attempts,
        },
    )


async def set_aside(
    session: AsyncSession, *, ctx: Ctx, sweep: str, subject_type: str, subject_id: str, error: str
) -> SweepFailure:
    """Record that a sweep failed on a subject: a new row, or the old one reopened."""
    now = ctx.clock.now()
    row = await repository.for_subject(
        session, sweep=sweep, subject_type=subject_type, subject_id=subject_id
    )
    source = row.status.value if row else None
    if row is None:
        row = SweepFailure(
            id=new_id("sweep_failure"),
            sweep=sweep,
            subject_type=subject_type,
            subject_id=subject_id,
            attempts=0,
            first_seen_at=now,
        )
        session.add(row)
    row.attempts += 1
    row.error = error[:ERROR_LENGTH]
    row.last_seen_at = now
    row.status = FailureStatus.set_aside
    row.resolved_at = None
    _event(session, ctx, row, "set_aside", source)
    if source != FailureStatus.set_aside.value:
        # The operators' inbox says so once, not at every batch that skips the row.
        notify.notify(
            session,
            ctx=ctx,
            seller_id=None,
            kind="sweep_set_aside",
            subject_type=subject_type,
            subject_id=subject_id,
            key=i18n.N_("note_set_aside"),
            params={"sweep": i18n.label(f"sweep_{sweep}"), "error": (row.error or "")[:300]},
        )
    return row


async def resolve(
    session: AsyncSession, *, ctx: Ctx, sweep: str, subject_type: str, subject_id: str
) -> bool:
    """Close a subject's open row because the sweep went through; whether there was one."""
    row = await repository.for_subject(
        session, sweep=sweep, subject_type=subject_type, subject_id=subject_id
    )
    if row is None or row.status not in OPEN:
        return False
    source = row.status.value
    row.status = FailureStatus.resolved
    row.resolved_at = ctx.clock.now()
    _event(session, ctx, row, "resolve", source)
    return True


async def skipped(
    session: AsyncSession, *, sweep: str, subject_type: str
) -> tuple[list[str], list[str]]:
    """A sweep's subjects to leave out of its batches, and those among them to retry alone."""
    rows = await repository.skipped(session, sweep=sweep, subject_type=subject_type)
    retry = [subject_id for subject_id, status in rows if status is FailureStatus.retrying]
    return [subject_id for subject_id, _ in rows], retry


async def failing_sweeps(session: AsyncSession) -> set[str]:
    """Sweeps whose last run failed as a whole (resolved by the worker once one goes through)."""
    return await repository.failing_sweeps(session, subject_type=SWEEP)


async def open_counts(session: AsyncSession) -> dict[str, int]:
    """Rows set aside and not yet settled, per sweep (the worker's log line shows them)."""
    return await repository.open_counts(session)


async def list_failures(
    session: AsyncSession,
    *,
    principal: Principal,
    status: FailureStatus | None = None,
    limit: int = 100,
) -> list[SweepFailure]:
    """Operators: set-aside rows, the open ones unless a status is asked for, latest first."""
    rows, _ = await page_failures(session, principal=principal, status=status, limit=limit)
    return rows


async def page_failures(
    session: AsyncSession,
    *,
    principal: Principal,
    status: FailureStatus | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> tuple[list[SweepFailure], str | None]:
    """A page of :func:`list_failures` and the cursor of the next."""
    _operator(principal)
    statuses = [status] if status else sorted(OPEN)
    return await repository.page(session, statuses=statuses, cursor=cursor, limit=limit)


async def get_failure(
    session: AsyncSession, *, principal: Principal, failure_id: str
) -> SweepFailure:
    """Operators: one set-aside row."""
    _operator(principal)
    found = await session.get(SweepFailure, failure_id)
    if found is None:
        raise NotFound(f"sweep failure {failure_id} not found", field="failure_id")
    return found


async def act(
    session: AsyncSession, *, ctx: Ctx, failure_id: str, action: FailureAction, reason: str
) -> SweepFailure:
    """An operator retries or dismisses a set-aside row under a row lock, with its audit event."""
    _operator(ctx.principal)
    row = await repository.get_for_update(session, failure_id)
    if row is None:
        raise NotFound(f"sweep failure {failure_id} not found", field="failure_id")
    source = row.status.value
    row.status = next_status(row.status, action)
    row.decided_at = ctx.clock.now()
    row.decided_by = ctx.principal.actor_id
    row.decision_reason = reason
    _event(session, ctx, row, action.value, source, reason)
    await session.flush()
    return row

"""The worker's watch on case deadlines (R3, G4). Never commits.

Each step's owner is warned once ``WARN_BEFORE`` its deadline, and the miss is recorded once
after it (to the seller when the step is the seller's, else to the operators' inbox), on the
case's timeline and in its audit trail. A decided case whose appeal window passes unused
closes.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.cases import decisions, service
from tuoguan.cases.kinds import CaseParty, CaseState
from tuoguan.cases.models import Case
from tuoguan.context import Ctx
from tuoguan.kit import i18n
from tuoguan.notify import service as notify

SWEEP = "watch_case_deadlines"
WARN_BEFORE = timedelta(hours=12)


def _due_query(
    now: datetime, limit: int, exclude: Collection[str], only: Collection[str] | None
) -> Any:
    query = (
        select(Case)
        .where(
            Case.step_due_at.is_not(None),
            Case.breached_at.is_(None),
            Case.step_due_at <= now + WARN_BEFORE,
            or_(Case.warned_at.is_(None), Case.step_due_at <= now),
        )
        .order_by(Case.step_due_at, Case.id)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    if only is not None:
        query = query.where(Case.id.in_(list(only)))
    if exclude:
        query = query.where(Case.id.not_in(list(exclude)))
    return query


async def watch_due(
    session: AsyncSession,
    *,
    ctx: Ctx,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> int:
    """Warn, flag or close each case whose step deadline is near or past (see the module)."""
    now = ctx.clock.now()
    query = _due_query(now, limit, exclude, only)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    due = list(await session.scalars(query))
    for case in due:
        assert case.step_due_at is not None
        if case.state is CaseState.decided:
            if case.step_due_at <= now:
                await decisions.close_after_window(session, ctx, case)
            else:
                case.warned_at = now  # nobody owns an appeal window: nothing to warn of
            continue
        missed = case.step_due_at <= now
        if missed:
            case.breached_at = now
        else:
            case.warned_at = now
        what = "deadline_missed" if missed else "deadline_warned"
        said = {
            "state": case.state.value,
            "owner": case.step_owner.value if case.step_owner else None,
            "due_at": case.step_due_at.isoformat(),
        }
        service.append(session, ctx, case, what, party=None, data=said)
        audit.record(
            session,
            ctx=ctx,
            subject_type=service.SUBJECT,
            subject_id=case.id,
            store_id=case.store_id,
            action=what,
            from_state=case.state.value,
            to_state=case.state.value,
            data=said,
        )
        seller = case.step_owner is CaseParty.seller
        notify.notify(
            session,
            ctx=ctx,
            seller_id=case.seller_id if seller else None,
            kind=f"case_{what}",
            subject_type=service.SUBJECT,
            subject_id=case.id,
            key=i18n.N_("case_note_deadline_missed")
            if missed
            else i18n.N_("case_note_deadline_warned"),
            params={
                "kind": i18n.label(f"case_kind_{case.kind.value}"),
                "step": i18n.label(f"case_state_{case.state.value}"),
                "due": i18n.when(case.step_due_at, ctx.settings.settlement_zone),
            },
            data={"case_id": case.id, **said},
        )
    await session.flush()
    return len(due)


async def due_ids(
    session: AsyncSession, *, now: datetime, limit: int, exclude: Collection[str]
) -> list[str]:
    """The cases the sweep would take next (no locks): to retry them one by one."""
    return [c.id for c in await session.scalars(_due_query(now, limit, exclude, None))]

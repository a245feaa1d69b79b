"""Writing and reading audit events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit.models import Event
from tuoguan.context import Ctx
from tuoguan.kit.ids import new_id


def record(
    session: AsyncSession,
    *,
    ctx: Ctx,
    subject_type: str,
    subject_id: str,
    action: str,
    store_id: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Add one event to the caller's transaction."""
    event = Event(
        id=new_id("event"),
        subject_type=subject_type,
        subject_id=subject_id,
        store_id=store_id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor_id=ctx.principal.actor_id,
        actor_role=ctx.principal.role.value,
        reason=reason,
        request_id=ctx.request_id,
        at=ctx.clock.now(),
        data=data or {},
    )
    session.add(event)
    return event


async def timeline(session: AsyncSession, *, subject_type: str, subject_id: str) -> list[Event]:
    """Every event of one object, oldest first."""
    rows = await session.scalars(
        select(Event)
        .where(Event.subject_type == subject_type, Event.subject_id == subject_id)
        .order_by(Event.seq)
    )
    return list(rows)

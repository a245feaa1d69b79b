"""Writing and reading audit events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit.models import Event
from tuoguan.context import Ctx
from tuoguan.db import bulk_insert, table_of
from tuoguan.kit.ids import new_id


def event_row(
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
    event_id: str | None = None,
) -> dict[str, Any]:
    """The column values of one event (bulk sweeps insert many at once)."""
    return {
        "id": event_id or new_id("event"),
        "subject_type": subject_type,
        "subject_id": subject_id,
        "store_id": store_id,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "actor_id": ctx.principal.actor_id,
        "actor_role": ctx.principal.role.value,
        "reason": reason,
        "request_id": ctx.request_id,
        "at": ctx.clock.now(),
        "data": data or {},
    }


def record(session: AsyncSession, *, ctx: Ctx, **fields: Any) -> Event:
    """Add one event to the caller's transaction (fields as for ``event_row``)."""
    event = Event(**event_row(ctx=ctx, **fields))
    session.add(event)
    return event


async def record_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert many events in one statement (rows from ``event_row``)."""
    if rows:
        await bulk_insert(session, table_of(Event), rows)


async def timeline(session: AsyncSession, *, subject_type: str, subject_id: str) -> list[Event]:
    """Every event of one object, oldest first."""
    rows = await session.scalars(
        select(Event)
        .where(Event.subject_type == subject_type, Event.subject_id == subject_id)
        .order_by(Event.seq)
    )
    return list(rows)

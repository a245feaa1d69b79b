"""Breaches and notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api.deps import CtxDep, PrincipalDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.notify import service as notify
from tuoguan.notify.models import Notification
from tuoguan.sla import service as sla
from tuoguan.sla.models import BreachKind

router = APIRouter(tags=["sla"])


class BreachRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    order_id: str
    store_id: str
    seller_id: str
    kind: BreachKind
    deadline_at: datetime
    detected_at: datetime
    assess_by: datetime
    assessed_at: datetime | None
    lateness_seconds: int | None


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    seller_id: str | None
    kind: str
    subject_type: str
    subject_id: str
    message: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


@router.get("/breaches", response_model=list[BreachRead])
async def list_breaches(
    principal: PrincipalDep,
    session: ReadSession,
    order_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[BreachRead]:
    """Missed confirm (O2) and ship (F1) deadlines: operators all, a seller its own."""
    rows = await sla.list_breaches(session, principal=principal, order_id=order_id, limit=limit)
    return [BreachRead.model_validate(b) for b in rows]


@router.get("/notifications", response_model=list[NotificationRead])
async def list_notifications(
    principal: PrincipalDep,
    session: ReadSession,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[NotificationRead]:
    """The caller's in-app notifications, newest first."""
    rows = await notify.inbox(session, principal=principal, unread_only=unread, limit=limit)
    return [NotificationRead.model_validate(n) for n in rows]


@router.post("/notifications/{notification_id}/read", response_model=NotificationRead)
async def read_notification(notification_id: str, request: Request, ctx: CtxDep) -> Response:
    """Mark a notification read."""

    async def render(_: AsyncSession, note: Notification) -> NotificationRead:
        return NotificationRead.model_validate(note)

    return await run_mutation(
        request,
        ctx,
        lambda s: notify.mark_read(s, ctx=ctx, notification_id=notification_id),
        render,
    )

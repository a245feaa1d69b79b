"""Breaches and notifications."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, PrincipalDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.kit import i18n
from tuoguan.kit.clock import as_utc
from tuoguan.notify import service as notify
from tuoguan.notify.models import Notification
from tuoguan.orders import service as orders
from tuoguan.orders.models import Order
from tuoguan.principal import Role
from tuoguan.sla import service as sla
from tuoguan.sla import warnings
from tuoguan.stores.modes import Party
from tuoguan.timing.kinds import BreachKind
from tuoguan.timing.risk import Risk

router = APIRouter(tags=["sla"])
# Breaches, risk scores and warnings are the seller's and the platform's business, nobody else's.
STAFF = access.roles(Role.operator, Role.seller)


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
    responsible: Party = Field(
        description="Whose deadline it was (F11): the seller's, or the platform's when its "
        "warehouse ships the order; the platform's are never fined."
    )
    warehouse_id: str | None = Field(
        description="The warehouse whose ship deadline was missed (the platform's breaches)."
    )


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    seller_id: str | None
    kind: str
    subject_type: str
    subject_id: str
    message_key: str = Field(description="The message's key in the gettext catalogs.")
    params: dict[str, Any] = Field(
        description="The message's parameters; money, times and labels are typed objects."
    )
    message: str = Field(
        description="The message in words, in the request's Accept-Language (zh-CN or en; "
        "English when neither is asked for)."
    )
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, note: Notification, request: Request) -> NotificationRead:
        lang = api_language(request.headers.get("accept-language"))
        return cls(
            id=note.id,
            seller_id=note.seller_id,
            kind=note.kind,
            subject_type=note.subject_type,
            subject_id=note.subject_id,
            message_key=note.message_key,
            params=note.params,
            message=i18n.render(note.message_key, note.params, lang),
            data=note.data,
            created_at=note.created_at,
            read_at=note.read_at,
        )


def api_language(accept_language: str | None) -> str:
    """The API's language for words: Chinese when the client asks for it first, else English."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en") or tag == "*":
            return "en"
    return "en"


@router.get("/breaches", response_model=list[BreachRead], **STAFF)
async def list_breaches(
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: ReadSession,
    order_id: Annotated[str | None, Query(max_length=40)] = None,
    seller_id: Annotated[str | None, Query(max_length=40)] = None,
    store_id: Annotated[str | None, Query(max_length=40)] = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[BreachRead]:
    """Missed confirm (O2) and ship (F1) deadlines, newest first: operators all, a seller its
    own; or one order's, store's or seller's. More pages: the ``Link`` header's rel=next."""
    rows, next_cursor = await sla.list_breaches(
        session,
        principal=principal,
        order_id=order_id,
        seller_id=seller_id,
        store_id=store_id,
        cursor=cursor,
        limit=limit,
    )
    next_link(request, response, next_cursor)
    return [BreachRead.model_validate(b) for b in rows]


class ReasonRead(BaseModel):
    code: str
    points: int
    message: str


class RiskRead(BaseModel):
    """G5: the risk that an open order misses its running deadline, with the reasons."""

    order_id: str
    store_id: str
    status: str
    deadline_kind: str
    deadline_at: datetime
    seconds_left: int = Field(description="Time left to the deadline, counted at this request.")
    score: int = Field(ge=0, le=100)
    level: str = Field(description="high (≥70), medium (≥40) or low.")
    warn: bool = Field(description="Whether the score reaches the warning threshold (50).")
    reasons: list[ReasonRead]
    scored_at: datetime = Field(
        description="When the score was computed: by the warning sweep at a checkpoint of the "
        "window (the at-risk list), or at this request (an order's risk)."
    )


def _risk(order: Order, verdict: Risk, scored_at: datetime) -> RiskRead:
    return RiskRead(
        order_id=order.id,
        store_id=order.store_id,
        status=order.status.value,
        deadline_kind=verdict.deadline_kind,
        deadline_at=verdict.deadline_at,
        seconds_left=verdict.seconds_left,
        score=verdict.score,
        level=verdict.level,
        warn=verdict.warn,
        reasons=[ReasonRead(**asdict(reason)) for reason in verdict.reasons],
        scored_at=scored_at,
    )


@router.get("/at-risk", response_model=list[RiskRead], **STAFF)
async def at_risk(
    request: Request,
    response: Response,
    ctx: CtxDep,
    session: ReadSession,
    min_score: Annotated[int, Query(ge=0, le=100)] = 40,
    store_id: Annotated[str | None, Query(max_length=40)] = None,
    seller_id: Annotated[str | None, Query(max_length=40)] = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[RiskRead]:
    """Open orders likely to miss their running deadline (G5): highest score first, then the
    deadline soonest. Scores are the warning sweep's, stored at each checkpoint of the window;
    more pages: the ``Link`` header's rel=next."""
    found, next_cursor = await warnings.at_risk(
        session,
        principal=ctx.principal,
        now=ctx.clock.now(),
        min_score=min_score,
        store_id=store_id,
        seller_id=seller_id,
        cursor=cursor,
        limit=limit,
    )
    next_link(request, response, next_cursor)
    return [
        _risk(order, verdict, as_utc(order.risk_scored_at or ctx.clock.now()))
        for order, verdict in found
    ]


@router.get("/orders/{order_id}/risk", response_model=RiskRead | None, **STAFF)
async def order_risk(order_id: str, ctx: CtxDep, session: ReadSession) -> RiskRead | None:
    """The order's risk score and its reasons, scored now; null when no deadline is running."""
    order = await orders.get_order(session, principal=ctx.principal, order_id=order_id)
    now = ctx.clock.now()
    verdict = await warnings.score(session, order, warnings.Histories(now))
    return _risk(order, verdict, now) if verdict else None


@router.get("/notifications", response_model=list[NotificationRead], **STAFF)
async def list_notifications(
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: ReadSession,
    unread: bool = False,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[NotificationRead]:
    """The caller's in-app notifications, newest first; more pages: the ``Link`` rel=next."""
    rows, next_cursor = await notify.inbox(
        session, principal=principal, unread_only=unread, cursor=cursor, limit=limit
    )
    next_link(request, response, next_cursor)
    return [NotificationRead.of(n, request) for n in rows]


@router.post("/notifications/{notification_id}/read", response_model=NotificationRead, **STAFF)
async def read_notification(notification_id: str, request: Request, ctx: CtxDep) -> Response:
    """Mark a notification read."""

    async def render(_: AsyncSession, note: Notification) -> NotificationRead:
        return NotificationRead.of(note, request)

    return await run_mutation(
        request,
        ctx,
        lambda s: notify.mark_read(s, ctx=ctx, notification_id=notification_id),
        render,
    )

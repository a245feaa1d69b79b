"""Webhook endpoints: signed notifications POSTed to a seller's (or the operators') URL."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, PrincipalDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.kit.outbound import WebUrl
from tuoguan.notify import webhooks
from tuoguan.notify.models import DeliveryStatus, WebhookEndpoint
from tuoguan.principal import Role
from tuoguan.stores.schemas import Strict

router = APIRouter(tags=["webhooks"])
STAFF = access.roles(Role.operator, Role.seller)


class WebhookCreate(Strict):
    url: WebUrl = Field(
        description="URL that receives POSTed JSON: https in production, never an internal host."
    )
    seller_id: str | None = Field(
        default=None, max_length=40, description="Operators only: whose notifications."
    )


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    seller_id: str | None
    url: str
    active: bool
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="Signing secret, shown once: verify Tuoguan-Signature.")


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    notification_id: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


@router.post("/webhooks", status_code=201, response_model=WebhookCreated, **STAFF)
async def create_webhook(request: Request, ctx: CtxDep, body: WebhookCreate) -> Response:
    """Subscribe a URL to the caller's notifications (breaches, penalties, at-risk warnings)."""

    async def render(_: AsyncSession, made: tuple[WebhookEndpoint, str]) -> WebhookCreated:
        endpoint, secret = made
        return WebhookCreated(**WebhookRead.model_validate(endpoint).model_dump(), secret=secret)

    return await run_mutation(
        request,
        ctx,
        lambda s: webhooks.create_endpoint(s, ctx=ctx, url=body.url, seller_id=body.seller_id),
        render,
        status_code=201,
    )


@router.get("/webhooks", response_model=list[WebhookRead], **STAFF)
async def list_webhooks(principal: PrincipalDep, session: ReadSession) -> list[WebhookRead]:
    """The caller's endpoints (never their secrets)."""
    rows = await webhooks.list_endpoints(session, principal=principal)
    return [WebhookRead.model_validate(e) for e in rows]


@router.post("/webhooks/{webhook_id}/disable", response_model=WebhookRead, **STAFF)
async def disable_webhook(webhook_id: str, request: Request, ctx: CtxDep) -> Response:
    """Stop sending to an endpoint."""

    async def render(_: AsyncSession, endpoint: WebhookEndpoint) -> WebhookRead:
        return WebhookRead.model_validate(endpoint)

    return await run_mutation(
        request, ctx, lambda s: webhooks.disable(s, ctx=ctx, endpoint_id=webhook_id), render
    )


@router.get("/webhooks/{webhook_id}/deliveries", response_model=list[DeliveryRead], **STAFF)
async def list_deliveries(
    webhook_id: str,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: ReadSession,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[DeliveryRead]:
    """Deliveries newest first with their attempts, last status code and a short reason (no
    bodies); more pages: the ``Link`` header's rel=next."""
    rows, next_cursor = await webhooks.deliveries(
        session, principal=principal, endpoint_id=webhook_id, cursor=cursor, limit=limit
    )
    next_link(request, response, next_cursor)
    return [DeliveryRead.model_validate(d) for d in rows]

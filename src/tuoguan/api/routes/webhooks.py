"""Webhook endpoints: signed notifications POSTed to a seller's, the operators' or the
storefront's URL."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts.visibility import model_for
from tuoguan.api import access
from tuoguan.api.deps import CtxDep, PrincipalDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.kit.outbound import WebUrl
from tuoguan.notify import webhooks
from tuoguan.notify.models import Audience, DeliveryStatus, WebhookEndpoint
from tuoguan.principal import Principal, Role
from tuoguan.stores.schemas import Strict

router = APIRouter(tags=["webhooks"])
# The storefront (the buyer's channel) keeps endpoints of its own, for what its buyers are told.
OWNERS = access.roles(Role.operator, Role.seller, Role.buyer_channel)


class WebhookCreate(Strict):
    url: WebUrl = Field(
        description="URL that receives POSTed JSON: https in production, never an internal host."
    )
    seller_id: str | None = Field(
        default=None,
        max_length=40,
        description="Operators only: whose notifications (none: the operators' own).",
    )


class StorefrontWebhookRead(BaseModel):
    """The storefront's endpoint: it names no seller."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    audience: Audience = Field(
        description="Whose notifications it receives: a seller's, the operators' (platform) "
        "or the storefront's (what buyers are told, in the buyer's language)."
    )
    url: str
    active: bool
    created_at: datetime


class WebhookRead(StorefrontWebhookRead):
    seller_id: str | None


_SECRET = "Signing secret, shown once: verify Tuoguan-Signature."


class StorefrontWebhookCreated(StorefrontWebhookRead):
    secret: str = Field(description=_SECRET)


class WebhookCreated(WebhookRead):
    secret: str = Field(description=_SECRET)


WebhookView = WebhookRead | StorefrontWebhookRead
WEBHOOK_VIEWS: dict[Role, type[WebhookView]] = {
    Role.operator: WebhookRead,
    Role.seller: WebhookRead,
    Role.buyer_channel: StorefrontWebhookRead,
}
CREATED_VIEWS: dict[Role, type[WebhookView]] = {
    Role.operator: WebhookCreated,
    Role.seller: WebhookCreated,
    Role.buyer_channel: StorefrontWebhookCreated,
}


def present(endpoint: WebhookEndpoint, principal: Principal) -> WebhookView:
    """An endpoint as the caller's role reads it (``WEBHOOK_VIEWS``)."""
    return model_for(WEBHOOK_VIEWS, principal, "webhooks").model_validate(endpoint)


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


@router.post("/webhooks", status_code=201, **access.views(CREATED_VIEWS))
async def create_webhook(request: Request, ctx: CtxDep, body: WebhookCreate) -> Response:
    """Subscribe a URL to the caller's notifications (breaches, penalties, at-risk warnings;
    for the storefront, what its buyers are told, e.g. why a parcel was cancelled, O6)."""

    async def render(_: AsyncSession, made: tuple[WebhookEndpoint, str]) -> WebhookView:
        endpoint, secret = made
        model = model_for(CREATED_VIEWS, ctx.principal, "webhooks")
        return model.model_validate(
            {**present(endpoint, ctx.principal).model_dump(), "secret": secret}
        )

    return await run_mutation(
        request,
        ctx,
        lambda s: webhooks.create_endpoint(s, ctx=ctx, url=body.url, seller_id=body.seller_id),
        render,
        status_code=201,
    )


@router.get("/webhooks", **access.views(WEBHOOK_VIEWS, array=True))
async def list_webhooks(principal: PrincipalDep, session: ReadSession) -> list[WebhookView]:
    """The caller's endpoints (never their secrets); operators see every one."""
    rows = await webhooks.list_endpoints(session, principal=principal)
    return [present(e, principal) for e in rows]


@router.post("/webhooks/{webhook_id}/disable", **access.views(WEBHOOK_VIEWS))
async def disable_webhook(webhook_id: str, request: Request, ctx: CtxDep) -> Response:
    """Stop sending to an endpoint."""

    async def render(_: AsyncSession, endpoint: WebhookEndpoint) -> WebhookView:
        return present(endpoint, ctx.principal)

    return await run_mutation(
        request, ctx, lambda s: webhooks.disable(s, ctx=ctx, endpoint_id=webhook_id), render
    )


@router.get("/webhooks/{webhook_id}/deliveries", response_model=list[DeliveryRead], **OWNERS)
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

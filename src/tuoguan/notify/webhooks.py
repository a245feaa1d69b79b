"""Signed webhooks: every notification, POSTed to the endpoints of the audience it is for
(the seller it concerns, the operators, or the storefront: ``Audience``).

Delivery is an outbox: the worker hands each new notification to the
endpoints (one delivery row each), then claims due deliveries, POSTs them
outside any transaction and records the outcome, retrying with backoff.
Receivers check ``Tuoguan-Signature: t=<unix>,v1=<hex>`` where v1 is
HMAC-SHA256(secret, "<t>.<body>"), and may drop repeats by ``Tuoguan-Delivery``.

A webhook URL is a URL the server calls, so it may not point inside
(``kit/outbound.py``): refused when it is registered, and refused again after
DNS at each delivery. Deliveries follow no redirects, and what the receiver
answers is kept only as a status code and a short reason: the seller never
sees a response body.

The storefront (``Role.buyer_channel``) keeps endpoints of its own (no seller, audience
``storefront``): they hear only what is said to the buyer (``notify.service.tell_storefront``),
in the buyer's language, and no seller sees them.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus

import httpx
from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.errors import Forbidden, InvalidInput, NotFound
from tuoguan.kit import i18n, outbound
from tuoguan.kit.ids import new_id
from tuoguan.kit.keyset import Keyset
from tuoguan.kit.signing import sign
from tuoguan.notify.models import (
    Audience,
    DeliveryStatus,
    Notification,
    WebhookDelivery,
    WebhookEndpoint,
)
from tuoguan.principal import Principal, Role

BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
LEASE = timedelta(minutes=2)  # a claimed delivery is retried by anyone after this
TIMEOUT_SECONDS = 5.0  # connect, and each read and write
# The whole delivery, however the receiver dribbles its answer: httpx's timeouts are per read.
TOTAL_SECONDS = 10.0
MAX_ENDPOINTS = 5


def _owner(principal: Principal, seller_id: str | None) -> tuple[Audience, str | None]:
    """Whose endpoint a caller registers: a seller its own, the storefront its own, operators
    the platform's or (naming one) a seller's."""
    if principal.role is Role.seller and principal.seller_id:
        if seller_id not in (None, principal.seller_id):
            raise NotFound(f"seller {seller_id} not found", field="seller_id")
        return Audience.seller, principal.seller_id
    if principal.role is Role.buyer_channel:
        if seller_id is not None:  # no seller is the storefront's to name
            raise NotFound(f"seller {seller_id} not found", field="seller_id")
        return Audience.storefront, None
    if principal.role is Role.operator:
        return (Audience.platform, None) if seller_id is None else (Audience.seller, seller_id)
    raise Forbidden("this role cannot manage webhooks")


def _owned_by(audience: Audience, seller_id: str | None) -> ColumnElement[bool]:
    """The endpoints of one owner: a seller's (``ix_webhook_endpoints_seller``), the
    operators' or the storefront's."""
    if seller_id is not None:
        return WebhookEndpoint.seller_id == seller_id
    return (WebhookEndpoint.seller_id.is_(None)) & (WebhookEndpoint.audience == audience)


async def create_endpoint(
    session: AsyncSession, *, ctx: Ctx, url: str, seller_id: str | None = None
) -> tuple[WebhookEndpoint, str]:
    """Subscribe a URL; returns the endpoint and its signing secret (shown this once)."""
    audience, owner = _owner(ctx.principal, seller_id)
    try:
        outbound.check_url(url, outbound.OutboundPolicy.of(ctx.settings))
    except outbound.OutboundRefused as exc:
        raise InvalidInput(
            f"webhook URL refused: {exc.reason}", field="url", rule=exc.rule
        ) from exc
    existing = await session.scalars(
        select(WebhookEndpoint.id).where(
            _owned_by(audience, owner), WebhookEndpoint.active.is_(True)
        )
    )
    if len(list(existing)) >= MAX_ENDPOINTS:
        raise InvalidInput(
            f"at most {MAX_ENDPOINTS} active endpoints", field="url", rule="max_endpoints"
        )
    secret = f"whsec_{secrets.token_hex(24)}"
    endpoint = WebhookEndpoint(
        id=new_id("webhook"),
        seller_id=owner,
        audience=audience,
        url=url,
        secret=secret,
        active=True,
        created_at=ctx.clock.now(),
    )
    session.add(endpoint)
    audit.record(
        session,
        ctx=ctx,
        subject_type="webhook",
        subject_id=endpoint.id,
        action="create",
        data={"url": url},
    )
    await session.flush()
    return endpoint, secret


def _visible(principal: Principal) -> Select[WebhookEndpoint]:
    query = select(WebhookEndpoint)
    if principal.role is Role.operator:
        return query
    if principal.role is Role.seller and principal.seller_id:
        return query.where(WebhookEndpoint.seller_id == principal.seller_id)
    if principal.role is Role.buyer_channel:
        return query.where(_owned_by(Audience.storefront, None))
    raise Forbidden("this role cannot manage webhooks")


async def list_endpoints(session: AsyncSession, *, principal: Principal) -> list[WebhookEndpoint]:
    """The principal's endpoints (operators: all, the storefront's too)."""
    return list(await session.scalars(_visible(principal).order_by(WebhookEndpoint.id)))


async def get_endpoint(
    session: AsyncSession, *, principal: Principal, endpoint_id: str
) -> WebhookEndpoint:
    """One endpoint the principal may see."""
    found = await session.scalar(_visible(principal).where(WebhookEndpoint.id == endpoint_id))
    if found is None:
        raise NotFound(f"webhook {endpoint_id} not found", field="webhook_id")
    return found


async def disable(session: AsyncSession, *, ctx: Ctx, endpoint_id: str) -> WebhookEndpoint:
    """Stop sending to an endpoint (its pending deliveries are dropped as they come due)."""
    endpoint = await get_endpoint(session, principal=ctx.principal, endpoint_id=endpoint_id)
    if endpoint.active:
        endpoint.active = False
        audit.record(
            session, ctx=ctx, subject_type="webhook", subject_id=endpoint.id, action="disable"
        )
    return endpoint


DELIVERIES_NEWEST = Keyset(
    (WebhookDelivery.created_at, WebhookDelivery.id), ("instant", "id"), descending=True
)


async def deliveries(
    session: AsyncSession,
    *,
    principal: Principal,
    endpoint_id: str,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[WebhookDelivery], str | None]:
    """An endpoint's deliveries, newest first, and the next page's cursor
    (``ix_webhook_deliveries_endpoint``: endpoint, created_at, id)."""
    await get_endpoint(session, principal=principal, endpoint_id=endpoint_id)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    return await DELIVERIES_NEWEST.page(session, [query], cursor=cursor, limit=limit)


async def fan_out(session: AsyncSession, *, now: datetime, limit: int, skip_locked: bool) -> int:
    """Give each new notification one delivery per active endpoint of its audience: its
    seller's, the operators' or the storefront's."""
    query = (
        select(Notification)
        .where(Notification.fanned_out_at.is_(None))
        .order_by(Notification.created_at)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    notes = list(await session.scalars(query))
    endpoints: dict[tuple[Audience, str | None], list[WebhookEndpoint]] = {}
    for note in notes:
        owner = (note.audience, note.seller_id)
        if owner not in endpoints:
            endpoints[owner] = list(
                await session.scalars(
                    select(WebhookEndpoint).where(
                        _owned_by(*owner), WebhookEndpoint.active.is_(True)
                    )
                )
            )
        for endpoint in endpoints[owner]:
            session.add(
                WebhookDelivery(
                    id=new_id("delivery"),
                    endpoint_id=endpoint.id,
                    notification_id=note.id,
                    status=DeliveryStatus.pending,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        note.fanned_out_at = now
    return len(notes)


@dataclass(frozen=True)
class Outgoing:
    """A claimed delivery, ready to send without holding any database lock."""

    delivery_id: str
    url: str
    body: bytes
    signature: str


def payload(note: Notification) -> bytes:
    """The JSON body a receiver gets: the message in English, or for the storefront in the
    buyer's language (the ``locale`` its ``data`` names)."""
    lang = "en"
    if note.audience is Audience.storefront:
        lang = str(note.data.get("locale") or "en")
    return json.dumps(
        {
            "id": note.id,
            "kind": note.kind,
            "audience": note.audience.value,
            "seller_id": note.seller_id,
            "subject_type": note.subject_type,
            "subject_id": note.subject_id,
            "message_key": note.message_key,
            "params": note.params,
            "message": i18n.render(note.message_key, note.params, lang),
            "data": note.data,
            "created_at": note.created_at.isoformat(),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


async def claim(
    session: AsyncSession, *, now: datetime, limit: int, skip_locked: bool
) -> list[Outgoing]:
    """Take due deliveries for this worker for LEASE; the caller commits, then sends."""
    query = (
        select(WebhookDelivery, WebhookEndpoint, Notification)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .join(Notification, Notification.id == WebhookDelivery.notification_id)
        .where(
            WebhookDelivery.status == DeliveryStatus.pending, WebhookDelivery.next_attempt_at <= now
        )
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(of=WebhookDelivery, skip_locked=True)
    claimed = []
    for delivery, endpoint, note in await session.execute(query):
        if not endpoint.active:
            delivery.status = DeliveryStatus.failed
            delivery.last_error = "endpoint disabled"
            continue
        delivery.next_attempt_at = now + LEASE
        body = payload(note)
        claimed.append(
            Outgoing(
                delivery.id, endpoint.url, body, sign(endpoint.secret, int(now.timestamp()), body)
            )
        )
    return claimed


def _reason(status_code: int) -> str | None:
    """A short account of a receiver's answer: never its body, nor its own reason phrase."""
    if 200 <= status_code < 300:
        return None
    if 300 <= status_code < 400:
        return "redirect not followed"
    try:
        return f"HTTP {status_code} {HTTPStatus(status_code).phrase}"
    except ValueError:
        return f"HTTP {status_code}"


def _failure(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc.__cause__, outbound.Unresolvable):
        return "host name not found"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    return "request failed"


async def send(client: outbound.GuardedClient, outgoing: Outgoing) -> tuple[int | None, str | None]:
    """POST one delivery; the status code and a short reason, never the answer's body.

    The delivery has ``TOTAL_SECONDS`` in all: a receiver that sends its answer a
    byte at a time cannot keep the worker waiting.
    """
    try:
        async with asyncio.timeout(TOTAL_SECONDS):
            return await _post(client, outgoing)
    except TimeoutError:
        return None, "timed out"


async def _post(
    client: outbound.GuardedClient, outgoing: Outgoing
) -> tuple[int | None, str | None]:
    try:
        async with client.stream(
            "POST",
            outgoing.url,
            content=outgoing.body,
            headers={
                "Content-Type": "application/json",
                "Tuoguan-Signature": outgoing.signature,
                "Tuoguan-Delivery": outgoing.delivery_id,
            },
            timeout=TIMEOUT_SECONDS,
        ) as response:
            return response.status_code, _reason(response.status_code)
    except outbound.OutboundRefused as exc:  # nothing was sent
        return None, f"refused: {exc.reason}"
    except httpx.HTTPError as exc:
        return None, _failure(exc)


def client(settings: Settings) -> outbound.GuardedClient:
    """The client deliveries go through: checked after DNS, pinned, no redirects."""
    return outbound.GuardedClient(outbound.OutboundPolicy.of(settings), timeout=TIMEOUT_SECONDS)


async def send_all(
    settings: Settings, claimed: list[Outgoing]
) -> list[tuple[int | None, str | None]]:
    """Send claimed deliveries concurrently; one (status code, reason) each, in order."""
    async with client(settings) as http:
        return list(await asyncio.gather(*(send(http, item) for item in claimed)))


async def record_outcome(
    session: AsyncSession,
    *,
    now: datetime,
    delivery_id: str,
    status_code: int | None,
    error: str | None,
) -> None:
    """Mark a delivery delivered, or schedule its retry, or give up after the last."""
    delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.status is not DeliveryStatus.pending:
        return
    delivery.attempts += 1
    delivery.last_status_code = status_code
    if status_code is not None and 200 <= status_code < 300:
        delivery.status = DeliveryStatus.delivered
        delivery.delivered_at = now
        delivery.last_error = None
        return
    delivery.last_error = error or f"HTTP {status_code}"
    if delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.failed
    else:
        delivery.next_attempt_at = now + BACKOFF[delivery.attempts - 1]

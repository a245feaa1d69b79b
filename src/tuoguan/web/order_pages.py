"""Console pages of orders: the list with its deadlines (O5), one order with its timeline,
shipments and claims, and the actions its state allows."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.errors import DomainError
from tuoguan.fulfilment import service as fulfilment
from tuoguan.orders import service as orders
from tuoguan.orders import views
from tuoguan.orders.repository import OrderFilter
from tuoguan.orders.schemas import ActionBody, CancelBody, ShipBody
from tuoguan.orders.states import DEADLINE_OF, OrderAction, OrderStatus
from tuoguan.shipping import cancellation, claims, printing, shipments
from tuoguan.shipping.schemas import CancelReason
from tuoguan.stores.modes import Party
from tuoguan.web.console import (
    _current,
    _db,
    _render,
    _to_login,
    _validation_message,
    checked_form,
    request_ctx,
)

router = APIRouter(include_in_schema=False)


@router.get("/console/orders", response_model=None)
async def order_list(
    request: Request,
    status_param: Annotated[str | None, Query(alias="status", max_length=40)] = None,
    sort_param: Annotated[str | None, Query(alias="sort", max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """O5: each order with its next deadline and the time left."""
    current = await _current(request)
    if current is None:
        return _to_login()
    # The filter form sends "" for "all"; anything unknown falls back to the default view.
    status = OrderStatus(status_param) if status_param in set(OrderStatus) else None
    sort = sort_param if sort_param in ("newest", "deadline") else "deadline"
    # Finished orders have no deadline running, so the deadline order would list none.
    if status is not None and status not in DEADLINE_OF:
        sort = "newest"
    user, web_session = current
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    flt = OrderFilter(statuses=(status,) if status else (), sort=sort, cursor=cursor, limit=50)
    try:
        async with _db(request).read() as session:
            rows, next_cursor = await orders.list_orders(session, principal=principal, flt=flt)
            items = await views.present_many(session, rows, principal=principal, now=now)
            labelled = await printing.printable(
                session, principal=principal, order_ids=[r.id for r in rows]
            )
    except DomainError:
        return RedirectResponse("/console/orders", status_code=303)
    next_url = None
    if next_cursor:
        params = {
            "sort": sort,
            "cursor": next_cursor,
            **({"status": status.value} if status else {}),
        }
        next_url = "/console/orders?" + urlencode(params)
    return _render(
        request,
        "orders.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "orders": items,
            "labelled": labelled,
            "status": status,
            "statuses": list(OrderStatus),
            "sort": sort,
            "next_url": next_url,
            "now": now,
        },
    )


async def _detail(
    request: Request,
    session: AsyncSession,
    user: User,
    web_session: WebSession,
    order_id: str,
    *,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    order = await orders.get_order(session, principal=principal, order_id=order_id)
    (view,) = await views.present_many(session, [order], principal=principal, now=now)
    timeline = await orders.events(session, principal=principal, order_id=order_id)
    parcels = await shipments.for_order(session, principal=principal, order_id=order_id)
    order_claims, _ = await claims.list_claims(session, principal=principal, order_id=order_id)
    # F11: the platform ships from its warehouse; the seller sees its progress, not the buyer.
    flow = await fulfilment.fulfilment_orders(session, principal=principal, order_id=order_id)
    platform = next((fo for fo in flow if fo.shipper is Party.platform), None)
    return _render(
        request,
        "order.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "order": view,
            "events": timeline,
            "shipments": [shipments.present(p, principal) for p in parcels],
            "cancel_reasons": list(CancelReason),
            "claims": order_claims,
            "claimable": {k.value: [s.value for s in v] for k, v in claims.CLAIMABLE.items()},
            "platform_flow": platform,
            "message": message,
            "error": error,
            "now": now,
        },
        status_code,
    )


@router.get("/console/orders/{order_id}", response_model=None)
async def order_detail(
    request: Request, order_id: str, done: Annotated[str | None, Query(max_length=40)] = None
) -> Response:
    """One order: fields, deadlines, timeline and the actions its state allows."""
    current = await _current(request)
    if current is None:
        return _to_login()
    try:
        async with _db(request).read() as session:
            return await _detail(
                request, session, *current, order_id, message="done" if done else None
            )
    except DomainError as exc:
        return _render(
            request,
            "error.html",
            {"user": current[0], "csrf": current[1].csrf_token, "error": exc.detail},
            exc.http_status,
        )


def _action_body(action: OrderAction, form: dict[str, str]) -> Any:
    if action is OrderAction.ship:
        return ShipBody(
            carrier_code=form.get("carrier_code", "").strip().lower(),
            tracking_number=form.get("tracking_number", "").strip().upper(),
        )
    if action is OrderAction.cancel:
        return CancelBody(reason=form.get("reason", ""))
    reason = form.get("reason", "").strip()
    return ActionBody(reason=reason or None)


@router.post("/console/orders/{order_id}/{action}", response_model=None)
async def order_action(request: Request, order_id: str, action: str) -> Response:
    """Run one order action from the console (CSRF-checked), then show the order again."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    ctx = request_ctx(request, user)
    error: str | None = None
    status_code = 200
    try:
        kind = OrderAction(action)
        body = _action_body(kind, form)
        async with _db(request).write() as session:
            if kind is OrderAction.cancel:
                # O4 with F10: a booked parcel is voided by the carrier before the order ends.
                await cancellation.cancel_order(session, ctx=ctx, order_id=order_id, body=body)
            else:
                await orders.act(session, ctx=ctx, order_id=order_id, action=kind, body=body)
            await session.commit()
        return RedirectResponse(f"/console/orders/{order_id}?done={kind.value}", status_code=303)
    except ValueError as exc:
        error = _validation_message(exc)
        status_code = 422
    except DomainError as exc:
        error, status_code = exc.detail, exc.http_status
    try:
        async with _db(request).read() as session:
            return await _detail(
                request, session, user, web_session, order_id, error=error, status_code=status_code
            )
    except DomainError as exc:
        return _render(
            request,
            "error.html",
            {"user": user, "csrf": web_session.csrf_token, "error": exc.detail},
            exc.http_status,
        )

"""Warehouse staff's pick list (F11): the orders to take off the shelves, soonest ship deadline
first, and "picked" (拣货). Pages under /console/warehouse/, like receiving."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.errors import DomainError
from tuoguan.fulfilment import picking
from tuoguan.inventory import warehouses as places
from tuoguan.kit.clock import as_utc
from tuoguan.web.console import (
    WAREHOUSE_HOME,
    _current,
    _db,
    _render,
    _to_login,
    home_for,
    request_ctx,
)
from tuoguan.web.stock_pages import (
    OPERATOR_ZONE,
    error_page,
    refusal,
    say,
    span,
    warehouses_by_id,
)
from tuoguan.web.warehouse_pages import _checked_receiver, _receiver

router = APIRouter(include_in_schema=False)
PICK_LIST = f"{WAREHOUSE_HOME}/pick-list"


async def _pick_page(
    request: Request,
    user: User,
    web_session: WebSession,
    warehouse: str | None,
    *,
    cursor: str | None = None,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    try:
        async with _db(request).read() as session:
            if user.role.value == "operator":
                choices, _ = await places.list_warehouses(session, principal=principal, limit=200)
            else:
                found = await warehouses_by_id(session, principal.warehouse_ids)
                choices = [found[w] for w in principal.warehouse_ids if w in found]
            warehouse_id = warehouse or (choices[0].id if choices else "")
            rows, next_cursor = await picking.pick_list(
                session, principal=principal, warehouse_id=warehouse_id, cursor=cursor, limit=50
            )
            shown = await picking.present(session, rows)
            place = await picking.warehouse_for(
                session, principal=principal, warehouse_id=warehouse_id
            )
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    zone = OPERATOR_ZONE if user.role.value == "operator" else place.timezone
    return _render(
        request,
        "pick_list.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "items": shown,
            "choices": choices,
            "warehouse": place,
            "zone": zone,
            "left": {
                o.id: span(int((as_utc(o.ship_by) - now).total_seconds())) if o.ship_by else None
                for o in shown
            },
            "message": message,
            "error": error,
            "next_url": next_cursor
            and f"{PICK_LIST}?" + urlencode({"warehouse": place.id, "cursor": next_cursor}),
        },
        status_code,
    )


@router.get(PICK_LIST, response_model=None)
async def pick_list(
    request: Request,
    warehouse: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    picked: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    """F11: the warehouse's pick list, the soonest ship deadline first, with what to take."""
    current = await _current(request)
    if current is None:
        return _to_login()
    if not _receiver(current[0]):
        return RedirectResponse(home_for(current[0]), status_code=303)
    message = say(request, "pick_done_message") if picked else None
    return await _pick_page(request, *current, warehouse, cursor=cursor, message=message)


@router.post(PICK_LIST + "/{fulfilment_order_id}/pick", response_model=None)
async def pick(request: Request, fulfilment_order_id: str) -> Response:
    """The goods of one order are off the shelf (拣货): to the packing bench."""
    checked = await _checked_receiver(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    warehouse = form.get("warehouse") or None
    try:
        async with _db(request).write() as session:
            await picking.pick(
                session, ctx=request_ctx(request, user), fulfilment_order_id=fulfilment_order_id
            )
            await session.commit()
    except DomainError as exc:
        return await _pick_page(
            request,
            user,
            web_session,
            warehouse,
            error=refusal(request, exc),
            status_code=exc.http_status,
        )
    query = urlencode({**({"warehouse": warehouse} if warehouse else {}), "picked": "1"})
    return RedirectResponse(f"{PICK_LIST}?{query}", status_code=303)

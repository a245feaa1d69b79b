"""Console pages of a full-managed seller's supply: supply orders (备货单) to confirm within
24 hours (O2 × M5), and inbound notices (ASN, 入库单) with their carton labels (R1). Operators
read both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.errors import BadRequest, DomainError
from tuoguan.fulfilment import inbound_reads, service, supply
from tuoguan.fulfilment.models import SupplyOrder, SupplyStatus
from tuoguan.inventory.models import Warehouse
from tuoguan.kit.i18n import N_
from tuoguan.orders import views
from tuoguan.principal import Role
from tuoguan.shipping.shipment_schemas import CancelReason
from tuoguan.web import words
from tuoguan.web.console import (
    _current,
    _db,
    _render,
    _to_login,
    checked_form,
    request_ctx,
    request_language,
)
from tuoguan.web.stock_pages import (
    OPERATOR_ZONE,
    SkuName,
    error_page,
    photo_url,
    refusal,
    say,
    sku_names,
    span,
    warehouses_by_id,
)

router = APIRouter(include_in_schema=False)
WAITING = (SupplyStatus.awaiting_confirmation,)
LATER = (
    SupplyStatus.confirmed,
    SupplyStatus.in_transit,
    SupplyStatus.received,
    SupplyStatus.cancelled,
)


# Why a supply order was cancelled, when the system (not a person) said it: the words for it.
# A buyer's or an operator's own reason is shown as they wrote it.
SYSTEM_REASONS = {
    "served from stock that reached the warehouse before it was confirmed": N_(
        "supply_cancel_served_from_stock"
    ),
}


@dataclass(frozen=True)
class SupplyShown:
    """A supply order as the page shows it: its reason for a cancellation in words."""

    id: str
    order_id: str
    store_id: str
    warehouse_id: str
    status: SupplyStatus
    currency: str
    confirm_by: datetime
    cancel_reason: str | None


@dataclass(frozen=True)
class SupplyItem:
    """A supply order as a person reads it: names, local confirm-by and the time left."""

    order: SupplyShown
    lines: list[tuple[SkuName | None, int, int | None]]  # name, quantity, supply price
    warehouse: Warehouse | None
    zone: str  # the zone its times read in
    confirm_by: Markup
    left: dict[str, Any] | None  # while it awaits confirmation
    value_minor: int | None


def zone_of(user: User, zones: dict[str, str], store_id: str) -> str:
    return OPERATOR_ZONE if user.role is Role.operator else zones.get(store_id, OPERATOR_ZONE)


def reason_words(request: Request, reason: str | None) -> str | None:
    """A cancellation's reason in the reader's language: the system's and the console's
    reasons by their words, a person's own as written."""
    if not reason:
        return None
    key = SYSTEM_REASONS.get(reason) or (
        f"cancel_{reason}" if reason in set(CancelReason) else None
    )
    return say(request, key) if key else reason


async def supply_items(
    session: AsyncSession, request: Request, user: User, rows: list[SupplyOrder]
) -> list[SupplyItem]:
    now = request.app.state.clock.now()
    moment = words.helpers(request_language(request), now)["moment"]
    names = await sku_names(session, [line.sku_id for row in rows for line in row.lines])
    found = await warehouses_by_id(session, [row.warehouse_id for row in rows])
    zones = await views.store_zones(session, {row.store_id for row in rows})
    items = []
    for row in rows:
        prices = [line.supply_price_minor for line in row.lines]
        left = service.confirm_seconds_left(row, now)
        zone = zone_of(user, zones, row.store_id)
        items.append(
            SupplyItem(
                order=SupplyShown(
                    id=row.id,
                    order_id=row.order_id,
                    store_id=row.store_id,
                    warehouse_id=row.warehouse_id,
                    status=row.status,
                    currency=row.currency,
                    confirm_by=row.confirm_by,
                    cancel_reason=reason_words(request, row.cancel_reason),
                ),
                lines=[
                    (names.get(line.sku_id), line.quantity, line.supply_price_minor)
                    for line in row.lines
                ],
                warehouse=found.get(row.warehouse_id),
                zone=zone,
                confirm_by=moment(row.confirm_by, zone),
                left=span(left) if left is not None else None,
                value_minor=None
                if any(p is None for p in prices)
                else sum((line.supply_price_minor or 0) * line.quantity for line in row.lines),
            )
        )
    return items


# -- supply orders ----------------------------------------------------------------------------


@router.get("/console/supply-orders", response_model=None)
async def supply_list(
    request: Request,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """O2 × M5: supply orders to confirm first, most urgent first, each with its 24 h; then
    the confirmed, in transit, received and cancelled ones, newest first."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    principal = accounts.principal_for_user(user)
    try:
        async with _db(request).read() as session:
            waiting: list[SupplyOrder] = []
            if cursor is None:
                waiting, _ = await supply.list_supply_orders(
                    session, principal=principal, statuses=WAITING, limit=200
                )
            later, next_cursor = await supply.list_supply_orders(
                session, principal=principal, statuses=LATER, cursor=cursor, limit=50
            )
            to_confirm = await supply_items(session, request, user, waiting)
            others = await supply_items(session, request, user, later)
    except BadRequest:
        return RedirectResponse("/console/supply-orders", status_code=303)
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    to_confirm.sort(key=lambda item: item.order.confirm_by)
    return _render(
        request,
        "supply_orders.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "to_confirm": to_confirm,
            "others": others,
            "message": "supply_confirmed_message" if done == "confirmed" else None,
            "next_url": next_cursor
            and "/console/supply-orders?" + urlencode({"cursor": next_cursor}),
        },
    )


async def _supply_page(
    request: Request,
    user: User,
    web_session: WebSession,
    supply_order_id: str,
    *,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    principal = accounts.principal_for_user(user)
    try:
        async with _db(request).read() as session:
            found = await service.get_supply_order(
                session, principal=principal, supply_order_id=supply_order_id
            )
            (item,) = await supply_items(session, request, user, [found])
            notices, _ = await inbound_reads.list_notices(
                session, principal=principal, store_id=found.store_id, limit=50
            )
            answering = [n for n in notices if n.supply_order_id == found.id]
            shown = await inbound_reads.present(
                session, principal=principal, notices=answering, photo_url=photo_url
            )
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    return _render(
        request,
        "supply_order.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "item": item,
            "notices": shown,
            "message": message,
            "error": error,
        },
        status_code,
    )


@router.get("/console/supply-orders/{supply_order_id}", response_model=None)
async def supply_detail(
    request: Request,
    supply_order_id: str,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """One supply order: its lines, the time left to confirm, the notices that answer it."""
    current = await _current(request)
    if current is None:
        return _to_login()
    message = "supply_confirmed_message" if done == "confirmed" else None
    return await _supply_page(request, *current, supply_order_id, message=message)


@router.post("/console/supply-orders/{supply_order_id}/confirm", response_model=None)
async def confirm(request: Request, supply_order_id: str) -> Response:
    """O2: the seller confirms (确认接单) a supply order, which confirms its buyer order."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, _ = checked
    try:
        async with _db(request).write() as session:
            await supply.confirm_supply_order(
                session, ctx=request_ctx(request, user), supply_order_id=supply_order_id
            )
            await session.commit()
    except DomainError as exc:
        return await _supply_page(
            request,
            user,
            web_session,
            supply_order_id,
            error=refusal(request, exc),
            status_code=exc.http_status,
        )
    return RedirectResponse(
        f"/console/supply-orders/{supply_order_id}?done=confirmed", status_code=303
    )


# -- inbound notices --------------------------------------------------------------------------

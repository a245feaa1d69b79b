"""Console pages of stock (M5) and the operators' stale-inbound report (R4), and what the other
fulfilment pages share: names for the ids the services return, local times, time left and the
refusals said in the reader's language."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User
from tuoguan.catalog.models import Product, Sku
from tuoguan.errors import BadRequest, DomainError
from tuoguan.fulfilment import inbound_reads
from tuoguan.inventory import repository as inventory
from tuoguan.inventory import service as stock
from tuoguan.inventory import warehouses as places
from tuoguan.inventory.models import Warehouse
from tuoguan.principal import Role
from tuoguan.stores.models import Store
from tuoguan.web.console import _current, _db, _render, _to_login, request_language
from tuoguan.web.i18n import translator

router = APIRouter(include_in_schema=False)
# Operators work from the marketplace's home (China): their times are shown in its zone.
OPERATOR_ZONE = "Asia/Shanghai"
PAGE_SIZE = 100
STALE_DAYS = (3, 7, 14, 30)

# A refusal's rule (or error code) as the message key that explains it; {code}, {expected}
# and {counted} come from the refusal or the form. Rules not listed read by their error code
# (CODE_MESSAGES).
RULE_MESSAGES = {
    "sku_not_on_notice": "err_sku_not_on_notice",
    "over_receipt_needs_discrepancy": "err_over_receipt",
    "sku_on_notice": "err_sku_on_notice",
    "not_over_expected": "err_not_over",
    "count_positive": "err_quantity",
    "photo_type": "err_photo_type",
    "photo_max_bytes": "err_photo_size",
    "photo_not_empty": "err_photo_empty",
    "max_photos": "err_max_photos",
    "state_allows_photos": "err_state",
    "state_allows_action": "err_state",
    "illegal_transition": "err_state",
    "order_cancelled": "err_order_cancelled",
    "required_to_send": "err_carrier_required",
    "store_sku": "err_store_sku",
    "sku_once": "err_sku_once",
    "not_your_warehouse": "err_not_your_warehouse",
    "warehouse_active": "err_warehouse_inactive",
    "supply_not_confirmed": "err_supply_not_confirmed",
    "store_open": "err_store_closed",
    "concurrent_update": "err_concurrent",
    "busy": "err_busy",
    "not_found": "err_not_found",
    "forbidden": "err_forbidden",
    "state_allows_labels": "err_state",
    "role_allows_action": "err_forbidden",
    "supply_order_of_store": "err_supply_order_mismatch",
    "supply_order_warehouse": "err_supply_order_mismatch",
    "supply_order_sku": "err_supply_order_sku",
    "known_warehouse": "err_pick_warehouse",
    "seller_ships": "err_seller_ships",
    "sku_code_agree": "err_sku_not_on_notice",
    "short_recorded_at_close": "err_short_at_close",
}


# A refusal whose rule is not listed, by its error code: what kind of refusal it is.
CODE_MESSAGES = {
    "not_found": "err_not_found",
    "forbidden": "err_forbidden",
    "unauthorized": "err_forbidden",
    "illegal_transition": "err_state",
    "concurrent_update": "err_concurrent",
    "conflict": "err_state",
    "busy": "err_busy",
    "invalid_input": "err_form",
    "bad_request": "err_form",
}


class _Parts(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def say(request: Request, key: str, **parts: Any) -> str:
    """A message in the reader's language, its {placeholders} filled (a missing one: empty)."""
    text: str = translator(request_language(request))(key)
    return text.format_map(_Parts(parts))


def refusal(request: Request, exc: DomainError, **parts: Any) -> str:
    """Why the service refused, in the reader's language: by its rule where the rule is known,
    else by the kind of refusal (never the service's English text)."""
    key = RULE_MESSAGES.get(str(exc.extra.get("rule") or exc.code)) or CODE_MESSAGES.get(
        exc.code, "err_refused"
    )
    known = {k: v for k, v in exc.extra.items() if isinstance(v, int | str)}
    return say(request, key, **{**known, **parts})


def span(seconds: int) -> dict[str, Any]:
    """Time left (or past) as an i18n key and its numbers, as ``sla_pages`` shows it."""
    minutes = abs(seconds) // 60
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    key = "left_days" if days else "left_hours" if hours else "left_minutes"
    return {"key": key, "parts": {"d": days, "h": hours, "m": mins}, "overdue": seconds < 0}


def viewer_zone(user: User) -> str | None:
    """The zone a user reads times in when it is not the object's own (operators: China)."""
    return OPERATOR_ZONE if user.role is Role.operator else None


async def reader_zone(session: AsyncSession, user: User) -> str:
    """The zone a user reads times that belong to no store or warehouse in (when an export
    started): operators China's, staff their warehouse's, a seller its first store's."""
    if user.role is Role.warehouse and user.warehouse_ids:
        found = await inventory.get_warehouse(session, user.warehouse_ids[0])
        return found.timezone if found is not None else OPERATOR_ZONE
    if user.role is Role.seller and user.seller_id:
        zone = await session.scalar(
            select(Store.timezone).where(Store.seller_id == user.seller_id).order_by(Store.id)
        )
        return zone or OPERATOR_ZONE
    return OPERATOR_ZONE


@dataclass(frozen=True)
class SkuName:
    """A SKU as people know it: the product's name, its attributes, the seller's code."""

    sku_id: str
    product: str
    attributes: str
    code: str
    barcode: str | None
    store_id: str
    store: str

    @property
    def label(self) -> str:
        return " · ".join(part for part in (self.product, self.attributes) if part)


async def sku_names(session: AsyncSession, sku_ids: Iterable[str]) -> dict[str, SkuName]:
    """Names for SKU ids, in one query (the catalogue has no read of SKUs with their products)."""
    wanted = sorted(set(sku_ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(Sku, Product.name, Store.name)
        .join(Product, Product.id == Sku.product_id)
        .join(Store, Store.id == Sku.store_id)
        .where(Sku.id.in_(wanted))
    )
    return {
        sku.id: SkuName(
            sku_id=sku.id,
            product=product,
            attributes=" / ".join(str(v) for v in (sku.attributes or {}).values()),
            code=sku.code,
            barcode=sku.barcode,
            store_id=sku.store_id,
            store=store,
        )
        for sku, product, store in rows
    }


async def warehouses_by_id(
    session: AsyncSession, ids: Iterable[str | None]
) -> dict[str, Warehouse]:
    """Warehouses by id, for their names and time zones."""
    found = {}
    for warehouse_id in sorted({i for i in ids if i}):
        warehouse = await inventory.get_warehouse(session, warehouse_id)
        if warehouse is not None:
            found[warehouse_id] = warehouse
    return found


def error_page(request: Request, user: User, csrf: str, exc: DomainError) -> Response:
    """A refusal as the console's error page, with its HTTP status."""
    page = {"user": user, "csrf": csrf, "error": refusal(request, exc)}
    return _render(request, "error.html", page, exc.http_status)


# -- stock ------------------------------------------------------------------------------------


@router.get("/console/stock", response_model=None)
async def stock_page(
    request: Request,
    warehouse: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """M5: stock per warehouse and SKU (a seller its own SKUs; operators every warehouse's),
    filtered by warehouse."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    principal = accounts.principal_for_user(user)
    warehouse_id = warehouse or None
    try:
        async with _db(request).read() as session:
            choices, _ = await places.list_warehouses(session, principal=principal, limit=200)
            rows, next_cursor = await stock.list_stock(
                session,
                principal=principal,
                warehouse_id=warehouse_id,
                cursor=cursor,
                limit=PAGE_SIZE,
            )
            names = await sku_names(session, [row.sku_id for row in rows])
            places_by_id = await warehouses_by_id(session, [row.warehouse_id for row in rows])
    except BadRequest:  # a cursor that is not ours: start again from the first page
        return RedirectResponse("/console/stock", status_code=303)
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    params = {**({"warehouse": warehouse_id} if warehouse_id else {})}
    return _render(
        request,
        "stock.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "rows": rows,
            "names": names,
            "places": places_by_id,
            "choices": choices,
            "warehouse": warehouse_id,
            "next_url": next_cursor
            and "/console/stock?" + urlencode({**params, "cursor": next_cursor}),
        },
    )


# -- R4: stale inbound ------------------------------------------------------------------------


@router.get("/console/stale-inbound", response_model=None)
async def stale_inbound(
    request: Request,
    days: Annotated[int, Query(ge=1, le=365)] = 7,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """R4 for operators: inbound notices shipped more than ``days`` ago and not arrived, by
    seller and by carrier, then the notices, oldest first."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    try:
        async with _db(request).read() as session:
            report = await inbound_reads.stale_inbound(
                session, principal=principal, now=now, days=days, cursor=cursor, limit=PAGE_SIZE
            )
            places_by_id = await warehouses_by_id(session, [r.warehouse_id for r in report.rows])
    except BadRequest:
        return RedirectResponse("/console/stale-inbound", status_code=303)
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    sellers = {group.seller_id: group.seller_name for group in report.by_seller}
    return _render(
        request,
        "stale_inbound.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "report": report,
            "sellers": sellers,
            "places": places_by_id,
            "days": days,
            "choices": sorted({*STALE_DAYS, days}),
            "zone": OPERATOR_ZONE,
            "next_url": report.next_cursor
            and "/console/stale-inbound?" + urlencode({"days": days, "cursor": report.next_cursor}),
        },
    )


def photo_url(notice_id: str, discrepancy_id: str, n: int) -> str:
    """Where the console serves a discrepancy's photo to the notice's seller and operators."""
    return f"/console/inbound/{notice_id}/photos/{discrepancy_id}/{n}"

"""The seller's inbound notices (ASN, R1): list, new, send, carton labels, discrepancy photos."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.catalog import service as catalog
from tuoguan.errors import BadRequest, DomainError, InvalidInput
from tuoguan.fulfilment import carton_labels, discrepancies, inbound, inbound_reads, service
from tuoguan.fulfilment.inbound_schemas import (
    InboundNoticeCreate,
    InboundNoticeRead,
    InboundNoticeUpdate,
)
from tuoguan.inventory import warehouses as places
from tuoguan.orders import views
from tuoguan.principal import Principal
from tuoguan.web.console import _current, _db, _render, _to_login, checked_form, request_ctx
from tuoguan.web.stock_pages import (
    SkuName,
    error_page,
    local_time,
    photo_url,
    refusal,
    say,
    sku_names,
)
from tuoguan.web.supply_pages import supply_items, zone_of

router = APIRouter(include_in_schema=False)
FORM_LINES = 5  # SKU rows on the new-notice form
# A field the notice's schema refused, as the message key that explains it.
FIELD_MESSAGES = {
    "lines": "err_no_lines",
    "quantity": "err_quantity",
    "cartons": "err_cartons",
    "tracking_number": "err_tracking",
    "carrier_name": "err_carrier_required",
    "warehouse_id": "err_pick_warehouse",
}


def _notice_times(notice: InboundNoticeRead, zone: str) -> dict[str, str]:
    return {
        "created": local_time(notice.created_at, zone),
        "shipped": local_time(notice.shipped_at, zone),
        "arrived": local_time(notice.arrived_at, zone),
        "received": local_time(notice.received_at, zone),
    }


async def _zones(session: AsyncSession, user: User, notices: list[InboundNoticeRead]) -> Any:
    zones = await views.store_zones(session, {n.store_id for n in notices})
    return {n.id: _notice_times(n, zone_of(user, zones, n.store_id)) for n in notices}


@router.get("/console/inbound", response_model=None)
async def inbound_list(
    request: Request, cursor: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    """R1: inbound notices, newest first (a seller its own; operators all)."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    principal = accounts.principal_for_user(user)
    try:
        async with _db(request).read() as session:
            rows, next_cursor = await inbound_reads.list_notices(
                session, principal=principal, cursor=cursor, limit=50
            )
            shown = await inbound_reads.present(
                session, principal=principal, notices=rows, photo_url=photo_url
            )
            times = await _zones(session, user, shown)
    except BadRequest:
        return RedirectResponse("/console/inbound", status_code=303)
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    return _render(
        request,
        "inbound_notices.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "notices": shown,
            "times": times,
            "next_url": next_cursor and "/console/inbound?" + urlencode({"cursor": next_cursor}),
        },
    )


async def _sku_choices(session: AsyncSession, principal: Principal) -> list[SkuName]:
    """The seller's active SKUs, for the new-notice form."""
    products, _ = await catalog.list_products(session, principal=principal, limit=200)
    ids = [sku.id for product in products for sku in product.skus if sku.active]
    names = await sku_names(session, ids)
    return sorted(names.values(), key=lambda n: (n.store, n.product, n.attributes, n.code))


async def _new_page(
    request: Request,
    user: User,
    web_session: WebSession,
    *,
    supply_order_id: str | None,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    principal = accounts.principal_for_user(user)
    try:
        async with _db(request).read() as session:
            fixed = None
            if supply_order_id:
                found = await service.get_supply_order(
                    session, principal=principal, supply_order_id=supply_order_id
                )
                (fixed,) = await supply_items(session, user, [found], request.app.state.clock.now())
            listed, _ = await places.list_warehouses(session, principal=principal, limit=200)
            skus = await _sku_choices(session, principal)
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    values = form or {}
    if fixed is not None and form is None:
        values = {
            f"line-{i}-{part}": value
            for i, (name, quantity, _) in enumerate(fixed.lines)
            if name is not None
            for part, value in (("sku", name.sku_id), ("qty", str(quantity)))
        }
    return _render(
        request,
        "inbound_new.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "supply": fixed,
            "warehouses": [w for w in listed if w.active],
            "skus": skus,
            "rows": range(max(FORM_LINES, len(fixed.lines) if fixed else 0)),
            "form": values,
            "error": error,
        },
        status_code,
    )


@router.get("/console/inbound/new", response_model=None)
async def new_notice(
    request: Request, supply_order: Annotated[str | None, Query(max_length=40)] = None
) -> Response:
    """The form of a new inbound notice: warehouse, SKU lines, cartons; from a supply order,
    its warehouse and lines filled in."""
    current = await _current(request)
    if current is None:
        return _to_login()
    return await _new_page(request, *current, supply_order_id=supply_order or None)


class FormProblem(ValueError):
    """A form the page refuses before any service sees it; its message key says why."""


def _whole(text: str, key: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise FormProblem(key) from None


def _form_lines(form: dict[str, str]) -> list[tuple[str, int]]:
    lines = []
    for i in range(FORM_LINES * 20):
        sku = form.get(f"line-{i}-sku", "").strip()
        qty = form.get(f"line-{i}-qty", "").strip()
        if sku and qty:
            lines.append((sku, _whole(qty, "err_quantity")))
    return lines


def _schema_message(request: Request, exc: ValidationError) -> str:
    for error in exc.errors():
        for part in reversed([str(p) for p in error["loc"]]):
            if part in FIELD_MESSAGES:
                return say(request, FIELD_MESSAGES[part])
    return say(request, "err_form")


@router.post("/console/inbound", response_model=None)
async def create_notice(request: Request) -> Response:
    """Create a draft inbound notice from the form, then show it."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    supply_order_id = form.get("supply_order_id") or None
    try:
        lines = _form_lines(form)
        if not lines:
            raise FormProblem("err_no_lines")
        async with _db(request).write() as session:
            names = await sku_names(session, [sku for sku, _ in lines])
            stores = {names[sku].store_id for sku, _ in lines if sku in names}
            if len(stores) != 1:
                raise FormProblem("err_one_store")
            data = InboundNoticeCreate.model_validate(
                {
                    "store_id": stores.pop(),
                    "warehouse_id": form.get("warehouse_id", ""),
                    "lines": [{"sku_id": sku, "quantity": n} for sku, n in lines],
                    "cartons": _whole(form.get("cartons") or "1", "err_cartons"),
                    "supply_order_id": supply_order_id,
                    "carrier_name": form.get("carrier_name", "").strip() or None,
                    "tracking_number": form.get("tracking_number", "").strip() or None,
                }
            )
            notice = await inbound.create(session, ctx=request_ctx(request, user), data=data)
            await session.commit()
    except ValidationError as exc:
        error, status_code = _schema_message(request, exc), 422
    except FormProblem as exc:
        error, status_code = say(request, str(exc)), 422
    except DomainError as exc:
        error, status_code = refusal(request, exc), exc.http_status
    else:
        return RedirectResponse(f"/console/inbound/{notice.id}?done=created", status_code=303)
    return await _new_page(
        request,
        user,
        web_session,
        supply_order_id=supply_order_id,
        form=form,
        error=error,
        status_code=status_code,
    )


async def _notice_page(
    request: Request,
    user: User,
    web_session: WebSession,
    notice_id: str,
    *,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    principal = accounts.principal_for_user(user)
    try:
        async with _db(request).read() as session:
            found = await inbound.get_notice(session, principal=principal, notice_id=notice_id)
            (notice,) = await inbound_reads.present(
                session, principal=principal, notices=[found], photo_url=photo_url
            )
            times = await _zones(session, user, [notice])
            names = await sku_names(
                session, [d.sku_id for d in notice.discrepancies if d.sku_id is not None]
            )
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    return _render(
        request,
        "inbound_notice.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "notice": notice,
            "times": times[notice.id],
            "names": names,
            "message": message,
            "error": error,
        },
        status_code,
    )


@router.get("/console/inbound/{notice_id}", response_model=None)
async def notice_detail(
    request: Request, notice_id: str, done: Annotated[str | None, Query(max_length=20)] = None
) -> Response:
    """One inbound notice: lines and counts, discrepancies, and what its seller may do."""
    current = await _current(request)
    if current is None:
        return _to_login()
    message = {"created": "inbound_created", "send": "inbound_sent", "cancel": "inbound_withdrawn"}
    return await _notice_page(request, *current, notice_id, message=message.get(done or ""))


@router.post("/console/inbound/{notice_id}/{action}", response_model=None)
async def notice_action(request: Request, notice_id: str, action: str) -> Response:
    """Send a draft (with the carrier and tracking number as typed) or withdraw it."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    ctx = request_ctx(request, user)
    try:
        async with _db(request).write() as session:
            if action == "send":
                found = await inbound.get_notice(
                    session, principal=ctx.principal, notice_id=notice_id
                )
                typed = {
                    field: form.get(field, "").strip() or None
                    for field in ("carrier_name", "tracking_number")
                }
                if any(typed[f] != getattr(found, f) for f in typed):
                    update = InboundNoticeUpdate.model_validate(typed)
                    await inbound.update(session, ctx=ctx, notice_id=notice_id, data=update)
                await inbound.send(session, ctx=ctx, notice_id=notice_id)
            elif action == "cancel":
                await inbound.cancel(session, ctx=ctx, notice_id=notice_id)
            else:
                return error_page(
                    request,
                    user,
                    web_session.csrf_token,
                    InvalidInput("unknown action", field="action"),
                )
            await session.commit()
    except ValidationError as exc:
        error, status_code = _schema_message(request, exc), 422
    except DomainError as exc:
        error, status_code = refusal(request, exc), exc.http_status
    else:
        return RedirectResponse(f"/console/inbound/{notice_id}?done={action}", status_code=303)
    return await _notice_page(
        request, user, web_session, notice_id, error=error, status_code=status_code
    )


@router.get("/console/inbound/{notice_id}/labels.pdf", response_model=None)
async def labels(request: Request, notice_id: str) -> Response:
    """The carton labels (箱唛): a page per carton with the ASN's barcode, "carton n of N"."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    try:
        # Read in a session closed before drawing: a render waiting its turn holds no connection.
        async with _db(request).read() as session:
            data = await carton_labels.label_data(
                session,
                principal=accounts.principal_for_user(user),
                notice_id=notice_id,
                today=request.app.state.clock.now().date(),
            )
        pdf = await carton_labels.pdf(data)
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{data.notice_id}-cartons.pdf"'},
    )


@router.get("/console/inbound/{notice_id}/photos/{discrepancy_id}/{n}", response_model=None)
async def photo(request: Request, notice_id: str, discrepancy_id: str, n: int) -> Response:
    """A discrepancy's photo, for the notice's seller and operators."""
    current = await _current(request)
    if current is None:
        return _to_login()
    return await serve_photo(request, *current, notice_id, discrepancy_id, n)


async def serve_photo(
    request: Request,
    user: User,
    web_session: WebSession,
    notice_id: str,
    discrepancy_id: str,
    n: int,
) -> Response:
    """Photo ``n`` of a discrepancy, for whoever sees the notice."""
    try:
        async with _db(request).read() as session:
            path, content_type = await discrepancies.photo_file(
                session,
                principal=accounts.principal_for_user(user),
                upload_dir=request.app.state.settings.upload_dir,
                notice_id=notice_id,
                discrepancy_id=discrepancy_id,
                n=n,
            )
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    return FileResponse(path, media_type=content_type, headers={"Cache-Control": "private"})

"""The seller's inbound notices (ASN, R1): list, new, send, carton labels, discrepancy photos."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.cases import prevention
from tuoguan.cases import reads as case_reads
from tuoguan.cases.prevention import Check
from tuoguan.catalog import service as catalog
from tuoguan.errors import BadRequest, DomainError, InvalidInput
from tuoguan.fulfilment import carton_labels, discrepancies, inbound, inbound_reads, service
from tuoguan.fulfilment.inbound_schemas import (
    InboundNoticeCreate,
    InboundNoticeRead,
    InboundNoticeUpdate,
)
from tuoguan.fulfilment.models import InboundNotice
from tuoguan.inventory import warehouses as places
from tuoguan.orders import views
from tuoguan.principal import Principal
from tuoguan.web.console import _current, _db, _render, _to_login, checked_form, request_ctx
from tuoguan.web.forms import (
    REFUSED,
    Errors,
    FormProblem,
    line_rows,
    notice_errors,
    status_of,
    whole,
)
from tuoguan.web.stock_pages import SkuName, error_page, photo_url, sku_names
from tuoguan.web.supply_pages import supply_items, zone_of

router = APIRouter(include_in_schema=False)
FORM_LINES = 5  # SKU rows on the new-notice form
MAX_FORM_LINES = FORM_LINES * 20  # rows a form may post (a supply order's lines, say)
CREATED = "/console/inbound/{id}?done=created"


async def _zones(
    session: AsyncSession, user: User, notices: list[InboundNoticeRead]
) -> dict[str, str]:
    """The zone each notice's times read in: its store's (operators: China's)."""
    zones = await views.store_zones(session, {n.store_id for n in notices})
    return {n.id: zone_of(user, zones, n.store_id) for n in notices}


Lines = list[dict[str, Any]]  # a notice's lines as its schema takes them


async def made_notice(
    request: Request,
    user: User,
    form: dict[str, str],
    make: Callable[[AsyncSession, Lines, int], Awaitable[InboundNotice]],
    *,
    rows: int,
    ticked: bool = False,
) -> Response | tuple[Errors, int]:
    """A form's SKU lines and cartons made into a draft notice in one transaction, then the
    notice's page; else the problems, beside the form's fields, and the HTTP status."""
    placed: list[int] = []
    try:
        found = line_rows(form, rows=rows, ticked=ticked)
        placed = [row for row, _, _ in found]
        cartons = whole(form.get("cartons") or "1", "err_cartons", "cartons")
        lines = [{"sku_id": sku, "quantity": n} for _, sku, n in found]
        async with _db(request).write() as session:
            notice = await make(session, lines, cartons)
            await session.commit()
    except REFUSED as exc:
        return notice_errors(request, exc, placed), status_of(exc)
    return RedirectResponse(CREATED.format(id=notice.id), status_code=303)


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
            zones = await _zones(session, user, shown)
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
            "zones": zones,
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
    errors: Errors | None = None,
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
                (fixed,) = await supply_items(session, request, user, [found])
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
            "errors": errors or {},
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


@router.post("/console/inbound", response_model=None)
async def create_notice(request: Request) -> Response:
    """Create a draft inbound notice from the form, then show it; a refusal shows the form
    again with its problem beside the field."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    supply_order_id = form.get("supply_order_id") or None

    async def make(session: AsyncSession, lines: Lines, cartons: int) -> InboundNotice:
        names = await sku_names(session, [line["sku_id"] for line in lines])
        stores = {names[line["sku_id"]].store_id for line in lines if line["sku_id"] in names}
        if len(stores) != 1:
            raise FormProblem("err_one_store", "lines")
        data = InboundNoticeCreate.model_validate(
            {
                "store_id": stores.pop(),
                "warehouse_id": form.get("warehouse_id", ""),
                "lines": lines,
                "cartons": cartons,
                "supply_order_id": supply_order_id,
                "carrier_name": form.get("carrier_name", "").strip() or None,
                "tracking_number": form.get("tracking_number", "").strip() or None,
            }
        )
        return await inbound.create(session, ctx=request_ctx(request, user), data=data)

    done = await made_notice(request, user, form, make, rows=MAX_FORM_LINES)
    if isinstance(done, Response):
        return done
    errors, status_code = done
    return await _new_page(
        request,
        user,
        web_session,
        supply_order_id=supply_order_id,
        form=form,
        errors=errors,
        status_code=status_code,
    )


Zones = Callable[[AsyncSession, User, list[InboundNoticeRead]], Awaitable[dict[str, str]]]


async def notice_shown(
    request: Request,
    user: User,
    web_session: WebSession,
    notice_id: str,
    *,
    photo_url: Callable[[str, str, int], str],
    zones: Zones,
) -> tuple[InboundNoticeRead, dict[str, SkuName], str] | Response:
    """A notice as a page shows it (its photos served at ``photo_url``), the names of the SKUs
    its discrepancies are about and the zone its times read in; or the page of the refusal."""
    principal = accounts.principal_for_user(user)
    try:
        async with _db(request).read() as session:
            found = await inbound.get_notice(session, principal=principal, notice_id=notice_id)
            (notice,) = await inbound_reads.present(
                session, principal=principal, notices=[found], photo_url=photo_url
            )
            named = [d.sku_id for d in notice.discrepancies if d.sku_id is not None]
            names = await sku_names(session, named)
            zone = (await zones(session, user, [notice]))[notice.id]
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    return notice, names, zone


def _check_subject(check: Check, skus: dict[str, SkuName]) -> str:
    """What a pre-send check is about, as people read it: a SKU's name, a warehouse's."""
    if "sku_id" in check.data:
        named = skus.get(str(check.data["sku_id"]))
        return named.label if named else ""
    if check.check == "labels":
        return str(check.data.get("warehouse", ""))
    return ""


async def _notice_page(
    request: Request,
    user: User,
    web_session: WebSession,
    notice_id: str,
    *,
    message: str | None = None,
    errors: Errors | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    shown = await notice_shown(
        request, user, web_session, notice_id, photo_url=photo_url, zones=_zones
    )
    if isinstance(shown, Response):
        return shown
    notice, names, zone = shown
    checks: list[tuple[Check, str]] = []
    async with _db(request).read() as session:
        cases = await case_reads.by_discrepancy(session, notice.id)
        if "send" in notice.allowed_actions:  # R4: what to check before it leaves
            principal = accounts.principal_for_user(user)
            now = request.app.state.clock.now()
            found = await prevention.pre_send(
                session, principal=principal, notice_id=notice.id, now=now
            )
            skus = await sku_names(
                session, [str(c.data["sku_id"]) for c in found if "sku_id" in c.data]
            )
            checks = [(c, _check_subject(c, skus)) for c in found]
    return _render(
        request,
        "inbound_notice.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "notice": notice,
            "cases": cases,
            "checks": checks,
            "zone": zone,
            "names": names,
            "message": message,
            "errors": errors or {},
            "form": form or {},
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
    except REFUSED as exc:
        errors = notice_errors(request, exc, [])
        return await _notice_page(
            request,
            user,
            web_session,
            notice_id,
            errors=errors,
            form=form,
            status_code=status_of(exc),
        )
    return RedirectResponse(f"/console/inbound/{notice_id}?done={action}", status_code=303)


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

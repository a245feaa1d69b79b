"""The packing bench (F11, F8, C3), made for a phone and a barcode scanner that types and presses
Enter: scan each unit of a fulfilment order (the running tally travels in the form, no server
state), "Picked" checks it against the lines, then the services from the warehouse, "Ship" with
the one chosen, and the label to print. Pages under /console/warehouse/, like the pick list.

Staff act only on their warehouses' orders (the services scope them); operators may use the
screen too. Everyone else is sent home. Works without JavaScript.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.context import Ctx
from tuoguan.errors import DomainError
from tuoguan.fulfilment import picking
from tuoguan.fulfilment.models import FulfilmentStatus
from tuoguan.fulfilment.picking_schemas import MAX_SCANS, PickCreate, PickOrderRead
from tuoguan.shipping import labels, printing, warehouse_shipping
from tuoguan.shipping.shipment_schemas import ShipmentCreate
from tuoguan.timing.calendar import calendar_for
from tuoguan.web.console import (
    WAREHOUSE_HOME,
    _current,
    _db,
    _render,
    _to_login,
    home_for,
    request_ctx,
    request_language,
)
from tuoguan.web.forms import Errors, FormProblem, errors_of
from tuoguan.web.order_view import carrier_names, service_names
from tuoguan.web.stock_pages import OPERATOR_ZONE, error_page, refusal, say
from tuoguan.web.warehouse_pages import _checked_receiver, _receiver

router = APIRouter(include_in_schema=False)
PACK = f"{WAREHOUSE_HOME}/pack"
MAX_CODE = 64
# A refusal at the bench as the message key that says it; the others as stock_pages says them.
PACK_MESSAGES = {"not_picked": "pack_not_picked", "quote_changed": "pack_quote_changed"}

Tally = list[tuple[str, int]]


def _url(fulfilment_order_id: str, **notes: str) -> str:
    return f"{PACK}/{fulfilment_order_id}" + (f"?{urlencode(notes)}" if notes else "")


def _say_refusal(request: Request, exc: DomainError) -> str:
    """Why the bench's step was refused, in the reader's language."""
    rule = str(exc.extra.get("rule") or exc.code)
    if rule == "pick_mismatch":
        if "code" in exc.extra:
            return say(request, "pack_wrong_item", code=exc.extra["code"])
        parts = {k: exc.extra.get(k, "") for k in ("line", "sku_code", "expected", "scanned")}
        return say(request, "pack_count_mismatch", **parts)
    if rule == "not_picked" and exc.extra.get("current_state") == "shipped":
        return say(request, "pack_already_shipped")
    if rule in PACK_MESSAGES:
        return say(request, PACK_MESSAGES[rule])
    return refusal(request, exc)


# -- the tally ----------------------------------------------------------------------------------


def _tally(form: dict[str, str]) -> Tally:
    """The codes scanned so far, as the page posted them back: [[code, units], ...]."""
    try:
        raw = json.loads(form.get("tally") or "[]")
    except ValueError:
        return []
    found: Tally = []
    if not isinstance(raw, list):
        return found
    for entry in raw[:MAX_SCANS]:
        if (
            isinstance(entry, list)
            and len(entry) == 2
            and isinstance(entry[0], str)
            and 0 < len(entry[0].strip()) <= MAX_CODE
            and isinstance(entry[1], int)
            and 0 < entry[1] <= MAX_SCANS
        ):
            found.append((entry[0].strip(), entry[1]))
    return found


def _add(tally: Tally, code: str) -> Tally:
    """One more unit of the code: the same code (any case) counts on."""
    folded = code.casefold()
    for i, (seen, n) in enumerate(tally):
        if seen.casefold() == folded:
            return [*tally[:i], (seen, n + 1), *tally[i + 1 :]]
    return [*tally, (code, 1)]


def _line_of(order: PickOrderRead, code: str) -> int | None:
    """The index of the line a code names (its SKU id, code or barcode, any case)."""
    folded = code.casefold()
    for i, line in enumerate(order.lines):
        names = (line.sku_id, line.sku_code, line.barcode)
        if any(name and name.casefold() == folded for name in names):
            return i
    return None


def _counted(order: PickOrderRead, tally: Tally) -> list[int]:
    """Units scanned per line (a SKU on two lines counts on the first)."""
    counts = [0] * len(order.lines)
    for code, n in tally:
        i = _line_of(order, code)
        if i is not None:
            counts[i] += n
    return counts


# -- the page ----------------------------------------------------------------------------------


def _promise(today: date, country: str, low: int, high: int, lang: str) -> tuple[str, str]:
    """The delivery window as days the reader reads ("Wed, Dec 2"): business days after today
    where the parcel leaves."""
    calendar = calendar_for(country)
    locale = lang.replace("-", "_")  # Babel's name of the console's language
    return (
        format_skeleton("MMMEd", calendar.add_business_days(today, low), locale=locale),
        format_skeleton("MMMEd", calendar.add_business_days(today, high), locale=locale),
    )


async def _pack_page(
    request: Request,
    user: User,
    web_session: WebSession,
    fulfilment_order_id: str,
    *,
    tally: Tally | None = None,
    message: str | None = None,
    errors: Errors | None = None,
    status_code: int = 200,
) -> Response:
    principal = accounts.principal_for_user(user)
    ctx = request_ctx(request, user)
    lang = request_language(request)
    options: list[Any] = []
    parcel = None
    try:
        async with _db(request).read() as session:
            fo = await picking.get_fulfilment_order(
                session, principal=principal, fulfilment_order_id=fulfilment_order_id
            )
            (order,) = await picking.present(session, [fo])
            warehouse = await picking.warehouse_for(
                session, principal=principal, warehouse_id=order.warehouse_id
            )
            if order.status is FulfilmentStatus.picked:
                found = await warehouse_shipping.quote(
                    session, ctx=ctx, fulfilment_order_id=fulfilment_order_id
                )
                options = [o for o in found.options if o.allowed and o.quote is not None]
            elif order.status is FulfilmentStatus.shipped:
                parcel = await warehouse_shipping.parcel_of(
                    session, principal=principal, fulfilment_order_id=fulfilment_order_id
                )
            shipping = [*options, *([parcel] if parcel else [])]
            carriers = await carrier_names(session, [o.carrier_code for o in shipping])
            services = await service_names(session, [parcel.service_code] if parcel else [])
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    today = ctx.clock.now().astimezone(ZoneInfo(warehouse.timezone)).date()
    shown = tally or []
    return _render(
        request,
        "pack.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "order": order,
            "warehouse": warehouse,
            "zone": OPERATOR_ZONE if user.role.value == "operator" else warehouse.timezone,
            "base": f"{PACK}/{fulfilment_order_id}",
            "tally": shown,
            "tally_json": json.dumps([list(entry) for entry in shown], ensure_ascii=False),
            "counted": _counted(order, shown),
            "scanned_units": sum(n for _, n in shown),
            "options": options,
            "carriers": carriers,
            "promise": {
                o.service_code: _promise(
                    today,
                    warehouse.country,
                    o.quote.transit_min_days,
                    o.quote.transit_max_days,
                    lang,
                )
                for o in options
                if o.quote is not None
            },
            "parcel": parcel,
            "service_name": services.get(parcel.service_code) if parcel else None,
            "message": message,
            "errors": errors or {},
        },
        status_code,
    )


@router.get(PACK + "/{fulfilment_order_id}", response_model=None)
async def pack_page(request: Request, fulfilment_order_id: str) -> Response:
    """F11: one order at the bench: scan to pick, then the services to ship it, then its label."""
    current = await _current(request)
    if current is None:
        return _to_login()
    if not _receiver(current[0]):
        return RedirectResponse(home_for(current[0]), status_code=303)
    notes = {"picked": "pick_done_message", "shipped": "pack_shipped_message"}
    flags = request.query_params
    message = next((say(request, key) for flag, key in notes.items() if flag in flags), None)
    return await _pack_page(request, *current, fulfilment_order_id, message=message)


@router.post(PACK + "/{fulfilment_order_id}/scan", response_model=None)
async def scan(request: Request, fulfilment_order_id: str) -> Response:
    """One unit scanned (or typed): on the tally if it is one of the order's SKUs, else refused
    at once (C3: a wrong item is kept apart). The page comes back with the tally in its form."""
    checked = await _checked_receiver(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    tally = _tally(form)
    code = form.get("code", "").strip()[:MAX_CODE]
    try:
        if not code:
            raise FormProblem("err_scan_code", "scan")
        async with _db(request).read() as session:
            fo = await picking.get_fulfilment_order(
                session,
                principal=accounts.principal_for_user(user),
                fulfilment_order_id=fulfilment_order_id,
            )
            (order,) = await picking.present(session, [fo])
        if _line_of(order, code) is None:
            raise FormProblem("pack_wrong_item", "scan", code=code)
        if sum(n for _, n in tally) >= MAX_SCANS:
            raise FormProblem("err_quantity", "scan")
        tally, errors = _add(tally, code), {}
    except FormProblem as exc:
        errors = errors_of(request, exc)
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    status_code = 422 if errors else 200
    return await _pack_page(
        request,
        user,
        web_session,
        fulfilment_order_id,
        tally=tally,
        errors=errors,
        status_code=status_code,
    )


async def _step(
    request: Request,
    fulfilment_order_id: str,
    work: Callable[[AsyncSession, Ctx, dict[str, str]], Awaitable[object]],
    form_name: str,
    invalid: str,
    done: str,
) -> Response:
    """One step at the bench (pick, ship) in one transaction, then the page with its note; a
    refusal shows on the step's form, "scan" or "ship" (``invalid``: the words when the form
    itself is wrong), with the tally kept while picking."""
    checked = await _checked_receiver(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    tally = _tally(form) if form_name == "scan" else None
    try:
        async with _db(request).write() as session:
            await work(session, request_ctx(request, user), form)
            await session.commit()
    except ValidationError:
        errors, status_code = {form_name: say(request, invalid)}, 422
    except DomainError as exc:
        errors, status_code = {form_name: _say_refusal(request, exc)}, exc.http_status
    else:
        return RedirectResponse(_url(fulfilment_order_id, **{done: "1"}), status_code=303)
    return await _pack_page(
        request,
        user,
        web_session,
        fulfilment_order_id,
        tally=tally,
        errors=errors,
        status_code=status_code,
    )


@router.post(PACK + "/{fulfilment_order_id}/pick", response_model=None)
async def pick(request: Request, fulfilment_order_id: str) -> Response:
    """Picked (拣货) with what was scanned: the service checks it against the lines (C3)."""

    async def work(session: AsyncSession, ctx: Ctx, form: dict[str, str]) -> None:
        body = PickCreate.model_validate(
            {"items": [{"code": code, "quantity": n} for code, n in _tally(form)]}
        )
        await picking.pick(session, ctx=ctx, fulfilment_order_id=fulfilment_order_id, data=body)

    return await _step(request, fulfilment_order_id, work, "scan", "pack_scan_first", "picked")


@router.post(PACK + "/{fulfilment_order_id}/ship", response_model=None)
async def ship(request: Request, fulfilment_order_id: str) -> Response:
    """Pack and ship (F8 steps 3-4): book the chosen service at the price shown, platform paid."""

    async def work(session: AsyncSession, ctx: Ctx, form: dict[str, str]) -> None:
        service = form.get("service_code", "")
        data = ShipmentCreate.model_validate(
            {
                "service_code": service,
                "expected_total_minor": form.get(f"total_{service}") or None,
            },
            strict=False,
        )
        await warehouse_shipping.ship(
            session, ctx=ctx, fulfilment_order_id=fulfilment_order_id, data=data
        )

    return await _step(request, fulfilment_order_id, work, "ship", "pack_choose_service", "shipped")


@router.get(PACK + "/{fulfilment_order_id}/label.pdf", response_model=None)
async def label_pdf(request: Request, fulfilment_order_id: str) -> Response:
    """The shipped parcel's label (面单), a 100 x 150 mm PDF, as the API prints it."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    if not _receiver(user):
        return RedirectResponse(home_for(user), status_code=303)
    ctx = request_ctx(request, user)
    try:
        async with _db(request).read() as session:
            parcel = await warehouse_shipping.parcel_of(
                session, principal=ctx.principal, fulfilment_order_id=fulfilment_order_id
            )
            batch = await printing.label_batch(
                session, ctx=ctx, shipment_ids=[parcel.id], fmt="PDF"
            )
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    return Response(
        await labels.pdf(batch),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="label-{parcel.tracking_number}.pdf"'},
    )

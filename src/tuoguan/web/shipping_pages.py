"""Console pages for logistics: services and route rules (F5), an order's shipping options (F8)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts import service as accounts
from tuoguan.context import Ctx
from tuoguan.errors import DomainError, InvalidInput, NotFound
from tuoguan.kit.money import check_currency, parse_major
from tuoguan.shipping import claims, labels, printing, quotes, ratecheck, shipments, tracking
from tuoguan.shipping import service as shipping
from tuoguan.shipping.carriers import PUSHING
from tuoguan.shipping.models import InsuranceClaim
from tuoguan.shipping.schemas import (
    ClaimApprove,
    ClaimCreate,
    ClaimReject,
    ParcelIn,
    PickupCreate,
    RouteRuleWrite,
    ShipmentCancel,
    ShipmentCreate,
)
from tuoguan.shipping.states import ShipmentAction
from tuoguan.stores import service as stores
from tuoguan.web.console import (
    _current,
    _db,
    _render,
    _to_login,
    _validation_message,
    checked_form,
    request_ctx,
)
from tuoguan.web.order_pages import _detail

router = APIRouter(include_in_schema=False)
_LISTS = ("services", "store_ids", "countries", "categories")
_NUMBERS = ("min_weight_g", "max_weight_g")


async def _logistics_page(
    request: Request,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    principal = accounts.principal_for_user(user)
    page: dict[str, Any] = {"user": user, "csrf": web_session.csrf_token}
    try:
        async with _db(request).read() as session:
            services = await shipping.list_services(session, principal=principal)
            cards = {
                s.code: await shipping.rate_cards(session, principal=principal, code=s.code)
                for s in services
            }
            rules = await shipping.list_rules(session, principal=principal)
            accounts_ = (
                await shipping.list_carrier_accounts(session, principal=principal)
                if principal.is_operator
                else []
            )
    except DomainError as exc:
        return _render(request, "error.html", {**page, "error": exc.detail}, exc.http_status)
    return _render(
        request,
        "logistics.html",
        {
            **page,
            "services": services,
            "cards": cards,
            "rules": rules,
            "carriers": accounts_,
            "pushing": PUSHING,
            "poll_minutes": request.app.state.settings.carrier_poll_minutes,
            "error": error,
            "form": form or {},
            "can_edit": principal.is_operator,
        },
        status_code,
    )


@router.get("/console/logistics", response_model=None)
async def logistics(request: Request) -> Response:
    """Logistics services with their rate-card versions, and the route rules in order (F5)."""
    return await _logistics_page(request)


def _rule_from_form(form: dict[str, str]) -> RouteRuleWrite:
    conditions: dict[str, Any] = {}
    for name in _LISTS:
        items = [part.strip() for part in form.get(name, "").split(",") if part.strip()]
        if items:
            conditions[name] = items
    for name in _NUMBERS:
        if form.get(name, "").strip():
            conditions[name] = form[name].strip()
    currency = form.get("value_currency", "").strip().upper()
    if currency:
        conditions["value_currency"] = currency
    # Value bands are typed as money in the currency's units (19.99); parse_major stores them.
    for name in ("min_value", "max_value"):
        if form.get(name, "").strip():
            if not currency:
                raise InvalidInput(
                    "a value band needs its currency", field="value_currency", rule="currency"
                )
            code = check_currency(currency, field="value_currency")
            conditions[f"{name}_minor"] = parse_major(form[name], code, field=name)
    return RouteRuleWrite.model_validate(
        {
            "position": form.get("position", ""),
            "name": form.get("name", ""),
            "effect": form.get("effect", ""),
            "conditions": conditions,
        },
        strict=False,  # form values are text; the API's JSON numbers stay strict
    )


@router.post("/console/logistics/rules", response_model=None)
async def add_rule(request: Request) -> Response:
    """An operator adds a route rule from the form (lists are comma-separated)."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, _, form = checked
    try:
        data = _rule_from_form(form)
        async with _db(request).write() as session:
            await shipping.create_rule(session, ctx=request_ctx(request, user), data=data)
            await session.commit()
    except ValueError as exc:
        return await _logistics_page(
            request, error=_validation_message(exc), form=form, status_code=422
        )
    except DomainError as exc:
        return await _logistics_page(
            request, error=exc.detail, form=form, status_code=exc.http_status
        )
    return RedirectResponse("/console/logistics", status_code=303)


@router.post("/console/logistics/rules/{rule_id}/delete", response_model=None)
async def delete_rule(request: Request, rule_id: str) -> Response:
    """An operator retires a route rule."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, _, _ = checked
    try:
        async with _db(request).write() as session:
            await shipping.delete_rule(
                session, ctx=request_ctx(request, user), rule_id=rule_id, expected_version=None
            )
            await session.commit()
    except DomainError as exc:
        return await _logistics_page(request, error=exc.detail, status_code=exc.http_status)
    return RedirectResponse("/console/logistics", status_code=303)


def _measured(params: dict[str, str]) -> ParcelIn | None:
    sizes = {
        k: params.get(k, "").strip() for k in ("weight_g", "length_mm", "width_mm", "height_mm")
    }
    if not any(sizes.values()):
        return None
    return ParcelIn.model_validate(sizes, strict=False)


@router.get("/console/orders/{order_id}/ship", response_model=None)
async def ship_online(request: Request, order_id: str) -> Response:
    """F8 steps 1-2: the services allowed for an order, each quote itemized, and why not the rest."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    params = dict(request.query_params)
    page: dict[str, Any] = {
        "user": user,
        "csrf": web_session.csrf_token,
        "order_id": order_id,
        "params": params,
    }
    insure = params.get("insure") == "on"
    try:
        measured = _measured(params)
        async with _db(request).read() as session:
            ctx = request_ctx(request, user)
            found = await quotes.shipping_options(
                session, ctx=ctx, order_id=order_id, measured=measured, insure=insure
            )
            page["can_check"] = ctx.principal.is_operator
            if page["can_check"] and params.get("check") == "1":
                # G1: each card's quote beside the carrier's own price (asks the carriers live)
                checks = await ratecheck.rate_check(session, ctx=ctx, order_id=order_id)
                page["checks"] = {c.service_code: c for c in checks}
    except ValueError as exc:
        return _render(
            request, "ship_online.html", {**page, "error": _validation_message(exc)}, 422
        )
    except DomainError as exc:
        return _render(request, "error.html", {**page, "error": exc.detail}, exc.http_status)
    return _render(request, "ship_online.html", {**page, "found": found, "insure": insure})


def _to_order(order_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/console/orders/{order_id}?done={done}", status_code=303)


@router.post("/console/ship/{order_id}", response_model=None)
async def create_shipment(request: Request, order_id: str) -> Response:
    """F8 step 3: ship the order with the chosen service at the quote the seller saw."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    try:
        data = ShipmentCreate.model_validate(
            {
                "service_code": form.get("service_code", ""),
                "insure": form.get("insure") == "on",
                "expected_total_minor": form.get("expected_total_minor") or None,
                "parcel": _measured(form),
            },
            strict=False,
        )
        async with _db(request).write() as session:
            await shipments.create(
                session, ctx=request_ctx(request, user), order_id=order_id, data=data
            )
            await session.commit()
    except (ValueError, DomainError) as exc:
        message = exc.detail if isinstance(exc, DomainError) else _validation_message(exc)
        status = exc.http_status if isinstance(exc, DomainError) else 422
        page = {"user": user, "csrf": web_session.csrf_token, "order_id": order_id, "params": {}}
        return _render(request, "ship_online.html", {**page, "error": message}, status)
    return _to_order(order_id, "shipment_created")


# Registered before the generic step route below, which would otherwise take "claim".
@router.post("/console/shipments/{shipment_id}/claim", response_model=None)
async def file_claim(request: Request, shipment_id: str) -> Response:
    """G3: the seller claims on an insured parcel's loss or damage, with evidence URLs."""

    async def work(session: AsyncSession, ctx: Ctx, form: dict[str, str]) -> InsuranceClaim:
        shipment = await shipments.get_shipment(
            session, principal=ctx.principal, shipment_id=shipment_id
        )
        data = ClaimCreate.model_validate(
            {
                "kind": form.get("kind", ""),
                "amount_minor": parse_major(form.get("amount", ""), shipment.currency),
                "description": form.get("description", ""),
                "evidence": form.get("evidence", "").split(),
            },
            strict=False,
        )
        return await claims.file(session, ctx=ctx, shipment_id=shipment_id, data=data)

    return await _claim_step(request, work)


_STEPS = {
    "submit": ShipmentAction.submit,
    "pickup": ShipmentAction.schedule_pickup,
    "self-drop": ShipmentAction.self_drop,
    "cancel": ShipmentAction.cancel,
}


def _step_body(
    action: ShipmentAction, form: dict[str, str], tz: str
) -> PickupCreate | ShipmentCancel | None:
    if action is ShipmentAction.schedule_pickup:
        zone = ZoneInfo(tz)
        start, end = (
            datetime.fromisoformat(form.get(k, "")).replace(tzinfo=zone)
            for k in ("window_from", "window_until")
        )
        return PickupCreate(window_from=start, window_until=end, place=form.get("place", ""))
    if action is ShipmentAction.cancel:
        return ShipmentCancel.model_validate(
            {"reason": form.get("reason", ""), "note": form.get("note") or None}
        )
    return None


@router.post("/console/shipments/{shipment_id}/{step}", response_model=None)
async def shipment_step(request: Request, shipment_id: str, step: str) -> Response:
    """Submit, book a pickup (times in the store's zone), self-drop, cancel, or refresh tracking."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    ctx = request_ctx(request, user)
    order_id = form.get("order_id", "")
    try:
        async with _db(request).write() as session:
            found = await shipments.get_shipment(
                session, principal=ctx.principal, shipment_id=shipment_id
            )
            order_id = found.order_id
            if step == "refresh":
                await tracking.refresh(session, ctx=ctx, shipment=found)
            elif step in _STEPS:
                store = await stores.get_store(
                    session, principal=ctx.principal, store_id=found.store_id
                )
                body = _step_body(_STEPS[step], form, store.timezone)
                await shipments.act(
                    session, ctx=ctx, shipment_id=shipment_id, action=_STEPS[step], body=body
                )
            else:
                raise NotFound(f"no step {step}", field="step")
            await session.commit()
    except (ValueError, DomainError) as exc:
        message = exc.detail if isinstance(exc, DomainError) else _validation_message(exc)
        status = exc.http_status if isinstance(exc, DomainError) else 422
        if not order_id:
            page = {"user": user, "csrf": web_session.csrf_token, "error": message}
            return _render(request, "error.html", page, status)
        async with _db(request).read() as session:
            return await _detail(
                request, session, user, web_session, order_id, error=message, status_code=status
            )
    return _to_order(order_id, f"shipment_{step}")


@router.get("/console/shipments/{shipment_id}/label.{kind}", response_model=None)
async def shipment_label(request: Request, shipment_id: str, kind: str) -> Response:
    """The label to print: PDF (100 x 150 mm, fonts embedded) or ZPL."""
    return await _labels(request, [shipment_id], kind)


@router.get("/console/labels.pdf", response_model=None)
async def label_batch(request: Request) -> Response:
    """Many labels as one PDF (the ids ticked on an order list)."""
    return await _labels(request, request.query_params.getlist("ids"), "pdf")


async def _labels(request: Request, ids: list[str], kind: str) -> Response:
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    if kind not in ("pdf", "zpl"):
        return _render(
            request,
            "error.html",
            {"user": user, "csrf": web_session.csrf_token, "error": "label.pdf or label.zpl"},
            404,
        )
    try:
        async with _db(request).read() as session:
            batch = await printing.label_batch(
                session, ctx=request_ctx(request, user), shipment_ids=ids, fmt=kind.upper()
            )
    except DomainError as exc:
        page = {"user": user, "csrf": web_session.csrf_token, "error": exc.detail}
        return _render(request, "error.html", page, exc.http_status)
    if kind == "zpl":
        return Response(await labels.zpl(batch[0]), media_type="text/plain; charset=utf-8")
    name = f"labels-{len(batch)}.pdf" if len(batch) > 1 else f"label-{batch[0].tracking_number}.pdf"
    return Response(
        await labels.pdf(batch),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@router.post("/console/claims/{claim_id}/{decision}", response_model=None)
async def decide_claim(request: Request, claim_id: str, decision: str) -> Response:
    """An operator approves (an amount) or rejects a claim, with a reason."""

    async def work(session: AsyncSession, ctx: Ctx, form: dict[str, str]) -> InsuranceClaim:
        body: ClaimApprove | ClaimReject
        if decision == "approve":
            claim = await claims.get_claim(session, principal=ctx.principal, claim_id=claim_id)
            body = ClaimApprove.model_validate(
                {
                    "amount_minor": parse_major(form.get("amount", ""), claim.currency),
                    "reason": form.get("reason", ""),
                },
                strict=False,
            )
        elif decision == "reject":
            body = ClaimReject.model_validate({"reason": form.get("reason", "")})
        else:
            raise NotFound(f"no decision {decision}", field="decision")
        return await claims.decide(session, ctx=ctx, claim_id=claim_id, decision=body)

    return await _claim_step(request, work)


async def _claim_step(request: Request, work: Any) -> Response:
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    try:
        async with _db(request).write() as session:
            claim = await work(session, request_ctx(request, user), form)
            order_id = claim.order_id
            await session.commit()
    except (ValueError, DomainError) as exc:
        message = exc.detail if isinstance(exc, DomainError) else _validation_message(exc)
        status = exc.http_status if isinstance(exc, DomainError) else 422
        page = {"user": user, "csrf": web_session.csrf_token, "error": message}
        return _render(request, "error.html", page, status)
    return _to_order(order_id, "claim")

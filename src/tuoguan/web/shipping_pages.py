"""Console pages for shipping an order: its options and quotes (F8), its parcel's steps, labels
and insurance claims (G3); the logistics page (F5) is `logistics_pages`, included here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts.models import User, WebSession
from tuoguan.context import Ctx
from tuoguan.errors import DomainError, NotFound
from tuoguan.kit import i18n
from tuoguan.kit.i18n import N_
from tuoguan.kit.money import parse_major
from tuoguan.shipping import claims, labels, printing, quotes, ratecheck, shipments, tracking
from tuoguan.shipping import service as shipping
from tuoguan.shipping.models import InsuranceClaim
from tuoguan.shipping.schemas import ParcelIn, ServiceOption
from tuoguan.shipping.shipment_schemas import (
    ClaimApprove,
    ClaimCreate,
    ClaimReject,
    PickupCreate,
    ShipmentCancel,
    ShipmentCreate,
)
from tuoguan.shipping.states import ShipmentAction
from tuoguan.stores import service as stores
from tuoguan.web import logistics_pages
from tuoguan.web.console import (
    _current,
    _db,
    _render,
    _to_login,
    checked_form,
    request_ctx,
    request_language,
)
from tuoguan.web.order_pages import _detail
from tuoguan.web.shipping_words import (
    country,
    parcel_errors,
    refusal_text,
    say,
)

router = APIRouter(include_in_schema=False)
router.include_router(logistics_pages.router)  # the logistics page: services and route rules
_PARCEL = ("weight_g", "length_mm", "width_mm", "height_mm")


def _measured(params: Mapping[str, str]) -> ParcelIn | None:
    sizes = {k: params.get(k, "").strip() for k in _PARCEL}
    if not any(sizes.values()):
        return None
    return ParcelIn.model_validate(sizes, strict=False)


def _cheapest_cover(options: list[ServiceOption]) -> dict[str, Any] | None:
    """The lowest insurance threshold among services refused only for want of cover."""
    thresholds = [
        r.params["threshold"]
        for o in options
        for r in o.refusals
        if r.code == "refusal_insurance_threshold" and "threshold" in r.params
    ]
    return min(thresholds, key=lambda money: int(money["money"][0]), default=None)


async def _ship_page(
    request: Request,
    user: User,
    web_session: WebSession,
    order_id: str,
    params: Mapping[str, str],
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    """F8 steps 1-2: the services allowed for an order, each quote itemized, why not the rest;
    with what to do when none is (insured: quote again without insurance)."""
    lang = request_language(request)
    insure = params.get("insure") == "on"
    page: dict[str, Any] = {
        "user": user,
        "csrf": web_session.csrf_token,
        "order_id": order_id,
        "params": {k: params.get(k, "") for k in _PARCEL},
        "insure": insure,
        "error": error,
        "say": lambda key, values=None: say(lang, key, values),
        "country": lambda code: country(code, lang),
    }
    try:
        measured = _measured(params)
    except ValidationError as exc:
        page["field_errors"] = {k: say(lang, v) for k, v in parcel_errors(exc).items()}
        return _render(request, "ship_online.html", page, 422)
    try:
        async with _db(request).read() as session:
            ctx = request_ctx(request, user)
            found = await quotes.shipping_options(
                session, ctx=ctx, order_id=order_id, measured=measured, insure=insure
            )
            live = await shipments.live_for_order(session, order_id)
            carriers = await shipping.carrier_names(session, principal=ctx.principal)
            page["can_check"] = ctx.principal.is_operator
            if page["can_check"] and params.get("check") == "1":
                # G1: each card's quote beside the carrier's own price (asks the carriers live)
                checks = await ratecheck.rate_check(session, ctx=ctx, order_id=order_id)
                page["checks"] = {c.service_code: c for c in checks}
    except DomainError as exc:
        page["error"] = refusal_text(lang, exc)
        return _render(request, "error.html", page, exc.http_status)
    allowed = [o for o in found.options if o.allowed]
    blocked_by_cover = [
        o
        for o in found.options
        if o.refusals and all(r.rule == "insurance_offered" for r in o.refusals)
    ]
    if insure and not allowed and blocked_by_cover:
        threshold = _cheapest_cover(blocked_by_cover)
        value = i18n.money(found.parcel.declared_value_minor, found.parcel.currency)
        page["summary"] = (
            say(lang, N_("ship_insure_blocked"), {"value": value, "threshold": threshold})
            if threshold
            else say(lang, N_("ship_insure_blocked_no_cover"))
        )
        uninsured = {k: v for k, v in page["params"].items() if v}
        page["uninsured_url"] = f"/console/orders/{order_id}/ship?" + urlencode(uninsured)
    elif not allowed:
        page["summary"] = say(lang, N_("ship_nothing_allowed"))
    if live is not None:
        page["live"] = {
            "carrier": carriers.get(live.carrier_code, live.carrier_code),
            "tracking": live.tracking_number,
        }
    page.update(found=found, carriers=carriers)
    return _render(request, "ship_online.html", page, status_code)


@router.get("/console/orders/{order_id}/ship", response_model=None)
async def ship_online(request: Request, order_id: str) -> Response:
    """F8 steps 1-2: the services allowed for an order, each quote itemized, and why not the rest."""
    current = await _current(request)
    if current is None:
        return _to_login()
    return await _ship_page(request, *current, order_id, request.query_params)


def _to_order(order_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/console/orders/{order_id}?done={done}", status_code=303)


@router.post("/console/ship/{order_id}", response_model=None)
async def create_shipment(request: Request, order_id: str) -> Response:
    """F8 step 3: ship the order with the chosen service at the quote the seller saw; refused,
    the options again with why, in the reader's words."""
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
        message = refusal_text(request_language(request), exc)
        status = exc.http_status if isinstance(exc, DomainError) else 422
        return await _ship_page(
            request, user, web_session, order_id, form, error=message, status_code=status
        )
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
    done = f"shipment_{step}"
    try:
        async with _db(request).write() as session:
            found = await shipments.get_shipment(
                session, principal=ctx.principal, shipment_id=shipment_id
            )
            order_id = found.order_id
            if step == "refresh":
                fresh = await tracking.refresh(session, ctx=ctx, shipment=found)
                done = f"shipment_refresh&new={fresh.accepted}"  # the page says how many
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
        message = refusal_text(request_language(request), exc)
        status = exc.http_status if isinstance(exc, DomainError) else 422
        if not order_id:
            page = {"user": user, "csrf": web_session.csrf_token, "error": message}
            return _render(request, "error.html", page, status)
        async with _db(request).read() as session:
            return await _detail(
                request, session, user, web_session, order_id, error=message, status_code=status
            )
    return _to_order(order_id, done)


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
            {
                "user": user,
                "csrf": web_session.csrf_token,
                "error": say(request_language(request), N_("ship_err_label_kind")),
            },
            404,
        )
    try:
        async with _db(request).read() as session:
            batch = await printing.label_batch(
                session, ctx=request_ctx(request, user), shipment_ids=ids, fmt=kind.upper()
            )
    except DomainError as exc:
        error = refusal_text(request_language(request), exc)
        page = {"user": user, "csrf": web_session.csrf_token, "error": error}
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
        message = refusal_text(request_language(request), exc, claim_reason=True)
        status = exc.http_status if isinstance(exc, DomainError) else 422
        page = {"user": user, "csrf": web_session.csrf_token, "error": message}
        return _render(request, "error.html", page, status)
    return _to_order(order_id, "claim")

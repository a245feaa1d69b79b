"""Console pages for logistics: services and route rules (F5), an order's shipping options (F8)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tuoguan.accounts import service as accounts
from tuoguan.errors import DomainError
from tuoguan.shipping import quotes
from tuoguan.shipping import service as shipping
from tuoguan.shipping.schemas import ParcelIn, RouteRuleWrite
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
_LISTS = ("services", "store_ids", "countries", "categories")
_NUMBERS = ("min_weight_g", "max_weight_g", "min_value_minor", "max_value_minor")


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
    if form.get("value_currency", "").strip():
        conditions["value_currency"] = form["value_currency"].strip().upper()
    return RouteRuleWrite.model_validate(
        {
            "position": form.get("position", ""),
            "name": form.get("name", ""),
            "effect": form.get("effect", ""),
            "conditions": conditions,
        }
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
    return ParcelIn.model_validate(sizes)


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
            found = await quotes.shipping_options(
                session,
                ctx=request_ctx(request, user),
                order_id=order_id,
                measured=measured,
                insure=insure,
            )
    except ValueError as exc:
        return _render(
            request, "ship_online.html", {**page, "error": _validation_message(exc)}, 422
        )
    except DomainError as exc:
        return _render(request, "error.html", {**page, "error": exc.detail}, exc.http_status)
    return _render(request, "ship_online.html", {**page, "found": found, "insure": insure})

"""Console pages for deadlines at risk (G5), breaches, penalties with appeals and policy versions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from tuoguan.accounts import service as accounts
from tuoguan.errors import BadRequest, DomainError
from tuoguan.finance import service as finance
from tuoguan.finance.schemas import PenaltyPolicyCreate
from tuoguan.finance.states import PenaltyAction, PenaltyStatus
from tuoguan.orders import service as orders
from tuoguan.orders import views
from tuoguan.principal import Role
from tuoguan.sla import service as sla
from tuoguan.sla import warnings
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


@router.get("/console/at-risk", response_model=None)
async def at_risk(
    request: Request, cursor: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    """G5: open orders likely to miss their running deadline, highest risk first (the API's
    order), a page at a time."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    try:
        async with _db(request).read() as session:
            found, next_cursor = await warnings.at_risk(
                session, principal=principal, now=now, min_score=40, cursor=cursor, limit=50
            )
            zones = await views.store_zones(session, {order.store_id for order, _ in found})
    except BadRequest:  # a cursor that is not ours: start again from the first page
        return RedirectResponse("/console/at-risk", status_code=303)
    rows = [
        {
            "order": order,
            "risk": verdict,
            "deadline": orders.next_deadline(order, zones[order.store_id], now),
            "left": _time_left(verdict.seconds_left),
        }
        for order, verdict in found
    ]
    next_url = next_cursor and "/console/at-risk?" + urlencode({"cursor": next_cursor})
    return _render(
        request,
        "at_risk.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "rows": rows,
            "now": now,
            "next_url": next_url,
        },
    )


def _time_left(seconds: int) -> dict[str, Any]:
    """Time left as a person reads it: an i18n key, its numbers, and whether it is overdue."""
    minutes = abs(seconds) // 60
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    key = "left_days" if days else "left_hours" if hours else "left_minutes"
    return {"key": key, "parts": {"d": days, "h": hours, "m": mins}, "overdue": seconds < 0}


@router.get("/console/breaches", response_model=None)
async def breaches(
    request: Request, cursor: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    """The breach queue: missed confirm (O2) and ship (F1) deadlines, newest first."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    try:
        async with _db(request).read() as session:
            rows, next_cursor = await sla.list_breaches(
                session, principal=accounts.principal_for_user(user), cursor=cursor, limit=100
            )
    except BadRequest:  # a cursor that is not ours: start again from the first page
        return RedirectResponse("/console/breaches", status_code=303)
    next_url = next_cursor and "/console/breaches?" + urlencode({"cursor": next_cursor})
    return _render(
        request,
        "breaches.html",
        {"user": user, "csrf": web_session.csrf_token, "rows": rows, "next_url": next_url},
    )


async def _penalties_page(
    request: Request,
    status: PenaltyStatus | None,
    *,
    error: str | None = None,
    message: str | None = None,
    status_code: int = 200,
    cursor: str | None = None,
) -> Response:
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    async with _db(request).read() as session:
        try:
            rows, next_cursor = await finance.list_penalties(
                session, principal=principal, status=status, cursor=cursor, limit=100
            )
        except BadRequest:  # a cursor that is not ours: start again from the first page
            return RedirectResponse("/console/penalties", status_code=303)
        rating = (
            await sla.seller_rating(
                session, principal=principal, seller_id=principal.seller_id, now=now
            )
            if principal.role is Role.seller and principal.seller_id
            else None
        )
    items = [(p, finance.allowed_actions(p, principal, now)) for p in rows]
    return _render(
        request,
        "penalties.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "items": items,
            "status": status,
            "statuses": list(PenaltyStatus),
            "next_url": next_cursor
            and "/console/penalties?"
            + urlencode({"cursor": next_cursor, **({"status": status.value} if status else {})}),
            "rating": rating,
            "error": error,
            "message": message,
        },
        status_code,
    )


@router.get("/console/penalties", response_model=None)
async def penalties(
    request: Request,
    status_param: Annotated[str | None, Query(alias="status", max_length=20)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """Sellers: their penalties and rating, with appeal; operators: the appeal queue to decide."""
    status = PenaltyStatus(status_param) if status_param in set(PenaltyStatus) else None
    return await _penalties_page(request, status, message="done" if done else None, cursor=cursor)


@router.post("/console/penalties/{penalty_id}/{action}", response_model=None)
async def penalty_action(request: Request, penalty_id: str, action: str) -> Response:
    """Appeal (seller) or uphold / waive (operator) one penalty, CSRF-checked."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, _, form = checked
    reason = form.get("reason", "").strip()
    try:
        kind = PenaltyAction(action)
        if not reason:
            raise ValueError("reason: a reason is required")
        async with _db(request).write() as session:
            await finance.act(
                session,
                ctx=request_ctx(request, user),
                penalty_id=penalty_id,
                action=kind,
                reason=reason,
            )
            await session.commit()
    except ValueError as exc:
        return await _penalties_page(request, None, error=str(exc), status_code=422)
    except DomainError as exc:
        return await _penalties_page(request, None, error=exc.detail, status_code=exc.http_status)
    return RedirectResponse(f"/console/penalties?done={kind.value}", status_code=303)


async def _policies_page(
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
    now = request.app.state.clock.now()
    try:
        async with _db(request).read() as session:
            versions = await finance.list_policies(session, principal=principal)
    except DomainError as exc:
        return _render(
            request,
            "error.html",
            {"user": user, "csrf": web_session.csrf_token, "error": exc.detail},
            exc.http_status,
        )
    rows = [(v, finance.standing(v, versions, now)) for v in versions]
    return _render(
        request,
        "policies.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "rows": rows,
            "error": error,
            "form": form or {},
            "can_edit": principal.is_operator,
        },
        status_code,
    )


@router.get("/console/policies", response_model=None)
async def policies(request: Request) -> Response:
    """Penalty policy versions (F6, O2); operators add the next version."""
    return await _policies_page(request)


def parse_tiers(text: str) -> list[dict[str, int | None]]:
    """Tiers typed one per line as ``from_hours, to_hours, rate_bp, rating_points`` (to blank = open)."""
    tiers: list[dict[str, int | None]] = []
    for number, line in enumerate(text.strip().splitlines(), start=1):
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        if len(parts) != 4:
            raise ValueError(f"tiers line {number}: four values: from, to, rate_bp, points")
        try:
            tiers.append(
                {
                    "from_hours": int(parts[0]),
                    "to_hours": int(parts[1]) if parts[1] else None,
                    "rate_bp": int(parts[2]),
                    "rating_points": int(parts[3]),
                }
            )
        except ValueError as exc:
            raise ValueError(f"tiers line {number}: whole numbers only") from exc
    return tiers


@router.post("/console/policies", response_model=None)
async def add_policy(request: Request) -> Response:
    """Add the next version of a policy from the console form."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, _, form = checked
    try:
        effective = form.get("effective_from", "").strip()
        data = PenaltyPolicyCreate.model_validate(
            {
                "kind": form.get("kind", ""),
                "effective_from": datetime.fromisoformat(effective) if effective else None,
                "tiers": parse_tiers(form.get("tiers", "")),
                "note": form.get("note") or None,
            }
        )
        async with _db(request).write() as session:
            await finance.create_policy(session, ctx=request_ctx(request, user), data=data)
            await session.commit()
    except ValidationError as exc:
        return await _policies_page(
            request, error=_validation_message(exc), form=form, status_code=422
        )
    except ValueError as exc:
        return await _policies_page(request, error=str(exc), form=form, status_code=422)
    except DomainError as exc:
        where = f" ({exc.field})" if exc.field else ""
        return await _policies_page(
            request, error=f"{exc.detail}{where}", form=form, status_code=exc.http_status
        )
    return RedirectResponse("/console/policies", status_code=303)

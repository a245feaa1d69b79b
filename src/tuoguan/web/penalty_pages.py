"""Console pages for penalties: sellers see theirs and their rating and appeal; operators decide
the appeals (F6, O2), narrowed by seller and store."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from tuoguan.accounts import service as accounts
from tuoguan.errors import BadRequest, DomainError
from tuoguan.finance import service as finance
from tuoguan.finance.states import PenaltyAction, PenaltyStatus
from tuoguan.kit.i18n import N_
from tuoguan.principal import Role
from tuoguan.sla import service as sla
from tuoguan.web import owners
from tuoguan.web.console import _current, _db, _render, _to_login, checked_form, request_ctx
from tuoguan.web.sla_pages import _query, _refusal, _say

router = APIRouter(include_in_schema=False)

# What the page says after an action.
_PENALTY_DONE = {
    PenaltyAction.appeal: N_("penalty_done_appeal"),
    PenaltyAction.uphold: N_("penalty_done_uphold"),
    PenaltyAction.waive: N_("penalty_done_waive"),
}


async def _penalties_page(
    request: Request,
    status: PenaltyStatus | None,
    *,
    seller: str | None = None,
    store: str | None = None,
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
        chosen = await owners.filters(session, principal, seller, store)
        try:
            rows, next_cursor = await finance.list_penalties(
                session,
                principal=principal,
                status=status,
                seller_id=chosen.seller_id,
                store_id=chosen.store_id,
                cursor=cursor,
                limit=100,
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
        whose = await owners.owners(session, {p.store_id for p in rows})
    items = [
        {
            "p": p,
            "actions": finance.allowed_actions(p, principal, now),
            "owner": whose.get(p.store_id),
            "late": timedelta(seconds=p.lateness_seconds),
        }
        for p in rows
    ]
    kept = {"status": status.value if status else None, **chosen.query()}
    return _render(
        request,
        "penalties.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "items": items,
            "status": status,
            "statuses": list(PenaltyStatus),
            "filters": chosen,
            "next_url": next_cursor and "/console/penalties" + _query(**kept, cursor=next_cursor),
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
    seller: Annotated[str | None, Query(max_length=40)] = None,
    store: Annotated[str | None, Query(max_length=40)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """Sellers: their penalties and rating, with appeal; operators: the appeal queue to decide,
    narrowed by seller and store."""
    status = PenaltyStatus(status_param) if status_param in set(PenaltyStatus) else None
    action = PenaltyAction(done) if done in set(PenaltyAction) else None
    message = _say(request, _PENALTY_DONE[action]) if action else None
    return await _penalties_page(
        request, status, seller=seller, store=store, message=message, cursor=cursor
    )


@router.post("/console/penalties/{penalty_id}/{action}", response_model=None)
async def penalty_action(request: Request, penalty_id: str, action: str) -> Response:
    """Appeal (seller) or uphold / waive (operator) one penalty, CSRF-checked."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, _, form = checked
    reason = form.get("reason", "").strip()
    if action not in set(PenaltyAction):
        return await _penalties_page(
            request, None, error=_say(request, "err_not_done"), status_code=404
        )
    kind = PenaltyAction(action)
    if not reason:
        return await _penalties_page(
            request, None, error=_say(request, "err_reason_required"), status_code=422
        )
    try:
        async with _db(request).write() as session:
            await finance.act(
                session,
                ctx=request_ctx(request, user),
                penalty_id=penalty_id,
                action=kind,
                reason=reason[:1000],
            )
            await session.commit()
    except DomainError as exc:
        return await _penalties_page(
            request, None, error=_refusal(request, exc), status_code=exc.http_status
        )
    return RedirectResponse(f"/console/penalties?done={kind.value}", status_code=303)

"""Console page for operators: rows the worker's sweeps set aside, to retry or dismiss."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts import service as accounts
from tuoguan.errors import BadRequest, DomainError
from tuoguan.ops import service as failures
from tuoguan.ops.models import FailureStatus, SweepFailure
from tuoguan.ops.states import FailureAction, allowed_actions
from tuoguan.shipping.models import Shipment
from tuoguan.sla.models import Breach
from tuoguan.web.console import _current, _db, _render, _to_login, checked_form, request_ctx
from tuoguan.web.forms import Errors, FormProblem, errors_of
from tuoguan.web.stock_pages import OPERATOR_ZONE, error_page

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Item:
    """One set-aside row as the page shows it: the order it concerns, in local time."""

    row: SweepFailure
    order_id: str | None
    tracking_number: str | None
    actions: list[FailureAction]


async def _items(session: AsyncSession, rows: list[SweepFailure]) -> list[Item]:
    """The order behind each row: the row's own, a breach's, a shipment's."""
    items = []
    for row in rows:
        order_id = tracking = None
        if row.subject_type == "order":
            order_id = row.subject_id
        elif row.subject_type == "breach":
            breach = await session.get(Breach, row.subject_id)
            order_id = breach.order_id if breach else None
        elif row.subject_type == "shipment":
            shipment = await session.get(Shipment, row.subject_id)
            if shipment is not None:
                order_id, tracking = shipment.order_id, shipment.tracking_number
        items.append(Item(row, order_id, tracking, allowed_actions(row.status)))
    return items


async def _page(
    request: Request,
    status: FailureStatus | None,
    *,
    errors: Errors | None = None,
    typed: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
    cursor: str | None = None,
) -> Response:
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    principal = accounts.principal_for_user(user)
    try:
        async with _db(request).read() as session:
            rows, next_cursor = await failures.page_failures(
                session, principal=principal, status=status, cursor=cursor, limit=100
            )
            items = await _items(session, rows)
    except BadRequest:  # a cursor that is not ours: start again from the first page
        return RedirectResponse("/console/sweep-failures", status_code=303)
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    forms = {f"{item.row.id}.{action.value}" for item in items for action in item.actions}
    return _render(
        request,
        "sweep_failures.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "items": items,
            "status": status,
            "statuses": list(FailureStatus),
            "next_url": next_cursor
            and "/console/sweep-failures?"
            + urlencode({"cursor": next_cursor, **({"status": status.value} if status else {})}),
            "zone": OPERATOR_ZONE,
            "errors": errors or {},
            # A problem whose form is not on the page (the row was decided meanwhile) on top.
            "stray": [text for field, text in (errors or {}).items() if field not in forms],
            "typed": typed or {},
            "message": message,
        },
        status_code,
    )


@router.get("/console/sweep-failures", response_model=None)
async def sweep_failures(
    request: Request,
    status_param: Annotated[str | None, Query(alias="status", max_length=20)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """What the worker set aside (open ones unless a status is picked), to retry or dismiss."""
    status = FailureStatus(status_param) if status_param in set(FailureStatus) else None
    return await _page(request, status, message="done" if done else None, cursor=cursor)


@router.post("/console/sweep-failures/{failure_id}/{action}", response_model=None)
async def decide(request: Request, failure_id: str, action: str) -> Response:
    """Retry or dismiss one set-aside row, CSRF-checked, with the operator's reason."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, _, form = checked
    reason = form.get("reason", "").strip()
    try:
        if action not in set(FailureAction):
            raise FormProblem("failure_unknown_action")
        if not 1 <= len(reason) <= 500:
            raise FormProblem("failure_reason_required", f"{failure_id}.{action}")
        async with _db(request).write() as session:
            await failures.act(
                session,
                ctx=request_ctx(request, user),
                failure_id=failure_id,
                action=FailureAction(action),
                reason=reason,
            )
            await session.commit()
    except (FormProblem, DomainError) as exc:
        status_code = exc.http_status if isinstance(exc, DomainError) else 422
        here = f"{failure_id}.{action}"
        errors = errors_of(request, exc, place=lambda _: here)
        return await _page(
            request, None, errors=errors, typed={here: reason}, status_code=status_code
        )
    return RedirectResponse(f"/console/sweep-failures?done={action}", status_code=303)

"""The seller's restock suggestions (根据平台提示备货, M5): what to send to each platform
warehouse, from its sales and its stock cover, accepted as a draft inbound notice (R1)."""

from __future__ import annotations

from itertools import groupby
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.errors import DomainError
from tuoguan.fulfilment import restock
from tuoguan.fulfilment.inbound_schemas import MAX_LINES
from tuoguan.fulfilment.models import InboundNotice
from tuoguan.fulfilment.restock import RestockAccept, RestockSuggestion
from tuoguan.web.console import _current, _db, _render, _to_login, checked_form, request_ctx
from tuoguan.web.forms import Errors
from tuoguan.web.inbound_pages import Lines, made_notice
from tuoguan.web.stock_pages import error_page

router = APIRouter(include_in_schema=False)
DAY_CHOICES = (7, 14, 30, 60, 90)
COVER_CHOICES = (7, 14, 21, 30, 45, 60)


def _groups(rows: list[RestockSuggestion]) -> list[dict[str, Any]]:
    """Suggestions by store and warehouse (one inbound notice each), most urgent group first."""
    ordered = sorted(enumerate(rows), key=lambda p: (p[1].store_id, p[1].warehouse_id, p[0]))
    groups = []
    for (store_id, warehouse_id), items in groupby(
        ordered, key=lambda p: (p[1].store_id, p[1].warehouse_id)
    ):
        listed = list(items)
        first = listed[0][1]
        groups.append(
            {
                "urgency": listed[0][0],
                "store_id": store_id,
                "store_name": first.store_name,
                "warehouse_id": warehouse_id,
                "warehouse_name": first.warehouse_name,
                "rows": [row for _, row in listed],
            }
        )
    return sorted(groups, key=lambda g: g["urgency"])


async def _page(
    request: Request,
    user: User,
    web_session: WebSession,
    *,
    days: int,
    cover: int,
    form: dict[str, str] | None = None,
    errors: Errors | None = None,
    status_code: int = 200,
) -> Response:
    principal = accounts.principal_for_user(user)
    try:
        async with _db(request).read() as session:
            rows = await restock.suggest(
                session,
                principal=principal,
                now=request.app.state.clock.now(),
                days=days,
                cover_days=cover,
            )
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    groups = _groups(rows)
    posted = form or {}
    # A refusal shows in the group its form came from; one of no group shown, above them all.
    answered = any(
        (g["store_id"], g["warehouse_id"]) == (posted.get("store_id"), posted.get("warehouse_id"))
        for g in groups
    )
    return _render(
        request,
        "restock.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "groups": groups,
            "stray": {} if answered else errors or {},
            "days": days,
            "cover": cover,
            "day_choices": sorted({*DAY_CHOICES, days}),
            "cover_choices": sorted({*COVER_CHOICES, cover}),
            "can_accept": user.role.value == "seller",
            "form": form or {},
            "errors": errors or {},
        },
        status_code,
    )


@router.get("/console/restock", response_model=None)
async def restock_page(
    request: Request,
    days: Annotated[int, Query(ge=restock.MIN_DAYS, le=restock.MAX_DAYS)] = restock.DEFAULT_DAYS,
    cover: Annotated[
        int, Query(ge=restock.MIN_COVER, le=restock.MAX_COVER)
    ] = restock.DEFAULT_COVER,
) -> Response:
    """M5: the platform's restock suggestions, most urgent first, grouped by store and
    warehouse, each group a form that creates a draft inbound notice."""
    current = await _current(request)
    if current is None:
        return _to_login()
    return await _page(request, *current, days=days, cover=cover)


def _bounded(text: str | None, low: int, high: int, default: int) -> int:
    try:
        value = int(text or default)
    except ValueError:
        return default
    return value if low <= value <= high else default


@router.post("/console/restock", response_model=None)
async def accept_suggestions(request: Request) -> Response:
    """Accept a group's ticked suggestions, with the quantities typed, as a draft inbound
    notice, then show the notice."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    days = _bounded(form.get("days"), restock.MIN_DAYS, restock.MAX_DAYS, restock.DEFAULT_DAYS)
    cover = _bounded(form.get("cover"), restock.MIN_COVER, restock.MAX_COVER, restock.DEFAULT_COVER)

    async def make(session: AsyncSession, lines: Lines, cartons: int) -> InboundNotice:
        data = RestockAccept.model_validate(
            {
                "store_id": form.get("store_id", ""),
                "warehouse_id": form.get("warehouse_id", ""),
                "lines": lines,
                "cartons": cartons,
            }
        )
        return await restock.accept(session, ctx=request_ctx(request, user), data=data)

    done = await made_notice(request, user, form, make, rows=MAX_LINES, ticked=True)
    if isinstance(done, Response):
        return done
    errors, status_code = done
    return await _page(
        request,
        user,
        web_session,
        days=days,
        cover=cover,
        form=form,
        errors=errors,
        status_code=status_code,
    )

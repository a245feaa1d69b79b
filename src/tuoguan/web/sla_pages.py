"""Console pages for deadlines at risk (G5) and breaches: whose each row is (store and seller by
name), narrowed by seller and store, in words (G7). Penalties are in ``penalty_pages.py``, policy
versions in ``policy_pages.py``; both say things as this module does (``_say``, ``_refusal``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from tuoguan.accounts import service as accounts
from tuoguan.errors import BadRequest, DomainError
from tuoguan.kit.i18n import N_
from tuoguan.orders import deadlines
from tuoguan.sla import service as sla
from tuoguan.sla import warnings
from tuoguan.web import owners
from tuoguan.web.console import (
    _current,
    _db,
    _render,
    _to_login,
    request_language,
)
from tuoguan.web.i18n import translator

router = APIRouter(include_in_schema=False)


def _say(request: Request, key: str, **params: Any) -> str:
    """A message in the reader's language with its {placeholders} filled."""
    text = translator(request_language(request))(key)
    try:
        return text.format(**params) if params else text
    except (KeyError, IndexError, ValueError):
        return text


def _query(**params: str | None) -> str:
    kept = {k: v for k, v in params.items() if v}
    return "?" + urlencode(kept) if kept else ""


# Why an action was refused, by rule (the penalty and policy pages).
_REFUSALS = {
    "appeal_window": N_("err_appeal_window"),
    "illegal_transition": N_("err_state"),
    "concurrent_update": N_("err_concurrent"),
    "not_found": N_("err_not_found"),
    "forbidden": N_("err_forbidden"),
}


def _refusal(request: Request, exc: DomainError) -> str:
    """Why the service refused, in the reader's language (never its English text)."""
    rule = str(exc.extra.get("rule") or exc.code)
    return _say(request, _REFUSALS.get(rule) or _REFUSALS.get(exc.code) or N_("err_not_done"))


# -- at risk -----------------------------------------------------------------------------------


@router.get("/console/at-risk", response_model=None)
async def at_risk(
    request: Request,
    seller: Annotated[str | None, Query(max_length=40)] = None,
    store: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """G5: open orders likely to miss their running deadline, highest risk first (the API's
    order), a page at a time, narrowed by seller and store."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    try:
        async with _db(request).read() as session:
            chosen = await owners.filters(session, principal, seller, store)
            found, next_cursor = await warnings.at_risk(
                session,
                principal=principal,
                now=now,
                min_score=40,
                store_id=chosen.store_id,
                seller_id=chosen.seller_id,
                cursor=cursor,
                limit=50,
            )
            whose = await owners.owners(session, {order.store_id for order, _ in found})
    except BadRequest:  # a cursor that is not ours: start again from the first page
        return RedirectResponse("/console/at-risk" + _query(seller=seller, store=store), 303)
    rows = []
    for order, verdict in found:
        owner = whose.get(order.store_id)
        zone = owner.timezone if owner else "UTC"
        rows.append(
            {
                "order": order,
                "risk": verdict,
                "owner": owner,
                "deadline": deadlines.next_deadline(order, zone, now),
            }
        )
    next_url = next_cursor and "/console/at-risk" + _query(**chosen.query(), cursor=next_cursor)
    return _render(
        request,
        "at_risk.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "rows": rows,
            "filters": chosen,
            "now": now,
            "next_url": next_url,
        },
    )


# -- breaches ----------------------------------------------------------------------------------


@router.get("/console/breaches", response_model=None)
async def breaches(
    request: Request,
    seller: Annotated[str | None, Query(max_length=40)] = None,
    store: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """The breach queue: missed confirm (O2) and ship (F1) deadlines, newest first, whose each
    is, narrowed by seller and store."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    principal = accounts.principal_for_user(user)
    try:
        async with _db(request).read() as session:
            chosen = await owners.filters(session, principal, seller, store)
            found, next_cursor = await sla.list_breaches(
                session,
                principal=principal,
                seller_id=chosen.seller_id,
                store_id=chosen.store_id,
                cursor=cursor,
                limit=100,
            )
            whose = await owners.owners(session, {b.store_id for b in found})
    except BadRequest:  # a cursor that is not ours: start again from the first page
        return RedirectResponse("/console/breaches" + _query(seller=seller, store=store), 303)
    rows = [
        {
            "b": b,
            "owner": whose.get(b.store_id),
            "late": None if b.lateness_seconds is None else timedelta(seconds=b.lateness_seconds),
        }
        for b in found
    ]
    next_url = next_cursor and "/console/breaches" + _query(**chosen.query(), cursor=next_cursor)
    return _render(
        request,
        "breaches.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "rows": rows,
            "filters": chosen,
            "next_url": next_url,
        },
    )

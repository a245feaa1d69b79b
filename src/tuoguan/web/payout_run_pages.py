"""Console pages of payout runs (结算批次, M3), for operators: the runs, newest first, and a
preview form per cycle; a run's page with each store's opening, movements, closing, netted,
payout and carried forward, in words and money, and the button that executes a preview once
(confirmed first); an executed run's payouts and where each stands on the rail."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.errors import BadRequest, DomainError, Forbidden
from tuoguan.kit import i18n
from tuoguan.kit.i18n import N_
from tuoguan.principal import Role
from tuoguan.settlement import cycles, runs
from tuoguan.settlement.models import Payout, PayoutStatus
from tuoguan.settlement.run_models import RunStatement, RunStatus, StatementStatus
from tuoguan.settlement.run_schemas import present_totals
from tuoguan.stores.models import StoreMode
from tuoguan.web import owners
from tuoguan.web.console import (
    _current,
    _db,
    _render,
    _to_login,
    checked_form,
    request_ctx,
    request_language,
)
from tuoguan.web.ledger_pages import pages_query
from tuoguan.web.payout_pages import account_path
from tuoguan.web.stock_pages import error_page, refusal, say

router = APIRouter(include_in_schema=False)
RUNS_HOME = "/console/payout-runs"
PAGE = 30

# Why a preview or an execution was refused, by its rule.
_REFUSALS = {
    "run_once": N_("err_prun_run_once"),
    "cycle_not_due": N_("err_prun_cycle_not_due"),
}


async def _operator(request: Request) -> tuple[User, WebSession] | Response:
    """The signed-in operator; anyone else is refused (403)."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    if user.role is not Role.operator:
        refused = Forbidden("only operators run settlements")
        return error_page(request, user, web_session.csrf_token, refused)
    return user, web_session


def _zone(request: Request) -> str:
    zone: str = request.app.state.settings.settlement_zone
    return zone


def _refused(request: Request, exc: DomainError) -> str:
    rule = str(exc.extra.get("rule"))
    key = _REFUSALS.get(rule)
    if key is None:
        return refusal(request, exc)
    if rule == "cycle_not_due":
        upcoming = datetime.fromisoformat(str(exc.extra["next_boundary"]))
        now = request.app.state.clock.now()
        lang = request_language(request)
        return say(request, key, when=i18n.local_time(upcoming, _zone(request), lang, now=now))
    return say(request, key)


async def _paid(session: AsyncSession, run_ids: list[str]) -> dict[str, list[tuple[str, int]]]:
    """What each run pays (or would pay) per currency, by currency."""
    if not run_ids:
        return {}
    rows = await session.execute(
        select(RunStatement.run_id, RunStatement.currency, func.sum(RunStatement.payout_minor))
        .where(RunStatement.run_id.in_(run_ids))
        .group_by(RunStatement.run_id, RunStatement.currency)
        .order_by(RunStatement.run_id, RunStatement.currency)
    )
    found: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for run_id, currency, total in rows:
        found[run_id].append((currency, int(total or 0)))
    return found


def _cycles(request: Request) -> list[dict[str, Any]]:
    """Each cycle: its length and the boundary it last passed."""
    settings = request.app.state.settings
    now = request.app.state.clock.now()
    return [
        {
            "mode": mode,
            "days": cycles.cycle_days(settings, mode),
            "ended": cycles.latest_boundary(settings, mode, now),
        }
        for mode in (StoreMode.full_managed, StoreMode.semi_managed, StoreMode.self_run)
    ]


async def _list_page(
    request: Request,
    user: User,
    web_session: WebSession,
    *,
    cursor: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    principal = accounts.principal_for_user(user)
    try:
        async with _db(request).read() as session:
            rows, next_cursor = await runs.list_runs(session, principal, cursor=cursor, limit=PAGE)
            paid = await _paid(session, [run.id for run in rows])
    except BadRequest:  # a cursor that is not ours: start again from the first page
        return RedirectResponse(RUNS_HOME, status_code=303)
    return _render(
        request,
        "payout_runs.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "runs": rows,
            "paid": paid,
            "cycles": _cycles(request),
            "zone": _zone(request),
            "error": error,
            "next_url": next_cursor and RUNS_HOME + pages_query(cursor=next_cursor),
        },
        status_code,
    )


@router.get(RUNS_HOME, response_model=None)
async def payout_runs(
    request: Request, cursor: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    """The payout runs, newest first, and a preview form per cycle."""
    checked = await _operator(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    return await _list_page(request, user, web_session, cursor=cursor)


@router.post(RUNS_HOME, response_model=None)
async def preview_run(request: Request) -> Response:
    """Preview a cycle's run (CSRF-checked); nothing is posted."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    if user.role is not Role.operator:
        refused = Forbidden("only operators run settlements")
        return error_page(request, user, web_session.csrf_token, refused)
    try:
        async with _db(request).write() as session:
            run = await runs.preview(session, request_ctx(request, user), form.get("cycle", ""))
            await session.commit()
    except DomainError as exc:
        error = _refused(request, exc)
        return await _list_page(
            request, user, web_session, error=error, status_code=exc.http_status
        )
    return RedirectResponse(f"{RUNS_HOME}/{run.id}?done=previewed", status_code=303)


def _carried(statement: RunStatement) -> str:
    """Which words say what is carried forward (the template fills in the money)."""
    if statement.carried_forward_minor < 0:
        return N_("prun_carried_owes")
    if statement.carried_forward_minor > 0:
        if statement.status is StatementStatus.held_no_account:
            return N_("prun_carried_held")
        return N_("prun_carried_kept")
    return N_("prun_carried_none")


async def _run_page(
    request: Request,
    user: User,
    web_session: WebSession,
    run_id: str,
    *,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    principal = accounts.principal_for_user(user)
    try:
        async with _db(request).read() as session:
            run, found = await runs.get_run(session, principal, run_id)
            whose = await owners.owners(session, {s.store_id for s in found})
            ids = [s.payout_id for s in found if s.payout_id]
            sent: dict[str, PayoutStatus] = {}
            if ids:
                rows = await session.execute(
                    select(Payout.id, Payout.status).where(Payout.id.in_(ids))
                )
                sent = {payout_id: status for payout_id, status in rows}
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    found.sort(key=lambda s: (whose[s.store_id].seller, whose[s.store_id].store, s.currency))
    return _render(
        request,
        "payout_run.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "run": run,
            "statements": found,
            "owners": whose,
            "sent": sent,
            "carried": {s.id: _carried(s) for s in found},
            "totals": [present_totals(total) for total in runs.totals(found)],
            "zone": _zone(request),
            "executable": run.status is RunStatus.previewed,
            "account_path": account_path,
            "message": message,
            "error": error,
        },
        status_code,
    )


@router.get(RUNS_HOME + "/{run_id}", response_model=None)
async def payout_run(
    request: Request,
    run_id: str,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """One run: each store's figures and outcome; a preview's execute button."""
    checked = await _operator(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    messages = {"previewed": N_("prun_done_previewed"), "executed": N_("prun_done_executed")}
    message = say(request, messages[done]) if done in messages else None
    return await _run_page(request, user, web_session, run_id, message=message)


@router.post(RUNS_HOME + "/{run_id}/execute", response_model=None)
async def execute_run(request: Request, run_id: str) -> Response:
    """Execute a previewed run once (CSRF-checked; the page asks to confirm). The payouts it
    prepares go out with the worker's next sweep."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, _ = checked
    if user.role is not Role.operator:
        refused = Forbidden("only operators run settlements")
        return error_page(request, user, web_session.csrf_token, refused)
    try:
        async with _db(request).write() as session:
            await runs.execute(session, request_ctx(request, user), run_id)
            await session.commit()
    except DomainError as exc:
        return await _run_page(
            request,
            user,
            web_session,
            run_id,
            error=_refused(request, exc),
            status_code=exc.http_status,
        )
    return RedirectResponse(f"{RUNS_HOME}/{run_id}?done=executed", status_code=303)

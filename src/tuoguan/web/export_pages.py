"""Console exports (O5): the order list's CSV, and the page of export jobs: start a large
export, follow it, download its file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User
from tuoguan.errors import BadRequest, DomainError
from tuoguan.exports import repository as export_queries
from tuoguan.exports import service as exports
from tuoguan.exports.models import ExportJob
from tuoguan.exports.schemas import MAX_ROWS, ExportCreate
from tuoguan.exports.states import ExportStatus
from tuoguan.orders import views
from tuoguan.orders.repository import OrderFilter
from tuoguan.orders.states import OrderStatus
from tuoguan.web.console import _current, _db, _render, _to_login, checked_form, request_ctx
from tuoguan.web.forms import FORM, Errors
from tuoguan.web.stock_pages import error_page, reader_zone, say

router = APIRouter(include_in_schema=False)
LARGER = (100_000, MAX_ROWS)  # the row counts offered above the inline limit
PAGE_SIZE = 50
REFRESH_SECONDS = 3
OPEN = (ExportStatus.queued, ExportStatus.running)
# Refusals of a start, by rule or error code, as the message keys that explain them.
REFUSALS = {"export_jobs_open": "export_jobs_open", "forbidden": "export_forbidden"}


@dataclass(frozen=True)
class Item:
    """One job as the page shows it: its progress as a share of the rows expected."""

    job: ExportJob
    percent: int
    statuses: list[OrderStatus]


def _item(job: ExportJob) -> Item:
    if job.status is ExportStatus.done:
        percent = 100
    else:
        percent = min(99, job.rows_written * 100 // job.rows_expected) if job.rows_expected else 0
    return Item(job, percent, [OrderStatus(s) for s in job.statuses])


def _choices(inline: int) -> list[int]:
    return [inline, *(n for n in LARGER if n > inline)]


def _status(value: str | None) -> OrderStatus | None:
    return OrderStatus(value) if value in set(OrderStatus) else None


def _refusal(rule: str | None) -> str:
    """The message key of a refused start, by the refusal's rule or error code."""
    return REFUSALS.get(rule or "", "export_refused")


def _query(rows: int | None, status: OrderStatus | None, **more: str) -> str:
    params = {
        **({"rows": str(rows)} if rows else {}),
        **({"status": status.value} if status else {}),
        **more,
    }
    return "/console/exports" + (f"?{urlencode(params)}" if params else "")


async def _page(
    request: Request,
    *,
    rows: int | None = None,
    status: OrderStatus | None = None,
    cursor: str | None = None,
    message: str | None = None,
    errors: Errors | None = None,
    status_code: int = 200,
) -> Response:
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    principal = accounts.principal_for_user(user)
    inline = request.app.state.settings.export_inline_rows
    try:
        async with _db(request).read() as session:
            jobs, next_cursor = await exports.list_exports(
                session, principal=principal, cursor=cursor, limit=PAGE_SIZE
            )
            zone = await reader_zone(session, user)
    except BadRequest:  # a cursor that is not ours: start again from the first page
        return RedirectResponse("/console/exports", status_code=303)
    rows = rows if rows in _choices(inline) else inline
    here = {"cursor": cursor} if cursor else {}
    open_jobs = any(job.status in OPEN for job in jobs)
    return _render(
        request,
        "exports.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "items": [_item(job) for job in jobs],
            "choices": _choices(inline),
            "inline": inline,
            "rows": rows,
            "status": status,
            "statuses": list(OrderStatus),
            "zone": zone,
            "message": message,
            "errors": errors or {},
            # While a job moves, the page reloads itself, without the one-time notices.
            "refresh_url": _query(rows, status, **here) if open_jobs else None,
            "refresh_seconds": REFRESH_SECONDS,
            "next_url": next_cursor and _query(rows, status, cursor=next_cursor),
        },
        status_code,
    )


@router.get("/console/exports", response_model=None)
async def export_list(
    request: Request,
    rows: Annotated[int | None, Query(ge=1, le=MAX_ROWS)] = None,
    status: Annotated[str | None, Query(max_length=30)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    started: Annotated[str | None, Query(max_length=10)] = None,
    large: Annotated[str | None, Query(max_length=10)] = None,
    refused: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """The signed-in user's export jobs, newest first, and the form that starts one.

    ``started``, ``large`` and ``refused`` are one-time notices of the start just tried.
    """
    message = "export_started_large" if large else "export_started" if started else None
    return await _page(
        request,
        rows=rows,
        status=_status(status),
        cursor=cursor,
        message=message,
        errors={FORM: say(request, _refusal(refused))} if refused else None,
    )


@router.post("/console/exports", response_model=None)
async def export_start(request: Request) -> Response:
    """Start an export job (CSRF-checked), whatever the row count chosen."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, _, form = checked
    status = _status(form.get("status"))
    inline = request.app.state.settings.export_inline_rows
    rows = int(form["rows"]) if form.get("rows", "").isdigit() else 0
    if rows not in _choices(inline):
        errors = {"rows": say(request, "export_bad_rows")}
        return await _page(request, status=status, errors=errors, status_code=422)
    refused = await _create(request, user, [status] if status else [], rows)
    if refused is not None:
        return await _page(
            request,
            rows=rows,
            status=status,
            errors={FORM: say(request, _refusal(_rule(refused)))},
            status_code=refused.http_status,
        )
    return RedirectResponse(_query(rows, status, started="1"), status_code=303)


async def _create(
    request: Request, user: User, statuses: list[OrderStatus], rows: int
) -> DomainError | None:
    """Start an export job as this user, with its audit event; the refusal, if refused."""
    try:
        async with _db(request).write() as session:
            await exports.create_export(
                session,
                ctx=request_ctx(request, user),
                data=ExportCreate(status=statuses, limit=rows),
            )
            await session.commit()
    except DomainError as exc:
        return exc
    return None


def _rule(refused: DomainError) -> str:
    return str(refused.extra.get("rule") or refused.code)


@router.get("/console/orders.csv", response_model=None)
async def order_export(
    request: Request,
    rows: Annotated[int | None, Query(ge=1, le=MAX_ROWS)] = None,
    status: Annotated[str | None, Query(max_length=30)] = None,
) -> Response:
    """O5: the order list's export. The signed-in user's orders as CSV at once if they fit
    the inline limit; else an export job starts and this page follows it."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user = current[0]
    picked = _status(status)
    statuses = [picked] if picked else []
    inline = request.app.state.settings.export_inline_rows
    wanted = rows or MAX_ROWS
    principal = accounts.principal_for_user(user)
    if wanted > inline:
        async with _db(request).read() as session:
            matching = await export_queries.count_orders(
                session, principal, statuses=statuses, store_id=None, upto=inline + 1
            )
        if matching > inline:
            refused = await _create(request, user, statuses, wanted)
            query = {"status": picked.value} if picked else {}
            query.update({"refused": _rule(refused)} if refused else {"large": "1"})
            return RedirectResponse(f"/console/exports?{urlencode(query)}", status_code=303)
    flt = OrderFilter(statuses=statuses, limit=min(wanted, inline))
    chunks = await views.export_csv(_db(request).read, principal=principal, flt=flt)
    return StreamingResponse(
        chunks,
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="orders.csv"'},
    )


@router.get("/console/exports/{export_id}/file", response_model=None)
async def export_file(request: Request, export_id: str) -> Response:
    """The finished file of one of the user's exports."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    try:
        async with _db(request).read() as session:
            job, path = await exports.export_file(
                session,
                principal=accounts.principal_for_user(user),
                job_id=export_id,
                export_dir=request.app.state.settings.export_dir,
            )
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    return FileResponse(
        path, media_type="text/csv", filename=f"orders-{job.created_at:%Y%m%d-%H%M}.csv"
    )

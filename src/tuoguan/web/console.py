"""Console pages: login, order list with deadlines, order detail with its timeline and actions."""

from __future__ import annotations

import math
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.accounts.throttle import LoginThrottle, ThrottleUnavailable, Verdict, record_locks
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.errors import BadRequest, DomainError, Unauthorized
from tuoguan.exports import repository as export_queries
from tuoguan.exports import service as exports
from tuoguan.exports.schemas import MAX_ROWS, ExportCreate
from tuoguan.kit.money import format_minor, major_text
from tuoguan.notify import service as notify
from tuoguan.orders import service as orders
from tuoguan.orders import views
from tuoguan.orders.repository import OrderFilter
from tuoguan.orders.schemas import ActionBody, CancelBody, ShipBody
from tuoguan.orders.states import DEADLINE_OF, OrderAction, OrderStatus
from tuoguan.shipping import cancellation, claims, printing, shipments
from tuoguan.shipping.schemas import CancelReason
from tuoguan.web.i18n import LANGUAGES, pick_language, translator


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The sign-in throttle lives as long as the app (its Redis pool, if any)."""
    app.state.login_throttle = LoginThrottle.from_settings(app.state.settings)
    try:
        yield
    finally:
        await app.state.login_throttle.store.close()


router = APIRouter(include_in_schema=False, lifespan=_lifespan)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
SESSION_COOKIE = "tg_session"
LOGIN_CSRF_COOKIE = "tg_login_csrf"
LANG_COOKIE = "tg_lang"


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    lang = pick_language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    context = {
        "t": translator(lang),
        "lang": lang,
        "other_lang": next(code for code in LANGUAGES if code != lang),
        "money": lambda minor, currency: format_minor(minor, currency, lang),
        # Money typed into a form: the amount in its currency's units, and the input's step.
        "major": major_text,
        "money_step": lambda currency: major_text(1, currency),
        **context,
    }
    return templates.TemplateResponse(request, name, context, status_code=status_code)


async def _current(request: Request) -> tuple[User, WebSession] | None:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    async with _db(request).read() as session:
        return await accounts.session_user(session, secret, request.app.state.clock)


def _to_login() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


@router.get("/")
async def root() -> RedirectResponse:
    """The console starts at the order list."""
    return RedirectResponse("/console/orders", status_code=303)


@router.get("/lang/{code}")
async def set_language(code: str, request: Request) -> RedirectResponse:
    """Switch the console language and go back."""
    referer = request.headers.get("referer") or "/console/orders"
    target = referer if referer.startswith(str(request.base_url)) else "/console/orders"
    response = RedirectResponse(target, status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request) -> HTMLResponse:
    """The sign-in page, with a double-submit CSRF token."""
    token = secrets.token_urlsafe(24)
    response = _render(request, "login.html", {"csrf": token, "error": None})
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.app.state.settings.secure_cookies,
    )
    return response


def _login_refused(request: Request, csrf: str, error: str, status: int, wait: int = 0) -> Response:
    # Seconds below a minute, "a minute" at one, else whole minutes up.
    count = math.ceil(wait / 60)
    if error == "login_throttled" and wait < 60:
        error, count = "login_throttled_seconds", wait
    elif error == "login_throttled" and wait == 60:
        error = "login_throttled_soon"
    context = {"csrf": csrf, "error": error, "wait_minutes": count}
    response = _render(request, "login.html", context, status)
    if wait:
        response.headers["Retry-After"] = str(wait)
    return response


@router.post("/login", response_model=None)
async def login(
    request: Request,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(max_length=100)],
) -> Response:
    """Check the password and open a server-side session, unless the throttle says wait."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not expected or not secrets.compare_digest(expected, csrf):
        return _render(request, "login.html", {"csrf": expected or "", "error": "csrf"}, 403)
    settings: Settings = request.app.state.settings
    clock = request.app.state.clock
    guard: LoginThrottle = request.app.state.login_throttle
    keys = guard.keys(
        email=email,
        peer=request.client.host if request.client else None,
        forwarded_for=request.headers.get("x-forwarded-for"),
    )
    db = _db(request)
    try:
        # Charged before the password is looked at, in its own transaction: it counts
        # whatever the outcome, and parallel guesses cannot all pass one check.
        async with db.write() as session:
            verdict: Verdict = await guard.store.charge(session, keys, clock.now())
            await session.commit()
        if verdict.retry_after:
            return _login_refused(request, expected, "login_throttled", 429, verdict.retry_after)
        try:
            async with db.read() as session:
                user = await accounts.authenticate(session, email=email, password=password)
        except Unauthorized:
            if verdict.locked:
                async with db.write() as session:
                    await record_locks(
                        session,
                        verdict=verdict,
                        keys=keys,
                        email=email,
                        clock=clock,
                        settings=settings,
                        request_id=getattr(request.state, "request_id", None),
                    )
                    await session.commit()
            return _login_refused(request, expected, "login_failed", 401)
        async with db.write() as session:
            await guard.store.succeeded(session, keys, clock.now())
            secret, _ = await accounts.open_session(
                session, user=user, clock=clock, hours=settings.session_hours
            )
            await session.commit()
    except ThrottleUnavailable:
        return _login_refused(request, expected, "login_unavailable", 503, 30)
    response = RedirectResponse("/console/orders", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=settings.session_hours * 3600,
    )
    response.set_cookie(LANG_COOKIE, user.locale, max_age=365 * 86400, samesite="lax")
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout", response_model=None)
async def logout(request: Request) -> Response:
    """End the session; a post without the session's CSRF token changes nothing (403)."""
    checked = await checked_form(request)
    if isinstance(checked, RedirectResponse):
        # No live session: nothing to end, only a stale cookie to drop.
        checked.delete_cookie(SESSION_COOKIE)
        return checked
    if isinstance(checked, Response):
        return checked
    async with _db(request).write() as session:
        await accounts.logout(session, request.cookies.get(SESSION_COOKIE, ""))
        await session.commit()
    response = _to_login()
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/console/orders", response_model=None)
async def order_list(
    request: Request,
    status_param: Annotated[str | None, Query(alias="status", max_length=40)] = None,
    sort_param: Annotated[str | None, Query(alias="sort", max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """O5: each order with its next deadline and the time left."""
    current = await _current(request)
    if current is None:
        return _to_login()
    # The filter form sends "" for "all"; anything unknown falls back to the default view.
    status = OrderStatus(status_param) if status_param in set(OrderStatus) else None
    sort = sort_param if sort_param in ("newest", "deadline") else "deadline"
    # Finished orders have no deadline running, so the deadline order would list none.
    if status is not None and status not in DEADLINE_OF:
        sort = "newest"
    user, web_session = current
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    flt = OrderFilter(statuses=(status,) if status else (), sort=sort, cursor=cursor, limit=50)
    try:
        async with _db(request).read() as session:
            rows, next_cursor = await orders.list_orders(session, principal=principal, flt=flt)
            items = await views.present_many(session, rows, principal=principal, now=now)
            labelled = await printing.printable(
                session, principal=principal, order_ids=[r.id for r in rows]
            )
    except DomainError:
        return RedirectResponse("/console/orders", status_code=303)
    next_url = None
    if next_cursor:
        params = {
            "sort": sort,
            "cursor": next_cursor,
            **({"status": status.value} if status else {}),
        }
        next_url = "/console/orders?" + urlencode(params)
    return _render(
        request,
        "orders.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "orders": items,
            "labelled": labelled,
            "status": status,
            "statuses": list(OrderStatus),
            "sort": sort,
            "next_url": next_url,
            "now": now,
        },
    )


@router.get("/console/orders.csv", response_model=None)
async def order_export(
    request: Request,
    rows: Annotated[int | None, Query(ge=1, le=MAX_ROWS)] = None,
    status: Annotated[str | None, Query(max_length=30)] = None,
) -> Response:
    """O5: the signed-in user's orders as CSV at once if they fit the inline limit; else an
    export job starts and the exports page follows it."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user = current[0]
    picked = OrderStatus(status) if status in set(OrderStatus) else None
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
            return await _start_export(request, user, statuses, wanted)
    flt = OrderFilter(statuses=statuses, limit=min(wanted, inline))
    chunks = await views.export_csv(_db(request).read, principal=principal, flt=flt)
    return StreamingResponse(
        chunks,
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="orders.csv"'},
    )


async def _start_export(
    request: Request, user: User, statuses: list[OrderStatus], rows: int
) -> RedirectResponse:
    """Start an export job of more orders than the inline limit; the exports page tells how
    it went (a refusal by its rule, e.g. too many jobs open)."""
    query = {"status": statuses[0].value} if statuses else {}
    try:
        async with _db(request).write() as session:
            await exports.create_export(
                session,
                ctx=request_ctx(request, user),
                data=ExportCreate(status=statuses, limit=rows),
            )
            await session.commit()
    except DomainError as exc:
        query["refused"] = str(exc.extra.get("rule") or exc.code)
    else:
        query["large"] = "1"
    return RedirectResponse(f"/console/exports?{urlencode(query)}", status_code=303)


@router.get("/console/notifications", response_model=None)
async def notifications(
    request: Request, cursor: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    """The signed-in user's notifications, newest first (breaches, O2/F1)."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    try:
        async with _db(request).read() as session:
            rows, next_cursor = await notify.inbox(
                session, principal=accounts.principal_for_user(user), cursor=cursor, limit=100
            )
    except BadRequest:  # a cursor that is not ours: start again from the first page
        return RedirectResponse("/console/notifications", status_code=303)
    next_url = next_cursor and "/console/notifications?" + urlencode({"cursor": next_cursor})
    return _render(
        request,
        "notifications.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "notes": rows,
            "next_url": next_url,
        },
    )


async def _detail(
    request: Request,
    session: AsyncSession,
    user: User,
    web_session: WebSession,
    order_id: str,
    *,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    order = await orders.get_order(session, principal=principal, order_id=order_id)
    (view,) = await views.present_many(session, [order], principal=principal, now=now)
    timeline = await orders.events(session, principal=principal, order_id=order_id)
    parcels = await shipments.for_order(session, principal=principal, order_id=order_id)
    order_claims, _ = await claims.list_claims(session, principal=principal, order_id=order_id)
    return _render(
        request,
        "order.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "order": view,
            "events": timeline,
            "shipments": [shipments.present(p, principal) for p in parcels],
            "cancel_reasons": list(CancelReason),
            "claims": order_claims,
            "claimable": {k.value: [s.value for s in v] for k, v in claims.CLAIMABLE.items()},
            "message": message,
            "error": error,
            "now": now,
        },
        status_code,
    )


@router.get("/console/orders/{order_id}", response_model=None)
async def order_detail(
    request: Request, order_id: str, done: Annotated[str | None, Query(max_length=40)] = None
) -> Response:
    """One order: fields, deadlines, timeline and the actions its state allows."""
    current = await _current(request)
    if current is None:
        return _to_login()
    try:
        async with _db(request).read() as session:
            return await _detail(
                request, session, *current, order_id, message="done" if done else None
            )
    except DomainError as exc:
        return _render(
            request,
            "error.html",
            {"user": current[0], "csrf": current[1].csrf_token, "error": exc.detail},
            exc.http_status,
        )


def _action_body(action: OrderAction, form: dict[str, str]) -> Any:
    if action is OrderAction.ship:
        return ShipBody(
            carrier_code=form.get("carrier_code", "").strip().lower(),
            tracking_number=form.get("tracking_number", "").strip().upper(),
        )
    if action is OrderAction.cancel:
        return CancelBody(reason=form.get("reason", ""))
    reason = form.get("reason", "").strip()
    return ActionBody(reason=reason or None)


@router.post("/console/orders/{order_id}/{action}", response_model=None)
async def order_action(request: Request, order_id: str, action: str) -> Response:
    """Run one order action from the console (CSRF-checked), then show the order again."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    ctx = request_ctx(request, user)
    error: str | None = None
    status_code = 200
    try:
        kind = OrderAction(action)
        body = _action_body(kind, form)
        async with _db(request).write() as session:
            if kind is OrderAction.cancel:
                # O4 with F10: a booked parcel is voided by the carrier before the order ends.
                await cancellation.cancel_order(session, ctx=ctx, order_id=order_id, body=body)
            else:
                await orders.act(session, ctx=ctx, order_id=order_id, action=kind, body=body)
            await session.commit()
        return RedirectResponse(f"/console/orders/{order_id}?done={kind.value}", status_code=303)
    except ValueError as exc:
        error = _validation_message(exc)
        status_code = 422
    except DomainError as exc:
        error, status_code = exc.detail, exc.http_status
    try:
        async with _db(request).read() as session:
            return await _detail(
                request, session, user, web_session, order_id, error=error, status_code=status_code
            )
    except DomainError as exc:
        return _render(
            request,
            "error.html",
            {"user": user, "csrf": web_session.csrf_token, "error": exc.detail},
            exc.http_status,
        )


def request_ctx(request: Request, user: User) -> Ctx:
    """The use-case context of a console request by this user."""
    return Ctx(
        principal=accounts.principal_for_user(user),
        clock=request.app.state.clock,
        request_id=getattr(request.state, "request_id", None),
        settings=request.app.state.settings,
    )


async def checked_form(request: Request) -> tuple[User, WebSession, dict[str, str]] | Response:
    """The signed-in user and the posted form if its CSRF token matches; else the response."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    form = {k: str(v) for k, v in (await request.form()).items()}
    if not secrets.compare_digest(web_session.csrf_token, form.get("csrf", "")):
        return _render(
            request,
            "error.html",
            {"user": user, "csrf": web_session.csrf_token, "error": "CSRF token mismatch"},
            403,
        )
    return user, web_session, form


def _validation_message(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return str(exc)

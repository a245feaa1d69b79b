"""Console core: sign-in and out, language, the session and CSRF checks every page uses,
the notifications page and warehouse staff's home page. Order, export, SLA, shipping and
failure pages have their own modules."""

from __future__ import annotations

import math
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.accounts.throttle import LoginThrottle, ThrottleUnavailable, Verdict, record_locks
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.errors import BadRequest, Unauthorized
from tuoguan.inventory import repository as inventory
from tuoguan.kit.money import format_minor, major_text
from tuoguan.notify import service as notify
from tuoguan.principal import Role
from tuoguan.web import words
from tuoguan.web.i18n import LANGUAGES, pick_language, translator


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The sign-in throttle lives as long as the app (its Redis pool, if any); the app's own
    lifespan enters this one (``api/app.py``: the console's routes are shared between apps)."""
    app.state.login_throttle = LoginThrottle.from_settings(app.state.settings)
    try:
        yield
    finally:
        await app.state.login_throttle.store.close()


router = APIRouter(include_in_schema=False)
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
SESSION_COOKIE = "tg_session"
LOGIN_CSRF_COOKIE = "tg_login_csrf"
LANG_COOKIE = "tg_lang"
ORDERS_HOME = "/console/orders"
WAREHOUSE_HOME = "/console/warehouse"
CASES_HOME = "/console/cases"
# Warehouse staff use their home page and the pages under it (their receiving, pick and pack
# screens go there) and nothing else: every other console page sends them home, whatever its
# own checks would say.
WAREHOUSE_PAGES = (WAREHOUSE_HOME, "/logout", CASES_HOME)


def _warehouse_page(path: str) -> bool:
    """Their home and what is under it, and the cases of their warehouses (R3)."""
    return path in WAREHOUSE_PAGES or path.startswith((WAREHOUSE_HOME + "/", CASES_HOME + "/"))


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def request_language(request: Request) -> str:
    """The language this request reads in: the console's cookie, else the browser's."""
    return pick_language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


def _render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    lang = request_language(request)
    now = request.app.state.clock.now()
    context = {
        "t": translator(lang),
        "lang": lang,
        "other_lang": next(code for code in LANGUAGES if code != lang),
        "status_code": status_code,  # error.html says what went wrong by it
        "now": now,
        "money": lambda minor, currency: format_minor(minor, currency, lang),
        **words.helpers(lang, now),
        # Money typed into a form: the amount in its currency's units, and the input's step.
        "major": major_text,
        "money_step": lambda currency: major_text(1, currency),
        **context,
    }
    templates = words.templates(lang, str(TEMPLATE_DIR))
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def home_for(user: User) -> str:
    """Where a signed-in user starts."""
    return WAREHOUSE_HOME if user.role is Role.warehouse else ORDERS_HOME


async def _current(request: Request) -> tuple[User, WebSession] | None:
    """The signed-in user and session (None: not signed in). Every page starts here, so this
    is where warehouse staff are kept to their pages (a redirect to their home)."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    async with _db(request).read() as session:
        current = await accounts.session_user(session, secret, request.app.state.clock)
    if (
        current is not None
        and current[0].role is Role.warehouse
        and not _warehouse_page(request.url.path)
    ):
        raise HTTPException(status_code=303, headers={"Location": WAREHOUSE_HOME})
    return current


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
    response = RedirectResponse(home_for(user), status_code=303)
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


@router.get(WAREHOUSE_HOME, response_model=None)
async def warehouse_home(request: Request) -> Response:
    """Warehouse staff's home: the warehouses they work in, by name."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    if user.role is not Role.warehouse:
        return RedirectResponse(home_for(user), status_code=303)
    async with _db(request).read() as session:
        found = [await inventory.get_warehouse(session, w) for w in user.warehouse_ids]
    return _render(
        request,
        "warehouse_home.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "warehouses": [w for w in found if w is not None],
        },
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
            {"user": user, "csrf": web_session.csrf_token, "error": "form_expired"},
            403,
        )
    return user, web_session, form


def _validation_message(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return str(exc)

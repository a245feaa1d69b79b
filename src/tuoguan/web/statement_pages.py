"""The statements page (对账单, issue 14): a store's month in one currency, what the platform
owed the seller at its start, each entry that changed it (local time, what it records, a link
to the order it concerns) with the balance after it, and at its end; the deposit held beside
it; the same statement to download as CSV or PDF. A seller picks one of its stores, operators
any store (by seller, then store)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.errors import DomainError, Forbidden, InvalidInput
from tuoguan.principal import Principal, Role
from tuoguan.settlement import statement_files, statements
from tuoguan.settlement.statements import Statement
from tuoguan.stores import service as stores
from tuoguan.web import owners
from tuoguan.web.console import _current, _db, _render, _to_login, request_language
from tuoguan.web.ledger_pages import About, abouts, period_choices
from tuoguan.web.stock_pages import error_page

router = APIRouter(include_in_schema=False)
STATEMENTS_HOME = "/console/statements"
FILE = STATEMENTS_HOME + "/download"
FORMATS = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


def _month(text: str | None, now: datetime, zone: str) -> str:
    """The month asked for, if it is one; else this month in the store's zone."""
    if text:
        try:
            statements.period_bounds(text, zone)
            return text.strip()
        except InvalidInput:
            pass
    return statements.month_of(now, zone)


async def _signed_in(request: Request) -> tuple[User, WebSession, Principal] | Response:
    """A seller or an operator; anyone else is refused, the signed out sent to sign in."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    if user.role not in (Role.seller, Role.operator):
        refused = Forbidden("only sellers and operators read statements")
        return error_page(request, user, web_session.csrf_token, refused)
    return user, web_session, accounts.principal_for_user(user)


@router.get(STATEMENTS_HOME, response_model=None)
async def statement_page(
    request: Request,
    seller: Annotated[str | None, Query(max_length=40)] = None,
    store: Annotated[str | None, Query(max_length=40)] = None,
    period: Annotated[str | None, Query(max_length=7)] = None,
    currency: Annotated[str | None, Query(max_length=3)] = None,
) -> Response:
    """A store's statement for a month: a seller's own store (its first by default), an
    operator's choice of any store."""
    checked = await _signed_in(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, principal = checked
    lang = request_language(request)
    now = request.app.state.clock.now()
    found: Statement | None = None
    codes: list[str] = []
    about: dict[tuple[str, str], About] = {}
    try:
        async with _db(request).read() as session:
            chosen = await owners.filters(session, principal, seller, store)
            if chosen.store_id is None and not principal.is_operator and chosen.stores:
                chosen.store_id = chosen.stores[0][0]
            if chosen.store_id is not None:
                shop = await stores.get_store(
                    session, principal=principal, store_id=chosen.store_id
                )
                month = _month(period, now, shop.timezone)
                held = await statements.currencies(session, shop.id)
                codes = [shop.currency, *[c for c in held if c != shop.currency]]
                code = currency.upper() if currency and currency.upper() in codes else shop.currency
                found = await statements.month_statement(
                    session, store_id=shop.id, period=month, currency=code
                )
                about = await abouts(
                    session, {(ln.subject_type, ln.subject_id) for ln in found.lines}
                )
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    periods: list[tuple[str, str]] = []
    downloads: dict[str, str] = {}
    if found is not None:
        periods = period_choices(now, found.timezone, lang)
        if found.period not in {value for value, _ in periods}:
            periods.append((found.period or "", statement_files.period_words(found, lang)))
        kept = {"store": found.store_id, "period": found.period, "currency": found.currency}
        downloads = {fmt: f"{FILE}?{urlencode({**kept, 'format': fmt})}" for fmt in FORMATS}
    return _render(
        request,
        "statement.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "filters": chosen,
            "statement": found,
            "period_words": statement_files.period_words(found, lang) if found else "",
            "periods": periods,
            "currencies": codes,
            "about": about,
            "subject_words": statements.ABOUT_WORDS,
            "downloads": downloads,
        },
    )


@router.get(FILE, response_model=None)
async def statement_file(
    request: Request,
    store: Annotated[str, Query(max_length=40)],
    period: Annotated[str, Query(max_length=7)],
    fmt: Annotated[str, Query(alias="format", max_length=3)] = "pdf",
    currency: Annotated[str | None, Query(max_length=3)] = None,
) -> Response:
    """The statement as CSV or PDF, in the reader's language (another seller's store: not
    found)."""
    checked = await _signed_in(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, principal = checked
    lang = request_language(request)
    try:
        if fmt not in FORMATS:
            raise InvalidInput("a statement downloads as csv or pdf", field="format")
        async with _db(request).read() as session:
            shop = await stores.get_store(session, principal=principal, store_id=store)
            found = await statements.month_statement(
                session, store_id=shop.id, period=period, currency=currency
            )
        body = (
            statement_files.csv_bytes(found, lang)
            if fmt == "csv"
            else await statement_files.pdf(found, lang)
        )
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    name = f"statement-{found.period}-{found.currency}.{fmt}"
    disposition = "attachment" if fmt == "csv" else "inline"
    return Response(
        body,
        media_type=FORMATS[fmt],
        headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
    )

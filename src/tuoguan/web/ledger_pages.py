"""Console pages of the ledger (账本, M3 F6 S3), for operators: the platform's and the stores'
accounts with their balances, an account's movements by kind and month, an entry with its lines
and its reversal (with a reason, confirmed first), an order's entries. The helpers the seller's
money page shares (a month's bounds, what a line is about) are here too."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.errors import BadRequest, DomainError, Forbidden, NotFound
from tuoguan.finance.models import Penalty
from tuoguan.kit.i18n import N_
from tuoguan.ledger import reads, service
from tuoguan.ledger.accounts import Owner
from tuoguan.ledger.kinds import EntryKind
from tuoguan.orders import service as orders
from tuoguan.principal import Role
from tuoguan.shipping.models import InsuranceClaim, Shipment
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
from tuoguan.web.policy_pages import PLATFORM_ZONE
from tuoguan.web.stock_pages import error_page, refusal, say

router = APIRouter(include_in_schema=False)
LEDGER_HOME = "/console/ledger"
MONEY_HOME = "/console/money"
PAGE = 50
MONTHS = 12  # the months a period filter offers, this one first

# -- shared with the seller's money page --------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A month in a zone, as [since, until); empty: all time."""

    value: str = ""
    since: datetime | None = None
    until: datetime | None = None


def _month(year: int, month: int, zone: str) -> datetime:
    return datetime(year, month, 1, tzinfo=ZoneInfo(zone))


def period_of(text: str | None, zone: str) -> Period:
    """The month ``YYYY-MM`` names, in ``zone``; anything else reads as all time."""
    raw = (text or "").strip()
    year, _, month = raw.partition("-")
    if not (year.isdigit() and month.isdigit() and len(year) == 4 and 1 <= int(month) <= 12):
        return Period()
    y, m = int(year), int(month)
    after = (y + 1, 1) if m == 12 else (y, m + 1)
    return Period(raw, _month(y, m, zone), _month(*after, zone))


def period_choices(now: datetime, zone: str, lang: str) -> list[tuple[str, str]]:
    """(value, words) of the last months, this one first: "2026年11月", "November 2026"."""
    local = now.astimezone(ZoneInfo(zone))
    y, m = local.year, local.month
    choices = []
    for _ in range(MONTHS):
        first = _month(y, m, zone)
        words = format_skeleton("yMMMM", first, locale=lang.replace("-", "_"))
        choices.append((f"{y:04d}-{m:02d}", str(words)))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return choices


def kind_of(text: str | None) -> EntryKind | None:
    """The entry kind a filter names; anything else reads as every kind."""
    return EntryKind(text) if text in set(EntryKind) else None


@dataclass(frozen=True)
class About:
    """What an entry is about, as a link: the catalog key of its kind of object and the order
    it concerns (a penalty's, a claim's)."""

    word: str
    order_id: str


_ABOUT_WORDS = {
    "order": N_("ledger_about_order"),
    "penalty": N_("ledger_about_penalty"),
    "claim": N_("ledger_about_claim"),
    "shipment": N_("ledger_about_shipment"),  # the platform's freight (operators only, F11)
}
# The objects an entry is about other than an order, each of one order.
_OF_ORDER: dict[str, type[Penalty] | type[InsuranceClaim] | type[Shipment]] = {
    "penalty": Penalty,
    "claim": InsuranceClaim,
    "shipment": Shipment,
}


async def abouts(
    session: AsyncSession, subjects: Iterable[tuple[str | None, str | None]]
) -> dict[tuple[str, str], About]:
    """What each (subject type, id) is about, with its order: one query per kind of object."""
    wanted = {(t, i) for t, i in subjects if t in _ABOUT_WORDS and i}
    order_of = {(t, i): i for t, i in wanted if t == "order"}
    for kind, model in _OF_ORDER.items():
        ids = {i for t, i in wanted if t == kind}
        if ids:
            rows = await session.execute(select(model.id, model.order_id).where(model.id.in_(ids)))
            order_of.update({(kind, subject_id): order_id for subject_id, order_id in rows})
    return {key: About(_ABOUT_WORDS[key[0]], order_id) for key, order_id in order_of.items()}


# An object's id in a note, shown as a copyable reference (never as words).
_ID = re.compile(r"\b[a-z]{2,12}_[0-9A-HJKMNP-TV-Z]{26}\b")


def notes(
    entries: Iterable[tuple[str, EntryKind, str | None, str | None]],
) -> dict[str, Markup]:
    """The note of each (entry id, kind, reverses id, memo) worth a reader's eye: an
    adjustment's memo, a reversal's reason (a rule's own memo is for the records)."""
    return {
        entry_id: Markup(_ID.sub(r'<code class="ref">\g<0></code>', str(escape(memo))))
        for entry_id, kind, reverses_id, memo in entries
        if memo and (reverses_id is not None or kind is EntryKind.adjustment)
    }


def pages_query(**params: str | None) -> str:
    """``?a=1&b=2`` of the parameters given a value ("" when none)."""
    kept = {k: v for k, v in params.items() if v}
    return "?" + urlencode(kept) if kept else ""


# -- the operator's explorer --------------------------------------------------------------------


async def _operator(request: Request) -> tuple[User, WebSession] | Response:
    """The signed-in operator; a seller goes to its money page, anyone else is refused."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    if user.role is Role.seller:
        return RedirectResponse(MONEY_HOME, status_code=303)
    if user.role is not Role.operator:
        refused = Forbidden("only operators read the ledger")
        return error_page(request, user, web_session.csrf_token, refused)
    return user, web_session


@router.get(LEDGER_HOME, response_model=None)
async def ledger_home(
    request: Request,
    seller: Annotated[str | None, Query(max_length=40)] = None,
    store: Annotated[str | None, Query(max_length=40)] = None,
    order: Annotated[str | None, Query(max_length=60)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """The platform's accounts and the stores' (narrowed by seller and store), each with its
    balance; an order's entries found by its number."""
    checked = await _operator(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    typed = "".join((order or "").split())
    principal = accounts.principal_for_user(user)
    lookup_error = None
    try:
        async with _db(request).read() as session:
            if typed:
                order_id = typed if typed.startswith("ord_") else f"ord_{typed.upper()}"
                try:
                    await orders.get_order(session, principal=principal, order_id=order_id)
                except NotFound:  # said beside the search, what was typed kept
                    lookup_error = say(request, N_("eyes_ledger_no_order"), number=order)
                else:
                    return RedirectResponse(f"{LEDGER_HOME}/orders/{order_id}", status_code=303)
            chosen = await owners.filters(session, principal, seller, store)
            platform, _ = (
                await reads.list_accounts(session, principal, owner=Owner.platform, limit=200)
                if not chosen.active
                else ([], None)
            )
            rows, next_cursor = await reads.list_accounts(
                session,
                principal,
                store_id=chosen.store_id,
                seller_id=chosen.seller_id,
                owner=Owner.store,
                cursor=cursor,
                limit=PAGE,
            )
            whose = await owners.owners(session, {a.store_id for a in rows if a.store_id})
    except BadRequest:  # a cursor that is not ours: start again from the first page
        return RedirectResponse(LEDGER_HOME, status_code=303)
    more = next_cursor and LEDGER_HOME + pages_query(**chosen.query(), cursor=next_cursor)
    return _render(
        request,
        "ledger.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "filters": chosen,
            "platform": platform,
            "accounts": rows,
            "owners": whose,
            "next_url": more,
            "typed": (order or "").strip() if lookup_error else "",
            "lookup_error": lookup_error,
        },
        404 if lookup_error else 200,
    )


@router.get(LEDGER_HOME + "/accounts/{account_id}", response_model=None)
async def ledger_account(
    request: Request,
    account_id: str,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    period: Annotated[str | None, Query(max_length=7)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """One account: its balance and its movements, newest first, by kind and month."""
    checked = await _operator(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    principal = accounts.principal_for_user(user)
    here = f"{LEDGER_HOME}/accounts/{account_id}"
    try:
        async with _db(request).read() as session:
            account = await reads.account_for(session, principal, account_id)
            whose = await owners.owners(session, {account.store_id} if account.store_id else ())
            owner = whose.get(account.store_id or "")
            zone = owner.timezone if owner else PLATFORM_ZONE
            chosen, month = kind_of(kind), period_of(period, zone)
            moves, next_cursor = await reads.movements_of(
                session,
                [account],
                kind=chosen,
                since=month.since,
                until=month.until,
                cursor=cursor,
                limit=PAGE,
            )
            about = await abouts(session, {(m.subject_type, m.subject_id) for m in moves})
    except BadRequest:
        return RedirectResponse(here, status_code=303)
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    kept = {"kind": chosen.value if chosen else None, "period": month.value}
    now = request.app.state.clock.now()
    return _render(
        request,
        "ledger_account.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "account": account,
            "owner": owner,
            "zone": zone,
            "moves": moves,
            "about": about,
            "notes": notes((m.entry_id, m.kind, m.reverses_id, m.memo) for m in moves),
            "kind": chosen,
            "kinds": list(EntryKind),
            "period": month.value,
            "periods": period_choices(now, zone, request_language(request)),
            "next_url": next_cursor and here + pages_query(**kept, cursor=next_cursor),
        },
    )


# Why a reversal was refused, by its rule.
_REVERSAL_REFUSALS = {
    "reversed_once": N_("err_ledger_reversed_once"),
    "reversal_not_reversed": N_("err_ledger_reversal_not_reversed"),
    "insufficient_balance": N_("err_ledger_insufficient_balance"),
    "account_open": N_("err_ledger_account_closed"),
    "reason_required": N_("err_reason_required"),
}


def _refused(request: Request, exc: DomainError) -> str:
    key = _REVERSAL_REFUSALS.get(str(exc.extra.get("rule")))
    return say(request, key) if key else refusal(request, exc)


async def _entry_page(
    request: Request,
    user: User,
    web_session: WebSession,
    entry_id: str,
    *,
    message: str | None = None,
    error: str | None = None,
    reason: str = "",
    status_code: int = 200,
) -> Response:
    principal = accounts.principal_for_user(user)
    try:
        async with _db(request).read() as session:
            entry, reversed_by = await reads.entry_for(session, principal, entry_id)
            stores = {line.store_id for line in entry.lines} | {entry.store_id}
            whose = await owners.owners(session, {s for s in stores if s})
            about = await abouts(session, [(entry.subject_type, entry.subject_id)])
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    owner = whose.get(entry.store_id or "")
    return _render(
        request,
        "ledger_entry.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "entry": entry,
            "reversed_by": reversed_by,
            "owners": whose,
            "about": about.get((entry.subject_type or "", entry.subject_id or "")),
            "zone": owner.timezone if owner else PLATFORM_ZONE,
            "reversible": reversed_by is None and entry.reverses_id is None,
            "notes": notes([(entry.id, entry.kind, entry.reverses_id, entry.memo)]),
            "message": message,
            "error": error,
            "reason": reason,
        },
        status_code,
    )


@router.get(LEDGER_HOME + "/entries/{entry_id}", response_model=None)
async def ledger_entry(
    request: Request,
    entry_id: str,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """One entry: what it records, every line (debit and credit), what reverses it or what it
    reverses, and the form to reverse it."""
    checked = await _operator(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    message = say(request, "ledger_done_reverse") if done == "reversed" else None
    return await _entry_page(request, user, web_session, entry_id, message=message)


@router.post(LEDGER_HOME + "/entries/{entry_id}/reverse", response_model=None)
async def reverse_entry(request: Request, entry_id: str) -> Response:
    """Reverse one entry with the operator's reason, CSRF-checked (the page asks to confirm)."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    if user.role is not Role.operator:
        refused = Forbidden("only operators reverse an entry")
        return error_page(request, user, web_session.csrf_token, refused)
    reason = form.get("reason", "").strip()[:500]
    try:
        async with _db(request).write() as session:
            mirror = await service.reverse(session, request_ctx(request, user), entry_id, reason)
            await session.commit()
    except DomainError as exc:
        return await _entry_page(
            request,
            user,
            web_session,
            entry_id,
            error=_refused(request, exc),
            reason=reason,
            status_code=exc.http_status,
        )
    return RedirectResponse(f"{LEDGER_HOME}/entries/{mirror.id}?done=reversed", status_code=303)


@router.get(LEDGER_HOME + "/orders/{order_id}", response_model=None)
async def ledger_order(request: Request, order_id: str) -> Response:
    """The entries about one order, oldest first, with every line."""
    checked = await _operator(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    principal = accounts.principal_for_user(user)
    try:
        async with _db(request).read() as session:
            order = await orders.get_order(session, principal=principal, order_id=order_id)
            found = await reads.subject_entries_for(
                session, principal, subject_type="order", subject_id=order_id
            )
            stores = {line.store_id for entry, _ in found for line in entry.lines}
            whose = await owners.owners(session, {s for s in stores if s} | {order.store_id})
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    owner = whose.get(order.store_id)
    context: dict[str, Any] = {
        "user": user,
        "csrf": web_session.csrf_token,
        "order": order,
        "owner": owner,
        "entries": found,
        "notes": notes((e.id, e.kind, e.reverses_id, e.memo) for e, _ in found),
        "owners": whose,
        "zone": owner.timezone if owner else PLATFORM_ZONE,
    }
    return _render(request, "ledger_order.html", context)

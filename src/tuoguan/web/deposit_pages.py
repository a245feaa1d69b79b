"""Console pages of the deposit (保证金, S3).

- The seller's deposit page (linked from its money page): per full-managed store, what it must
  hold, holds, owes and can get back, its debts line by line (linked to their orders and
  penalties), what stands in the way of a refund, the application form (amount and reason,
  refusals beside the field) and its applications with their status and expected arrival.
  Operators read any store's.
- The operators' refund queue (linked from the ledger): applications waiting first, every
  full-managed store's deposit (a page at a time, each linked to its deposit page), the form to
  record a deposit received on a store, and the deposit rates with the form to add a version.
- An application's page: the store's deposit now, what approval deducts (penalties first, line
  by line) or deducted, and the approve and reject forms.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from itertools import groupby
from typing import Annotated, Any

from babel.dates import format_skeleton
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.errors import BadRequest, DomainError, Forbidden
from tuoguan.kit.i18n import N_, money_text
from tuoguan.kit.money import minor_digits, parse_major
from tuoguan.onboarding import joining
from tuoguan.principal import Role
from tuoguan.settlement import (
    deposit_checks,
    deposit_funding,
    deposit_rates,
    deposit_reads,
    deposits,
)
from tuoguan.settlement.deposit_schemas import DepositRateCreate, DepositRefundCreate
from tuoguan.stores import service as stores
from tuoguan.stores.models import Seller, Store, StoreMode
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
from tuoguan.web.forms import (
    FORM,
    REFUSED,
    Errors,
    FormProblem,
    Refused,
    errors_of,
    local_start,
    status_of,
)
from tuoguan.web.ledger_pages import abouts, pages_query
from tuoguan.web.policy_pages import PLATFORM_ZONE
from tuoguan.web.stock_pages import error_page, say, viewer_zone

router = APIRouter(include_in_schema=False)
DEPOSIT = "/console/deposit"
QUEUE = "/console/deposit-refunds"
RATES = "/console/deposit-rates"
# How many stores a page of the operators' deposits list shows.
STORES_PAGE = 50

# Words of a refund's precondition that fails, by its rule.
RULE_WORDS = {
    deposit_checks.NO_UNFINISHED_ORDERS: N_("deposit_rule_no_unfinished_orders"),
    deposit_checks.NO_OPEN_CASES: N_("deposit_rule_no_open_cases"),
    deposit_checks.NO_UNPAID_DEBT: N_("deposit_rule_no_unpaid_debt"),
}
# What the service refuses, by rule: (the form field it concerns, the words beside it).
_REFUSALS = {
    "within_refundable": ("amount", N_("err_deposit_within_refundable")),
    "one_open_application": (FORM, N_("err_deposit_one_open")),
    "refund_preconditions": (FORM, N_("err_deposit_preconditions")),
    "full_managed_only": (FORM, N_("err_deposit_not_managed")),
    "store_currency": ("amount", N_("err_deposit_store_currency")),
    "reference_used": ("reference", N_("err_deposit_reference_used")),
    "payout_account_bound": (FORM, N_("err_deposit_payout_account")),
    "payout_account_currency": (FORM, N_("err_deposit_payout_account")),
    "illegal_transition": (FORM, N_("err_deposit_decided")),
    "reason_required": ("reason", N_("err_reason_required")),
    "not_past": ("effective_from", N_("err_effective_not_past")),
    "after_previous": ("effective_from", N_("err_effective_after_previous")),
    "money": ("amount", N_("err_deposit_amount")),
    "decimals": ("amount", N_("err_deposit_amount")),
}
# What a form's schema refuses, by field, as the words beside it.
_KEYS = {
    "amount_minor": N_("err_deposit_amount"),
    "reason": N_("err_deposit_reason"),
    "reference": N_("err_deposit_reference"),
    "category": N_("err_commission_category"),
    "currency": N_("err_deposit_currency"),
    "effective_from": N_("err_effective_format"),
    "note": N_("err_note_long"),
}


def _place(path: str) -> str:
    name = path.split(".")[0]
    return "amount" if name == "amount_minor" else name if name in _KEYS else FORM


def refusal_errors(request: Request, exc: Refused, **params: Any) -> Errors:
    """A refusal's words beside its field: the service's by rule, the schema's by field."""
    if isinstance(exc, DomainError):
        rule = str(exc.extra.get("rule") or exc.code)
        if rule in _REFUSALS:
            field, key = _REFUSALS[rule]
            return {field: say(request, key, **params)}
    return errors_of(request, exc, place=_place, keys=_KEYS, **params)


def local_day(day: date | None, lang: str) -> str:
    """A local date as people read it ("2026年11月23日", "Nov 23, 2026")."""
    return "" if day is None else str(format_skeleton("yMMMd", day, locale=lang.replace("-", "_")))


def _amount(text: str | None, currency: str) -> int:
    """The amount a person typed (e.g. 12.34) parsed for the service; else a problem beside it."""
    try:
        return parse_major(text or "", currency, field="amount")
    except DomainError as exc:
        if exc.extra.get("rule") == "decimals":  # "1.234": say how many decimals there are
            digits = minor_digits(currency)
            raise FormProblem(
                N_("err_rule_decimals"), "amount", currency=currency, digits=digits
            ) from None
        raise FormProblem(_KEYS["amount_minor"], "amount") from None


async def whoami(request: Request) -> tuple[User, WebSession] | Response:
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    if user.role not in (Role.seller, Role.operator):
        return error_page(
            request, user, web_session.csrf_token, Forbidden("deposits are sellers' and operators'")
        )
    return current


# -- a store's deposit --------------------------------------------------------------------------


async def _deposit_page(
    request: Request,
    user: User,
    web_session: WebSession,
    store_id: str | None,
    *,
    errors: Errors | None = None,
    form: Mapping[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    lang = request_language(request)
    try:
        async with _db(request).read() as session:
            if principal.is_operator and store_id:
                store: Store | None = await stores.get_store(
                    session, principal=principal, store_id=store_id
                )
                choices = [store] if store else []
            else:
                own, _ = await stores.list_stores(session, principal=principal, limit=200)
                choices = [s for s in own if s.mode is StoreMode.full_managed]
                store = next((s for s in choices if s.id == store_id), None) or (
                    choices[0] if choices else None
                )
            found = await deposits.status_of(session, store, now) if store else None
            rows = (
                (
                    await deposit_reads.store_refunds(
                        session, principal=principal, store_id=store.id
                    )
                )[0]
                if store
                else []
            )
            paid_by = await deposit_reads.payouts_of(session, rows)
            about = await abouts(
                session, {(d.subject_type, d.subject_id) for d in (found.debts if found else [])}
            )
            whose = await owners.owners(session, [store.id] if store else [])
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    applications = [
        (row, deposit_reads.shown_status(row, paid_by.get(row.payout_id or ""))) for row in rows
    ]
    return _render(
        request,
        "deposit.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "stores": [(s.id, s.name) for s in choices],
            "store": store,
            "owner": whose.get(store.id) if store else None,
            "found": found,
            "about": about,
            "rule_words": RULE_WORDS,
            "refunds": applications,
            "day": lambda d: local_day(d, lang),
            "can_apply": user.role is Role.seller,
            "viewer_zone": viewer_zone(user),
            "errors": errors or {},
            "form": form or {},
            "message": message,
        },
        status_code,
    )


DONE = {
    "applied": N_("deposit_done_applied"),
    "funded": N_("deposit_done_funded"),
    "approved": N_("deposit_done_approved"),
    "rejected": N_("deposit_done_rejected"),
    "rate": N_("deposit_done_rate"),
}


@router.get(DEPOSIT, response_model=None)
async def deposit_page(
    request: Request,
    store: Annotated[str | None, Query(max_length=40)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """S3: a store's deposit: the seller's own full-managed stores, an operator's any store."""
    checked = await whoami(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    if user.role is Role.operator and not store:
        return RedirectResponse(QUEUE, status_code=303)
    message = say(request, DONE[done]) if done in DONE else None
    return await _deposit_page(request, user, web_session, store, message=message)


@router.post(DEPOSIT + "/refunds", response_model=None)
async def apply_refund(request: Request) -> Response:
    """The seller applies for its deposit back (amount and reason), CSRF-checked."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    store_id = form.get("store", "")[:40]
    currency = ""
    try:
        async with _db(request).write() as session:
            ctx = request_ctx(request, user)
            store = await stores.get_store(session, principal=ctx.principal, store_id=store_id)
            currency = store.currency
            data = DepositRefundCreate.model_validate(
                {
                    "amount_minor": _amount(form.get("amount"), currency),
                    "reason": form.get("reason", ""),
                },
                strict=False,
            )
            await deposits.apply_refund(session, ctx, store_id=store.id, data=data)
            await session.commit()
    except REFUSED as exc:
        refused: Refused = exc
        limit = refused.extra.get("refundable_minor") if isinstance(refused, DomainError) else None
        most = (
            money_text(int(limit), currency, request_language(request)) if limit is not None else ""
        )
        errors = refusal_errors(request, refused, max=most)
        return await _deposit_page(
            request,
            user,
            web_session,
            store_id,
            errors=errors,
            form=form,
            status_code=status_of(refused),
        )
    return RedirectResponse(f"{DEPOSIT}?store={store_id}&done=applied", status_code=303)


# -- the operators' queue, deposits received, rates ---------------------------------------------


async def _queue_page(
    request: Request,
    user: User,
    web_session: WebSession,
    *,
    cursor: str | None = None,
    store_cursor: str | None = None,
    errors: Errors | None = None,
    form: Mapping[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    try:
        async with _db(request).read() as session:
            rows, next_cursor = await deposit_reads.queue(
                session, principal=principal, cursor=cursor, limit=50
            )
            by_store, next_stores = await deposit_reads.by_store(
                session, principal=principal, now=now, cursor=store_cursor, limit=STORES_PAGE
            )
            paid_by = await deposit_reads.payouts_of(session, rows)
            whose = await owners.owners(session, {row.store_id for row in rows})
            managed = await session.execute(
                select(Store.id, Store.name, Store.currency, Seller.name)
                .join(Seller, Seller.id == Store.seller_id)
                .where(Store.mode == StoreMode.full_managed)
                .order_by(Seller.name, Store.name)
                .limit(owners.CHOICES)
            )
            versions = await deposit_rates.list_rates(session, principal=principal)
    except BadRequest:
        return RedirectResponse(QUEUE, status_code=303)
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    groups = [
        (key, [(v, deposit_rates.standing(v, versions, now)) for v in reversed(list(rows_))])
        for key, rows_ in groupby(versions, key=lambda v: (v.category, v.currency))
    ]
    return _render(
        request,
        "deposit_queue.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "rows": [
                (row, deposit_reads.shown_status(row, paid_by.get(row.payout_id or "")))
                for row in rows
            ],
            "owners": whose,
            "managed": list(managed),
            "groups": groups,
            "every": "*",
            "zone": PLATFORM_ZONE,
            "errors": errors or {},
            "form": form or {},
            "message": message,
            "next_url": next_cursor
            and QUEUE + pages_query(cursor=next_cursor, store_cursor=store_cursor),
            "by_store": by_store,
            "next_stores_url": next_stores
            and QUEUE + pages_query(cursor=cursor, store_cursor=next_stores) + "#deposits",
        },
        status_code,
    )


async def _operator(request: Request) -> tuple[User, WebSession] | Response:
    checked = await whoami(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    if user.role is not Role.operator:
        return RedirectResponse(DEPOSIT, status_code=303)
    return checked


@router.get(QUEUE, response_model=None)
async def queue_page(
    request: Request,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    store_cursor: Annotated[str | None, Query(max_length=500)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """The operators' refund queue, every full-managed store's deposit, the deposit received
    form and the deposit rates."""
    checked = await _operator(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    message = say(request, DONE[done]) if done in DONE else None
    return await _queue_page(
        request, user, web_session, cursor=cursor, store_cursor=store_cursor, message=message
    )


async def operator_form(request: Request) -> tuple[User, WebSession, dict[str, str]] | Response:
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, _ = checked
    if user.role is not Role.operator:
        refused = Forbidden("only operators do this")
        return error_page(request, user, web_session.csrf_token, refused)
    return checked


@router.post(DEPOSIT + "/fundings", response_model=None)
async def record_funding(request: Request) -> Response:
    """An operator records a deposit received on a store (amount, transfer reference)."""
    checked = await operator_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    store_id = form.get("store", "")[:40]
    try:
        async with _db(request).write() as session:
            ctx = request_ctx(request, user)
            store = await stores.get_store(session, principal=ctx.principal, store_id=store_id)
            reference = form.get("reference", "").strip()
            if not reference or len(reference) > 100:
                raise FormProblem(_KEYS["reference"], "reference")
            await deposit_funding.fund(
                session,
                ctx,
                store_id=store.id,
                amount_minor=_amount(form.get("amount"), store.currency),
                currency=store.currency,
                reference=reference,
            )
            await joining.try_join(session, ctx=ctx, store_id=store.id)  # M2: the last step?
            await session.commit()
    except REFUSED as exc:
        errors = {f"fund-{k}": v for k, v in refusal_errors(request, exc).items()}
        kept = {**form, "which": "fund"}  # the rate form below stays empty
        return await _queue_page(
            request, user, web_session, errors=errors, form=kept, status_code=status_of(exc)
        )
    return RedirectResponse(f"{DEPOSIT}?store={store_id}&done=funded", status_code=303)


@router.post(RATES, response_model=None)
async def add_rate(request: Request) -> Response:
    """An operator adds the next version of a category's deposit in a currency."""
    checked = await operator_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    try:
        currency = form.get("currency", "").strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise FormProblem(_KEYS["currency"], "currency")
        data = DepositRateCreate.model_validate(
            {
                "category": form.get("category", "").strip().lower(),
                "currency": currency,
                "amount_minor": _amount(form.get("amount"), currency),
                "effective_from": local_start(form.get("effective_from"), PLATFORM_ZONE),
                "note": form.get("note") or None,
            },
            strict=False,
        )
        async with _db(request).write() as session:
            await deposit_rates.create_rate(session, ctx=request_ctx(request, user), data=data)
            await session.commit()
    except REFUSED as exc:
        errors = {f"rate-{k}": v for k, v in refusal_errors(request, exc).items()}
        kept = {**form, "which": "rate"}  # the deposit received form above stays empty
        return await _queue_page(
            request, user, web_session, errors=errors, form=kept, status_code=status_of(exc)
        )
    return RedirectResponse(f"{QUEUE}?done=rate#rates", status_code=303)

"""Console pages of payouts (打款, M3 S3): the payouts of a seller's stores, or of every store
for operators (by status), and a store's payout account (收款账户), bound or rebound from a
form, its number always masked, the accounts it replaced kept below."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from tuoguan.accounts import service as accounts
from tuoguan.errors import BadRequest, DomainError, Forbidden, InvalidInput
from tuoguan.kit.i18n import N_
from tuoguan.principal import Role
from tuoguan.settlement import payout_accounts, payout_reads
from tuoguan.settlement.models import PayoutAccount, PayoutStatus
from tuoguan.settlement.schemas import PayoutAccountBind, mask
from tuoguan.stores import service as stores
from tuoguan.web import owners
from tuoguan.web.console import _current, _db, _render, _to_login, checked_form, request_ctx
from tuoguan.web.forms import FORM, REFUSED, Errors, FormProblem, Refused, errors_of, status_of
from tuoguan.web.stock_pages import error_page, viewer_zone

router = APIRouter(include_in_schema=False)
PAYOUTS_HOME = "/console/payouts"
PAGE = 50
_READERS = (Role.seller, Role.operator)

# What the form's schema and the service refuse, by field, as the words beside it.
_KEYS = {
    "holder_name": N_("payout_err_holder"),
    "bank_name": N_("payout_err_bank"),
    "account_number": N_("payout_err_number"),
    "currency": N_("payout_err_currency"),
}


def account_path(store_id: str) -> str:
    """The page of a store's payout account."""
    return f"/console/stores/{store_id}/payout-account"


def _place(path: str) -> str:
    name = path.split(".")[0]
    return name if name in _KEYS else FORM


def _status_of(text: str | None) -> PayoutStatus | None:
    return PayoutStatus(text) if text in set(PayoutStatus) else None


@router.get(PAYOUTS_HOME, response_model=None)
async def payout_list(
    request: Request,
    seller: Annotated[str | None, Query(max_length=40)] = None,
    store: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """Payouts newest first: a seller its stores' (with each store's payout account), an
    operator every store's; by seller, store and status."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    principal = accounts.principal_for_user(user)
    chosen = _status_of(status)
    try:
        if principal.role not in _READERS:
            raise Forbidden("payouts are read by sellers and operators")
        async with _db(request).read() as session:
            narrowed = await owners.filters(session, principal, seller, store)
            rows, next_cursor = await payout_reads.list_payouts(
                session,
                principal=principal,
                store_id=narrowed.store_id,
                seller_id=narrowed.seller_id,
                status=chosen,
                cursor=cursor,
                limit=PAGE,
            )
            to = await payout_accounts.accounts_of(session, rows)
            whose = await owners.owners(
                session, {p.store_id for p in rows} | {i for i, _ in narrowed.stores}
            )
            bound: dict[str, PayoutAccount | None] = {}
            if principal.role is Role.seller:
                for store_id, _ in narrowed.stores:
                    bound[store_id] = await payout_accounts.account_in_force(session, store_id)
    except BadRequest:  # a cursor that is not ours: start again from the first page
        return RedirectResponse(PAYOUTS_HOME, status_code=303)
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    kept = {**narrowed.query(), **({"status": chosen.value} if chosen else {})}
    return _render(
        request,
        "payout_list.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "payouts": rows,
            "to": to,
            "owners": whose,
            "filters": narrowed,
            "statuses": list(PayoutStatus),
            "status": chosen,
            "bound": bound,
            "mask": mask,
            "account_path": account_path,
            "zone": viewer_zone(user),
            "next_url": next_cursor
            and f"{PAYOUTS_HOME}?{urlencode({**kept, 'cursor': next_cursor})}",
        },
    )


async def _account_page(
    request: Request,
    store_id: str,
    *,
    errors: Errors | None = None,
    form: dict[str, str] | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> Response:
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    principal = accounts.principal_for_user(user)
    try:
        if principal.role not in _READERS:
            raise Forbidden("payout accounts are read by sellers and operators")
        async with _db(request).read() as session:
            shop = await stores.get_store(session, principal=principal, store_id=store_id)
            in_force, history = await payout_accounts.account_book(
                session, principal=principal, store_id=store_id
            )
            whose = await owners.owners(session, [shop.id])
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    return _render(
        request,
        "payout_account.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "store": shop,
            "owner": whose.get(shop.id),
            "current": in_force,
            "history": history,
            "mask": mask,
            "zone": viewer_zone(user) or shop.timezone,
            "errors": errors or {},
            "form": form or {},
            "saved": saved,
        },
        status_code,
    )


@router.get("/console/stores/{store_id}/payout-account", response_model=None)
async def account_page(
    request: Request, store_id: str, saved: Annotated[str | None, Query(max_length=1)] = None
) -> Response:
    """S3: a store's payout account, masked, the ones it replaced, and the form to (re)bind."""
    return await _account_page(request, store_id, saved=saved == "1")


def _bind_refused(exc: InvalidInput) -> FormProblem | InvalidInput:
    """The service's refusal of a field as the words beside it."""
    field = exc.field or ""
    return FormProblem(_KEYS[field], field) if field in _KEYS else exc


@router.post("/console/stores/{store_id}/payout-account", response_model=None)
async def bind_account(request: Request, store_id: str) -> Response:
    """Bind (or rebind) the store's payout account from the console form."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, _, form = checked
    try:
        data = PayoutAccountBind.model_validate(
            {
                "holder_name": form.get("holder_name", ""),
                "bank_name": form.get("bank_name", ""),
                "account_number": form.get("account_number", ""),
                "currency": form.get("currency", "").strip() or None,
            },
            strict=False,
        )
        async with _db(request).write() as session:
            try:
                await payout_accounts.bind_account(
                    session, request_ctx(request, user), store_id, data
                )
            except InvalidInput as exc:
                raise _bind_refused(exc) from None
            await session.commit()
    except REFUSED as exc:
        refused: Refused = exc
        if isinstance(refused, DomainError) and refused.http_status in (403, 404):
            current = await _current(request)
            assert current is not None
            return error_page(request, current[0], current[1].csrf_token, refused)
        errors = errors_of(request, refused, place=_place, keys=_KEYS)
        kept = {k: v for k, v in form.items() if k != "account_number"}
        return await _account_page(
            request, store_id, errors=errors, form=kept, status_code=status_of(refused)
        )
    return RedirectResponse(f"{account_path(store_id)}?saved=1", status_code=303)

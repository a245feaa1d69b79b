"""Console page of commission rates (M3): every version per product category with its
standing; operators add the next version of a category, sellers read the rates they sell at."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from itertools import groupby
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from tuoguan.accounts import service as accounts
from tuoguan.errors import DomainError, InvalidInput
from tuoguan.finance import commission
from tuoguan.finance.policy import MAX_RATE_BP
from tuoguan.finance.schemas import CommissionRateCreate
from tuoguan.kit.i18n import N_
from tuoguan.web.console import _current, _db, _render, _to_login, checked_form, request_ctx
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
from tuoguan.web.policy_pages import PLATFORM_ZONE, percent

router = APIRouter(include_in_schema=False)

PAGE = "/console/commission-rates"

# What the form's schema refuses, by field, as the words beside it.
_KEYS = {
    "category": N_("err_commission_category"),
    "rate_bp": N_("err_commission_rate"),
    "effective_from": N_("err_effective_format"),
    "note": N_("err_note_long"),
}
# What the versioning rules refuse (kit/versions.py), as the words beside the start.
_RULES = {
    "not_past": N_("err_effective_not_past"),
    "after_previous": N_("err_effective_after_previous"),
}


def rate_bp(text: str) -> int:
    """A rate typed in percent ("8", "8.5", "8.25%") as basis points; more than two decimals,
    below 0 or above 100 is a problem beside the rate."""
    try:
        rate = Decimal(text.strip().removesuffix("%").removesuffix("％").strip()) * 100
    except InvalidOperation:
        raise FormProblem(_KEYS["rate_bp"], "rate") from None
    if not rate.is_finite() or rate != rate.to_integral_value() or not 0 <= rate <= MAX_RATE_BP:
        raise FormProblem(_KEYS["rate_bp"], "rate")
    return int(rate)


def _place(path: str) -> str:
    """The schema's field as the form's: ``rate_bp`` is typed as ``rate``."""
    name = path.split(".")[0]
    return "rate" if name == "rate_bp" else name if name in _KEYS else FORM


async def _rates_page(
    request: Request,
    *,
    errors: Errors | None = None,
    form: dict[str, str] | None = None,
    added: str | None = None,
    status_code: int = 200,
) -> Response:
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    try:
        async with _db(request).read() as session:
            versions = await commission.list_rates(session, principal=principal)
    except DomainError as exc:
        return _render(
            request,
            "error.html",
            {"user": user, "csrf": web_session.csrf_token, "error": errors_of(request, exc)[FORM]},
            exc.http_status,
        )
    # Per category ("*", every category, first), each category's versions newest first.
    groups = [
        (category, [(v, commission.standing(v, versions, now)) for v in reversed(list(rows))])
        for category, rows in groupby(versions, key=lambda v: v.category)
    ]
    new = next((v for v in versions if v.id == added), None)
    return _render(
        request,
        "commission_rates.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "groups": groups,
            "added": new,
            "errors": errors or {},
            "form": form or {},
            "can_edit": principal.is_operator,
            "every": commission.EVERY_CATEGORY,
            "zone": PLATFORM_ZONE,
            "percent": percent,
        },
        status_code,
    )


@router.get(PAGE, response_model=None)
async def rates(
    request: Request, added: Annotated[str | None, Query(max_length=40)] = None
) -> Response:
    """Commission rate versions per category (M3); operators add the next version."""
    return await _rates_page(request, added=added)


@router.post(PAGE, response_model=None)
async def add_rate(request: Request) -> Response:
    """Add the next version of a category's commission rate from the console form."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, _, form = checked
    try:
        data = CommissionRateCreate.model_validate(
            {
                "category": form.get("category", "").strip().lower(),
                "rate_bp": rate_bp(form.get("rate", "")),
                "effective_from": local_start(form.get("effective_from"), PLATFORM_ZONE),
                "note": form.get("note") or None,
            }
        )
        async with _db(request).write() as session:
            try:
                created = await commission.create_rate(
                    session, ctx=request_ctx(request, user), data=data
                )
            except InvalidInput as exc:
                rule = str(exc.extra.get("rule") or "")
                if rule not in _RULES:
                    raise
                raise FormProblem(_RULES[rule], "effective_from") from None
            await session.commit()
    except REFUSED as exc:
        refused: Refused = exc
        errors = errors_of(request, refused, place=_place, keys=_KEYS)
        return await _rates_page(request, errors=errors, form=form, status_code=status_of(refused))
    return RedirectResponse(f"{PAGE}?added={created.id}", status_code=303)

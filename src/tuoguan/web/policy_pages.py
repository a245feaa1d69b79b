"""Console pages for penalty policy versions (F6, O2): every version with its standing, and the
form operators add the next version with, its tiers typed one per line."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from tuoguan.accounts import service as accounts
from tuoguan.errors import DomainError, InvalidInput
from tuoguan.finance import service as finance
from tuoguan.finance.schemas import PenaltyPolicyCreate
from tuoguan.kit.i18n import N_
from tuoguan.timing.kinds import BreachKind
from tuoguan.web.console import _current, _db, _render, _to_login, checked_form, request_ctx
from tuoguan.web.forms import FormProblem, local_start
from tuoguan.web.sla_pages import _refusal, _say

router = APIRouter(include_in_schema=False)

# The platform's own times (when a policy version takes over) read in China's zone.
PLATFORM_ZONE = "Asia/Shanghai"


def percent(rate_bp: int) -> str:
    """Basis points as a percentage people read: 500 → "5%", 250 → "2.5%"."""
    text = f"{Decimal(rate_bp) / 100:f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "%"


def _tier_hours(tier: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if tier.get("to_hours") is None:
        return N_("tier_hours_open"), {"start": tier["from_hours"]}
    return N_("tier_hours"), {"start": tier["from_hours"], "end": tier["to_hours"]}


async def _policies_page(
    request: Request,
    *,
    errors: dict[str, str] | None = None,
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
            versions = await finance.list_policies(session, principal=principal)
    except DomainError as exc:
        return _render(
            request,
            "error.html",
            {"user": user, "csrf": web_session.csrf_token, "error": _refusal(request, exc)},
            exc.http_status,
        )
    rows = [(v, finance.standing(v, versions, now)) for v in versions]
    new = next((v for v in versions if v.id == added), None)
    message = (
        _say(
            request,
            "policy_added",
            kind=_say(request, new.kind.value),
            version=new.version,
        )
        if new
        else None
    )
    return _render(
        request,
        "policies.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "rows": rows,
            "added": new,
            "message": message,
            "errors": errors or {},
            "form": form or {},
            "can_edit": principal.is_operator,
            "zone": PLATFORM_ZONE,
            "percent": percent,
            "tier_hours": _tier_hours,
            "kinds": list(BreachKind),
        },
        status_code,
    )


@router.get("/console/policies", response_model=None)
async def policies(
    request: Request, added: Annotated[str | None, Query(max_length=40)] = None
) -> Response:
    """Penalty policy versions (F6, O2); operators add the next version."""
    return await _policies_page(request, added=added)


def parse_tiers(text: str) -> list[dict[str, int | None]]:
    """Tiers typed one per line as ``from hours, to hours, fine %, rating points`` (to blank on
    the last, open-ended one; the fine a percentage of the order total, up to two decimals)."""
    tiers: list[dict[str, int | None]] = []
    for number, line in enumerate(text.strip().splitlines(), start=1):
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        if len(parts) != 4:
            raise FormProblem("err_tiers_shape", "tiers", line=number)
        try:
            rate = Decimal(parts[2].removesuffix("%").strip()) * 100
            if rate != rate.to_integral_value():
                raise ValueError("more than two decimals")
            tiers.append(
                {
                    "from_hours": int(parts[0]),
                    "to_hours": int(parts[1]) if parts[1] else None,
                    "rate_bp": int(rate),
                    "rating_points": int(parts[3]),
                }
            )
        except (ValueError, InvalidOperation) as exc:
            raise FormProblem("err_tiers_number", "tiers", line=number) from exc
    if not tiers:
        raise FormProblem("err_tiers_count", "tiers")
    return tiers


# A refusal by the policy rules, as the field it names and the words shown beside it.
_TIER_RULES = {
    "from_zero": N_("err_tiers_from_zero"),
    "open_last": N_("err_tiers_open_last"),
    "order": N_("err_tiers_order"),
    "no_overlap": N_("err_tiers_no_overlap"),
    "no_gap": N_("err_tiers_no_gap"),
    "min_items": N_("err_tiers_count"),
    "not_past": N_("err_effective_not_past"),
    "after_previous": N_("err_effective_after_previous"),
}


def _field_of(location: str) -> tuple[str, int | None]:
    """``tiers[1].from_hours`` → ("tiers", line 2); ``effective_from`` → (it, None)."""
    name, _, rest = location.partition("[")
    index = rest.split("]", 1)[0]
    return name, (int(index) + 1 if index.isdigit() else None)


def _validation_errors(exc: ValidationError) -> FormProblem:
    """The first field Pydantic refused, as the form's words (never Pydantic's text)."""
    first = exc.errors()[0]
    where = [str(p) for p in first["loc"]]
    if where and where[0] == "tiers":
        line = int(where[1]) + 1 if len(where) > 1 and where[1].isdigit() else None
        if line is None:
            return FormProblem("err_tiers_count", "tiers")
        return FormProblem("err_tier_range", "tiers", line=line)
    if where and where[0] == "note":
        return FormProblem("err_note_long", "note")
    if where and where[0] == "kind":
        return FormProblem("err_policy_kind", "kind")
    return FormProblem("err_effective_format", "effective_from")


@router.post("/console/policies", response_model=None)
async def add_policy(request: Request) -> Response:
    """Add the next version of a policy from the console form."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, _, form = checked
    try:
        data = PenaltyPolicyCreate.model_validate(
            {
                "kind": form.get("kind", ""),
                "effective_from": local_start(form.get("effective_from"), PLATFORM_ZONE),
                "tiers": parse_tiers(form.get("tiers", "")),
                "note": form.get("note") or None,
            }
        )
        async with _db(request).write() as session:
            created = await finance.create_policy(
                session, ctx=request_ctx(request, user), data=data
            )
            await session.commit()
    except ValidationError as exc:
        error = _validation_errors(exc)
    except FormProblem as exc:
        error = exc
    except InvalidInput as exc:
        rule = str(exc.extra.get("rule") or "")
        field, line = _field_of(exc.field or "tiers")
        error = FormProblem(_TIER_RULES.get(rule, "err_form"), field, line=line)
    except DomainError as exc:
        return await _policies_page(
            request, errors={"form": _refusal(request, exc)}, form=form, status_code=exc.http_status
        )
    else:
        return RedirectResponse(f"/console/policies?added={created.id}", status_code=303)
    words = _say(request, error.key, **error.params)
    return await _policies_page(request, errors={error.field: words}, form=form, status_code=422)

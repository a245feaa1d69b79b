"""Console pages for deadlines at risk (G5), breaches, penalties with appeals and policy versions:
whose each row is (store and seller by name), narrowed by seller and store, in words (G7)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from tuoguan.accounts import service as accounts
from tuoguan.errors import BadRequest, DomainError, InvalidInput
from tuoguan.finance import service as finance
from tuoguan.finance.schemas import PenaltyPolicyCreate
from tuoguan.finance.states import PenaltyAction, PenaltyStatus
from tuoguan.kit.i18n import N_
from tuoguan.orders import deadlines
from tuoguan.principal import Role
from tuoguan.sla import service as sla
from tuoguan.sla import warnings
from tuoguan.timing.kinds import BreachKind
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
from tuoguan.web.i18n import translator

router = APIRouter(include_in_schema=False)

# The platform's own times (when a policy version takes over) read in China's zone.
PLATFORM_ZONE = "Asia/Shanghai"


def _say(request: Request, key: str, **params: Any) -> str:
    """A message in the reader's language with its {placeholders} filled."""
    text = translator(request_language(request))(key)
    try:
        return text.format(**params) if params else text
    except (KeyError, IndexError, ValueError):
        return text


def _query(**params: str | None) -> str:
    kept = {k: v for k, v in params.items() if v}
    return "?" + urlencode(kept) if kept else ""


# -- at risk -----------------------------------------------------------------------------------


@router.get("/console/at-risk", response_model=None)
async def at_risk(
    request: Request,
    seller: Annotated[str | None, Query(max_length=40)] = None,
    store: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """G5: open orders likely to miss their running deadline, highest risk first (the API's
    order), a page at a time, narrowed by seller and store."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    try:
        async with _db(request).read() as session:
            chosen = await owners.filters(session, principal, seller, store)
            found, next_cursor = await warnings.at_risk(
                session,
                principal=principal,
                now=now,
                min_score=40,
                store_id=chosen.store_id,
                seller_id=chosen.seller_id,
                cursor=cursor,
                limit=50,
            )
            whose = await owners.owners(session, {order.store_id for order, _ in found})
    except BadRequest:  # a cursor that is not ours: start again from the first page
        return RedirectResponse("/console/at-risk" + _query(seller=seller, store=store), 303)
    rows = []
    for order, verdict in found:
        owner = whose.get(order.store_id)
        zone = owner.timezone if owner else "UTC"
        rows.append(
            {
                "order": order,
                "risk": verdict,
                "owner": owner,
                "deadline": deadlines.next_deadline(order, zone, now),
            }
        )
    next_url = next_cursor and "/console/at-risk" + _query(**chosen.query(), cursor=next_cursor)
    return _render(
        request,
        "at_risk.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "rows": rows,
            "filters": chosen,
            "now": now,
            "next_url": next_url,
        },
    )


# -- breaches ----------------------------------------------------------------------------------


@router.get("/console/breaches", response_model=None)
async def breaches(
    request: Request,
    seller: Annotated[str | None, Query(max_length=40)] = None,
    store: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """The breach queue: missed confirm (O2) and ship (F1) deadlines, newest first, whose each
    is, narrowed by seller and store."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    principal = accounts.principal_for_user(user)
    try:
        async with _db(request).read() as session:
            chosen = await owners.filters(session, principal, seller, store)
            found, next_cursor = await sla.list_breaches(
                session,
                principal=principal,
                seller_id=chosen.seller_id,
                store_id=chosen.store_id,
                cursor=cursor,
                limit=100,
            )
            whose = await owners.owners(session, {b.store_id for b in found})
    except BadRequest:  # a cursor that is not ours: start again from the first page
        return RedirectResponse("/console/breaches" + _query(seller=seller, store=store), 303)
    rows = [
        {
            "b": b,
            "owner": whose.get(b.store_id),
            "late": None if b.lateness_seconds is None else timedelta(seconds=b.lateness_seconds),
        }
        for b in found
    ]
    next_url = next_cursor and "/console/breaches" + _query(**chosen.query(), cursor=next_cursor)
    return _render(
        request,
        "breaches.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "rows": rows,
            "filters": chosen,
            "next_url": next_url,
        },
    )


# -- penalties ---------------------------------------------------------------------------------

# What the page says after an action, and why an action was refused, by rule.
_PENALTY_DONE = {
    PenaltyAction.appeal: N_("penalty_done_appeal"),
    PenaltyAction.uphold: N_("penalty_done_uphold"),
    PenaltyAction.waive: N_("penalty_done_waive"),
}
_REFUSALS = {
    "appeal_window": N_("err_appeal_window"),
    "illegal_transition": N_("err_state"),
    "concurrent_update": N_("err_concurrent"),
    "not_found": N_("err_not_found"),
    "forbidden": N_("err_forbidden"),
}


def _refusal(request: Request, exc: DomainError) -> str:
    """Why the service refused, in the reader's language (never its English text)."""
    rule = str(exc.extra.get("rule") or exc.code)
    return _say(request, _REFUSALS.get(rule) or _REFUSALS.get(exc.code) or N_("err_not_done"))


async def _penalties_page(
    request: Request,
    status: PenaltyStatus | None,
    *,
    seller: str | None = None,
    store: str | None = None,
    error: str | None = None,
    message: str | None = None,
    status_code: int = 200,
    cursor: str | None = None,
) -> Response:
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    async with _db(request).read() as session:
        chosen = await owners.filters(session, principal, seller, store)
        try:
            rows, next_cursor = await finance.list_penalties(
                session,
                principal=principal,
                status=status,
                seller_id=chosen.seller_id,
                store_id=chosen.store_id,
                cursor=cursor,
                limit=100,
            )
        except BadRequest:  # a cursor that is not ours: start again from the first page
            return RedirectResponse("/console/penalties", status_code=303)
        rating = (
            await sla.seller_rating(
                session, principal=principal, seller_id=principal.seller_id, now=now
            )
            if principal.role is Role.seller and principal.seller_id
            else None
        )
        whose = await owners.owners(session, {p.store_id for p in rows})
    items = [
        {
            "p": p,
            "actions": finance.allowed_actions(p, principal, now),
            "owner": whose.get(p.store_id),
            "late": timedelta(seconds=p.lateness_seconds),
        }
        for p in rows
    ]
    kept = {"status": status.value if status else None, **chosen.query()}
    return _render(
        request,
        "penalties.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "items": items,
            "status": status,
            "statuses": list(PenaltyStatus),
            "filters": chosen,
            "next_url": next_cursor and "/console/penalties" + _query(**kept, cursor=next_cursor),
            "rating": rating,
            "error": error,
            "message": message,
        },
        status_code,
    )


@router.get("/console/penalties", response_model=None)
async def penalties(
    request: Request,
    status_param: Annotated[str | None, Query(alias="status", max_length=20)] = None,
    seller: Annotated[str | None, Query(max_length=40)] = None,
    store: Annotated[str | None, Query(max_length=40)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """Sellers: their penalties and rating, with appeal; operators: the appeal queue to decide,
    narrowed by seller and store."""
    status = PenaltyStatus(status_param) if status_param in set(PenaltyStatus) else None
    action = PenaltyAction(done) if done in set(PenaltyAction) else None
    message = _say(request, _PENALTY_DONE[action]) if action else None
    return await _penalties_page(
        request, status, seller=seller, store=store, message=message, cursor=cursor
    )


@router.post("/console/penalties/{penalty_id}/{action}", response_model=None)
async def penalty_action(request: Request, penalty_id: str, action: str) -> Response:
    """Appeal (seller) or uphold / waive (operator) one penalty, CSRF-checked."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, _, form = checked
    reason = form.get("reason", "").strip()
    if action not in set(PenaltyAction):
        return await _penalties_page(
            request, None, error=_say(request, "err_not_done"), status_code=404
        )
    kind = PenaltyAction(action)
    if not reason:
        return await _penalties_page(
            request, None, error=_say(request, "err_reason_required"), status_code=422
        )
    try:
        async with _db(request).write() as session:
            await finance.act(
                session,
                ctx=request_ctx(request, user),
                penalty_id=penalty_id,
                action=kind,
                reason=reason[:1000],
            )
            await session.commit()
    except DomainError as exc:
        return await _penalties_page(
            request, None, error=_refusal(request, exc), status_code=exc.http_status
        )
    return RedirectResponse(f"/console/penalties?done={kind.value}", status_code=303)


# -- policies ----------------------------------------------------------------------------------


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


class FormError(ValueError):
    """A form field the page marks, with the message key (and its values) shown beside it."""

    def __init__(self, field: str, key: str, **params: Any) -> None:
        super().__init__(key)
        self.field, self.key, self.params = field, key, params


def parse_tiers(text: str) -> list[dict[str, int | None]]:
    """Tiers typed one per line as ``from hours, to hours, fine %, rating points`` (to blank on
    the last, open-ended one; the fine a percentage of the order total, up to two decimals)."""
    tiers: list[dict[str, int | None]] = []
    for number, line in enumerate(text.strip().splitlines(), start=1):
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        if len(parts) != 4:
            raise FormError("tiers", "err_tiers_shape", line=number)
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
            raise FormError("tiers", "err_tiers_number", line=number) from exc
    if not tiers:
        raise FormError("tiers", "err_tiers_count")
    return tiers


def _effective_from(text: str) -> datetime | None:
    """The form's start: blank for now; a local date and time read in China's zone."""
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise FormError("effective_from", "err_effective_format") from exc
    return at if at.tzinfo else at.replace(tzinfo=ZoneInfo(PLATFORM_ZONE))


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


def _validation_errors(exc: ValidationError) -> FormError:
    """The first field Pydantic refused, as the form's words (never Pydantic's text)."""
    first = exc.errors()[0]
    where = [str(p) for p in first["loc"]]
    if where and where[0] == "tiers":
        line = int(where[1]) + 1 if len(where) > 1 and where[1].isdigit() else None
        if line is None:
            return FormError("tiers", "err_tiers_count")
        return FormError("tiers", "err_tier_range", line=line)
    if where and where[0] == "note":
        return FormError("note", "err_note_long")
    if where and where[0] == "kind":
        return FormError("kind", "err_policy_kind")
    return FormError("effective_from", "err_effective_format")


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
                "effective_from": _effective_from(form.get("effective_from", "").strip()),
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
    except FormError as exc:
        error = exc
    except InvalidInput as exc:
        rule = str(exc.extra.get("rule") or "")
        field, line = _field_of(exc.field or "tiers")
        error = FormError(field, _TIER_RULES.get(rule, "err_form"), line=line)
    except DomainError as exc:
        return await _policies_page(
            request, errors={"form": _refusal(request, exc)}, form=form, status_code=exc.http_status
        )
    else:
        return RedirectResponse(f"/console/policies?added={created.id}", status_code=303)
    words = _say(request, error.key, **error.params)
    return await _policies_page(request, errors={error.field: words}, form=form, status_code=422)

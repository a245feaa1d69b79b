"""The console's logistics page: the services with their rate cards, the carriers, and the route
rules (F5) in words, which operators add (services and stores ticked by name, value bands in
money) and retire, each change confirmed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts import service as accounts
from tuoguan.errors import DomainError, InvalidInput, NotFound
from tuoguan.kit.i18n import N_
from tuoguan.kit.money import check_currency, parse_major
from tuoguan.principal import Principal
from tuoguan.shipping import service as shipping
from tuoguan.shipping.carriers import PUSHING
from tuoguan.shipping.schemas import RouteRuleWrite
from tuoguan.stores import service as stores
from tuoguan.stores.models import Store
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
from tuoguan.web.shipping_words import (
    conditions_text,
    countries,
    refusal_text,
    rule_errors,
    say,
    split,
)

router = APIRouter(include_in_schema=False)
_DONE = {"rule_added": N_("done_rule_added"), "rule_deleted": N_("done_rule_deleted")}


async def _every(
    fetch: Callable[[str | None], Awaitable[tuple[list[Any], str | None]]],
) -> list[Any]:
    """Every row of a paged listing, page by page."""
    rows: list[Any] = []
    cursor: str | None = None
    while True:
        page, cursor = await fetch(cursor)
        rows += page
        if cursor is None:
            return rows


async def _store_names(
    session: AsyncSession, principal: Principal, lang: str
) -> list[tuple[str, str]]:
    """The stores the reader may name in a rule, as (id, what a person reads), by name: an
    operator reads each with its mode and seller, since two stores may share a name."""
    found: list[Store] = await _every(
        lambda cursor: stores.list_stores(session, principal=principal, cursor=cursor, limit=500)
    )
    sellers: dict[str, str] = {}
    if principal.is_operator:
        every = await _every(
            lambda cursor: stores.list_sellers(
                session, principal=principal, cursor=cursor, limit=500
            )
        )
        sellers = {seller.id: seller.name for seller in every}
    tr = translator(lang)
    named = []
    for store in found:
        parts = [store.name, tr(store.mode.value)]
        if store.seller_id in sellers:
            parts.append(sellers[store.seller_id])
        named.append((store.id, " · ".join(parts)))
    return sorted(named, key=lambda pair: pair[1])


async def _logistics_page(
    request: Request,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    ticked: dict[str, list[str]] | None = None,
    status_code: int = 200,
) -> Response:
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    principal = accounts.principal_for_user(user)
    lang = request_language(request)
    page: dict[str, Any] = {"user": user, "csrf": web_session.csrf_token}
    done, done_rule = request.query_params.get("done"), request.query_params.get("rule")
    message = None
    try:
        async with _db(request).read() as session:
            services = await shipping.list_services(session, principal=principal)
            cards = {
                s.code: await shipping.rate_cards(session, principal=principal, code=s.code)
                for s in services
            }
            rules = await shipping.list_rules(session, principal=principal)
            carriers = await shipping.carrier_names(session, principal=principal)
            accounts_ = (
                await shipping.list_carrier_accounts(session, principal=principal)
                if principal.is_operator
                else []
            )
            store_names = await _store_names(session, principal, lang)
            if done in _DONE and done_rule and principal.is_operator:
                message = await _confirmation(session, principal, lang, done, done_rule)
    except DomainError as exc:
        page["error"] = refusal_text(lang, exc)
        return _render(request, "error.html", page, exc.http_status)
    service_names = {s.code: s.name for s in services}
    named = dict(store_names)
    shown_rules = [
        {
            "id": rule.id,
            "position": rule.position,
            "name": rule.name,
            "effect": rule.effect.value,
            "conditions": conditions_text(
                rule.conditions, lang, services=service_names, stores=named
            ),
            "new": done == "rule_added" and rule.id == done_rule,
        }
        for rule in rules
    ]
    return _render(
        request,
        "logistics.html",
        {
            **page,
            "services": services,
            "cards": cards,
            "rules": shown_rules,
            "carriers": carriers,
            "accounts": accounts_,
            "pushing": PUSHING,
            "poll_minutes": request.app.state.settings.carrier_poll_minutes,
            "countries": lambda codes: countries(codes, lang),
            "stores": store_names,
            "message": message,
            "errors": errors or {},
            "form": form or {},
            "ticked": ticked or {},
            "can_edit": principal.is_operator,
        },
        status_code,
    )


async def _confirmation(
    session: AsyncSession, principal: Principal, lang: str, done: str, rule_id: str
) -> str | None:
    """What the page confirms after a rule was added or deleted (nothing for a stale link)."""
    try:
        changed = await shipping.get_rule(session, principal=principal, rule_id=rule_id[:40])
    except NotFound:
        return None
    return say(lang, _DONE[done], {"name": changed.name})


@router.get("/console/logistics", response_model=None)
async def logistics(request: Request) -> Response:
    """Logistics services with their rate-card versions, and the route rules in order (F5)."""
    return await _logistics_page(request)


def _rule_from_form(
    form: dict[str, str], ticked: dict[str, list[str]], lang: str
) -> tuple[RouteRuleWrite | None, dict[str, str]]:
    """The rule the form describes, or every field that is wrong, in words (all at once)."""
    said = {**form, **{name: ", ".join(values) for name, values in ticked.items()}}
    errors: dict[str, str] = {}
    conditions: dict[str, Any] = {
        "services": ticked["services"],
        "store_ids": ticked["store_ids"],
        "countries": [code.upper() for code in split(form.get("countries", ""), spaces=True)],
        "categories": split(form.get("categories", "")),
    }
    for name in ("min_weight_g", "max_weight_g"):
        if form.get(name, "").strip():
            conditions[name] = form[name].strip()
    currency = form.get("value_currency", "").strip().upper()
    try:
        if currency:
            conditions["value_currency"] = check_currency(currency, field="value_currency")
    except DomainError as exc:
        errors = rule_errors(exc, lang, said)
    # Value bands are typed as money in the currency's units (19.99); parse_major stores them.
    for name in ("min_value", "max_value"):
        if not form.get(name, "").strip() or "value_currency" in errors:
            continue
        try:
            if not currency:
                raise InvalidInput(
                    "a value band needs its currency", field="value_currency", rule="currency"
                )
            conditions[f"{name}_minor"] = parse_major(form[name], currency, field=name)
        except DomainError as exc:
            errors = {**rule_errors(exc, lang, said), **errors}
    try:
        rule = RouteRuleWrite.model_validate(
            {
                "position": form.get("position", ""),
                "name": form.get("name", ""),
                "effect": form.get("effect", ""),
                "conditions": {k: v for k, v in conditions.items() if v != []},
            },
            strict=False,  # form values are text; the API's JSON numbers stay strict
        )
    except ValidationError as exc:
        return None, {**rule_errors(exc, lang, said), **errors}
    return (None, errors) if errors else (rule, {})


@router.post("/console/logistics/rules", response_model=None)
async def add_rule(request: Request) -> Response:
    """An operator adds a route rule from the form: services and stores ticked by name, countries
    and categories comma-separated, value bands in money."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, _, form = checked
    lang = request_language(request)
    posted = await request.form()
    ticked = {name: [str(v) for v in posted.getlist(name)] for name in ("services", "store_ids")}
    data, errors = _rule_from_form(form, ticked, lang)
    if data is None:
        return await _logistics_page(
            request, errors=errors, form=form, ticked=ticked, status_code=422
        )
    try:
        async with _db(request).write() as session:
            rule = await shipping.create_rule(session, ctx=request_ctx(request, user), data=data)
            await session.commit()
    except DomainError as exc:
        errors = rule_errors(exc, lang, {**form, **_joined(ticked)})
        return await _logistics_page(
            request, errors=errors, form=form, ticked=ticked, status_code=exc.http_status
        )
    return RedirectResponse(f"/console/logistics?done=rule_added&rule={rule.id}", status_code=303)


def _joined(ticked: dict[str, list[str]]) -> dict[str, str]:
    return {name: ", ".join(values) for name, values in ticked.items()}


@router.post("/console/logistics/rules/{rule_id}/delete", response_model=None)
async def delete_rule(request: Request, rule_id: str) -> Response:
    """An operator retires a route rule."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, _, _ = checked
    try:
        async with _db(request).write() as session:
            await shipping.delete_rule(
                session, ctx=request_ctx(request, user), rule_id=rule_id, expected_version=None
            )
            await session.commit()
    except DomainError as exc:
        errors = rule_errors(exc, request_language(request), {})
        return await _logistics_page(request, errors=errors, status_code=exc.http_status)
    return RedirectResponse(f"/console/logistics?done=rule_deleted&rule={rule_id}", status_code=303)

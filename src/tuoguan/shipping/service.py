"""Use cases for logistics services, rate cards and route rules. The caller commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput, NotFound, check_version
from tuoguan.kit import outbound
from tuoguan.kit.ids import new_id
from tuoguan.kit.money import check_currency
from tuoguan.kit.versions import next_start
from tuoguan.principal import Principal, Role
from tuoguan.shipping import repository
from tuoguan.shipping.carriers import karrio_carrier
from tuoguan.shipping.models import CarrierAccount, LogisticsService, RateCardVersion, RouteRule
from tuoguan.shipping.schemas import (
    CarrierAccountCreate,
    KarrioAccountCreate,
    RateCardCreate,
    RouteRuleWrite,
    ServiceCreate,
)
from tuoguan.stores import service as stores

_READERS = frozenset({Role.operator, Role.seller, Role.carrier})


def _require_operator(principal: Principal, what: str) -> None:
    if not principal.is_operator:
        raise Forbidden(f"only an operator may change {what}")


def _require_reader(principal: Principal) -> None:
    if principal.role not in _READERS:
        raise Forbidden("this role cannot read logistics services")


async def create_service(
    session: AsyncSession, *, ctx: Ctx, data: ServiceCreate
) -> LogisticsService:
    """An operator adds a logistics service a carrier sells."""
    _require_operator(ctx.principal, "logistics services")
    if await session.get(LogisticsService, data.code) is not None:
        raise Conflict(f"service {data.code} exists already", field="code")
    service = LogisticsService(
        **data.model_dump(), active=True, created_at=ctx.clock.now(), version=1
    )
    session.add(service)
    audit.record(
        session,
        ctx=ctx,
        subject_type="logistics_service",
        subject_id=service.code,
        action="create",
        data=data.model_dump(mode="json"),
    )
    await session.flush()
    return service


async def set_service_active(
    session: AsyncSession, *, ctx: Ctx, code: str, active: bool
) -> LogisticsService:
    """Withdraw a service from (or return it to) the choices sellers see."""
    _require_operator(ctx.principal, "logistics services")
    service = await get_service(session, principal=ctx.principal, code=code)
    service.active = active
    audit.record(
        session,
        ctx=ctx,
        subject_type="logistics_service",
        subject_id=code,
        action="activate" if active else "withdraw",
    )
    await session.flush()
    return service


async def get_service(
    session: AsyncSession, *, principal: Principal, code: str
) -> LogisticsService:
    """One service by code."""
    _require_reader(principal)
    service = await session.get(LogisticsService, code)
    if service is None:
        raise NotFound(f"service {code} not found", field="code")
    return service


async def list_services(session: AsyncSession, *, principal: Principal) -> list[LogisticsService]:
    """Every service, withdrawn ones included."""
    _require_reader(principal)
    return await repository.services(session)


async def add_rate_card(
    session: AsyncSession, *, ctx: Ctx, code: str, data: RateCardCreate
) -> RateCardVersion:
    """The next version of a service's card in one currency, effective now or later."""
    _require_operator(ctx.principal, "rate cards")
    await get_service(session, principal=ctx.principal, code=code)
    currency = check_currency(data.currency)
    latest = await repository.latest_card(session, code, currency)
    now = ctx.clock.now()
    start = next_start(
        data.effective_from,
        now,
        (latest.version, latest.effective_from) if latest else None,
        what="rate card",
    )
    card = RateCardVersion(
        id=new_id("ratecard"),
        service_code=code,
        currency=currency,
        version=(latest.version + 1) if latest else 1,
        effective_from=start,
        card=data.card.model_dump(mode="json"),
        note=data.note,
        created_at=now,
        created_by=ctx.principal.actor_id,
    )
    session.add(card)
    audit.record(
        session,
        ctx=ctx,
        subject_type="rate_card",
        subject_id=card.id,
        action="create",
        data={"service_code": code, "currency": currency, "version": card.version},
    )
    await session.flush()
    return card


async def rate_cards(
    session: AsyncSession, *, principal: Principal, code: str
) -> list[RateCardVersion]:
    """Every card version of a service."""
    await get_service(session, principal=principal, code=code)
    return await repository.cards_of(session, code)


async def get_rate_card(
    session: AsyncSession, *, principal: Principal, card_id: str
) -> RateCardVersion:
    """One card version, as a quote names it."""
    _require_reader(principal)
    card = await session.get(RateCardVersion, card_id)
    if card is None:
        raise NotFound(f"rate card {card_id} not found", field="rate_card_id")
    return card


async def list_rules(session: AsyncSession, *, principal: Principal) -> list[RouteRule]:
    """The route rules in force, in evaluation order. Operators read them all; anyone else
    reads those that can bind it: a rule naming stores shows only when it names one of the
    caller's, and then names only the caller's (another seller's stores are not theirs to see).
    The narrowed rules are copies, outside the session."""
    _require_reader(principal)
    rules = await repository.active_rules(session)
    if principal.is_operator:
        return rules
    own = await _own_store_ids(session, principal)
    shown = []
    for rule in rules:
        named = rule.conditions.get("store_ids") or []
        if not named:
            shown.append(rule)
            continue
        mine = [store_id for store_id in named if store_id in own]
        if mine:
            shown.append(_copy(rule, conditions={**rule.conditions, "store_ids": mine}))
    return shown


async def _own_store_ids(session: AsyncSession, principal: Principal) -> set[str]:
    if principal.role is not Role.seller:
        return set()
    own: set[str] = set()
    cursor: str | None = None
    while True:
        rows, cursor = await stores.list_stores(
            session, principal=principal, cursor=cursor, limit=500
        )
        own.update(store.id for store in rows)
        if cursor is None:
            return own


def _copy(rule: RouteRule, **changes: Any) -> RouteRule:
    """A transient copy of a rule, outside any session (a caller's view of it)."""
    fields = {attr.key: getattr(rule, attr.key) for attr in inspect(RouteRule).column_attrs}
    return RouteRule(**{**fields, **changes})


async def get_rule(session: AsyncSession, *, principal: Principal, rule_id: str) -> RouteRule:
    """One route rule, in force or retired (operators: what they just changed)."""
    _require_operator(principal, "route rules")
    rule = await session.get(RouteRule, rule_id)
    if rule is None:
        raise NotFound(f"route rule {rule_id} not found", field="rule_id")
    return rule


async def _check_rule(
    session: AsyncSession, ctx: Ctx, data: RouteRuleWrite, rule_id: str | None = None
) -> None:
    """F5: a rule names services and stores that exist, at a position no other rule holds (the
    order decides, so two rules at one position would leave it to chance)."""
    conditions = data.conditions
    if conditions.services:
        known = {service.code for service in await repository.services(session)}
        unknown = [code for code in conditions.services if code not in known]
        if unknown:
            raise InvalidInput(
                f"route rule '{data.name}' names no logistics service {', '.join(unknown)}",
                field="conditions.services",
                rule="known_service",
                unknown=unknown,
            )
    missing = []
    for store_id in dict.fromkeys(conditions.store_ids):
        try:
            await stores.get_store(session, principal=ctx.principal, store_id=store_id)
        except NotFound:
            missing.append(store_id)
    if missing:
        raise InvalidInput(
            f"route rule '{data.name}' names no store {', '.join(missing)}",
            field="conditions.store_ids",
            rule="known_store",
            unknown=missing,
        )
    for other in await repository.active_rules(session):
        if other.position == data.position and other.id != rule_id:
            raise Conflict(
                f"position {data.position} is taken by route rule {other.id} '{other.name}'; "
                "give this rule a free position",
                field="position",
                rule="position_taken",
                taken_by=other.id,
                taken_by_name=other.name,
            )


async def create_rule(session: AsyncSession, *, ctx: Ctx, data: RouteRuleWrite) -> RouteRule:
    """F5: an operator adds a route rule at a free position in the order."""
    _require_operator(ctx.principal, "route rules")
    await _check_rule(session, ctx, data)
    now = ctx.clock.now()
    rule = RouteRule(
        id=new_id("rule"),
        position=data.position,
        name=data.name,
        effect=data.effect,
        conditions=data.conditions.model_dump(mode="json"),
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(rule)
    audit.record(
        session,
        ctx=ctx,
        subject_type="route_rule",
        subject_id=rule.id,
        action="create",
        data=data.model_dump(mode="json"),
    )
    await session.flush()
    return rule


async def _rule_for_change(
    session: AsyncSession, ctx: Ctx, rule_id: str, expected_version: int | None
) -> RouteRule:
    _require_operator(ctx.principal, "route rules")
    rule = await session.get(RouteRule, rule_id, with_for_update=True)
    if rule is None or not rule.active:
        raise NotFound(f"route rule {rule_id} not found", field="rule_id")
    check_version("route rule", rule_id, rule.version, expected_version)
    return rule


async def replace_rule(
    session: AsyncSession,
    *,
    ctx: Ctx,
    rule_id: str,
    data: RouteRuleWrite,
    expected_version: int | None,
) -> RouteRule:
    """Rewrite a route rule in place; its audit trail keeps what it said before."""
    rule = await _rule_for_change(session, ctx, rule_id, expected_version)
    await _check_rule(session, ctx, data, rule_id=rule.id)
    before = {"position": rule.position, "effect": rule.effect.value, "conditions": rule.conditions}
    rule.position = data.position
    rule.name = data.name
    rule.effect = data.effect
    rule.conditions = data.conditions.model_dump(mode="json")
    rule.updated_at = ctx.clock.now()
    audit.record(
        session,
        ctx=ctx,
        subject_type="route_rule",
        subject_id=rule.id,
        action="replace",
        data={"before": before, "after": data.model_dump(mode="json")},
    )
    await session.flush()
    return rule


async def delete_rule(
    session: AsyncSession, *, ctx: Ctx, rule_id: str, expected_version: int | None
) -> RouteRule:
    """Retire a route rule; it stays readable in the audit trail."""
    rule = await _rule_for_change(session, ctx, rule_id, expected_version)
    rule.active = False
    rule.updated_at = ctx.clock.now()
    audit.record(session, ctx=ctx, subject_type="route_rule", subject_id=rule.id, action="delete")
    await session.flush()
    return rule


def _check_base_url(ctx: Ctx, url: str) -> None:
    """A carrier's API is a URL the server calls: never an internal host, unless allowed."""
    try:
        outbound.check_url(url, outbound.OutboundPolicy.of(ctx.settings))
    except outbound.OutboundRefused as exc:
        raise InvalidInput(
            f"carrier base URL refused: {exc.reason}", field="base_url", rule=exc.rule
        ) from exc


async def create_carrier_account(
    session: AsyncSession, *, ctx: Ctx, data: CarrierAccountCreate
) -> CarrierAccount:
    """Register how tuoguan reaches a carrier (operators); the secrets are never shown again."""
    _require_operator(ctx.principal, "carrier accounts")
    if await session.get(CarrierAccount, data.code) is not None:
        raise Conflict(f"carrier account {data.code} exists already", field="code")
    if isinstance(data, KarrioAccountCreate):
        options = data.options()
        karrio_carrier.validate(options)
        account = CarrierAccount(
            code=data.code,
            name=data.name,
            adapter=data.adapter,
            base_url="",
            api_key="",
            webhook_secret="",
            options=options,
        )
        where = f"karrio:{data.carrier}"
    else:
        _check_base_url(ctx, data.base_url)
        account = CarrierAccount(**data.model_dump())
        where = data.base_url
    account.active, account.created_at = True, ctx.clock.now()
    session.add(account)
    audit.record(
        session,
        ctx=ctx,
        subject_type="carrier_account",
        subject_id=data.code,
        action="create",
        data={"adapter": data.adapter, "endpoint": where},
    )
    await session.flush()
    return account


async def list_carrier_accounts(
    session: AsyncSession, *, principal: Principal
) -> list[CarrierAccount]:
    """Every carrier account (operators)."""
    _require_operator(principal, "carrier accounts")
    return await repository.carrier_accounts(session)


async def carrier_names(session: AsyncSession, *, principal: Principal) -> dict[str, str]:
    """Each carrier's name by its code, as people read it (nothing of its credentials)."""
    _require_reader(principal)
    return {account.code: account.name for account in await repository.carrier_accounts(session)}


async def carrier_account(session: AsyncSession, code: str) -> CarrierAccount:
    """One active carrier account, for checking its pushes."""
    account = await session.get(CarrierAccount, code)
    if account is None or not account.active:
        raise NotFound(f"carrier {code} not found", field="code")
    return account

"""Logistics services, rate cards, route rules and shipping options (F5, F8, G1-G3)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, PrincipalDep, ReadSession, expected_version
from tuoguan.api.mutation import run_mutation
from tuoguan.errors import InvalidInput
from tuoguan.principal import Role
from tuoguan.shipping import quotes
from tuoguan.shipping import service as shipping
from tuoguan.shipping.models import LogisticsService, RateCardVersion, RouteRule
from tuoguan.shipping.schemas import (
    CarrierChargeRead,
    ParcelIn,
    RateCardCreate,
    RateCardRead,
    RateCheckRead,
    RouteRuleRead,
    RouteRuleWrite,
    ServiceCreate,
    ServiceRead,
    ShippingOptions,
)

router = APIRouter(tags=["shipping"])
OPERATORS = access.roles(Role.operator)
# The catalog's prices and routing are the platform's and its sellers'; a carrier reads the
# services (its own and the others'), never the rate cards sellers are charged by.
STAFF = access.roles(Role.operator, Role.seller)
IfMatch = Annotated[str | None, Header(description="The rule version you saw; 409 if it moved.")]


async def _service(_: AsyncSession, service: LogisticsService) -> ServiceRead:
    return ServiceRead.model_validate(service)


async def _card(_: AsyncSession, card: RateCardVersion) -> RateCardRead:
    return RateCardRead.model_validate(card)


async def _rule(_: AsyncSession, rule: RouteRule) -> RouteRuleRead:
    return RouteRuleRead.model_validate(rule)


@router.post("/logistics-services", status_code=201, response_model=ServiceRead, **OPERATORS)
async def create_service(request: Request, ctx: CtxDep, body: ServiceCreate) -> Response:
    """Add a logistics service a carrier sells (operators)."""
    return await run_mutation(
        request,
        ctx,
        lambda s: shipping.create_service(s, ctx=ctx, data=body),
        _service,
        status_code=201,
    )


@router.get(
    "/logistics-services",
    response_model=list[ServiceRead],
    **access.roles(Role.operator, Role.seller, Role.carrier),
)
async def list_services(principal: PrincipalDep, session: ReadSession) -> list[ServiceRead]:
    """Every service, withdrawn ones included."""
    rows = await shipping.list_services(session, principal=principal)
    return [ServiceRead.model_validate(row) for row in rows]


@router.get(
    "/logistics-services/{code}",
    response_model=ServiceRead,
    **access.roles(Role.operator, Role.seller, Role.carrier),
)
async def get_service(code: str, principal: PrincipalDep, session: ReadSession) -> ServiceRead:
    """One service."""
    return ServiceRead.model_validate(
        await shipping.get_service(session, principal=principal, code=code)
    )


@router.post("/logistics-services/{code}/withdraw", response_model=ServiceRead, **OPERATORS)
async def withdraw_service(code: str, request: Request, ctx: CtxDep) -> Response:
    """Stop offering a service; shipments already made keep it."""
    return await run_mutation(
        request,
        ctx,
        lambda s: shipping.set_service_active(s, ctx=ctx, code=code, active=False),
        _service,
    )


@router.post("/logistics-services/{code}/activate", response_model=ServiceRead, **OPERATORS)
async def activate_service(code: str, request: Request, ctx: CtxDep) -> Response:
    """Offer a withdrawn service again."""
    return await run_mutation(
        request,
        ctx,
        lambda s: shipping.set_service_active(s, ctx=ctx, code=code, active=True),
        _service,
    )


@router.post(
    "/logistics-services/{code}/rate-cards",
    status_code=201,
    response_model=RateCardRead,
    **OPERATORS,
)
async def add_rate_card(code: str, request: Request, ctx: CtxDep, body: RateCardCreate) -> Response:
    """The next version of a service's prices in one currency (operators)."""
    return await run_mutation(
        request,
        ctx,
        lambda s: shipping.add_rate_card(s, ctx=ctx, code=code, data=body),
        _card,
        status_code=201,
    )


@router.get("/logistics-services/{code}/rate-cards", response_model=list[RateCardRead], **STAFF)
async def list_rate_cards(
    code: str, principal: PrincipalDep, session: ReadSession
) -> list[RateCardRead]:
    """Every card version of a service."""
    rows = await shipping.rate_cards(session, principal=principal, code=code)
    return [RateCardRead.model_validate(row) for row in rows]


@router.get("/rate-cards/{card_id}", response_model=RateCardRead, **STAFF)
async def get_rate_card(
    card_id: str, principal: PrincipalDep, session: ReadSession
) -> RateCardRead:
    """One card version, as a quote names it (G1: recompute any quote from it)."""
    return RateCardRead.model_validate(
        await shipping.get_rate_card(session, principal=principal, card_id=card_id)
    )


@router.get("/route-rules", response_model=list[RouteRuleRead], **STAFF)
async def list_rules(principal: PrincipalDep, session: ReadSession) -> list[RouteRuleRead]:
    """F5: the route rules in evaluation order."""
    rows = await shipping.list_rules(session, principal=principal)
    return [RouteRuleRead.model_validate(row) for row in rows]


@router.post("/route-rules", status_code=201, response_model=RouteRuleRead, **OPERATORS)
async def create_rule(request: Request, ctx: CtxDep, body: RouteRuleWrite) -> Response:
    """F5: add a route rule (operators)."""
    return await run_mutation(
        request, ctx, lambda s: shipping.create_rule(s, ctx=ctx, data=body), _rule, status_code=201
    )


@router.put("/route-rules/{rule_id}", response_model=RouteRuleRead, **OPERATORS)
async def replace_rule(
    rule_id: str, request: Request, ctx: CtxDep, body: RouteRuleWrite, if_match: IfMatch = None
) -> Response:
    """Rewrite a route rule (operators)."""
    version = expected_version(if_match)
    return await run_mutation(
        request,
        ctx,
        lambda s: shipping.replace_rule(
            s, ctx=ctx, rule_id=rule_id, data=body, expected_version=version
        ),
        _rule,
    )


@router.delete("/route-rules/{rule_id}", response_model=RouteRuleRead, **OPERATORS)
async def delete_rule(
    rule_id: str, request: Request, ctx: CtxDep, if_match: IfMatch = None
) -> Response:
    """Retire a route rule (operators)."""
    version = expected_version(if_match)
    return await run_mutation(
        request,
        ctx,
        lambda s: shipping.delete_rule(s, ctx=ctx, rule_id=rule_id, expected_version=version),
        _rule,
    )


@router.get("/orders/{order_id}/rate-check", response_model=list[RateCheckRead], **OPERATORS)
async def rate_check(order_id: str, ctx: CtxDep, session: ReadSession) -> list[RateCheckRead]:
    """G1: each service's quote beside the carrier's own price for this order (operators).

    The carriers are asked live; nothing is booked or stored.
    """
    from tuoguan.shipping import ratecheck

    checks = await ratecheck.rate_check(session, ctx=ctx, order_id=order_id)
    return [
        RateCheckRead(
            **{k: v for k, v in c.__dict__.items() if k != "carrier_lines"},
            carrier_lines=[
                CarrierChargeRead(name=name, amount_minor=amount)
                for name, amount in c.carrier_lines
            ],
            difference_minor=c.difference_minor,
        )
        for c in checks
    ]


@router.get("/orders/{order_id}/shipping-options", response_model=ShippingOptions, **STAFF)
async def shipping_options(
    order_id: str,
    ctx: CtxDep,
    session: ReadSession,
    weight_g: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    length_mm: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    width_mm: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    height_mm: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    insure: bool = False,
) -> ShippingOptions:
    """F8 step 2: each service allowed for the order with its itemized quote, and why not the rest.

    Give the packed parcel's weight and all three sides to quote it as measured;
    otherwise the parcel is estimated from the order's products.
    """
    sizes = {
        "weight_g": weight_g,
        "length_mm": length_mm,
        "width_mm": width_mm,
        "height_mm": height_mm,
    }
    missing = [name for name, value in sizes.items() if value is None]
    measured = None
    if len(missing) < len(sizes):
        if missing:
            raise InvalidInput(
                "a measured parcel needs weight_g, length_mm, width_mm and height_mm together",
                field=missing[0],
                rule="parcel_complete",
            )
        measured = ParcelIn.model_validate(sizes)
    return await quotes.shipping_options(
        session, ctx=ctx, order_id=order_id, measured=measured, insure=insure
    )

"""Commission rates per product category, as versions (M3): operators add, sellers read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import ClockDep, CtxDep, PrincipalDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.finance import commission
from tuoguan.finance.models import CommissionRate
from tuoguan.finance.schemas import CommissionRateCreate, CommissionRateRead
from tuoguan.kit.clock import Clock
from tuoguan.principal import Role

router = APIRouter(tags=["commission"])


def present_rate(
    rate: CommissionRate, versions: list[CommissionRate], clock: Clock
) -> CommissionRateRead:
    """A rate version with its standing as of now."""
    return CommissionRateRead.model_validate(
        {
            **{c: getattr(rate, c) for c in CommissionRateRead.model_fields if c != "standing"},
            "standing": commission.standing(rate, versions, clock.now()),
        }
    )


@router.post(
    "/commission-rates",
    status_code=201,
    response_model=CommissionRateRead,
    **access.roles(Role.operator),
)
async def create_rate(request: Request, ctx: CtxDep, body: CommissionRateCreate) -> Response:
    """Add the next version of a category's commission rate (operators), now or later; orders
    placed from then on sell at it."""

    async def render(session: AsyncSession, rate: CommissionRate) -> CommissionRateRead:
        versions = await commission.list_rates(
            session, principal=ctx.principal, category=rate.category
        )
        return present_rate(rate, versions, ctx.clock)

    return await run_mutation(
        request,
        ctx,
        lambda s: commission.create_rate(s, ctx=ctx, data=body),
        render,
        status_code=201,
    )


@router.get(
    "/commission-rates",
    response_model=list[CommissionRateRead],
    **access.roles(Role.operator, Role.seller),
)
async def list_rates(
    principal: PrincipalDep,
    session: ReadSession,
    clock: ClockDep,
    category: Annotated[str | None, Query(max_length=60)] = None,
) -> list[CommissionRateRead]:
    """Every version, per category oldest first, with which is in force now; sellers read the
    rates they sell at."""
    versions = await commission.list_rates(session, principal=principal, category=category)
    return [present_rate(v, versions, clock) for v in versions]

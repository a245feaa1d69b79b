"""Penalty policies, penalties with their appeals, and seller ratings (F6, O2)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import ClockDep, CtxDep, PrincipalDep, ReadSession, expected_version
from tuoguan.api.mutation import run_mutation
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.context import Ctx
from tuoguan.finance import service as finance
from tuoguan.finance.models import Penalty, PenaltyPolicy
from tuoguan.finance.schemas import (
    AppealBody,
    DecisionBody,
    PenaltyPolicyCreate,
    PenaltyPolicyRead,
    PenaltyRead,
    Rating,
)
from tuoguan.finance.states import PenaltyAction, PenaltyStatus
from tuoguan.kit.clock import Clock
from tuoguan.principal import Role
from tuoguan.sla import service as sla
from tuoguan.timing.kinds import BreachKind

router = APIRouter(tags=["penalties"])
IfMatch = Annotated[str | None, Header(description="The penalty version you saw; 409 if it moved.")]
STAFF = access.roles(Role.operator, Role.seller)


def present_policy(
    policy: PenaltyPolicy, versions: list[PenaltyPolicy], clock: Clock
) -> PenaltyPolicyRead:
    """A policy version with its standing as of now."""
    return PenaltyPolicyRead.model_validate(
        {
            **{c: getattr(policy, c) for c in PenaltyPolicyRead.model_fields if c != "standing"},
            "standing": finance.standing(policy, versions, clock.now()),
        }
    )


def present_penalty(penalty: Penalty, ctx: Ctx) -> PenaltyRead:
    """A penalty with what the caller may do to it now."""
    read = PenaltyRead.model_validate(penalty)
    read.allowed_actions = finance.allowed_actions(penalty, ctx.principal, ctx.clock.now())
    return read


@router.post(
    "/penalty-policies",
    status_code=201,
    response_model=PenaltyPolicyRead,
    **access.roles(Role.operator),
)
async def create_policy(request: Request, ctx: CtxDep, body: PenaltyPolicyCreate) -> Response:
    """Add the next version of a breach kind's fines (operators); tiers must cover 0 h upward."""

    async def render(session: AsyncSession, policy: PenaltyPolicy) -> PenaltyPolicyRead:
        versions = await finance.list_policies(session, principal=ctx.principal, kind=policy.kind)
        return present_policy(policy, versions, ctx.clock)

    return await run_mutation(
        request,
        ctx,
        lambda s: finance.create_policy(s, ctx=ctx, data=body),
        render,
        status_code=201,
    )


@router.get("/penalty-policies", response_model=list[PenaltyPolicyRead], **STAFF)
async def list_policies(
    principal: PrincipalDep,
    session: ReadSession,
    clock: ClockDep,
    kind: BreachKind | None = None,
) -> list[PenaltyPolicyRead]:
    """Every version, with which is in force now; sellers may read the rules too."""
    versions = await finance.list_policies(session, principal=principal, kind=kind)
    return [present_policy(v, versions, clock) for v in versions]


@router.get("/penalties", response_model=list[PenaltyRead], **STAFF)
async def list_penalties(
    request: Request,
    response: Response,
    ctx: CtxDep,
    session: ReadSession,
    status: PenaltyStatus | None = None,
    seller_id: Annotated[str | None, Query(max_length=40)] = None,
    store_id: Annotated[str | None, Query(max_length=40)] = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[PenaltyRead]:
    """Penalties newest first: a seller its own; operators all (status=appealed is the queue),
    or one seller's or one store's. More pages: the ``Link`` header's rel=next."""
    rows, next_cursor = await finance.list_penalties(
        session,
        principal=ctx.principal,
        status=status,
        seller_id=seller_id,
        store_id=store_id,
        cursor=cursor,
        limit=limit,
    )
    next_link(request, response, next_cursor)
    return [present_penalty(p, ctx) for p in rows]


@router.get("/penalties/{penalty_id}", response_model=PenaltyRead, **STAFF)
async def get_penalty(penalty_id: str, ctx: CtxDep, session: ReadSession) -> PenaltyRead:
    """One penalty."""
    penalty = await finance.get_penalty(session, principal=ctx.principal, penalty_id=penalty_id)
    return present_penalty(penalty, ctx)


async def _act(
    request: Request,
    ctx: Ctx,
    penalty_id: str,
    action: PenaltyAction,
    reason: str,
    if_match: str | None,
) -> Response:
    version = expected_version(if_match)

    async def render(_: AsyncSession, penalty: Penalty) -> PenaltyRead:
        return present_penalty(penalty, ctx)

    return await run_mutation(
        request,
        ctx,
        lambda s: finance.act(
            s,
            ctx=ctx,
            penalty_id=penalty_id,
            action=action,
            reason=reason,
            expected_version=version,
        ),
        render,
    )


@router.post(
    "/penalties/{penalty_id}/appeal", response_model=PenaltyRead, **access.roles(Role.seller)
)
async def appeal(
    penalty_id: str, request: Request, ctx: CtxDep, body: AppealBody, if_match: IfMatch = None
) -> Response:
    """申诉: the seller contests its own penalty within the appeal window."""
    return await _act(request, ctx, penalty_id, PenaltyAction.appeal, body.reason, if_match)


@router.post(
    "/penalties/{penalty_id}/uphold", response_model=PenaltyRead, **access.roles(Role.operator)
)
async def uphold(
    penalty_id: str, request: Request, ctx: CtxDep, body: DecisionBody, if_match: IfMatch = None
) -> Response:
    """An operator rejects the appeal: the penalty stands."""
    return await _act(request, ctx, penalty_id, PenaltyAction.uphold, body.reason, if_match)


@router.post(
    "/penalties/{penalty_id}/waive", response_model=PenaltyRead, **access.roles(Role.operator)
)
async def waive(
    penalty_id: str, request: Request, ctx: CtxDep, body: DecisionBody, if_match: IfMatch = None
) -> Response:
    """An operator accepts the appeal: the penalty no longer costs money or rating."""
    return await _act(request, ctx, penalty_id, PenaltyAction.waive, body.reason, if_match)


@router.get("/sellers/{seller_id}/rating", response_model=Rating, **STAFF)
async def rating(seller_id: str, ctx: CtxDep, session: ReadSession) -> Rating:
    """F6: the seller's rating over the last 90 days and the breaches behind it."""
    return await sla.seller_rating(
        session, principal=ctx.principal, seller_id=seller_id, now=ctx.clock.now()
    )

"""Rows the worker set aside after a sweep failed on them: operators see, retry or dismiss them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, PrincipalDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.context import Ctx
from tuoguan.ops import service as failures
from tuoguan.ops.models import FailureStatus, SweepFailure
from tuoguan.ops.schemas import FailureDecision, SweepFailureRead
from tuoguan.ops.states import FailureAction, allowed_actions
from tuoguan.principal import Role

router = APIRouter(tags=["operations"])
OPERATORS = access.roles(Role.operator)  # who may call (tests/api/test_role_views.py)


def present(row: SweepFailure) -> SweepFailureRead:
    """A set-aside row with the decisions its status allows."""
    read = SweepFailureRead.model_validate(row)
    read.allowed_actions = allowed_actions(row.status)
    return read


@router.get("/sweep-failures", response_model=list[SweepFailureRead], **OPERATORS)
async def list_failures(
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: ReadSession,
    status: FailureStatus | None = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SweepFailureRead]:
    """Operators: rows a sweep set aside, the open ones (set aside, retrying) unless a status
    is asked for, most recently failed first; more pages: the ``Link`` header's rel=next.
    Sellers and other roles get 403."""
    rows, next_cursor = await failures.page_failures(
        session, principal=principal, status=status, cursor=cursor, limit=limit
    )
    next_link(request, response, next_cursor)
    return [present(row) for row in rows]


@router.get("/sweep-failures/{failure_id}", response_model=SweepFailureRead, **OPERATORS)
async def get_failure(
    failure_id: str, principal: PrincipalDep, session: ReadSession
) -> SweepFailureRead:
    """Operators: one set-aside row."""
    return present(await failures.get_failure(session, principal=principal, failure_id=failure_id))


async def _decide(
    request: Request, ctx: Ctx, failure_id: str, action: FailureAction, reason: str
) -> Response:
    async def render(_: AsyncSession, row: SweepFailure) -> SweepFailureRead:
        return present(row)

    return await run_mutation(
        request,
        ctx,
        lambda s: failures.act(s, ctx=ctx, failure_id=failure_id, action=action, reason=reason),
        render,
    )


@router.post("/sweep-failures/{failure_id}/retry", response_model=SweepFailureRead, **OPERATORS)
async def retry(failure_id: str, request: Request, ctx: CtxDep, body: FailureDecision) -> Response:
    """The cause is fixed: the sweep takes the row again, alone, at its next run; it is
    resolved if it goes through and set aside again if not."""
    return await _decide(request, ctx, failure_id, FailureAction.retry, body.reason)


@router.post("/sweep-failures/{failure_id}/dismiss", response_model=SweepFailureRead, **OPERATORS)
async def dismiss(
    failure_id: str, request: Request, ctx: CtxDep, body: FailureDecision
) -> Response:
    """Handled by hand: the row leaves the open list, and the sweep keeps leaving it out."""
    return await _decide(request, ctx, failure_id, FailureAction.dismiss, body.reason)

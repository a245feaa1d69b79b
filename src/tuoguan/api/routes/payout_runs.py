"""Payout runs (结算, M3): an operator previews a cycle's run, reads each store's statement,
then executes it once: debts netted, payouts prepared and sent on the rail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, PrincipalDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.principal import Role
from tuoguan.settlement import run_repository, runs
from tuoguan.settlement.run_models import PayoutRun
from tuoguan.settlement.run_schemas import (
    PayoutRunCreate,
    PayoutRunDetail,
    PayoutRunRead,
    present_run,
)
from tuoguan.stores.models import StoreMode

router = APIRouter(tags=["payout runs"])
OPERATORS = access.roles(Role.operator)


async def _detail(session: AsyncSession, run: PayoutRun) -> PayoutRunDetail:
    return present_run(run, await run_repository.statements(session, run.id))


@router.post("/payout-runs", status_code=201, response_model=PayoutRunDetail, **OPERATORS)
async def preview_payout_run(request: Request, ctx: CtxDep, body: PayoutRunCreate) -> Response:
    """Preview the cycle's run up to its last boundary not yet executed: each store's opening
    and closing due, what would be netted, paid and carried forward. Nothing is posted; an
    earlier preview of the cycle is superseded. 409 ``cycle_not_due`` when no boundary has
    passed since the last executed run; 422 naming ``cycle`` for an unknown one."""
    return await run_mutation(
        request, ctx, lambda s: runs.preview(s, ctx, body.cycle), _detail, status_code=201
    )


@router.get("/payout-runs", response_model=list[PayoutRunRead], **OPERATORS)
async def list_payout_runs(
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: ReadSession,
    cycle: Annotated[StoreMode | None, Query(description="Only this cycle's runs.")] = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[PayoutRunRead]:
    """Payout runs, newest first. More pages: the ``Link`` header's rel=next."""
    rows, next_cursor = await runs.list_runs(
        session, principal, cycle=cycle, cursor=cursor, limit=limit
    )
    next_link(request, response, next_cursor)
    return [PayoutRunRead.model_validate(run) for run in rows]


@router.get("/payout-runs/{run_id}", response_model=PayoutRunDetail, **OPERATORS)
async def get_payout_run(
    run_id: str, principal: PrincipalDep, session: ReadSession
) -> PayoutRunDetail:
    """A run with its totals per currency and each store's statement, linked to the store's
    statement of the run's period."""
    run, statements = await runs.get_run(session, principal, run_id)
    return present_run(run, statements)


@router.post("/payout-runs/{run_id}/execute", response_model=PayoutRunDetail, **OPERATORS)
async def execute_payout_run(run_id: str, request: Request, ctx: CtxDep) -> Response:
    """Execute a previewed run, once: each store's debts are netted from what it is due as it
    is now, and what the preview found payable (at most what is due now) is prepared for the
    store's bound payout account, which the worker sends on the rail. A store without one is
    held, its money kept for the next run. 409 ``run_once`` for a run executed or superseded
    (the same ``Idempotency-Key`` replays the first answer instead)."""
    return await run_mutation(request, ctx, lambda s: runs.execute(s, ctx, run_id), _detail)

"""Restock suggestions (根据平台提示备货, M5): what a full-managed seller should send to each
platform warehouse, from its sales and its stock cover, and accepting them as a draft inbound
notice (R1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.api.routes.inbound import photo_url
from tuoguan.fulfilment import inbound_reads, restock
from tuoguan.fulfilment.inbound_schemas import InboundNoticeRead
from tuoguan.fulfilment.models import InboundNotice
from tuoguan.fulfilment.restock import RestockAccept, RestockSuggestion
from tuoguan.principal import Role

router = APIRouter(tags=["restock"])
IdFilter = Annotated[str | None, Query(min_length=1, max_length=40)]
Days = Annotated[int, Query(ge=restock.MIN_DAYS, le=restock.MAX_DAYS)]
CoverDays = Annotated[int, Query(ge=restock.MIN_COVER, le=restock.MAX_COVER)]


@router.get(
    "/restock-suggestions",
    response_model=list[RestockSuggestion],
    **access.roles(Role.operator, Role.seller),
)
async def list_restock_suggestions(
    ctx: CtxDep,
    session: ReadSession,
    store_id: IdFilter = None,
    warehouse_id: IdFilter = None,
    days: Days = restock.DEFAULT_DAYS,
    cover_days: CoverDays = restock.DEFAULT_COVER,
) -> list[RestockSuggestion]:
    """M5: per SKU of a full-managed store and platform warehouse it sold from, the units sold
    in the last ``days`` days (7-90), the daily rate, the days the available and inbound stock
    cover, and the units to send to cover ``cover_days`` (1-60). Only rows with something to
    send, least cover first. Operators: every store; a seller: its own (another seller's
    ``store_id`` gives an empty list)."""
    return await restock.suggest(
        session,
        principal=ctx.principal,
        now=ctx.clock.now(),
        store_id=store_id,
        warehouse_id=warehouse_id,
        days=days,
        cover_days=cover_days,
    )


@router.post(
    "/restock-suggestions/accept",
    status_code=201,
    response_model=InboundNoticeRead,
    **access.roles(Role.seller),
)
async def accept_restock_suggestions(
    request: Request, ctx: CtxDep, body: RestockAccept
) -> Response:
    """M5, R1: the seller accepts suggestions, with its own quantities (1-100 000 each), as a
    draft inbound notice to the warehouse; every check of ``POST /inbound-notices`` applies
    (the store its own, the SKUs the store's, each once)."""

    async def render(session: AsyncSession, notice: InboundNotice) -> InboundNoticeRead:
        (shown,) = await inbound_reads.present(
            session, principal=ctx.principal, notices=[notice], photo_url=photo_url
        )
        return shown

    return await run_mutation(
        request,
        ctx,
        lambda s: restock.accept(s, ctx=ctx, data=body),
        render,
        status_code=201,
    )

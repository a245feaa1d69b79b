"""Stock per warehouse and SKU, its ledger, and operators' count corrections (M5)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, PrincipalDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.inventory import service
from tuoguan.inventory.models import StockBalance
from tuoguan.inventory.schemas import (
    StockAdjusted,
    StockAdjustmentCreate,
    StockMoveRead,
    StockRead,
)
from tuoguan.principal import Role

router = APIRouter(tags=["stock"])
STAFF = access.roles(Role.operator, Role.seller)
IdFilter = Annotated[str | None, Query(min_length=1, max_length=40)]


def present(balance: StockBalance) -> StockRead:
    """A balance with its available units."""
    return StockRead(
        warehouse_id=balance.warehouse_id,
        sku_id=balance.sku_id,
        store_id=balance.store_id,
        on_hand=balance.on_hand,
        reserved=balance.reserved,
        available=balance.available,
        defective=balance.defective,
        inbound=balance.inbound,
        updated_at=balance.updated_at,
    )


@router.get("/stock", response_model=list[StockRead], **STAFF)
async def list_stock(
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: ReadSession,
    warehouse_id: IdFilter = None,
    sku_id: IdFilter = None,
    store_id: IdFilter = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[StockRead]:
    """Stock per warehouse and SKU: on hand, reserved, available, defective, inbound.
    Operators: all; a seller: its own SKUs (another seller's filter gives an empty page).
    By warehouse, then SKU; more pages: the ``Link`` header's rel=next."""
    rows, next_cursor = await service.list_stock(
        session,
        principal=principal,
        warehouse_id=warehouse_id,
        sku_id=sku_id,
        store_id=store_id,
        cursor=cursor,
        limit=limit,
    )
    next_link(request, response, next_cursor)
    return [present(row) for row in rows]


@router.get("/stock/moves", response_model=list[StockMoveRead], **STAFF)
async def list_moves(
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: ReadSession,
    warehouse_id: IdFilter = None,
    sku_id: IdFilter = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[StockMoveRead]:
    """The stock ledger, newest first: every change with its deltas, reason, actor and
    reference. A seller reads its own SKUs' rows. More pages: the ``Link`` header."""
    rows, next_cursor = await service.list_moves(
        session,
        principal=principal,
        warehouse_id=warehouse_id,
        sku_id=sku_id,
        cursor=cursor,
        limit=limit,
    )
    next_link(request, response, next_cursor)
    return [StockMoveRead.model_validate(row) for row in rows]


@router.post(
    "/stock/adjustments",
    status_code=201,
    response_model=StockAdjusted,
    **access.roles(Role.operator),
)
async def adjust_stock(request: Request, ctx: CtxDep, body: StockAdjustmentCreate) -> Response:
    """Operators: correct a count (盘点调整) with a reason, a delta per bucket (on_hand,
    defective, inbound; reserved moves only through reservations). Nothing goes below zero
    nor reserved above on hand (409 naming the bucket and the rule)."""

    async def action(session: AsyncSession) -> int:
        return await service.adjust(session, ctx=ctx, data=body)

    async def render(session: AsyncSession, move_id: int) -> StockAdjusted:
        move = await service.get_move(session, move_id)
        balance = await service.stock_of(session, warehouse_id=move.warehouse_id, sku_id=move.sku_id)
        return StockAdjusted(move=StockMoveRead.model_validate(move), stock=present(balance))

    return await run_mutation(request, ctx, action, render, status_code=201)

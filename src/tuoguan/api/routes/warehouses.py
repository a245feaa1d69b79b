"""Warehouses: where stock is kept and parcels start (M5, F11)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, PrincipalDep, ReadSession, expected_version
from tuoguan.api.mutation import run_mutation
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.inventory import warehouses as service
from tuoguan.inventory.models import Warehouse
from tuoguan.inventory.schemas import WarehouseCreate, WarehouseRead, WarehouseUpdate
from tuoguan.principal import Role

router = APIRouter(tags=["warehouses"])
STAFF = access.roles(Role.operator, Role.seller)
IfMatch = Annotated[
    str | None, Header(description="The warehouse version you saw; 409 if it moved.")
]


async def _warehouse(_: AsyncSession, warehouse: Warehouse) -> WarehouseRead:
    return WarehouseRead.model_validate(warehouse)


@router.get("/warehouses", response_model=list[WarehouseRead], **STAFF)
async def list_warehouses(
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: ReadSession,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[WarehouseRead]:
    """Operators: every warehouse; a seller: the platform's and third parties' active
    warehouses it may send stock to, and its own. By id; more pages: the ``Link`` header."""
    rows, next_cursor = await service.list_warehouses(
        session, principal=principal, cursor=cursor, limit=limit
    )
    next_link(request, response, next_cursor)
    return [WarehouseRead.model_validate(w) for w in rows]


@router.post("/warehouses", status_code=201, response_model=WarehouseRead, **STAFF)
async def create_warehouse(request: Request, ctx: CtxDep, body: WarehouseCreate) -> Response:
    """Register a warehouse: operators any owner; a seller only its own (owner=seller), a
    seller_origin or overseas warehouse."""
    return await run_mutation(
        request,
        ctx,
        lambda s: service.create_warehouse(s, ctx=ctx, data=body),
        _warehouse,
        status_code=201,
    )


@router.get("/warehouses/{warehouse_id}", response_model=WarehouseRead, **STAFF)
async def get_warehouse(
    warehouse_id: str, principal: PrincipalDep, session: ReadSession
) -> WarehouseRead:
    """One warehouse; another seller's is a 404."""
    return WarehouseRead.model_validate(
        await service.get_warehouse(session, principal=principal, warehouse_id=warehouse_id)
    )


@router.patch("/warehouses/{warehouse_id}", response_model=WarehouseRead, **STAFF)
async def update_warehouse(
    warehouse_id: str,
    request: Request,
    ctx: CtxDep,
    body: WarehouseUpdate,
    if_match: IfMatch = None,
) -> Response:
    """Change closed days, pickup cut-off, ship days (1-3), address, name or whether it works.
    Operators: any warehouse; a seller: its own (the platform's are read-only to it: 403)."""
    expected = expected_version(if_match)
    return await run_mutation(
        request,
        ctx,
        lambda s: service.update_warehouse(
            s, ctx=ctx, warehouse_id=warehouse_id, data=body, expected_version=expected
        ),
        _warehouse,
    )

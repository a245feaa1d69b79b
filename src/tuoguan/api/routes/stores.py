"""Sellers and stores."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, PrincipalDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.api.routes.invitations import request_origin
from tuoguan.onboarding import invitations
from tuoguan.principal import Role
from tuoguan.stores import service
from tuoguan.stores.models import Seller, Store
from tuoguan.stores.schemas import SellerCreate, SellerRead, StoreCreate, StoreRead, StoreUpdate

router = APIRouter(tags=["stores"])
STAFF = access.roles(Role.operator, Role.seller)


async def _seller(_: AsyncSession, seller: Seller) -> SellerRead:
    return SellerRead.model_validate(seller)


async def _store(_: AsyncSession, store: Store) -> StoreRead:
    return StoreRead.model_validate(store)


@router.post("/sellers", status_code=201, response_model=SellerRead, **access.roles(Role.operator))
async def create_seller(request: Request, ctx: CtxDep, body: SellerCreate) -> Response:
    """Register a seller (operators)."""
    return await run_mutation(
        request,
        ctx,
        lambda s: service.create_seller(s, ctx=ctx, data=body),
        _seller,
        status_code=201,
    )


@router.get("/sellers", response_model=list[SellerRead], **STAFF)
async def list_sellers(
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: ReadSession,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SellerRead]:
    """Sellers the caller may see, by id; more pages: the ``Link`` header's rel=next."""
    rows, next_cursor = await service.list_sellers(
        session, principal=principal, cursor=cursor, limit=limit
    )
    next_link(request, response, next_cursor)
    return [SellerRead.model_validate(s) for s in rows]


@router.get("/sellers/{seller_id}", response_model=SellerRead, **STAFF)
async def get_seller(seller_id: str, principal: PrincipalDep, session: ReadSession) -> SellerRead:
    """One seller."""
    seller = await service.get_seller(session, principal=principal, seller_id=seller_id)
    return SellerRead.model_validate(seller)


@router.post("/stores", status_code=201, response_model=StoreRead, **STAFF)
async def create_store(request: Request, ctx: CtxDep, body: StoreCreate) -> Response:
    """Open a store in one of the three modes (M1). A full-managed store is by invitation only
    (M2, POST /invitations): an operator opening one here accepts the invitation on the seller's
    behalf, saying why (422 ``on_behalf_reason_required``), and the store joins at once; a
    seller whose full-managed store exited or closed is refused (409 ``seller_exited``)."""
    origin = request_origin(request)
    return await run_mutation(
        request,
        ctx,
        lambda s: invitations.open_store(s, ctx=ctx, data=body, origin=origin),
        _store,
        status_code=201,
    )


@router.get("/stores", response_model=list[StoreRead], **STAFF)
async def list_stores(
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: ReadSession,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[StoreRead]:
    """Stores the caller may see, by id; more pages: the ``Link`` header's rel=next."""
    rows, next_cursor = await service.list_stores(
        session, principal=principal, cursor=cursor, limit=limit
    )
    next_link(request, response, next_cursor)
    return [StoreRead.model_validate(s) for s in rows]


@router.get("/stores/{store_id}", response_model=StoreRead, **STAFF)
async def get_store(store_id: str, principal: PrincipalDep, session: ReadSession) -> StoreRead:
    """One store."""
    return StoreRead.model_validate(
        await service.get_store(session, principal=principal, store_id=store_id)
    )


@router.patch("/stores/{store_id}", response_model=StoreRead, **STAFF)
async def update_store(store_id: str, request: Request, ctx: CtxDep, body: StoreUpdate) -> Response:
    """Rename a store or change its ship promise (F1: 1 or 2 business days)."""
    return await run_mutation(
        request,
        ctx,
        lambda s: service.update_store(s, ctx=ctx, store_id=store_id, data=body),
        _store,
    )

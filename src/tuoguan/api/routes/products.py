"""Products."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts.visibility import model_for
from tuoguan.api import access
from tuoguan.api.deps import CtxDep, PrincipalDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.catalog import service
from tuoguan.catalog.models import Product, Sku
from tuoguan.catalog.schemas import (
    PRODUCT_VIEWS,
    SKU_VIEWS,
    ProductCreate,
    ProductRead,
    ProductStatusSet,
    ProductUpdate,
    ProductView,
    SkuCreate,
    SkuRead,
    SkuUpdate,
    SkuView,
)
from tuoguan.principal import Principal, Role

router = APIRouter(tags=["products"])


def present(product: Product, principal: Principal) -> ProductView:
    """A product as the caller's role sees it (``PRODUCT_VIEWS``)."""
    return model_for(PRODUCT_VIEWS, principal, "products").model_validate(product)


async def _product(_: AsyncSession, product: Product) -> ProductRead:
    return ProductRead.model_validate(product)


async def _sku(_: AsyncSession, sku: Sku) -> SkuRead:
    return SkuRead.model_validate(sku)


@router.post(
    "/products",
    status_code=201,
    response_model=ProductRead,
    **access.roles(Role.operator, Role.seller),
)
async def create_product(request: Request, ctx: CtxDep, body: ProductCreate) -> Response:
    """List a product as a draft (C1) with its SKUs (C3): those given, else one whose code is
    the product's id. A code or barcode another SKU of the store has is a 409."""
    return await run_mutation(
        request,
        ctx,
        lambda s: service.create_product(s, ctx=ctx, data=body),
        _product,
        status_code=201,
    )


@router.get("/products", **access.views(PRODUCT_VIEWS, array=True))
async def list_products(
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: ReadSession,
    store_id: Annotated[str | None, Query(max_length=40)] = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ProductView]:
    """Products the caller may see, newest first (the storefront: active ones, C2); more
    pages: the ``Link`` header's rel=next."""
    rows, next_cursor = await service.list_products(
        session, principal=principal, store_id=store_id, cursor=cursor, limit=limit
    )
    next_link(request, response, next_cursor)
    return [present(p, principal) for p in rows]


@router.get("/products/{product_id}", **access.views(PRODUCT_VIEWS))
async def get_product(
    product_id: str, principal: PrincipalDep, session: ReadSession
) -> ProductView:
    """One product."""
    return present(
        await service.get_product(session, principal=principal, product_id=product_id), principal
    )


@router.patch(
    "/products/{product_id}",
    response_model=ProductRead,
    **access.roles(Role.operator, Role.seller),
)
async def update_product(
    product_id: str, request: Request, ctx: CtxDep, body: ProductUpdate
) -> Response:
    """Change a product; full-managed retail prices are the operator's (C1)."""
    return await run_mutation(
        request,
        ctx,
        lambda s: service.update_product(s, ctx=ctx, product_id=product_id, data=body),
        _product,
    )


@router.post(
    "/products/{product_id}/status", response_model=ProductRead, **access.roles(Role.operator)
)
async def set_product_status(
    product_id: str, request: Request, ctx: CtxDep, body: ProductStatusSet
) -> Response:
    """Set a product's review status (operators; C2)."""
    return await run_mutation(
        request,
        ctx,
        lambda s: service.set_status(s, ctx=ctx, product_id=product_id, data=body),
        _product,
    )


@router.get("/products/{product_id}/skus", **access.views(SKU_VIEWS, array=True))
async def list_skus(
    product_id: str, principal: PrincipalDep, session: ReadSession
) -> list[SkuView]:
    """A product's SKUs in the order they were added (C3); the storefront sees the active ones
    of products on sale."""
    model = model_for(SKU_VIEWS, principal, "SKUs")
    rows = await service.list_skus(session, principal=principal, product_id=product_id)
    return [model.model_validate(sku) for sku in rows]


@router.post(
    "/products/{product_id}/skus",
    status_code=201,
    response_model=SkuRead,
    **access.roles(Role.operator, Role.seller),
)
async def add_sku(product_id: str, request: Request, ctx: CtxDep, body: SkuCreate) -> Response:
    """Add a SKU to a product (C3): its seller or an operator; the code and the barcode are
    unique in the store (409)."""
    return await run_mutation(
        request,
        ctx,
        lambda s: service.add_sku(s, ctx=ctx, product_id=product_id, data=body),
        _sku,
        status_code=201,
    )


@router.patch(
    "/products/{product_id}/skus/{sku_id}",
    response_model=SkuRead,
    **access.roles(Role.operator, Role.seller),
)
async def update_sku(
    product_id: str, sku_id: str, request: Request, ctx: CtxDep, body: SkuUpdate
) -> Response:
    """Change a SKU's attributes, barcode, weight and size, supply price, or take it off sale
    (a product keeps one on sale)."""
    return await run_mutation(
        request,
        ctx,
        lambda s: service.update_sku(s, ctx=ctx, product_id=product_id, sku_id=sku_id, data=body),
        _sku,
    )

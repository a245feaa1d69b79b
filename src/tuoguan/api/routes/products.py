"""Products."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts.visibility import model_for
from tuoguan.api import access
from tuoguan.api.deps import ClockDep, CtxDep, PrincipalDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.api.routes import product_reviews
from tuoguan.catalog import service
from tuoguan.catalog.models import Product, Sku
from tuoguan.catalog.schemas import (
    PRODUCT_VIEWS,
    SKU_VIEWS,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    ProductView,
    ShippingPeriod,
    SkuCreate,
    SkuRead,
    SkuUpdate,
    SkuView,
)
from tuoguan.kit.clock import Clock
from tuoguan.principal import Principal, Role
from tuoguan.shipping.periods import shipping_periods
from tuoguan.timing.places import check_country

router = APIRouter(tags=["products"])
# Submitting, reviewing, listing and suspending products (C2): their own module.
router.include_router(product_reviews.router)

BuyerCountry = Annotated[
    str | None,
    Query(
        min_length=2,
        max_length=2,
        description="F7: the buyer's country (ISO 3166 alpha-2) the shipping period's transit "
        "is for; absent, the transit range of F2.",
    ),
]


def present(
    product: Product, principal: Principal, period: ShippingPeriod | None = None
) -> ProductView:
    """A product as the caller's role sees it (``PRODUCT_VIEWS``), with its shipping period."""
    shown = model_for(PRODUCT_VIEWS, principal, "products").model_validate(product)
    return shown.model_copy(update={"shipping_period": period})


async def _periods(
    session: AsyncSession, products: list[Product], country: str | None, clock: Clock
) -> dict[str, ShippingPeriod | None]:
    wanted = check_country(country) if country else None
    return await shipping_periods(session, products, country=wanted, now=clock.now())


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
    """Create a product as a draft (C1) with its SKUs (C3): those given, else one whose code is
    the product's id. A code or barcode another SKU of the store has is a 409. It goes on sale
    through ``/list`` (or ``/submit`` for review, C2)."""
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
    clock: ClockDep,
    store_id: Annotated[str | None, Query(max_length=40)] = None,
    country: BuyerCountry = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ProductView]:
    """Products the caller may see, newest first (the storefront: active ones, C2), each with
    its shipping period to ``country`` (F7); more pages: the ``Link`` header's rel=next."""
    rows, next_cursor = await service.list_products(
        session, principal=principal, store_id=store_id, cursor=cursor, limit=limit
    )
    periods = await _periods(session, rows, country, clock)
    next_link(request, response, next_cursor)
    return [present(p, principal, periods.get(p.id)) for p in rows]


@router.get("/products/{product_id}", **access.views(PRODUCT_VIEWS))
async def get_product(
    product_id: str,
    principal: PrincipalDep,
    session: ReadSession,
    clock: ClockDep,
    country: BuyerCountry = None,
) -> ProductView:
    """One product, with its shipping period to ``country`` (F7: business days to ship and in
    transit)."""
    product = await service.get_product(session, principal=principal, product_id=product_id)
    periods = await _periods(session, [product], country, clock)
    return present(product, principal, periods.get(product.id))


@router.patch(
    "/products/{product_id}",
    response_model=ProductRead,
    **access.roles(Role.operator, Role.seller),
)
async def update_product(
    product_id: str, request: Request, ctx: CtxDep, body: ProductUpdate
) -> Response:
    """Change a product; full-managed retail prices are the operator's (C1). Once approved, a
    full-managed product (or one whose category needs review) changes what buyers see only
    through a revision (422 ``reviewed_fields``; 409 ``review_pending`` while its first review
    waits)."""
    return await run_mutation(
        request,
        ctx,
        lambda s: service.update_product(s, ctx=ctx, product_id=product_id, data=body),
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

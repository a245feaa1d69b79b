"""Product review and listing (C1, C2, S2): submissions, revisions, decisions, listing,
delisting and quality supervision; the operators' review queue. Included by ``products.py``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import ClockDep, CtxDep, PrincipalDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.api.openapi import refusal
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.catalog import listing, review, review_reads
from tuoguan.catalog.models import Product
from tuoguan.catalog.review_models import ProductRevision
from tuoguan.catalog.review_schemas import (
    ProductRevisionCreate,
    ProductRevisionRead,
    ProductSubmit,
    RevisionDecision,
    Suspension,
    Unsuspension,
)
from tuoguan.catalog.schemas import ProductRead
from tuoguan.principal import Role

router = APIRouter(tags=["products"])

SELLER = access.roles(Role.seller)
OPERATOR = access.roles(Role.operator)
READERS = access.roles(Role.operator, Role.seller)


async def _product(_: AsyncSession, product: Product) -> ProductRead:
    return ProductRead.model_validate(product)


@router.post(
    "/products/{product_id}/submit",
    response_model=ProductRead,
    responses=refusal(
        409,
        "Not in a state to submit (illegal_transition), approved already "
        "(already_approved), or its category needs no review (review_not_required).",
    ),
    **SELLER,
)
async def submit_product(
    product_id: str,
    request: Request,
    ctx: CtxDep,
    body: ProductSubmit | None = None,
) -> Response:
    """C2: the seller submits a draft or rejected product for its review (提交审核); it waits
    ``under_review``, due within 2 business days (S2). 422 ``supply_price_required``
    (full-managed, C1), ``price_required``."""

    async def action(s: AsyncSession) -> Product:
        product, _ = await review.submit(s, ctx=ctx, product_id=product_id, data=body)
        return product

    return await run_mutation(request, ctx, action, _product)


@router.post(
    "/products/{product_id}/revisions",
    status_code=201,
    response_model=ProductRevisionRead,
    responses=refusal(
        409,
        "Not approved yet, needs no review (change it directly), or a "
        "revision is waiting already (review_pending).",
    ),
    **SELLER,
)
async def propose_revision(
    product_id: str, request: Request, ctx: CtxDep, body: ProductRevisionCreate
) -> Response:
    """C2: the seller proposes changes to an approved product (what buyers see; full-managed:
    supply prices too, C1) for review. The approved values keep selling until an operator
    decides. 422 ``no_changes``, ``supply_price_required``, ``sku_of_product``."""
    now = ctx.clock.now()

    async def action(s: AsyncSession) -> tuple[Product, ProductRevision]:
        return await review.propose(s, ctx=ctx, product_id=product_id, data=body)

    async def render(_: AsyncSession, done: tuple[Product, ProductRevision]) -> ProductRevisionRead:
        return review_reads.present(done[1], done[0].currency, now)

    return await run_mutation(request, ctx, action, render, status_code=201)


@router.get("/products/{product_id}/revisions", response_model=list[ProductRevisionRead], **READERS)
async def list_revisions(
    product_id: str, principal: PrincipalDep, session: ReadSession, clock: ClockDep
) -> list[ProductRevisionRead]:
    """A product's submissions, newest first, each with its decision and reasons."""
    product, rows = await review_reads.revisions_of(
        session, principal=principal, product_id=product_id
    )
    now = clock.now()
    return [review_reads.present(row, product.currency, now) for row in rows]


@router.get(
    "/products/{product_id}/revisions/{revision_id}",
    response_model=ProductRevisionRead,
    **READERS,
)
async def get_revision(
    product_id: str,
    revision_id: str,
    principal: PrincipalDep,
    session: ReadSession,
    clock: ClockDep,
) -> ProductRevisionRead:
    """One submission: the values proposed beside the approved ones, and its decision."""
    product, row = await review_reads.get_revision(
        session, principal=principal, product_id=product_id, revision_id=revision_id
    )
    return review_reads.present(row, product.currency, clock.now())


@router.post(
    "/products/{product_id}/revisions/{revision_id}/decision",
    response_model=ProductRevisionRead,
    responses=refusal(
        409,
        "Decided already (illegal_transition), or a SKU code it adds was "
        "taken since (code_unique).",
    ),
    **OPERATOR,
)
async def decide_revision(
    product_id: str, revision_id: str, request: Request, ctx: CtxDep, body: RevisionDecision
) -> Response:
    """C2: an operator approves (full-managed: with ``retail_price_minor``, required the first
    time: ``retail_price_required``) or rejects with ``reasons`` by field
    (``reasons_required``, ``reason_field``). A first approval lists the product; approving a
    revision applies its values at once. The seller is notified with the reasons."""
    now = ctx.clock.now()

    async def action(s: AsyncSession) -> tuple[Product, ProductRevision]:
        return await review.decide(
            s, ctx=ctx, product_id=product_id, revision_id=revision_id, data=body
        )

    async def render(_: AsyncSession, done: tuple[Product, ProductRevision]) -> ProductRevisionRead:
        return review_reads.present(done[1], done[0].currency, now)

    return await run_mutation(request, ctx, action, render)


_STATE = refusal(
    409,
    "The product's state does not allow this (illegal_transition); listing a "
    "rejected product: product_rejected.",
)


@router.post("/products/{product_id}/list", response_model=ProductRead, responses=_STATE, **SELLER)
async def list_product(product_id: str, request: Request, ctx: CtxDep) -> Response:
    """C1: put a product on sale (上架): at once where no review is needed, else it is submitted
    for review (``under_review``) and goes on sale when approved. 409 ``product_rejected``;
    422 ``price_required``."""
    return await run_mutation(
        request, ctx, lambda s: listing.list_product(s, ctx=ctx, product_id=product_id), _product
    )


@router.post(
    "/products/{product_id}/delist", response_model=ProductRead, responses=_STATE, **SELLER
)
async def delist_product(product_id: str, request: Request, ctx: CtxDep) -> Response:
    """C1: take a product off sale (下架); orders already placed go on."""
    return await run_mutation(
        request, ctx, lambda s: listing.delist(s, ctx=ctx, product_id=product_id), _product
    )


@router.post(
    "/products/{product_id}/suspend", response_model=ProductRead, responses=_STATE, **OPERATOR
)
async def suspend_product(
    product_id: str, request: Request, ctx: CtxDep, body: Suspension
) -> Response:
    """C2 quality supervision: stop a listed product's sale with a reason; new orders are
    refused, open ones go on. The seller is notified."""
    return await run_mutation(
        request,
        ctx,
        lambda s: listing.suspend(s, ctx=ctx, product_id=product_id, data=body),
        _product,
    )


@router.post(
    "/products/{product_id}/unsuspend",
    response_model=ProductRead,
    responses=_STATE,
    **OPERATOR,
)
async def unsuspend_product(
    product_id: str,
    request: Request,
    ctx: CtxDep,
    body: Unsuspension | None = None,
) -> Response:
    """Lift a suspension: the product is on sale again; the seller is notified."""
    return await run_mutation(
        request,
        ctx,
        lambda s: listing.unsuspend(s, ctx=ctx, product_id=product_id, data=body),
        _product,
    )


@router.get("/product-reviews", response_model=list[ProductRevisionRead], **OPERATOR)
async def product_review_queue(
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: ReadSession,
    clock: ClockDep,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ProductRevisionRead]:
    """S2: the revisions waiting for a decision: stuck first (past their 2 business days),
    then the oldest; more pages: the ``Link`` header's rel=next."""
    rows, next_cursor = await review_reads.queue(
        session, principal=principal, cursor=cursor, limit=limit
    )
    next_link(request, response, next_cursor)
    products = await review_reads.products_of(session, [row.product_id for row in rows])
    now = clock.now()
    return [review_reads.present(row, products[row.product_id].currency, now) for row in rows]

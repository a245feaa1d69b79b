"""Putting products on sale and taking them off (上架/下架, C1) and quality supervision (C2);
the caller commits.

Semi-managed and self-run sellers list and delist their products; a listing goes through review
first only where the category's rule asks for it (``locks.needs_review``). A full-managed
product goes on sale when its review approves it; its seller may delist and list it again. An
operator suspends a listed product with a reason (new orders are refused, open ones go on) and
lifts the suspension; the seller is told both.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.catalog import locks, review, service
from tuoguan.catalog.models import Product, ProductStatus
from tuoguan.catalog.review_schemas import Suspension, Unsuspension
from tuoguan.catalog.states import ProductAction, next_state
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, InvalidInput
from tuoguan.kit import i18n
from tuoguan.notify import service as notify
from tuoguan.stores.models import Store

SUBJECT = review.SUBJECT


def _record(
    session: AsyncSession,
    ctx: Ctx,
    product: Product,
    action: ProductAction,
    previous: ProductStatus,
    reason: str | None = None,
) -> None:
    audit.record(
        session,
        ctx=ctx,
        subject_type=SUBJECT,
        subject_id=product.id,
        store_id=product.store_id,
        action=action.value,
        from_state=previous.value,
        to_state=product.status.value,
        reason=reason,
    )


async def list_product(session: AsyncSession, *, ctx: Ctx, product_id: str) -> Product:
    """The seller puts a product on sale (上架): at once where no review is needed (or it was
    approved before), else it is submitted for review and goes on sale when approved. A
    rejected product is not listed (409 ``product_rejected``): edit it and submit it again."""
    product, store = await service._own_product(session, ctx, product_id)
    if product.status is ProductStatus.rejected:
        raise Conflict(
            "the product's review rejected it: edit it and submit it again",
            field="product_id",
            rule="product_rejected",
        )
    waits = product.status in (ProductStatus.draft, ProductStatus.delisted)
    if (
        waits
        and product.approved_at is None
        and await locks.needs_review(session, store, product.category)
    ):
        product, _ = await review.submit(session, ctx=ctx, product_id=product.id)
        return product
    target = next_state(product.status, ProductAction.list, ctx.principal.role)
    if product.price_minor is None:
        raise InvalidInput(
            "the product has no retail price yet", field="price_minor", rule="price_required"
        )
    previous, now = product.status, ctx.clock.now()
    product.status, product.listed_at, product.updated_at = target, now, now
    _record(session, ctx, product, ProductAction.list, previous)
    return product


async def delist(session: AsyncSession, *, ctx: Ctx, product_id: str) -> Product:
    """The seller takes a product off sale (下架); its open orders go on."""
    product, _ = await service._own_product(session, ctx, product_id)
    target = next_state(product.status, ProductAction.delist, ctx.principal.role)
    previous = product.status
    product.status, product.updated_at = target, ctx.clock.now()
    _record(session, ctx, product, ProductAction.delist, previous)
    return product


def _tell(
    session: AsyncSession,
    ctx: Ctx,
    product: Product,
    store: Store,
    kind: str,
    key: str,
    reason: str | None,
) -> None:
    notify.notify(
        session,
        ctx=ctx,
        seller_id=store.seller_id,
        kind=kind,
        subject_type=SUBJECT,
        subject_id=product.id,
        key=key,
        params={"product": product.name, "store": store.name, "reason": reason or ""},
        data={"reason": reason},
    )


async def suspend(session: AsyncSession, *, ctx: Ctx, product_id: str, data: Suspension) -> Product:
    """C2 quality supervision: an operator stops a listed product's sale, saying why. New orders
    are refused (``service.orderable``); the orders already placed go on."""
    product, store = await service._own_product(session, ctx, product_id)
    target = next_state(product.status, ProductAction.suspend, ctx.principal.role)
    previous = product.status
    product.status, product.updated_at = target, ctx.clock.now()
    product.suspended_reason = data.reason
    _record(session, ctx, product, ProductAction.suspend, previous, data.reason)
    _tell(session, ctx, product, store, "prd_suspended", i18n.N_("prd_note_suspended"), data.reason)
    return product


async def unsuspend(
    session: AsyncSession, *, ctx: Ctx, product_id: str, data: Unsuspension | None = None
) -> Product:
    """An operator lifts a suspension: the product is on sale again."""
    product, store = await service._own_product(session, ctx, product_id)
    target = next_state(product.status, ProductAction.unsuspend, ctx.principal.role)
    previous = product.status
    note = data.note if data else None
    product.status, product.updated_at = target, ctx.clock.now()
    product.suspended_reason = None
    product.listed_at = product.updated_at
    _record(session, ctx, product, ProductAction.unsuspend, previous, note or None)
    _tell(session, ctx, product, store, "prd_unsuspended", i18n.N_("prd_note_unsuspended"), note)
    return product

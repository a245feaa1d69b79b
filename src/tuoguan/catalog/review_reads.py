"""Reading product reviews (C2, S2): a product's submissions, one of them, the operators' queue
(stuck first, then oldest), and a submission as the API shows it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.catalog import service
from tuoguan.catalog.models import Product
from tuoguan.catalog.review_models import ProductRevision, RevisionStatus
from tuoguan.catalog.review_schemas import ProductRevisionRead
from tuoguan.errors import Forbidden, NotFound
from tuoguan.kit.clock import as_utc
from tuoguan.kit.keyset import Keyset
from tuoguan.principal import Principal, Role

QUEUE = Keyset((ProductRevision.review_due, ProductRevision.id), ("instant", "id"))


def present(revision: ProductRevision, currency: str, now: datetime) -> ProductRevisionRead:
    """A revision as the API shows it, with whether it is stuck now."""
    stuck = revision.status is RevisionStatus.submitted and as_utc(revision.review_due) < now
    shown = {
        name: getattr(revision, name)
        for name in ProductRevisionRead.model_fields
        if name not in ("currency", "stuck")
    }
    return ProductRevisionRead.model_validate({**shown, "currency": currency, "stuck": stuck})


async def revisions_of(
    session: AsyncSession, *, principal: Principal, product_id: str
) -> tuple[Product, list[ProductRevision]]:
    """A product's revisions, newest first, for its seller and the operators."""
    if principal.role not in (Role.seller, Role.operator):
        raise Forbidden("product reviews are sellers' and operators'")
    product = await service.get_product(session, principal=principal, product_id=product_id)
    rows = await session.scalars(
        select(ProductRevision)
        .where(ProductRevision.product_id == product.id)
        .order_by(ProductRevision.number.desc())
    )
    return product, list(rows)


async def get_revision(
    session: AsyncSession, *, principal: Principal, product_id: str, revision_id: str
) -> tuple[Product, ProductRevision]:
    """One revision of a product the principal may see."""
    product, rows = await revisions_of(session, principal=principal, product_id=product_id)
    found = next((row for row in rows if row.id == revision_id), None)
    if found is None:
        raise NotFound(f"revision {revision_id} not found", field="revision_id")
    return product, found


async def queue(
    session: AsyncSession,
    *,
    principal: Principal,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[ProductRevision], str | None]:
    """S2: the operators' queue: revisions waiting, by due time — the stuck ones first (their
    due time passed), then the oldest (the due time follows the submission)."""
    if not principal.is_operator:
        raise Forbidden("the review queue is the operators'")
    query = select(ProductRevision).where(ProductRevision.status == RevisionStatus.submitted)
    return await QUEUE.page(session, [query], cursor=cursor, limit=limit)


async def products_of(session: AsyncSession, product_ids: Sequence[str]) -> dict[str, Product]:
    """The products of these revisions (their names and currencies), by id."""
    return await service.products_by_id(session, list(set(product_ids)))

"""S2: product reviews waiting past their typical time (2 business days) are flagged, once: the
seller is told what to check, the operators that the review is stuck. The worker runs it as a
row sweep (``worker/loop.py``)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.catalog import service
from tuoguan.catalog.review_models import ProductRevision, RevisionStatus
from tuoguan.context import Ctx
from tuoguan.kit import i18n
from tuoguan.kit.clock import as_utc
from tuoguan.notify import service as notify
from tuoguan.stores.models import Store

SWEEP = "flag_stuck_product_reviews"


def _due(
    now: datetime, exclude: Collection[str], only: Collection[str] | None
) -> Select[ProductRevision]:
    query = select(ProductRevision).where(
        ProductRevision.status == RevisionStatus.submitted,
        ProductRevision.review_due < now,
        ProductRevision.flagged_at.is_(None),
    )
    if exclude:
        query = query.where(ProductRevision.id.not_in(list(exclude)))
    if only is not None:
        query = query.where(ProductRevision.id.in_(list(only)))
    return query.order_by(ProductRevision.review_due, ProductRevision.id)


async def stuck_ids(
    session: AsyncSession, *, now: datetime, limit: int, exclude: Collection[str]
) -> list[str]:
    """The revisions the sweep would flag next (no locks): to retry them one by one."""
    rows = await session.scalars(_due(now, exclude, None).limit(limit))
    return [row.id for row in rows]


async def flag_stuck(
    session: AsyncSession,
    *,
    ctx: Ctx,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> int:
    """Flag each review waiting past its due time, once; tell its seller and the operators."""
    now = ctx.clock.now()
    query = _due(now, exclude, only).limit(limit)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    due = list(await session.scalars(query))
    products = await service.products_by_id(session, [row.product_id for row in due])
    for revision in due:
        revision.flagged_at = now
        product = products[revision.product_id]
        store = await session.get(Store, revision.store_id)
        params = {
            "product": product.name,
            "store": store.name if store else "",
            "since": i18n.when(as_utc(revision.submitted_at), ctx.settings.settlement_zone),
        }
        audit.record(
            session,
            ctx=ctx,
            subject_type="product",
            subject_id=product.id,
            store_id=revision.store_id,
            action="review_stuck",
            data={
                "revision_id": revision.id,
                "review_due": as_utc(revision.review_due).isoformat(),
            },
        )
        for seller_id, key in (
            (revision.seller_id, "prd_note_stuck"),
            (None, "prd_note_stuck_ops"),
        ):
            notify.notify(
                session,
                ctx=ctx,
                seller_id=seller_id,
                kind="prd_review_stuck",
                subject_type="product",
                subject_id=product.id,
                key=i18n.N_(key),
                params=params,
                data={"revision_id": revision.id},
            )
    await session.flush()
    return len(due)

"""S2: the worker's sweep that flags a business-info stage waiting past its typical time (3
business days, ``review_reads.stuck_after``), once, and tells the seller what to check and the
operators which review waits. Never commits."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.kit import i18n
from tuoguan.notify import service as notify
from tuoguan.onboarding import review_reads
from tuoguan.onboarding.review_fields import stage_key
from tuoguan.onboarding.review_models import BusinessReview, ReviewStatus
from tuoguan.stores.models import Store

SUBJECT = "business_review"
SWEEP = "flag_stuck_reviews"
S = ReviewStatus


def _due_query(
    now: datetime, limit: int, exclude: Collection[str], only: Collection[str] | None
) -> Any:
    query = (
        select(BusinessReview)
        .where(
            BusinessReview.status == S.under_review,
            BusinessReview.stuck_after < now,
            BusinessReview.flagged_at.is_(None),
        )
        .order_by(BusinessReview.stuck_after, BusinessReview.id)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    if only is not None:
        query = query.where(BusinessReview.id.in_(list(only)))
    if exclude:
        query = query.where(BusinessReview.id.not_in(list(exclude)))
    return query


async def flag_stuck_due(
    session: AsyncSession,
    *,
    ctx: Ctx,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> int:
    """S2: flag each stay past its stage's typical time once, and tell the seller what to check
    and the operators which review waits."""
    now = ctx.clock.now()
    query = _due_query(now, limit, exclude, only)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    due = list(await session.scalars(query))
    for review in due:
        review.flagged_at = now
        store = await session.get(Store, review.store_id)
        assert review.stage is not None and store is not None
        params = {
            "store": store.name,
            "stage": i18n.label(stage_key(review.stage)),
            "days": review_reads.TYPICAL_DAYS,
            "since": i18n.when(review.stage_entered_at or now, ctx.settings.settlement_zone),
        }
        audit.record(
            session,
            ctx=ctx,
            subject_type=SUBJECT,
            subject_id=review.id,
            store_id=store.id,
            action="flag_stuck",
            from_state=review.status.value,
            to_state=review.status.value,
            data={
                "stage": review.stage.value,
                "stuck_after": review.stuck_after.isoformat() if review.stuck_after else None,
            },
        )
        for seller_id, key in (
            (review.seller_id, i18n.N_("brv_note_stuck_seller")),
            (None, i18n.N_("brv_note_stuck_operator")),
        ):
            notify.notify(
                session,
                ctx=ctx,
                seller_id=seller_id,
                kind="brv_stuck",
                subject_type=SUBJECT,
                subject_id=review.id,
                key=key,
                params=params,
                data={"stage": review.stage.value, "advice": list(review_reads.ADVICE)},
            )
    await session.flush()
    return len(due)


async def stuck_ids(
    session: AsyncSession, *, now: datetime, limit: int, exclude: Collection[str]
) -> list[str]:
    """The reviews the stuck sweep would flag next (no locks): to retry them one by one."""
    return [r.id for r in await session.scalars(_due_query(now, limit, exclude, None))]

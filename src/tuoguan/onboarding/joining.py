"""Joining the full-managed program (入驻): what a store opened by invitation still needs, and
the moment it joins (M2, M4, S1, S3).

A full-managed store opened by accepting an invitation starts *joining* (``joined_at`` NULL) and
takes no orders (``orders`` refuses them, 409 ``store_joining``). It joins when all three hold:

1. its seller has accepted the program agreement in force (``stores.agreements``; nothing to
   accept while no version requiring acceptance is published);
2. its business-info review is approved (S1);
3. its deposit held is at least what it must hold (S3, ``settlement.deposit_rates``).

``try_join`` is called after each of them (agreement accepted, review approved, deposit
received) and sets ``joined_at`` once all hold, with its audit event and the seller's
notification, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.kit import i18n
from tuoguan.notify import service as notify
from tuoguan.onboarding import review_reads
from tuoguan.onboarding.review_models import ReviewStage, ReviewStatus
from tuoguan.settlement import deposit_rates, deposits
from tuoguan.stores import agreements
from tuoguan.stores.agreement_models import AgreementVersion
from tuoguan.stores.models import Store, StoreMode, StoreStatus


@dataclass(frozen=True)
class Checklist:
    """Where a full-managed store stands in joining, as of one moment."""

    store: Store
    agreement: AgreementVersion | None  # the version in force; None: none published
    agreement_accepted: bool  # or nothing to accept
    review_approved: bool  # S1 (review_reads.approved)
    review_status: ReviewStatus | None  # None: the seller has not started it
    review_stage: ReviewStage | None
    deposit_required_minor: int | None  # None: no deposit rate applies
    deposit_held_minor: int

    @property
    def deposit_funded(self) -> bool:
        required = self.deposit_required_minor
        return required is None or self.deposit_held_minor >= required

    @property
    def done(self) -> bool:
        """All three hold: the store joins (or has joined)."""
        return self.agreement_accepted and self.review_approved and self.deposit_funded

    @property
    def joined(self) -> bool:
        return self.store.joined_at is not None


async def checklist(session: AsyncSession, store: Store, now: datetime) -> Checklist:
    """The store's agreement, business review and deposit as they stand at ``now``."""
    current = await agreements.in_force(session, now)
    owed = await agreements.pending_agreement(session, store.seller_id, now)
    review = await review_reads.of_store(session, store.id)
    held, _ = await deposits.balances(session, store)
    required = await deposit_rates.required(session, store, now)
    return Checklist(
        store=store,
        agreement=current,
        agreement_accepted=owed is None,
        review_approved=await review_reads.approved(session, store.id),
        review_status=review.status if review else None,
        review_stage=review.stage if review else None,
        deposit_required_minor=required.amount_minor,
        deposit_held_minor=held,
    )


async def joining_stores(session: AsyncSession, seller_id: str) -> list[Store]:
    """The seller's full-managed stores still joining, oldest first."""
    rows = await session.scalars(
        select(Store)
        .where(
            Store.seller_id == seller_id,
            Store.mode == StoreMode.full_managed,
            Store.joined_at.is_(None),
        )
        .order_by(Store.created_at, Store.id)
    )
    return list(rows)


async def try_join(session: AsyncSession, *, ctx: Ctx, store_id: str) -> bool:
    """Join the store if it is still joining and all three conditions hold now; whether it
    joined. Nothing happens (False) to a store that joined already, is not full-managed or is
    not active."""
    store = await session.get(Store, store_id, with_for_update=True, populate_existing=True)
    if (
        store is None
        or store.mode is not StoreMode.full_managed
        or store.joined_at is not None
        or store.status is not StoreStatus.active
    ):
        return False
    now = ctx.clock.now()
    found = await checklist(session, store, now)
    if not found.done:
        return False
    store.joined_at = now
    audit.record(
        session,
        ctx=ctx,
        subject_type="store",
        subject_id=store.id,
        store_id=store.id,
        action="join",
        data={
            "agreement_id": found.agreement.id if found.agreement else None,
            "deposit_held_minor": found.deposit_held_minor,
            "deposit_required_minor": found.deposit_required_minor,
        },
    )
    notify.notify(
        session,
        ctx=ctx,
        seller_id=store.seller_id,
        kind="join_joined",
        subject_type="store",
        subject_id=store.id,
        key=i18n.N_("join_note_joined"),
        params={"store": store.name},
    )
    await session.flush()
    return True


async def try_join_seller(session: AsyncSession, *, ctx: Ctx, seller_id: str) -> list[str]:
    """``try_join`` each of the seller's joining stores; the ids of those that joined."""
    joined = []
    for store in await joining_stores(session, seller_id):
        if await try_join(session, ctx=ctx, store_id=store.id):
            joined.append(store.id)
    return joined

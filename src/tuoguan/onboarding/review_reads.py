"""Reading business-info reviews (S1, S2): whether a store's is approved (joining asks), one
store's or one review's as its seller or an operator reads it, the operators' queue (stuck
first, then the longest waiting), the rounds, and their API shapes. Imports no use case."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.catalog import categories as category_rules
from tuoguan.config import Settings
from tuoguan.errors import Forbidden, InvalidInput, NotFound
from tuoguan.kit.clock import as_utc
from tuoguan.onboarding import documents
from tuoguan.onboarding import review_fields as spec
from tuoguan.onboarding.review_models import (
    BusinessReview,
    Document,
    ReviewRound,
    ReviewStage,
    ReviewStatus,
)
from tuoguan.onboarding.review_schemas import (
    BusinessInfoRead,
    BusinessReviewRead,
    DocumentRead,
    ReviewRoundRead,
    StageDecisionRead,
)
from tuoguan.principal import Principal, Role
from tuoguan.stores import service as stores
from tuoguan.stores.models import Store, StoreMode
from tuoguan.timing.calendar import calendar_for
from tuoguan.timing.deadlines import AUDIT_STAGE_DAYS, audit_stuck_after

# S2: a business-info stage typically takes up to 3 business days on the platform's calendar.
TYPICAL = "onboarding"
TYPICAL_DAYS = AUDIT_STAGE_DAYS[TYPICAL]
PLATFORM_COUNTRY = "CN"
# What a seller whose review is stuck checks (seed 000, 检查提交信息), then whom it asks.
ADVICE = ("check_complete", "check_file_formats", "check_content_matches", "contact_support")
_READERS = (Role.seller, Role.operator, Role.system)
S = ReviewStatus


def stuck_after(entered_at: datetime, settings: Settings) -> datetime:
    """S2: when a stay in a stage entered at ``entered_at`` passes its typical time."""
    zone = ZoneInfo(settings.settlement_zone)
    return as_utc(audit_stuck_after(entered_at, TYPICAL, zone, calendar_for(PLATFORM_COUNTRY)))


def is_stuck(review: BusinessReview, now: datetime) -> bool:
    """Under review and past its stage's typical time."""
    return (
        review.status is S.under_review
        and review.stuck_after is not None
        and now > review.stuck_after
    )


async def of_store(session: AsyncSession, store_id: str) -> BusinessReview | None:
    """The store's review, if its seller has started one (no access check: for other domains)."""
    found = await session.execute(select(BusinessReview).where(BusinessReview.store_id == store_id))
    return found.scalar_one_or_none()


async def approved(session: AsyncSession, store_id: str) -> bool:
    """Whether the store's business-info review is approved (one of joining's conditions)."""
    review = await of_store(session, store_id)
    return review is not None and review.status is S.approved


def _reader(principal: Principal) -> None:
    if principal.role not in _READERS:
        raise Forbidden(f"a {principal.role.value} does not read business reviews")


def not_full_managed(store: Store) -> InvalidInput:
    return InvalidInput(
        f"store {store.id} is {store.mode.value}: only a full-managed store has a business-info "
        "review",
        field="store_id",
        rule="full_managed_only",
        mode=store.mode.value,
    )


async def full_managed_store(
    session: AsyncSession, *, principal: Principal, store_id: str
) -> Store:
    """A full-managed store the principal may see (another seller's: 404; another mode: 422)."""
    _reader(principal)
    store = await stores.get_store(session, principal=principal, store_id=store_id)
    if store.mode is not StoreMode.full_managed:
        raise not_full_managed(store)
    return store


async def get_review(
    session: AsyncSession, *, principal: Principal, review_id: str
) -> BusinessReview:
    """A review its seller or an operator asks for; anyone else's reads as not found."""
    _reader(principal)
    review = await session.get(BusinessReview, review_id)
    if review is None or not (
        principal.role in (Role.operator, Role.system) or principal.seller_id == review.seller_id
    ):
        raise NotFound(f"business review {review_id} not found", field="review_id")
    return review


async def queue(
    session: AsyncSession,
    *,
    principal: Principal,
    now: datetime,
    status: ReviewStatus = S.under_review,
    limit: int = 50,
) -> list[BusinessReview]:
    """The operators' queue (S1, S2): reviews under review, stuck ones first, then the longest
    waiting at their stage; another status lists its reviews newest change first."""
    if principal.role not in (Role.operator, Role.system):
        raise Forbidden("only operators work the business-review queue")
    query = select(BusinessReview).where(BusinessReview.status == status).limit(limit)
    if status is S.under_review:
        stuck_first = case((BusinessReview.stuck_after < now, 0), else_=1)
        query = query.order_by(stuck_first, BusinessReview.stage_entered_at, BusinessReview.id)
    else:
        query = query.order_by(BusinessReview.updated_at.desc(), BusinessReview.id)
    return list(await session.scalars(query))


async def rounds_of(session: AsyncSession, review_id: str) -> list[ReviewRound]:
    """Every round of a review, newest first."""
    rows = await session.scalars(
        select(ReviewRound)
        .where(ReviewRound.review_id == review_id)
        .order_by(ReviewRound.number.desc())
    )
    return list(rows)


async def brand_needed(session: AsyncSession, categories: Iterable[str]) -> list[str]:
    """The categories, in their order, whose rule asks for a brand authorisation."""
    listed = list(categories)
    found = await category_rules.requirements(session, listed)
    return [c for c in listed if found[c].brand_authorisation_required]


def document_ids(fields: Mapping[str, Any]) -> list[str]:
    """The documents a set of fields names."""
    flat = spec.flat(fields)
    return [
        str(value)
        for name, value in flat.items()
        if (found := spec.spec(name)) is not None and found.kind == spec.DOCUMENT
    ]


async def documents_by_id(session: AsyncSession, ids: Collection[str]) -> dict[str, Document]:
    if not ids:
        return {}
    rows = await session.scalars(select(Document).where(Document.id.in_(list(ids))))
    return {row.id: row for row in rows}


async def store_documents(session: AsyncSession, store_id: str) -> list[Document]:
    """Every document of a store, newest first (a case's evidence is the case's)."""
    rows = await session.scalars(
        select(Document)
        .where(Document.store_id == store_id, Document.purpose != documents.CASE_EVIDENCE)
        .order_by(Document.id.desc())
    )
    return list(rows)


def present_document(settings: Settings, row: Document, now: datetime) -> DocumentRead:
    """A document with a link good for ``file_link_seconds``."""
    return DocumentRead(
        id=row.id,
        store_id=row.store_id,
        purpose=row.purpose,
        file_name=row.file_name,
        content_type=row.content_type,
        size=row.size,
        uploaded_at=row.uploaded_at,
        url=documents.signed_link(settings, row, now=now),
        url_expires_at=datetime.fromtimestamp(documents.link_expires(settings, now), tz=now.tzinfo),
    )


def present_fields(fields: Mapping[str, Any]) -> BusinessInfoRead:
    """The fields as anyone reads them: the account number masked."""
    shown = {
        s.name: spec.shown(s.name, fields.get(s.name)) for s in spec.SPECS if fields.get(s.name)
    }
    shown["account_number_masked"] = shown.pop("account_number", None)
    return BusinessInfoRead(**shown, brand_authorisations=dict(fields.get(spec.BRAND) or {}))


def approved_stages(review: BusinessReview | None) -> list[ReviewStage]:
    """The stages approved: every one once approved, else those before its stage."""
    if review is None or review.status is S.draft:
        return []
    if review.status is S.approved:
        return list(spec.STAGES)
    assert review.stage is not None
    return list(spec.STAGES[: spec.stage_index(review.stage)])


@dataclass(frozen=True)
class Timing:
    """S2: how long a review has been at its stage, its typical time, and whether it is stuck."""

    entered_at: datetime | None
    waited: timedelta | None
    stuck_after: datetime | None
    stuck: bool


def timing(review: BusinessReview | None, now: datetime) -> Timing:
    if review is None or review.stage_entered_at is None or review.status is S.approved:
        return Timing(None, None, None, False)
    return Timing(
        entered_at=review.stage_entered_at,
        waited=max(now - review.stage_entered_at, timedelta(0)),
        stuck_after=review.stuck_after,
        stuck=is_stuck(review, now),
    )


async def present(
    session: AsyncSession,
    *,
    settings: Settings,
    now: datetime,
    store: Store,
    review: BusinessReview | None,
) -> BusinessReviewRead:
    """A store's review (or the empty one it would start with) as its readers see it."""
    fields: dict[str, Any] = dict(review.fields) if review else {}
    needed = await brand_needed(session, fields.get("categories") or [])
    named = await documents_by_id(session, document_ids(fields))
    when = timing(review, now)
    return BusinessReviewRead(
        id=review.id if review else None,
        store_id=store.id,
        store_name=store.name,
        seller_id=store.seller_id,
        status=review.status if review else S.draft,
        stage=review.stage if review else None,
        approved_stages=approved_stages(review),
        round=review.round_no if review else 0,
        fields=present_fields(fields),
        documents=[present_document(settings, row, now) for row in named.values()],
        brand_authorisation_required=needed,
        missing=spec.missing(fields, needed),
        rejected=dict(review.rejected) if review and review.status is S.returned else {},
        stage_entered_at=when.entered_at,
        waiting_seconds=int(when.waited.total_seconds()) if when.waited is not None else None,
        typical_business_days=TYPICAL_DAYS,
        stuck_after=when.stuck_after,
        stuck=when.stuck,
        flagged_at=review.flagged_at if review else None,
        advice=list(ADVICE) if when.stuck else [],
        submitted_at=review.submitted_at if review else None,
        approved_at=review.approved_at if review else None,
        updated_at=review.updated_at if review else None,
    )


async def present_many(
    session: AsyncSession, *, settings: Settings, now: datetime, reviews: list[BusinessReview]
) -> list[BusinessReviewRead]:
    """Several reviews (a queue page), each with its store."""
    ids = {r.store_id for r in reviews}
    found = {s.id: s for s in await session.scalars(select(Store).where(Store.id.in_(ids)))}
    return [
        await present(session, settings=settings, now=now, store=found[r.store_id], review=r)
        for r in reviews
    ]


def decision_of(record: Mapping[str, Any]) -> StageDecisionRead:
    return StageDecisionRead(
        stage=ReviewStage(record["stage"]),
        decision=record["decision"],
        reasons=dict(record.get("reasons") or {}),
        decided_by=str(record["decided_by"]),
        decided_at=datetime.fromisoformat(str(record["decided_at"])),
        waited_seconds=int(record.get("waited_seconds") or 0),
    )


def present_round(row: ReviewRound) -> ReviewRoundRead:
    return ReviewRoundRead(
        number=row.number,
        started_stage=row.started_stage,
        submitted_at=row.submitted_at,
        submitted_by=row.submitted_by,
        fields=present_fields(row.fields),
        changed=list(row.changed),
        decisions=[decision_of(d) for d in row.decisions],
    )

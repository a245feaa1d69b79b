"""The business-info review of a full-managed store (经营信息审核, S1, S2). Never commits.

- **The seller fills** the fields of three stages (``review_fields.py``): business background
  (company, registration number, licence, legal representative and an identity document,
  registered address, contact), financial (account holder, bank, account number, a bank proof)
  and categories (with a brand authorisation per category whose rule asks for one). Documents
  are uploaded (``documents.upload``) and named by their id.
- **Submit.** Every field filled, the review is under review (审核中) at the background stage;
  each submission is a round that keeps what was submitted.
- **Decide.** An operator decides the stage under review: approve moves it to the next stage
  (after the categories stage the review is approved and the store may join: ``joining``), or
  reject with a reason per field or document returns it to the seller. The seller changes only
  the rejected fields (a field of an approved stage: 422 ``stage_approved``; any other field:
  422 ``field_not_rejected``) and resubmits; the review resumes at the stage it was rejected at.
- **Stuck (S2).** A stay past the stage's typical time (3 business days, ``audit_stuck_after``
  "onboarding") is flagged once by the worker (``flag_stuck_due``), which tells the seller what
  to check and the operators which review waits.

Every change writes its audit event, and every decision tells the seller (in-app; webhooks
follow every notification), in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.errors import Forbidden, IllegalTransition, InvalidInput
from tuoguan.kit import i18n
from tuoguan.kit.ids import new_id
from tuoguan.kit.storage import Storage
from tuoguan.notify import service as notify
from tuoguan.onboarding import documents, review_reads
from tuoguan.onboarding import review_fields as spec
from tuoguan.onboarding.review_models import (
    BusinessReview,
    Document,
    ReviewRound,
    ReviewStage,
    ReviewStatus,
)
from tuoguan.principal import Role
from tuoguan.stores.models import Store

SUBJECT = "business_review"
DECIDERS = (Role.operator, Role.system)
S = ReviewStatus


def _seller_only(ctx: Ctx, action: str) -> None:
    if ctx.principal.role is not Role.seller:
        raise Forbidden(f"only the store's seller may {action} its business info")


def _not_now(review: BusinessReview, action: str) -> IllegalTransition:
    allowed = {S.draft: ["change", "submit"], S.returned: ["change", "submit"]}
    return IllegalTransition(
        current=review.status.value,
        action=action,
        allowed=allowed.get(review.status, []),
        subject="business review",
    )


async def _editable(session: AsyncSession, ctx: Ctx, store_id: str) -> tuple[Store, BusinessReview]:
    """The store's review, row-locked, made on first use; refused unless it can change now."""
    _seller_only(ctx, "change")
    store = await review_reads.full_managed_store(
        session, principal=ctx.principal, store_id=store_id
    )
    # The store's row lock: two first saves at once make one review, not a unique conflict.
    await session.execute(select(Store.id).where(Store.id == store.id).with_for_update())
    review = await session.scalar(
        select(BusinessReview)
        .where(BusinessReview.store_id == store.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if review is None:
        now = ctx.clock.now()
        review = BusinessReview(
            id=new_id("business_review"),
            store_id=store.id,
            seller_id=store.seller_id,
            status=S.draft,
            stage=None,
            fields={},
            rejected={},
            round_no=0,
            created_at=now,
            created_by=ctx.principal.actor_id,
            updated_at=now,
        )
        session.add(review)
        audit.record(
            session,
            ctx=ctx,
            subject_type=SUBJECT,
            subject_id=review.id,
            store_id=store.id,
            action="create",
            to_state=S.draft.value,
        )
        await session.flush()
    if review.status not in (S.draft, S.returned):
        raise _not_now(review, "change")
    return store, review


async def _document(session: AsyncSession, store: Store, name: str, document_id: Any) -> str:
    """A document id the field may name: a document of this store uploaded for its purpose."""
    found = spec.spec(name)
    assert found is not None
    row = await session.get(Document, str(document_id))
    if row is None or row.store_id != store.id:
        raise InvalidInput(
            f"{document_id} is not a document of this store: upload it first",
            field=name,
            rule="document_unknown",
        )
    if row.purpose != found.purpose:
        raise InvalidInput(
            f"{name} takes a document uploaded for {found.purpose}, not {row.purpose}",
            field=name,
            rule="document_purpose",
        )
    return row.id


async def _apply(
    session: AsyncSession, store: Store, fields: Mapping[str, Any], changes: Mapping[str, Any]
) -> dict[str, Any]:
    """The fields with ``changes`` applied, each checked."""
    merged: dict[str, Any] = {k: v for k, v in fields.items() if k != spec.BRAND}
    brands = dict(fields.get(spec.BRAND) or {})
    for name, value in changes.items():
        if value is None:
            continue
        if name == spec.BRAND:
            for category, document_id in dict(value).items():
                field = spec.brand_field(str(category).strip().lower())
                if spec.spec(field) is None:
                    raise InvalidInput(
                        f"{category!r} is not a category", field=field, rule="category_format"
                    )
                brands[field.split(".", 1)[1]] = await _document(session, store, field, document_id)
            continue
        found = spec.spec(name)
        if found is None:
            raise InvalidInput(
                f"the business info has no field {name!r}", field=name, rule="unknown"
            )
        if found.kind == spec.DOCUMENT:
            merged[name] = await _document(session, store, name, value)
        else:
            merged[name] = spec.normalise(name, value)
    listed = set(merged.get("categories") or [])
    merged[spec.BRAND] = {c: d for c, d in sorted(brands.items()) if c in listed or not listed}
    return merged


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The flat names whose value differs between two sets of fields."""
    old, new = spec.flat(before), spec.flat(after)
    return sorted(name for name in set(old) | set(new) if old.get(name) != new.get(name))


async def update(
    session: AsyncSession, ctx: Ctx, *, store_id: str, changes: Mapping[str, Any]
) -> BusinessReview:
    """S1: the seller sets fields of its business info (those left out keep their value).

    Refused, with nothing written: another role (403), another seller's store (404), a store
    of another mode (422 ``full_managed_only``), a review under review or approved (409
    ``illegal_transition``), a value that does not fit (422 naming the field), a returned
    review's field of an approved stage (422 ``stage_approved``) or one not rejected (422
    ``field_not_rejected``)."""
    store, review = await _editable(session, ctx, store_id)
    after = await _apply(session, store, review.fields, changes)
    changed = changed_fields(review.fields, after)
    for name in changed:
        spec.may_change(name, status=review.status, stage=review.stage, rejected=review.rejected)
    if not changed:
        return review
    review.fields = after
    review.updated_at = ctx.clock.now()
    audit.record(
        session,
        ctx=ctx,
        subject_type=SUBJECT,
        subject_id=review.id,
        store_id=store.id,
        action="update",
        from_state=review.status.value,
        to_state=review.status.value,
        data={"fields": changed},  # which, never the values (personal data)
    )
    await session.flush()
    return review


async def attach(
    session: AsyncSession,
    ctx: Ctx,
    *,
    storage: Storage,
    settings: Settings,
    store_id: str,
    purpose: str,
    data: bytes,
    file_name: str | None,
    category: str | None = None,
) -> tuple[BusinessReview, Document]:
    """S1: upload a document and name it in its field (``licence``, ``legal_representative_id``,
    ``bank_proof``; ``brand_authorisation`` with the listed ``category`` it is for). Refused
    before anything is kept: as ``update``, and 422 ``purpose_unknown``,
    ``category_not_listed``, ``document_type``, ``document_max_bytes``."""
    if purpose not in spec.DOCUMENT_PURPOSES:
        raise InvalidInput(
            f"a business-info document is one of {', '.join(spec.DOCUMENT_PURPOSES)}",
            field="purpose",
            rule="purpose_unknown",
        )
    store, review = await _editable(session, ctx, store_id)
    change: dict[str, Any]
    if purpose == spec.BRAND_PURPOSE:
        wanted = (category or "").strip().lower()
        if wanted not in (review.fields.get("categories") or []):
            raise InvalidInput(
                "a brand authorisation is for one of the categories listed: list it first",
                field="category",
                rule="category_not_listed",
            )
        field = spec.brand_field(wanted)
    else:
        field = purpose
    spec.may_change(field, status=review.status, stage=review.stage, rejected=review.rejected)
    document = await documents.upload(
        session,
        ctx=ctx,
        storage=storage,
        settings=settings,
        store_id=store.id,
        purpose=purpose,
        data=data,
        file_name=file_name,
    )
    if purpose == spec.BRAND_PURPOSE:
        change = {spec.BRAND: {field.split(".", 1)[1]: document.id}}
    else:
        change = {field: document.id}
    return await update(session, ctx, store_id=store.id, changes=change), document


async def current_round(session: AsyncSession, review: BusinessReview) -> ReviewRound | None:
    return await session.scalar(
        select(ReviewRound).where(
            ReviewRound.review_id == review.id, ReviewRound.number == review.round_no
        )
    )


async def submit(session: AsyncSession, ctx: Ctx, *, store_id: str) -> BusinessReview:
    """S1: the seller submits (or resubmits) its business info for review. Refused: a field
    still empty (422 ``incomplete``, every one in ``missing``), a review under review or
    approved (409 ``illegal_transition``), as ``update`` otherwise."""
    store, review = await _editable(session, ctx, store_id)
    needed = await review_reads.brand_needed(session, review.fields.get("categories") or [])
    lacking = spec.missing(review.fields, needed)
    if lacking:
        raise InvalidInput(
            f"fill in every field before submitting; missing: {', '.join(lacking)}",
            field=lacking[0],
            rule="incomplete",
            missing=lacking,
        )
    previous = await current_round(session, review)
    now = ctx.clock.now()
    before = review.status
    start = ReviewStage.background if before is S.draft else review.stage
    assert start is not None
    review.round_no += 1
    session.add(
        ReviewRound(
            id=new_id("review_round"),
            review_id=review.id,
            number=review.round_no,
            started_stage=start,
            fields=dict(review.fields),
            changed=changed_fields(previous.fields, review.fields) if previous else [],
            decisions=[],
            submitted_at=now,
            submitted_by=ctx.principal.actor_id,
        )
    )
    review.status, review.stage, review.rejected = S.under_review, start, {}
    enter_stage(review, now, ctx.settings)
    review.submitted_at = review.updated_at = now
    audit.record(
        session,
        ctx=ctx,
        subject_type=SUBJECT,
        subject_id=review.id,
        store_id=store.id,
        action="submit",
        from_state=before.value,
        to_state=review.status.value,
        data={"round": review.round_no, "stage": start.value},
    )
    notify.notify(
        session,
        ctx=ctx,
        seller_id=None,  # the operators' inbox: a review to decide
        kind="brv_submitted",
        subject_type=SUBJECT,
        subject_id=review.id,
        key=i18n.N_("brv_note_submitted"),
        params={
            "store": store.name,
            "stage": i18n.label(spec.stage_key(start)),
            "round": review.round_no,
        },
    )
    await session.flush()
    return review


def enter_stage(review: BusinessReview, now: datetime, settings: Settings) -> None:
    review.stage_entered_at = now
    review.stuck_after = review_reads.stuck_after(now, settings)
    review.flagged_at = None

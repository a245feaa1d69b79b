"""The business-info review of a full-managed store (经营信息审核, S1, S2): the seller's fields
and documents, its submission, the operators' queue and their decisions stage by stage."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.context import Ctx
from tuoguan.errors import InvalidInput
from tuoguan.onboarding import documents, review_decisions, review_reads, reviews
from tuoguan.onboarding.review_models import BusinessReview, Document, ReviewStatus
from tuoguan.onboarding.review_schemas import (
    BusinessInfoUpdate,
    BusinessReviewRead,
    DecisionCreate,
    DocumentRead,
    ReviewRoundRead,
)
from tuoguan.principal import Role

router = APIRouter(tags=["business-reviews"])

SELLER = access.roles(Role.seller)
OPERATOR = access.roles(Role.operator)
READERS = access.roles(Role.operator, Role.seller)
# A document and its multipart envelope (api/middleware.BodyLimit): the largest document the
# settings may allow (TUOGUAN_DOCUMENT_MAX_BYTES, at most 32 MB); the service checks the real one.
DOCUMENT_BODY_BYTES = 32 * 1_048_576 + 64 * 1024
UPLOAD_PATH = re.compile(r"^/api/v1/stores/[^/]+/business-review/documents$")
LARGER_BODIES = ((UPLOAD_PATH, DOCUMENT_BODY_BYTES),)
UPLOAD_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "purpose"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "A PDF, JPEG, PNG or WebP file (by its content), at "
                            "most TUOGUAN_DOCUMENT_MAX_BYTES (10 MB unless configured).",
                        },
                        "purpose": {
                            "type": "string",
                            "enum": [
                                "licence",
                                "legal_representative_id",
                                "bank_proof",
                                "brand_authorisation",
                            ],
                        },
                        "category": {
                            "type": "string",
                            "description": "brand_authorisation: the listed category it is for.",
                        },
                    },
                }
            }
        },
    }
}
Limit = Annotated[int, Query(ge=1, le=200)]


def _render(ctx: Ctx) -> Any:
    async def render(session: AsyncSession, review: BusinessReview) -> BusinessReviewRead:
        store = await review_reads.full_managed_store(
            session, principal=ctx.principal, store_id=review.store_id
        )
        return await review_reads.present(
            session, settings=ctx.settings, now=ctx.clock.now(), store=store, review=review
        )

    return render


@router.get("/stores/{store_id}/business-review", response_model=BusinessReviewRead, **READERS)
async def get_store_review(store_id: str, ctx: CtxDep, session: ReadSession) -> BusinessReviewRead:
    """S1, S2: the store's business-info review: its status, the stage it is at and since when,
    the typical time (3 business days a stage) and, past it, what to check (``advice``); the
    fields (the account number masked), the documents with short-lived links, what is still
    missing and, when returned, the rejected fields with their reasons. A store not started
    yet reads as an empty draft (``id`` null). 422 ``full_managed_only``."""
    store = await review_reads.full_managed_store(
        session, principal=ctx.principal, store_id=store_id
    )
    review = await review_reads.of_store(session, store.id)
    return await review_reads.present(
        session, settings=ctx.settings, now=ctx.clock.now(), store=store, review=review
    )


@router.put("/stores/{store_id}/business-review", response_model=BusinessReviewRead, **SELLER)
async def update_store_review(
    store_id: str, request: Request, ctx: CtxDep, body: BusinessInfoUpdate
) -> Response:
    """S1: set fields of the business info (those left out keep their value). While returned,
    only the rejected fields change: 422 ``stage_approved`` (a field of an approved stage),
    ``field_not_rejected``; 409 ``illegal_transition`` while under review or approved; 422
    ``document_unknown``, ``document_purpose``, ``account_number_format``, ``email_format``,
    ``full_managed_only``."""
    changes = body.model_dump(exclude_none=True)
    return await run_mutation(
        request,
        ctx,
        lambda s: reviews.update(s, ctx, store_id=store_id, changes=changes),
        _render(ctx),
    )


async def _upload(request: Request, ctx: Ctx) -> tuple[bytes, str | None, str, str | None]:
    """The file's bytes and name, its purpose and category. The body is read whole first (the
    body limit bounds it), so the Idempotency-Key's fingerprint covers it."""
    await request.body()
    form = await request.form(max_files=1, max_fields=6)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput(
            "send the document as the multipart field `file`", field="file", rule="required"
        )
    purpose = form.get("purpose")
    if not isinstance(purpose, str) or not purpose:
        raise InvalidInput("say what the document is for", field="purpose", rule="required")
    category = form.get("category")
    content = await upload.read(ctx.settings.document_max_bytes + 1)
    return content, upload.filename, purpose, category if isinstance(category, str) else None


@router.post(
    "/stores/{store_id}/business-review/documents",
    status_code=201,
    response_model=DocumentRead,
    **{**SELLER, "openapi_extra": {**SELLER["openapi_extra"], **UPLOAD_FORM}},
)
async def upload_document(store_id: str, request: Request, ctx: CtxDep) -> Response:
    """S1: upload a document (multipart ``file``, ``purpose``, and ``category`` for a brand
    authorisation) and name it in its field. Checked by content, not name: 422
    ``document_type`` (PDF, JPEG, PNG, WebP only), ``document_max_bytes``,
    ``document_not_empty``; 422 ``purpose_unknown``, ``category_not_listed``, and the
    field rules of PUT (``stage_approved``, ``field_not_rejected``)."""
    content, name, purpose, category = await _upload(request, ctx)

    async def render(_: AsyncSession, done: tuple[BusinessReview, Document]) -> DocumentRead:
        return review_reads.present_document(ctx.settings, done[1], ctx.clock.now())

    return await run_mutation(
        request,
        ctx,
        lambda s: reviews.attach(
            s,
            ctx,
            storage=documents.storage_for(ctx.settings),
            settings=ctx.settings,
            store_id=store_id,
            purpose=purpose,
            data=content,
            file_name=name,
            category=category,
        ),
        render,
        status_code=201,
    )


@router.get(
    "/stores/{store_id}/business-review/documents",
    response_model=list[DocumentRead],
    **READERS,
)
async def store_documents(store_id: str, ctx: CtxDep, session: ReadSession) -> list[DocumentRead]:
    """Every document uploaded for the store, newest first, each with a link good for
    ``TUOGUAN_FILE_LINK_SECONDS`` (5 minutes unless configured)."""
    store = await review_reads.full_managed_store(
        session, principal=ctx.principal, store_id=store_id
    )
    now = ctx.clock.now()
    rows = await review_reads.store_documents(session, store.id)
    return [review_reads.present_document(ctx.settings, row, now) for row in rows]


@router.post(
    "/stores/{store_id}/business-review/submit", response_model=BusinessReviewRead, **SELLER
)
async def submit_store_review(store_id: str, request: Request, ctx: CtxDep) -> Response:
    """S1: submit (or resubmit) the business info: it is under review (审核中) at the business
    background stage, or, after a rejection, at the stage it was rejected at. 422
    ``incomplete`` (every empty field in ``missing``); 409 ``illegal_transition``."""
    return await run_mutation(
        request, ctx, lambda s: reviews.submit(s, ctx, store_id=store_id), _render(ctx)
    )


@router.get("/business-reviews", response_model=list[BusinessReviewRead], **OPERATOR)
async def review_queue(
    ctx: CtxDep,
    session: ReadSession,
    status: Annotated[ReviewStatus, Query()] = ReviewStatus.under_review,
    limit: Limit = 50,
) -> list[BusinessReviewRead]:
    """S1, S2: the operators' queue: reviews under review, stuck ones (past their stage's
    typical time) first, then the longest waiting at their stage. Another ``status`` lists
    those reviews, the latest change first."""
    now = ctx.clock.now()
    rows = await review_reads.queue(
        session, principal=ctx.principal, now=now, status=status, limit=limit
    )
    return await review_reads.present_many(session, settings=ctx.settings, now=now, reviews=rows)


@router.get("/business-reviews/{review_id}", response_model=BusinessReviewRead, **READERS)
async def get_review(review_id: str, ctx: CtxDep, session: ReadSession) -> BusinessReviewRead:
    """One review (a seller its own stores')."""
    review = await review_reads.get_review(session, principal=ctx.principal, review_id=review_id)
    return await _render(ctx)(session, review)  # type: ignore[no-any-return]


@router.post(
    "/business-reviews/{review_id}/decisions", response_model=BusinessReviewRead, **OPERATOR
)
async def decide_review(
    review_id: str, request: Request, ctx: CtxDep, body: DecisionCreate
) -> Response:
    """S1: decide the stage under review (operators): ``approve`` moves it to the next stage
    (after categories the review is approved and the store may join); ``reject`` with a reason
    per field or document returns it to the seller. The seller is told either way, with the
    reasons (in-app and webhooks). 409 ``illegal_transition``, ``stage_not_current``; 422
    ``reasons_required``, ``reason_field``, ``reasons_on_approval``."""
    return await run_mutation(
        request,
        ctx,
        lambda s: review_decisions.decide(
            s,
            ctx,
            review_id=review_id,
            stage=body.stage,
            decision=body.decision,
            reasons=body.reasons,
        ),
        _render(ctx),
    )


@router.get("/business-reviews/{review_id}/rounds", response_model=list[ReviewRoundRead], **READERS)
async def review_rounds(review_id: str, ctx: CtxDep, session: ReadSession) -> list[ReviewRoundRead]:
    """Every round of the review, newest first: what was submitted (the account number
    masked), which fields changed since the round before, and each stage's decision with its
    reasons, who decided and when."""
    review = await review_reads.get_review(session, principal=ctx.principal, review_id=review_id)
    return [review_reads.present_round(r) for r in await review_reads.rounds_of(session, review.id)]

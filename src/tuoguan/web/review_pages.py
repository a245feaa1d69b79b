"""Console pages of the business-info review (经营信息审核, S1, S2).

- The seller's page (``/console/business-reviews``, per full-managed store): where the review
  stands, the stage and how long it has been there, the typical time and, past it, what to
  check (seed 000's 检查提交信息); the three stages' forms with their uploads (an approved stage
  and, once returned, every field not rejected are read-only, the reasons beside the rejected
  ones); the submit button; every round with its decisions and reasons.
- The operators' queue (the same address): stuck reviews first, then the longest waiting.
- A review's page (``/console/business-reviews/<id>``): the submitted fields and their
  documents side by side, and the decision form on the stage under review with a reason box
  per field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.catalog.category_models import CategoryRule
from tuoguan.errors import DomainError, Forbidden, InvalidInput
from tuoguan.kit.i18n import N_
from tuoguan.onboarding import documents, review_decisions, review_reads, reviews
from tuoguan.onboarding import review_fields as spec
from tuoguan.onboarding.review_models import ReviewDecision, ReviewStage, ReviewStatus
from tuoguan.principal import Role
from tuoguan.stores import service as stores
from tuoguan.stores.models import StoreMode
from tuoguan.web import owners
from tuoguan.web.console import (
    _db,
    _render,
    checked_form,
    request_ctx,
)
from tuoguan.web.forms import FORM, REFUSED, Errors, status_of
from tuoguan.web.policy_pages import PLATFORM_ZONE
from tuoguan.web.review_forms import megabytes, refusal_errors, seconds, stage_rows, whoami
from tuoguan.web.stock_pages import error_page, say

router = APIRouter(include_in_schema=False)
PAGE = "/console/business-reviews"
SAVE, SUBMIT = PAGE + "/save", PAGE + "/submit"
# A stage's form carries its documents (api/middleware.BodyLimit): a few of the largest.
MAX_FILES = 8
FORM_BODY_BYTES = 64 * 1_048_576 + 64 * 1024
LARGER_BODIES = ((re.compile(rf"^{SAVE}$"), FORM_BODY_BYTES),)
ADVICE_WORDS = {code: f"brv_advice_{code}" for code in review_reads.ADVICE}
DONE = {
    "saved": N_("brv_done_saved"),
    "submitted": N_("brv_done_submitted"),
    "approve": N_("brv_done_approve"),
    "reject": N_("brv_done_reject"),
}


async def _brand_rules(request: Request) -> list[str]:
    async with _db(request).read() as session:
        rows = await session.scalars(
            select(CategoryRule.category)
            .where(CategoryRule.brand_authorisation_required.is_(True))
            .order_by(CategoryRule.category)
        )
        return list(rows)


# -- the seller's page --------------------------------------------------------------------------


async def _seller_page(
    request: Request,
    user: User,
    web_session: WebSession,
    store_id: str | None,
    *,
    errors: Errors | None = None,
    form: Mapping[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    principal = accounts.principal_for_user(user)
    settings, now = request.app.state.settings, request.app.state.clock.now()
    try:
        async with _db(request).read() as session:
            own, _ = await stores.list_stores(session, principal=principal, limit=200)
            choices = [s for s in own if s.mode is StoreMode.full_managed]
            store = next((s for s in choices if s.id == store_id), None) or (
                choices[0] if choices else None
            )
            review = await review_reads.of_store(session, store.id) if store else None
            view = (
                await review_reads.present(
                    session, settings=settings, now=now, store=store, review=review
                )
                if store
                else None
            )
            rounds = await review_reads.rounds_of(session, review.id) if review else []
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    return _render(
        request,
        "business_review.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "stores": [(s.id, s.name) for s in choices],
            "store": store,
            "view": view,
            "stages": stage_rows(view, review.fields if review else {}) if view else [],
            "rounds": [review_reads.present_round(r) for r in rounds],
            "brand_rules": await _brand_rules(request),
            "advice_words": ADVICE_WORDS,
            "max_size": megabytes(request, settings.document_max_bytes),
            "typical_days": review_reads.TYPICAL_DAYS,
            "zone": PLATFORM_ZONE,
            "field_key": spec.field_key,
            "seconds": seconds,
            "errors": errors or {},
            "form": form or {},
            "message": message,
        },
        status_code,
    )


@router.get(PAGE, response_model=None)
async def review_page(
    request: Request,
    store: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[ReviewStatus | None, Query()] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """S1, S2: the seller's business-info review per full-managed store; the operators'
    queue."""
    checked = await whoami(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    message = say(request, DONE[done]) if done in DONE else None
    if user.role is Role.operator:
        return await _queue_page(request, user, web_session, status or ReviewStatus.under_review)
    return await _seller_page(request, user, web_session, store, message=message)


def _categories(text: str) -> list[str]:
    return [c.strip() for c in re.split(r"[\n,，;；]+", text) if c.strip()]


async def _files(request: Request) -> list[tuple[str, str, str | None, bytes, str | None]]:
    """The documents chosen in a stage's form: (field, purpose, category, bytes, name). Parsed
    first, with the upload's limits (the CSRF check then reads the same form)."""
    form = await request.form(max_files=MAX_FILES, max_fields=80)
    stage = str(form.get("stage") or "")
    limit = request.app.state.settings.document_max_bytes + 1
    chosen = []
    for key, upload in form.multi_items():
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        if key.startswith("brand-"):
            category = key.removeprefix("brand-")
            field, purpose = spec.brand_field(category), spec.BRAND_PURPOSE
        elif key.startswith("file-") and key.removeprefix("file-") in spec.DOCUMENT_PURPOSES:
            field, purpose, category = key.removeprefix("file-"), key.removeprefix("file-"), None
        else:
            continue
        found = spec.spec(field)
        if found is None or found.stage.value != stage:
            continue
        chosen.append((field, purpose, category, await upload.read(limit), upload.filename))
    return chosen


@router.post(SAVE, response_model=None)
async def save(request: Request) -> Response:
    """The seller saves one stage's fields and documents, in one transaction, CSRF-checked."""
    files = await _files(request)
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    store_id, stage = form.get("store", "")[:40], form.get("stage", "")
    changes: dict[str, Any] = {}
    for field in spec.SPECS:
        text = form.get(field.name, "")
        if field.stage.value != stage or field.kind == spec.DOCUMENT or not text.strip():
            continue
        changes[field.name] = _categories(text) if field.kind == spec.CATEGORIES else text
    try:
        async with _db(request).write() as session:
            ctx = request_ctx(request, user)
            if changes:
                await reviews.update(session, ctx, store_id=store_id, changes=changes)
            for field_name, purpose, category, data, name in files:
                try:
                    await reviews.attach(
                        session,
                        ctx,
                        storage=documents.storage_for(ctx.settings),
                        settings=ctx.settings,
                        store_id=store_id,
                        purpose=purpose,
                        data=data,
                        file_name=name,
                        category=category,
                    )
                except DomainError as exc:
                    if exc.field in ("file", "category", "purpose"):
                        exc.field = field_name
                    raise
            await session.commit()
    except REFUSED as exc:
        return await _seller_page(
            request,
            user,
            web_session,
            store_id,
            errors=refusal_errors(request, exc),
            form=form,
            status_code=status_of(exc),
        )
    return RedirectResponse(f"{PAGE}?store={store_id}&done=saved#stage-{stage}", status_code=303)


@router.post(SUBMIT, response_model=None)
async def submit(request: Request) -> Response:
    """The seller submits (or resubmits) its business info, CSRF-checked."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    store_id = form.get("store", "")[:40]
    try:
        async with _db(request).write() as session:
            await reviews.submit(session, request_ctx(request, user), store_id=store_id)
            await session.commit()
    except REFUSED as exc:
        return await _seller_page(
            request,
            user,
            web_session,
            store_id,
            errors=refusal_errors(request, exc),
            status_code=status_of(exc),
        )
    return RedirectResponse(f"{PAGE}?store={store_id}&done=submitted", status_code=303)


# -- the operators' queue and a review's page ---------------------------------------------------


async def _queue_page(
    request: Request, user: User, web_session: WebSession, status: ReviewStatus
) -> Response:
    principal = accounts.principal_for_user(user)
    settings, now = request.app.state.settings, request.app.state.clock.now()
    try:
        async with _db(request).read() as session:
            rows = await review_reads.queue(
                session, principal=principal, now=now, status=status, limit=200
            )
            views = await review_reads.present_many(
                session, settings=settings, now=now, reviews=rows
            )
            whose = await owners.owners(session, {r.store_id for r in rows})
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    return _render(
        request,
        "business_review_queue.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "views": views,
            "owners": whose,
            "status": status,
            "statuses": list(ReviewStatus),
            "typical_days": review_reads.TYPICAL_DAYS,
            "zone": PLATFORM_ZONE,
            "seconds": seconds,
        },
    )


async def _review_page(
    request: Request,
    user: User,
    web_session: WebSession,
    review_id: str,
    *,
    errors: Errors | None = None,
    form: Mapping[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    principal = accounts.principal_for_user(user)
    settings, now = request.app.state.settings, request.app.state.clock.now()
    try:
        async with _db(request).read() as session:
            review = await review_reads.get_review(
                session, principal=principal, review_id=review_id
            )
            store = await stores.get_store(session, principal=principal, store_id=review.store_id)
            view = await review_reads.present(
                session, settings=settings, now=now, store=store, review=review
            )
            rounds = await review_reads.rounds_of(session, review.id)
            whose = await owners.owners(session, [store.id])
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    return _render(
        request,
        "business_review_decide.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "store": store,
            "owner": whose.get(store.id),
            "view": view,
            "stages": stage_rows(view, review.fields),
            "rounds": [review_reads.present_round(r) for r in rounds],
            "can_decide": view.status is ReviewStatus.under_review,
            "advice_words": ADVICE_WORDS,
            "typical_days": review_reads.TYPICAL_DAYS,
            "zone": PLATFORM_ZONE,
            "field_key": spec.field_key,
            "seconds": seconds,
            "errors": errors or {},
            "form": form or {},
            "message": message,
        },
        status_code,
    )


@router.get(PAGE + "/{review_id}", response_model=None)
async def review_detail(
    request: Request,
    review_id: str,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """A review's page: an operator decides; its seller is sent to its own page."""
    checked = await whoami(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    if user.role is Role.seller:
        try:
            async with _db(request).read() as session:
                review = await review_reads.get_review(
                    session, principal=accounts.principal_for_user(user), review_id=review_id
                )
        except DomainError as exc:
            return error_page(request, user, web_session.csrf_token, exc)
        return RedirectResponse(f"{PAGE}?store={review.store_id}", status_code=303)
    message = say(request, DONE[done]) if done in DONE else None
    return await _review_page(request, user, web_session, review_id[:40], message=message)


@router.post(PAGE + "/{review_id}/decide", response_model=None)
async def decide(request: Request, review_id: str) -> Response:
    """An operator approves the stage under review, or rejects it with a reason per field."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    if user.role is not Role.operator:
        refused = Forbidden("only operators decide business reviews")
        return error_page(request, user, web_session.csrf_token, refused)
    reasons = {k.removeprefix("reason-"): v for k, v in form.items() if k.startswith("reason-")}
    choice = form.get("decision", "")
    try:
        if choice not in {d.value for d in ReviewDecision} or form.get("stage") not in {
            s.value for s in ReviewStage
        }:
            raise InvalidInput("pick approve or reject", field=FORM, rule="stage_not_current")
        async with _db(request).write() as session:
            await review_decisions.decide(
                session,
                request_ctx(request, user),
                review_id=review_id[:40],
                stage=ReviewStage(form["stage"]),
                decision=ReviewDecision(choice),
                reasons=reasons,
            )
            await session.commit()
    except REFUSED as exc:
        return await _review_page(
            request,
            user,
            web_session,
            review_id[:40],
            errors=refusal_errors(request, exc, decided=True),
            form=form,
            status_code=status_of(exc),
        )
    return RedirectResponse(f"{PAGE}/{review_id[:40]}?done={choice}", status_code=303)

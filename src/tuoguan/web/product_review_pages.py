"""The operators' side of product review (C2, S2) in the console: the review queue (stuck first,
then oldest) with every product and the category rules, a submission's page with the proposed
values beside the current ones and the approve (full-managed: with the retail price, typed as
people type money) and reject (a reason per field) forms, and the suspend and lift forms of
quality supervision. Its seller reads a submission's page too, without the forms."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.catalog import category_admin, locks, review, review_reads, service
from tuoguan.catalog.review_models import RevisionStatus
from tuoguan.catalog.review_schemas import (
    CategoryRuleSet,
    ProductDecision,
    ProductRevisionRead,
    RevisionDecision,
)
from tuoguan.errors import BadRequest, DomainError, Forbidden
from tuoguan.kit.i18n import N_
from tuoguan.principal import Role
from tuoguan.stores import service as stores
from tuoguan.web import owners, product_forms
from tuoguan.web.console import _current, _db, _render, _to_login, checked_form, request_ctx
from tuoguan.web.forms import REFUSED, Errors, FormProblem, status_of
from tuoguan.web.stock_pages import error_page, say, viewer_zone

router = APIRouter(include_in_schema=False)
PRODUCTS = "/console/products"
RULES = "/console/category-rules"
PAGE = 50
DONE = {
    "approved": N_("prd_done_approved"),
    "rejected": N_("prd_done_rejected"),
    "suspended": N_("prd_done_suspended"),
    "unsuspended": N_("prd_done_unsuspended"),
    "rule": N_("cat_done_rule"),
}
# The order a submission's values are shown and reasons asked for: the whole product first.
ORDER = ("product", *product_forms.FIELDS, locks.SUPPLY, "skus")
_CATEGORY = re.compile(r"^(\*|[a-z0-9][a-z0-9_\-/]{0,59})$")


@dataclass(frozen=True)
class Row:
    """One value of a submission: the approved one beside the proposed one."""

    field: str
    current: Any
    proposed: Any
    changed: bool


def comparison(revision: ProductRevisionRead) -> list[Row]:
    """The submission's values, field by field, beside the ones they would replace."""
    base = revision.base or {}
    rows = []
    for name in ORDER[1:]:
        if name == locks.SUPPLY and revision.proposed.get(name) is None and not base.get(name):
            continue
        rows.append(
            Row(
                field=name,
                current=base.get(name) if revision.base is not None else None,
                proposed=revision.proposed.get(name),
                changed=name in revision.changed,
            )
        )
    return rows


# -- the operators' queue ------------------------------------------------------------------------


async def queue_page(
    request: Request,
    user: User,
    web_session: WebSession,
    *,
    cursor: str | None = None,
    queue_cursor: str | None = None,
    done: str | None = None,
    errors: Errors | None = None,
    form: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The review queue, every product (a page at a time) and the category rules."""
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    try:
        async with _db(request).read() as session:
            waiting, next_queue = await review_reads.queue(
                session, principal=principal, cursor=queue_cursor, limit=PAGE
            )
            of = await review_reads.products_of(session, [row.product_id for row in waiting])
            rows, next_cursor = await service.list_products(
                session, principal=principal, cursor=cursor, limit=PAGE
            )
            whose = await owners.owners(
                session, {row.store_id for row in waiting} | {row.store_id for row in rows}
            )
            rules = await category_admin.list_rules(session, principal=principal)
    except BadRequest:
        return RedirectResponse(PRODUCTS, status_code=303)
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    shown = [review_reads.present(row, of[row.product_id].currency, now) for row in waiting]
    return _render(
        request,
        "product_queue.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "waiting": shown,
            "rows": rows,
            "owners": whose,
            "rules": rules,
            "zone": viewer_zone(user),
            "message": say(request, DONE[done]) if done in DONE else None,
            "errors": errors or {},
            "form": form or {},
            "next_queue_url": next_queue and f"{PRODUCTS}?queue_cursor={next_queue}",
            "next_url": next_cursor and f"{PRODUCTS}?cursor={next_cursor}#products",
        },
        status_code,
    )


# -- one submission ------------------------------------------------------------------------------


async def revision_page(
    request: Request,
    user: User,
    web_session: WebSession,
    product_id: str,
    revision_id: str,
    *,
    errors: Errors | None = None,
    form: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """A submission beside the approved values, and (operators, waiting) the decision forms."""
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    try:
        async with _db(request).read() as session:
            product, row = await review_reads.get_revision(
                session, principal=principal, product_id=product_id, revision_id=revision_id
            )
            store = await stores.get_store(session, principal=principal, store_id=product.store_id)
            whose = await owners.owners(session, [store.id])
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    revision = review_reads.present(row, product.currency, now)
    decide = user.role is Role.operator and row.status is RevisionStatus.submitted
    asked = [name for name in ORDER if name == "product" or name in revision.changed]
    return _render(
        request,
        "product_review.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "product": product,
            "store": store,
            "owner": whose.get(store.id),
            "revision": revision,
            "rows": comparison(revision),
            "supply": locks.platform_prices(store),
            "decide": decide,
            "asked": asked,
            "zone": viewer_zone(user) or store.timezone,
            "errors": errors or {},
            "form": form or {},
        },
        status_code,
    )


@router.get(PRODUCTS + "/{product_id}/revisions/{revision_id}", response_model=None)
async def one_revision_page(product_id: str, revision_id: str, request: Request) -> Response:
    """One submission of a product, for its seller and the operators."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    if user.role not in (Role.seller, Role.operator):
        refused = Forbidden("products are sellers' and operators'")
        return error_page(request, user, web_session.csrf_token, refused)
    return await revision_page(request, user, web_session, product_id, revision_id)


async def operator_form(request: Request) -> tuple[User, WebSession, dict[str, str]] | Response:
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, _ = checked
    if user.role is not Role.operator:
        refused = Forbidden("only operators do this")
        return error_page(request, user, web_session.csrf_token, refused)
    return checked


@router.post(PRODUCTS + "/{product_id}/revisions/{revision_id}/{decision}", response_model=None)
async def decide(product_id: str, revision_id: str, decision: str, request: Request) -> Response:
    """An operator approves (full-managed: with the retail price) or rejects with a reason per
    field; refusals beside the form's fields."""
    checked = await operator_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    if decision not in ("approve", "reject"):
        return RedirectResponse(f"{PRODUCTS}/{product_id}", status_code=303)
    prefix = f"{decision}-"
    try:
        async with _db(request).write() as session:
            ctx = request_ctx(request, user)
            product = await service.get_product(
                session, principal=ctx.principal, product_id=product_id
            )
            body: dict[str, Any] = {"decision": decision, "note": form.get("note") or None}
            if decision == "approve":
                body["retail_price_minor"] = product_forms.money_in(
                    form.get("price"), product.currency, "approve-price"
                )
            else:
                body["reasons"] = {
                    name: form[f"reason-{name}"].strip()
                    for name in ORDER
                    if form.get(f"reason-{name}", "").strip()
                }
            data = RevisionDecision.model_validate(body, strict=False)
            await review.decide(
                session, ctx=ctx, product_id=product_id, revision_id=revision_id, data=data
            )
            await session.commit()
    except REFUSED as exc:
        errors = {
            field if field.startswith(("approve-", "reject-")) else prefix: text
            for field, text in product_forms.refusal_errors(request, exc).items()
        }
        kept = {**form, "which": decision}
        return await revision_page(
            request,
            user,
            web_session,
            product_id,
            revision_id,
            errors=errors,
            form=kept,
            status_code=status_of(exc),
        )
    done = "approved" if decision == ProductDecision.approve.value else "rejected"
    return RedirectResponse(f"{PRODUCTS}?done={done}", status_code=303)


# -- category rules ------------------------------------------------------------------------------


@router.post(RULES, response_model=None)
async def set_rule(request: Request) -> Response:
    """An operator sets a category's rule: review before listing, brand authorisation."""
    checked = await operator_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    try:
        category = form.get("category", "").strip().lower()
        if not _CATEGORY.match(category):
            raise FormProblem(N_("prd_err_category_code"), "category")
        data = CategoryRuleSet.model_validate(
            {
                "review_required": bool(form.get("review_required")),
                "brand_authorisation_required": bool(form.get("brand_authorisation_required")),
            }
        )
        async with _db(request).write() as session:
            await category_admin.set_rule(
                session, ctx=request_ctx(request, user), category=category, data=data
            )
            await session.commit()
    except REFUSED as exc:
        errors = product_forms.refusal_errors(request, exc, prefix="rule-")
        return await queue_page(
            request, user, web_session, errors=errors, form=form, status_code=status_of(exc)
        )
    return RedirectResponse(f"{PRODUCTS}?done=rule#rules", status_code=303)

"""Console pages of products, their review and listing (C1, C2, F7).

- ``/console/products``: a seller's own products with their status words, and where to start a
  new one; an operator's review queue (stuck first, then oldest), every product, and the
  category rules with their form (``product_review_pages.py``).
- ``/console/products/new``: a new product in one of the seller's stores (full-managed: SKUs
  with supply prices; otherwise its price).
- ``/console/products/{id}``: a product's values with the last rejection's reasons beside the
  fields, its shipping period, its submissions; the seller's edit form (a change to an approved
  product is proposed for review instead) and its submit, list and delist buttons; an
  operator's suspend and lift forms and the way to the review waiting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.catalog import listing, locks, review, review_reads, service
from tuoguan.catalog.categories import requirements
from tuoguan.catalog.models import Product, ProductStatus
from tuoguan.catalog.review_schemas import ProductRevisionCreate, Suspension, Unsuspension
from tuoguan.catalog.schemas import ProductCreate, ProductUpdate, SkuCreate, SkuUpdate
from tuoguan.catalog.states import allowed
from tuoguan.errors import BadRequest, DomainError, Forbidden
from tuoguan.kit.i18n import N_
from tuoguan.principal import Role
from tuoguan.shipping.periods import shipping_periods
from tuoguan.stores import service as stores
from tuoguan.stores.models import Store
from tuoguan.web import owners, product_forms, product_review_pages
from tuoguan.web.console import _current, _db, _render, _to_login, checked_form, request_ctx
from tuoguan.web.forms import REFUSED, Errors, status_of
from tuoguan.web.stock_pages import error_page, say, viewer_zone

router = APIRouter(include_in_schema=False)
router.include_router(product_review_pages.router)
PRODUCTS = product_review_pages.PRODUCTS
PAGE = 50

DONE = {
    "created": N_("prd_done_created"),
    "saved": N_("prd_done_saved"),
    "proposed": N_("prd_done_proposed"),
    "submit": N_("prd_done_submitted"),
    "list": N_("prd_done_listed"),
    "delist": N_("prd_done_delisted"),
    **product_review_pages.DONE,
}
_SELLER_ACTIONS: dict[str, Any] = {
    "submit": review.submit,
    "list": listing.list_product,
    "delist": listing.delist,
}


async def whoami(request: Request) -> tuple[User, WebSession] | Response:
    """The signed-in seller or operator; anyone else is refused."""
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    if user.role not in (Role.seller, Role.operator):
        refused = Forbidden("products are sellers' and operators'")
        return error_page(request, user, web_session.csrf_token, refused)
    return current


# -- the list ------------------------------------------------------------------------------------


@router.get(PRODUCTS, response_model=None)
async def products_page(
    request: Request,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    queue_cursor: Annotated[str | None, Query(max_length=500)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """A seller's products; an operator's review queue, every product and the category rules."""
    checked = await whoami(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    if user.role is Role.operator:
        return await product_review_pages.queue_page(
            request, user, web_session, cursor=cursor, queue_cursor=queue_cursor, done=done
        )
    principal = accounts.principal_for_user(user)
    try:
        async with _db(request).read() as session:
            rows, next_cursor = await service.list_products(
                session, principal=principal, cursor=cursor, limit=PAGE
            )
            own, _ = await stores.list_stores(session, principal=principal, limit=200)
            whose = await owners.owners(session, {row.store_id for row in rows})
    except BadRequest:
        return RedirectResponse(PRODUCTS, status_code=303)
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    return _render(
        request,
        "products.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "rows": rows,
            "owners": whose,
            "stores": [(s.id, s.name) for s in own],
            "message": say(request, DONE[done]) if done in DONE else None,
            "next_url": next_cursor and f"{PRODUCTS}?cursor={next_cursor}",
        },
    )


# -- a new product -------------------------------------------------------------------------------


async def _new_page(
    request: Request,
    user: User,
    web_session: WebSession,
    store_id: str | None,
    *,
    errors: Errors | None = None,
    form: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    principal = accounts.principal_for_user(user)
    async with _db(request).read() as session:
        own, _ = await stores.list_stores(session, principal=principal, limit=200)
    store = next((s for s in own if s.id == store_id), None) or (own[0] if own else None)
    return _render(
        request,
        "product_form.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "mode": "new",
            "store": store,
            "stores": [(s.id, s.name) for s in own],
            "supply": store is not None and locks.platform_prices(store),
            "product": None,
            "rows": product_forms.NEW_ROWS,
            "reasons": {},
            "errors": errors or {},
            "form": form or {},
        },
        status_code,
    )


@router.get(PRODUCTS + "/new", response_model=None)
async def new_product_page(
    request: Request, store: Annotated[str | None, Query(max_length=40)] = None
) -> Response:
    """The seller's form for a new product in one of its stores."""
    checked = await whoami(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    if user.role is not Role.seller:
        return RedirectResponse(PRODUCTS, status_code=303)
    return await _new_page(request, user, web_session, store)


@router.post(PRODUCTS + "/new", response_model=None)
async def create_product(request: Request) -> Response:
    """Create the product as a draft (CSRF-checked); refusals beside their fields."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    store_id = form.get("store", "")[:40]
    try:
        async with _db(request).write() as session:
            ctx = request_ctx(request, user)
            store = await stores.get_store(session, principal=ctx.principal, store_id=store_id)
            values = product_forms.values_in(form, store.currency)
            supply = locks.platform_prices(store)
            price = form.get("supply_price" if supply else "price")
            amount = product_forms.money_in(
                price, store.currency, "supply_price" if supply else "price"
            )
            rows = product_forms.new_rows(form, store.currency, supply=supply)
            data = ProductCreate.model_validate(
                {
                    **values,
                    "store_id": store.id,
                    "supply_price_minor" if supply else "price_minor": amount,
                    "skus": rows or None,
                },
                strict=False,
            )
            product = await service.create_product(session, ctx=ctx, data=data)
            await session.commit()
    except REFUSED as exc:
        errors = product_forms.refusal_errors(request, exc)
        return await _new_page(
            request,
            user,
            web_session,
            store_id,
            errors=errors,
            form=form,
            status_code=status_of(exc),
        )
    return RedirectResponse(f"{PRODUCTS}/{product.id}?done=created", status_code=303)


# -- one product ---------------------------------------------------------------------------------


def _buttons(product: Product, role: Role, needs_review: bool) -> list[str]:
    """The seller's actions offered now, as one button each."""
    if role is not Role.seller:
        return []
    actions = [a.value for a in allowed(product.status, role)]
    if product.status is ProductStatus.rejected:
        return ["submit"]
    review_first = needs_review and product.approved_at is None
    if "list" in actions and review_first:
        actions.remove("list")  # listing is the review's: the submit button says so
    if "submit" in actions and not review_first:
        actions.remove("submit")
    return actions


async def product_page(
    request: Request,
    user: User,
    web_session: WebSession,
    product_id: str,
    *,
    errors: Errors | None = None,
    form: Mapping[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    """A product's page for its seller or an operator."""
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    try:
        async with _db(request).read() as session:
            product = await service.get_product(session, principal=principal, product_id=product_id)
            store = await stores.get_store(session, principal=principal, store_id=product.store_id)
            _, rows = await review_reads.revisions_of(
                session, principal=principal, product_id=product.id
            )
            needs = await locks.needs_review(session, store, product.category)
            rule = (await requirements(session, [product.category]))[product.category]
            is_locked = await locks.locked(session, store, product)
            period = (await shipping_periods(session, [product], country=None, now=now))[product.id]
            whose = await owners.owners(session, [store.id])
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    editing = "none"
    if user.role is Role.seller and product.status is not ProductStatus.under_review:
        editing = "revise" if is_locked else "direct"
        if is_locked and product.pending_revision_id:
            editing = "none"
    return _render(
        request,
        "product.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "product": product,
            "store": store,
            "owner": whose.get(store.id),
            "supply": locks.platform_prices(store),
            "needs_review": needs,
            "rule": rule,
            "locked": is_locked,
            "editing": editing,
            "buttons": _buttons(product, user.role, needs),
            "revisions": [review_reads.present(row, product.currency, now) for row in rows],
            "pending": product.pending_revision_id,
            "period": period,
            "reasons": product.review_reasons or {},
            "zone": viewer_zone(user) or store.timezone,
            "rows": product_forms.NEW_ROWS,
            "errors": errors or {},
            "form": form if form is not None else product_forms.form_of(product),
            "message": message,
        },
        status_code,
    )


@router.get(PRODUCTS + "/{product_id}", response_model=None)
async def one_product_page(
    product_id: str,
    request: Request,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """One product: its values, reasons, shipping period, submissions and what may be done."""
    checked = await whoami(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    message = say(request, DONE[done]) if done in DONE else None
    return await product_page(request, user, web_session, product_id, message=message)


async def _edit_directly(
    session: Any, ctx: Any, product: Product, store: Store, form: Mapping[str, str]
) -> None:
    supply = locks.platform_prices(store)
    values = product_forms.values_in(form, product.currency)
    if supply:
        values["supply_price_minor"] = product_forms.money_in(
            form.get("supply_price"), product.currency, "supply_price"
        )
    else:
        values["price_minor"] = product_forms.money_in(form.get("price"), product.currency, "price")
    changed = {k: v for k, v in values.items() if getattr(product, k) != v}
    if changed:
        data = ProductUpdate.model_validate(changed, strict=False)
        await service.update_product(session, ctx=ctx, product_id=product.id, data=data)
    for change in product_forms.sku_changes(product, form, supply=supply):
        sku_id = change.pop("id")
        await service.update_sku(
            session,
            ctx=ctx,
            product_id=product.id,
            sku_id=sku_id,
            data=SkuUpdate.model_validate(change, strict=False),
        )
    for row in product_forms.new_rows(form, product.currency, supply=supply):
        await service.add_sku(
            session,
            ctx=ctx,
            product_id=product.id,
            data=SkuCreate.model_validate(row, strict=False),
        )


async def _propose(
    session: Any, ctx: Any, product: Product, store: Store, form: Mapping[str, str]
) -> None:
    supply = locks.platform_prices(store)
    values = product_forms.values_in(form, product.currency)
    if supply:
        values["supply_price_minor"] = product_forms.money_in(
            form.get("supply_price"), product.currency, "supply_price"
        )
    changed: dict[str, Any] = {k: v for k, v in values.items() if getattr(product, k) != v}
    skus = product_forms.sku_changes(product, form, supply=supply)
    new = product_forms.new_rows(form, product.currency, supply=supply)
    data = ProductRevisionCreate.model_validate(
        {
            **changed,
            **({"skus": skus} if skus else {}),
            **({"new_skus": new} if new else {}),
            **({"note": form["note"]} if form.get("note", "").strip() else {}),
        },
        strict=False,
    )
    await review.propose(session, ctx=ctx, product_id=product.id, data=data)


@router.post(PRODUCTS + "/{product_id}/edit", response_model=None)
async def edit_product(product_id: str, request: Request) -> Response:
    """The seller saves its product: directly, or (approved and reviewed) as a revision
    proposed for review while the approved values keep selling."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    done = "saved"
    try:
        async with _db(request).write() as session:
            ctx = request_ctx(request, user)
            product = await service.get_product(
                session, principal=ctx.principal, product_id=product_id
            )
            store = await stores.get_store(
                session, principal=ctx.principal, store_id=product.store_id
            )
            if user.role is not Role.seller:
                raise Forbidden("the product's seller edits it")
            if await locks.locked(session, store, product):
                await _propose(session, ctx, product, store, form)
                done = "proposed"
            else:
                await _edit_directly(session, ctx, product, store, form)
            await session.commit()
    except REFUSED as exc:
        errors = product_forms.refusal_errors(request, exc)
        return await product_page(
            request,
            user,
            web_session,
            product_id,
            errors=errors,
            form=form,
            status_code=status_of(exc),
        )
    return RedirectResponse(f"{PRODUCTS}/{product_id}?done={done}", status_code=303)


@router.post(PRODUCTS + "/{product_id}/do/{action}", response_model=None)
async def act(product_id: str, action: str, request: Request) -> Response:
    """The seller submits, lists or delists its product."""
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, _ = checked
    if action not in _SELLER_ACTIONS:
        return RedirectResponse(f"{PRODUCTS}/{product_id}", status_code=303)
    use_case = _SELLER_ACTIONS[action]
    try:
        async with _db(request).write() as session:
            ctx = request_ctx(request, user)
            await use_case(session, ctx=ctx, product_id=product_id)
            await session.commit()
    except REFUSED as exc:
        said = product_forms.refusal_errors(request, exc)
        errors = {"action": next(iter(said.values()), say(request, "err_refused"))}
        return await product_page(
            request, user, web_session, product_id, errors=errors, status_code=status_of(exc)
        )
    return RedirectResponse(f"{PRODUCTS}/{product_id}?done={action}", status_code=303)


# -- quality supervision -------------------------------------------------------------------------


@router.post(PRODUCTS + "/{product_id}/supervise/{action}", response_model=None)
async def supervise(product_id: str, action: str, request: Request) -> Response:
    """An operator suspends a listed product with a reason, or lifts the suspension."""
    checked = await product_review_pages.operator_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    if action not in ("suspend", "unsuspend"):
        return RedirectResponse(f"{PRODUCTS}/{product_id}", status_code=303)
    try:
        async with _db(request).write() as session:
            ctx = request_ctx(request, user)
            if action == "suspend":
                data = Suspension.model_validate({"reason": form.get("reason", "")}, strict=False)
                await listing.suspend(session, ctx=ctx, product_id=product_id, data=data)
            else:
                note = Unsuspension.model_validate({"note": form.get("note") or None}, strict=False)
                await listing.unsuspend(session, ctx=ctx, product_id=product_id, data=note)
            await session.commit()
    except REFUSED as exc:
        errors = product_forms.refusal_errors(request, exc, prefix=f"{action}-")
        return await product_page(
            request,
            user,
            web_session,
            product_id,
            errors=errors,
            form=form,
            status_code=status_of(exc),
        )
    done = "suspended" if action == "suspend" else "unsuspended"
    return RedirectResponse(f"{PRODUCTS}/{product_id}?done={done}", status_code=303)

"""Product review (平台审核, C1, C2, S2): submissions, revisions of approved products and the
operators' decisions; the caller commits.

- A product's first review: the seller submits it (full-managed: with its SKUs and supply
  prices) and it waits ``under_review``; an operator approves it (full-managed: with the retail
  price) and it goes on sale, or rejects it with a reason per field and the seller edits and
  submits again.
- Once approved, a full-managed product (or one whose category needs review) changes what the
  buyer sees, and its supply prices, only through a revision: the approved values keep selling
  while it waits, and approval applies it in one transaction.
- Every decision is audited on the product and notifies the seller with the reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.catalog import locks, revisions, service
from tuoguan.catalog.models import Product, ProductStatus
from tuoguan.catalog.review_models import ProductRevision, RevisionStatus
from tuoguan.catalog.review_schemas import (
    ProductDecision,
    ProductRevisionCreate,
    ProductSubmit,
    RevisionDecision,
)
from tuoguan.catalog.schemas import MAX_SKUS, SkuCreate
from tuoguan.catalog.states import ProductAction, next_state
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound
from tuoguan.kit import i18n
from tuoguan.kit.clock import as_utc
from tuoguan.kit.ids import new_id
from tuoguan.notify import service as notify
from tuoguan.principal import Role
from tuoguan.stores.models import Store
from tuoguan.timing.calendar import calendar_for
from tuoguan.timing.deadlines import audit_stuck_after

SUBJECT = "product"
# Product fields a revision may not clear.
_REQUIRED = frozenset(revisions.PRODUCT_VALUES) - {locks.SUPPLY}


def review_due(submitted_at: datetime, ctx: Ctx) -> datetime:
    """S2: the end of the second business day after submission, on the platform's calendar."""
    zone = ZoneInfo(ctx.settings.settlement_zone)
    return as_utc(audit_stuck_after(submitted_at, "review", zone, calendar_for("CN")))


# -- the first review ----------------------------------------------------------------------------


def check_ready(store: Store, product: Product | None, proposed: dict[str, Any]) -> None:
    """What a product needs before review: full-managed, a supply price for every SKU on sale
    (C1); otherwise the seller's retail price."""
    if locks.platform_prices(store):
        missing = revisions.supply_missing(proposed)
        if missing is not None:
            raise InvalidInput(
                "a full-managed product needs a supply price, for the product or for each SKU "
                "on sale (C1)",
                field=f"skus.{missing}.supply_price_minor",
                rule="supply_price_required",
            )
    elif product is not None and product.price_minor is None:
        raise InvalidInput(
            "set the product's price before it goes on sale",
            field="price_minor",
            rule="price_required",
        )


async def _next_number(session: AsyncSession, product_id: str) -> int:
    found = await session.scalar(
        select(func.max(ProductRevision.number)).where(ProductRevision.product_id == product_id)
    )
    return int(found or 0) + 1


async def _open(
    session: AsyncSession,
    ctx: Ctx,
    product: Product,
    store: Store,
    *,
    proposed: dict[str, Any],
    base: dict[str, Any] | None,
    note: str | None,
) -> ProductRevision:
    now = ctx.clock.now()
    revision = ProductRevision(
        id=new_id("product_revision"),
        product_id=product.id,
        store_id=store.id,
        seller_id=store.seller_id,
        number=await _next_number(session, product.id),
        first=base is None,
        status=RevisionStatus.submitted,
        proposed=proposed,
        base=base,
        changed=revisions.changed(base, proposed),
        note=note or None,
        submitted_at=now,
        submitted_by=ctx.principal.actor_id,
        review_due=review_due(now, ctx),
        reasons={},
        version=1,
    )
    session.add(revision)
    product.pending_revision_id = revision.id
    product.review_reasons = None
    product.updated_at = now
    return revision


async def submit(
    session: AsyncSession, *, ctx: Ctx, product_id: str, data: ProductSubmit | None = None
) -> tuple[Product, ProductRevision]:
    """The seller submits a draft, rejected (or never-approved delisted) product for its first
    review (提交审核)."""
    product, store = await service._own_product(session, ctx, product_id)
    target = next_state(product.status, ProductAction.submit, ctx.principal.role)
    if product.approved_at is not None:
        raise Conflict(
            "the product was approved: list it, or propose a revision of it",
            field="product_id",
            rule="already_approved",
        )
    needed = await locks.needs_review(session, store, product.category)
    if not needed and product.status is not ProductStatus.rejected:
        raise Conflict(
            f"category {product.category} needs no review in this store: list the product",
            field="category",
            rule="review_not_required",
        )
    proposed = revisions.snapshot(product)
    check_ready(store, product, proposed)
    previous = product.status
    revision = await _open(
        session, ctx, product, store, proposed=proposed, base=None, note=data.note if data else None
    )
    product.status = target
    audit.record(
        session,
        ctx=ctx,
        subject_type=SUBJECT,
        subject_id=product.id,
        store_id=store.id,
        action=ProductAction.submit.value,
        from_state=previous.value,
        to_state=target.value,
        data={"revision_id": revision.id, "number": revision.number},
    )
    await session.flush()
    return product, revision


# -- revisions of approved products ----------------------------------------------------------


def _sku_changes(
    product: Product, store: Store, data: ProductRevisionCreate
) -> list[dict[str, Any]]:
    known = {sku.id for sku in product.skus}
    seen: set[str] = set()
    found = []
    for index, change in enumerate(data.skus or []):
        where = f"skus.{index}."
        if change.id not in known:
            raise InvalidInput(
                f"SKU {change.id} is not a SKU of product {product.id}",
                field=where + "id",
                rule="sku_of_product",
            )
        if change.id in seen:
            raise InvalidInput(
                f"SKU {change.id} is given twice", field=where + "id", rule="sku_unique"
            )
        seen.add(change.id)
        values = change.model_dump(mode="json", exclude_unset=True)
        if "attributes" in values and values["attributes"] is None:
            raise InvalidInput(
                "attributes cannot be cleared", field=where + "attributes", rule="required"
            )
        service._check_supply_price(store, values.get(locks.SUPPLY), where + locks.SUPPLY)
        found.append(values)
    return found


def _check_skus(proposed: dict[str, Any]) -> None:
    skus = proposed["skus"]
    if len(skus) > MAX_SKUS:
        raise InvalidInput(
            f"a product has at most {MAX_SKUS} SKUs", field="new_skus", rule="max_skus"
        )
    attributes: list[dict[str, str]] = []
    for index, sku in enumerate(skus):
        if sku["attributes"] in attributes:
            raise InvalidInput(
                f"another SKU of this product has the attributes {sku['attributes']}",
                field=f"skus.{index}.attributes",
                rule="attributes_distinct",
            )
        attributes.append(sku["attributes"])


async def _check_barcodes(
    session: AsyncSession, store: Store, base: dict[str, Any], proposed: dict[str, Any]
) -> None:
    before = {sku["id"]: sku.get("barcode") for sku in base["skus"]}
    mine: dict[str, int] = {}
    for index, sku in enumerate(proposed["skus"]):
        barcode = sku.get("barcode")
        if barcode is None:
            continue
        if barcode in mine:
            raise InvalidInput(
                f"barcode {barcode} is given twice",
                field=f"skus.{index}.barcode",
                rule="barcode_unique",
            )
        mine[barcode] = index
        if sku["id"] is not None and before.get(sku["id"]) == barcode:
            continue
        taken = await service.repository.taken_barcodes(
            session, store_id=store.id, barcodes=[barcode], besides=sku["id"]
        )
        if taken:
            raise Conflict(
                f"barcode {barcode} is on another SKU of this store",
                field=f"skus.{index}.barcode",
                rule="barcode_unique",
            )


async def propose(
    session: AsyncSession, *, ctx: Ctx, product_id: str, data: ProductRevisionCreate
) -> tuple[Product, ProductRevision]:
    """C2: the seller proposes changes to an approved product for review; it keeps selling its
    approved values until an operator decides. A supply-price change is one too (C1)."""
    if ctx.principal.role is not Role.seller:
        raise Forbidden("the product's seller proposes its changes; operators change it directly")
    product, store = await service._own_product(session, ctx, product_id)
    if not await locks.locked(session, store, product):
        rule = "not_approved" if product.approved_at is None else "review_not_required"
        raise Conflict(
            "this product changes directly (PATCH) and is reviewed when submitted or listed",
            field="product_id",
            rule=rule,
        )
    if product.pending_revision_id is not None:
        raise Conflict(
            "a revision of this product is waiting for review already",
            field="product_id",
            rule="review_pending",
        )
    changes = data.model_dump(mode="json", exclude_unset=True, exclude={"skus", "new_skus", "note"})
    for name, value in changes.items():
        if value is None and name in _REQUIRED:
            raise InvalidInput(f"{name} cannot be cleared", field=name, rule="required")
    service._check_supply_price(store, changes.get(locks.SUPPLY), locks.SUPPLY)
    sku_changes = _sku_changes(product, store, data)
    new_skus: Sequence[SkuCreate] = data.new_skus or []
    if new_skus:
        await service._check_new_skus(
            session, store, [], new_skus, where=lambda index: f"new_skus.{index}."
        )
    base = revisions.snapshot(product)
    proposed = revisions.overlay(
        base, changes, sku_changes, [spec.model_dump(mode="json") for spec in new_skus]
    )
    if not revisions.changed(base, proposed):
        raise InvalidInput("the revision changes nothing", field="body", rule="no_changes")
    _check_skus(proposed)
    await _check_barcodes(session, store, base, proposed)
    check_ready(store, None, proposed)
    revision = await _open(
        session, ctx, product, store, proposed=proposed, base=base, note=data.note
    )
    audit.record(
        session,
        ctx=ctx,
        subject_type=SUBJECT,
        subject_id=product.id,
        store_id=store.id,
        action="propose",
        data={"revision_id": revision.id, "number": revision.number, "changed": revision.changed},
    )
    await session.flush()
    return product, revision


# -- decisions -----------------------------------------------------------------------------------


async def _waiting(
    session: AsyncSession, product: Product, revision_id: str, action: str
) -> ProductRevision:
    revision = await session.scalar(
        select(ProductRevision)
        .where(ProductRevision.id == revision_id, ProductRevision.product_id == product.id)
        .with_for_update()
    )
    if revision is None:
        raise NotFound(f"revision {revision_id} not found", field="revision_id")
    if revision.status is not RevisionStatus.submitted:
        raise IllegalTransition(
            current=revision.status.value, action=action, allowed=[], subject="revision"
        )
    return revision


def _reasons(data: RevisionDecision) -> dict[str, str]:
    if data.decision is ProductDecision.approve:
        if data.reasons:
            raise InvalidInput(
                "reasons are for rejections", field="reasons", rule="reasons_on_reject"
            )
        return {}
    if not data.reasons:
        raise InvalidInput(
            "say why, beside at least one field", field="reasons", rule="reasons_required"
        )
    for name in data.reasons:
        if name not in locks.REASON_FIELDS:
            raise InvalidInput(
                f"{name} is not a field a reason can point to "
                f"({', '.join(sorted(locks.REASON_FIELDS))})",
                field=f"reasons.{name}",
                rule="reason_field",
            )
    return dict(data.reasons)


def _retail_price(store: Store, product: Product, data: RevisionDecision) -> int | None:
    price = data.retail_price_minor
    if data.decision is ProductDecision.reject:
        if price is not None:
            raise InvalidInput(
                "a rejection sets no price", field="retail_price_minor", rule="price_on_approve"
            )
        return None
    if not locks.platform_prices(store):
        if price is not None:
            raise InvalidInput(
                "in this store the seller sets the retail price (C1)",
                field="retail_price_minor",
                rule="seller_sets_price",
            )
        if product.price_minor is None:
            raise InvalidInput(
                "the seller has not set the product's price",
                field="retail_price_minor",
                rule="price_required",
            )
        return None
    if price is None and product.price_minor is None:
        raise InvalidInput(
            "approve a full-managed product with the retail price buyers pay (C1)",
            field="retail_price_minor",
            rule="retail_price_required",
        )
    return price


async def _check_new_codes(session: AsyncSession, store: Store, proposed: dict[str, Any]) -> None:
    """The codes of the SKUs a revision adds are still free in the store (another product may
    have taken one since it was proposed)."""
    codes = [sku["code"] for sku in proposed["skus"] if sku["id"] is None]
    taken = await service.repository.taken_codes(session, store_id=store.id, codes=codes)
    if taken:
        raise Conflict(
            f"code {min(taken)} was taken by another SKU of this store since it was proposed",
            field="skus",
            rule="code_unique",
        )


def reason_lines(reasons: dict[str, str]) -> dict[str, Any]:
    """The reasons as one message parameter, each field named in the reader's language."""
    return i18n.listing(
        [
            ("prd_reason_line", {"field": i18n.label(f"prd_field_{name}"), "text": text})
            for name, text in reasons.items()
        ]
    )


async def decide(
    session: AsyncSession,
    *,
    ctx: Ctx,
    product_id: str,
    revision_id: str,
    data: RevisionDecision,
) -> tuple[Product, ProductRevision]:
    """C2: an operator approves a revision (full-managed: with the retail price) or rejects it
    with a reason per field; the seller is told either way."""
    if not ctx.principal.is_operator:
        raise Forbidden("only an operator decides a product review (C2)")
    product, store = await service._own_product(session, ctx, product_id)
    revision = await _waiting(session, product, revision_id, data.decision.value)
    reasons = _reasons(data)
    price = _retail_price(store, product, data)
    now = ctx.clock.now()
    previous = product.status
    if data.decision is ProductDecision.approve:
        if revision.first:
            product.status = next_state(product.status, ProductAction.approve, Role.operator)
            product.approved_at = product.listed_at = now
        await _check_new_codes(session, store, revision.proposed)
        revisions.apply(product, revision.proposed, now)
        if price is not None:
            product.price_minor = price
        revision.status = RevisionStatus.approved
    else:
        if revision.first:
            product.status = next_state(product.status, ProductAction.reject, Role.operator)
        product.review_reasons = reasons
        revision.status = RevisionStatus.rejected
    product.pending_revision_id = None
    product.review_note = data.note or None
    product.updated_at = now
    revision.reasons = reasons
    revision.retail_price_minor = price
    revision.decision_note = data.note or None
    revision.decided_at, revision.decided_by = now, ctx.principal.actor_id
    audit.record(
        session,
        ctx=ctx,
        subject_type=SUBJECT,
        subject_id=product.id,
        store_id=store.id,
        action=ProductAction.approve.value
        if data.decision is ProductDecision.approve
        else "reject",
        from_state=previous.value,
        to_state=product.status.value,
        reason=data.note or None,
        data={
            "revision_id": revision.id,
            "number": revision.number,
            "reasons": reasons,
            "retail_price_minor": price,
        },
    )
    params: dict[str, Any] = {"product": product.name, "store": store.name}
    if data.decision is ProductDecision.approve:
        kind, key = "prd_review_approved", "prd_note_approved"
        params["price"] = (
            i18n.listing(
                [
                    (
                        "prd_note_at_price",
                        {"price": i18n.money(product.price_minor, product.currency)},
                    )
                ]
            )
            if product.price_minor is not None
            else ""
        )
    else:
        kind, key = "prd_review_rejected", "prd_note_rejected"
        params["reasons"] = reason_lines(reasons)
    notify.notify(
        session,
        ctx=ctx,
        seller_id=store.seller_id,
        kind=kind,
        subject_type=SUBJECT,
        subject_id=product.id,
        key=i18n.N_(key),
        params=params,
        data={"revision_id": revision.id, "reasons": reasons, "retail_price_minor": price},
    )
    await service._flush_skus(session)
    return product, revision

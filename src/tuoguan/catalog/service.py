"""Use cases for products and their SKUs; the caller commits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.catalog import locks, repository
from tuoguan.catalog.models import Product, ProductStatus, Sku
from tuoguan.catalog.schemas import (
    MAX_SKUS,
    ProductCreate,
    ProductUpdate,
    SkuCreate,
    SkuUpdate,
)
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput, NotFound
from tuoguan.kit.ids import new_id
from tuoguan.principal import Principal, Role
from tuoguan.stores import service as stores
from tuoguan.stores.models import Store
from tuoguan.stores.modes import Party, rules

# Prices may be cleared (a delisted price); every other listing field must stay filled.
_NULLABLE = frozenset({"price_minor", "supply_price_minor"})


def _check_prices(store: Store, principal: Principal, changes: dict[str, object]) -> None:
    """C1: full-managed sellers report a supply price and the operator sets the retail price.

    The check is on which fields a request touches, not on their values: clearing a
    price (null) is changing it, and is the operator's alone in full-managed.
    """
    if rules(store.mode).retail_price_by is Party.platform:
        if "price_minor" in changes and principal.role is not Role.operator:
            raise Forbidden(
                "in a full-managed store the operator sets the retail price (C1)",
                field="price_minor",
                rule="operator_sets_retail_price",
            )
    elif changes.get("supply_price_minor") is not None:
        raise InvalidInput(
            "a supply price is reported only in full-managed stores (C1)",
            field="supply_price_minor",
            rule="full_managed_only",
        )


def _check_on_sale_keeps_prices(product: Product, store: Store, changes: dict[str, object]) -> None:
    """A product on sale keeps the prices it sells at: delist it before clearing one."""
    if product.status is not ProductStatus.active:
        return
    kept = ["price_minor"] + (["supply_price_minor"] if rules(store.mode).supply_price else [])
    for field in kept:
        if field in changes and changes[field] is None:
            raise InvalidInput(
                f"{field} cannot be cleared while the product is on sale; delist it first",
                field=field,
                rule="on_sale_keeps_price",
            )


async def create_product(session: AsyncSession, *, ctx: Ctx, data: ProductCreate) -> Product:
    """A seller (or an operator) lists a product as a draft."""
    if ctx.principal.role not in (Role.seller, Role.operator):
        raise Forbidden("this role cannot list products")
    store = await stores.get_store(session, principal=ctx.principal, store_id=data.store_id)
    _check_prices(store, ctx.principal, data.model_dump(exclude_none=True))
    now = ctx.clock.now()
    values = data.model_dump(mode="json", exclude={"skus"})
    product = Product(
        id=new_id("product"),
        currency=store.currency,
        status=ProductStatus.draft,
        created_at=now,
        updated_at=now,
        **values,
    )
    # C3: without SKUs of its own a product sells as one, coded by the product's id.
    specs = data.skus or [SkuCreate(code=product.id)]
    await _check_new_skus(session, store, [], specs, where=lambda index: f"skus.{index}.")
    product.skus.extend(_sku(product, spec, position, now) for position, spec in enumerate(specs))
    session.add(product)
    audit.record(
        session,
        ctx=ctx,
        subject_type="product",
        subject_id=product.id,
        store_id=store.id,
        action="create",
        to_state=product.status.value,
        data={"skus": [sku.id for sku in product.skus]},
    )
    await _flush_skus(session)
    return product


async def get_product(session: AsyncSession, *, principal: Principal, product_id: str) -> Product:
    """A product the principal may see; buyers' channels see active ones only."""
    product = await session.get(Product, product_id)
    if product is None or not await _can_see(session, principal, product):
        raise NotFound(f"product {product_id} not found", field="product_id")
    return product


async def _can_see(session: AsyncSession, principal: Principal, product: Product) -> bool:
    if principal.role is Role.buyer_channel:
        return product.status is ProductStatus.active
    store = await session.get(Store, product.store_id)
    return store is not None and stores.can_see_store(principal, store)


async def list_products(
    session: AsyncSession,
    *,
    principal: Principal,
    store_id: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> tuple[list[Product], str | None]:
    """Products the principal may see, newest first, and the next page's cursor."""
    if principal.role is Role.carrier:
        raise Forbidden("carriers do not read the catalog")
    return await repository.list_products(
        session, principal=principal, store_id=store_id, cursor=cursor, limit=limit
    )


async def update_product(
    session: AsyncSession, *, ctx: Ctx, product_id: str, data: ProductUpdate
) -> Product:
    """Change a product's listing data or prices."""
    if ctx.principal.role not in (Role.seller, Role.operator):
        raise Forbidden("this role cannot change products")
    product = await get_product(session, principal=ctx.principal, product_id=product_id)
    store = await stores.get_store(session, principal=ctx.principal, store_id=product.store_id)
    changes = data.model_dump(mode="json", exclude_unset=True)
    cleared = [key for key, value in changes.items() if value is None and key not in _NULLABLE]
    if cleared:
        raise InvalidInput(f"{cleared[0]} cannot be cleared", field=cleared[0])
    _check_prices(store, ctx.principal, changes)
    _check_on_sale_keeps_prices(product, store, changes)
    changes = {key: value for key, value in changes.items() if getattr(product, key) != value}
    await locks.check_seller_change(
        session,
        principal=ctx.principal,
        store=store,
        product=product,
        fields=changes,
        category=changes.get("category"),
    )
    _apply(session, ctx, product, product, changes, "update", changes)
    return product


def _apply(
    session: AsyncSession,
    ctx: Ctx,
    target: Product | Sku,
    product: Product,
    changes: dict[str, Any],
    action: str,
    data: dict[str, Any],
) -> bool:
    """Set the changed fields of a product or one of its SKUs and audit it (on the product);
    whether anything changed."""
    for key, value in changes.items():
        setattr(target, key, value)
    if not changes:
        return False
    target.updated_at = ctx.clock.now()
    audit.record(
        session,
        ctx=ctx,
        subject_type="product",
        subject_id=product.id,
        store_id=product.store_id,
        action=action,
        data=data,
    )
    return True


async def orderable(
    session: AsyncSession, *, store_id: str, lines: Sequence[tuple[str, str | None]]
) -> list[tuple[Product, Sku]]:
    """Each line's (product id, SKU id or None) as an active, priced product of one store and
    an active SKU of it; anything else is refused, naming the line's field (C3).

    A line may leave out its SKU when the product has exactly one active SKU.
    """
    found = await repository.products_by_id(session, [product_id for product_id, _ in lines])
    resolved = []
    for index, (product_id, sku_id) in enumerate(lines):
        product = found.get(product_id)
        field = f"lines.{index}.product_id"
        if product is None or product.store_id != store_id:
            raise InvalidInput(f"product {product_id} is not sold by this store", field=field)
        if product.status is not ProductStatus.active or product.price_minor is None:
            raise InvalidInput(f"product {product_id} is not on sale", field=field)
        resolved.append((product, _orderable_sku(product, sku_id, f"lines.{index}.sku_id")))
    return resolved


def _orderable_sku(product: Product, sku_id: str | None, field: str) -> Sku:
    active = [sku for sku in product.skus if sku.active]
    if sku_id is None:
        if len(active) == 1:
            return active[0]
        if not active:
            raise InvalidInput(
                f"product {product.id} has no SKU on sale", field=field, rule="no_active_sku"
            )
        raise InvalidInput(
            f"product {product.id} has {len(active)} SKUs: name the one bought (C3)",
            field=field,
            rule="sku_required",
        )
    sku = next((sku for sku in product.skus if sku.id == sku_id), None)
    if sku is None:
        raise InvalidInput(
            f"SKU {sku_id} is not a SKU of product {product.id}",
            field=field,
            rule="sku_of_product",
        )
    if not sku.active:
        raise InvalidInput(f"SKU {sku_id} is not on sale", field=field, rule="sku_active")
    return sku


async def products_by_id(session: AsyncSession, ids: Sequence[str]) -> dict[str, Product]:
    """Products keyed by id, whatever their status (an order keeps what it sold)."""
    return await repository.products_by_id(session, ids)


# -- SKUs (规格, C3) ------------------------------------------------------------------------------


def _sku(product: Product, spec: SkuCreate, position: int, now: datetime) -> Sku:
    return Sku(
        id=new_id("sku"),
        product_id=product.id,
        store_id=product.store_id,
        position=position,
        active=True,
        created_at=now,
        updated_at=now,
        version=1,
        **spec.model_dump(mode="json"),
    )


def _check_supply_price(store: Store, value: int | None, field: str) -> None:
    """C1: only a full-managed seller reports a supply price, per product or per SKU."""
    if value is not None and not rules(store.mode).supply_price:
        raise InvalidInput(
            "a supply price is reported only in full-managed stores (C1)",
            field=field,
            rule="full_managed_only",
        )


def _check_distinct(kept: Sequence[dict[str, str]], attributes: dict[str, str], field: str) -> None:
    """Two SKUs of one product never have the same attributes: the buyer could not choose."""
    if attributes in kept:
        raise InvalidInput(
            f"another SKU of this product has the attributes {attributes}",
            field=field,
            rule="attributes_distinct",
        )


async def _check_new_skus(
    session: AsyncSession,
    store: Store,
    kept: Sequence[Sku],
    specs: Sequence[SkuCreate],
    *,
    where: Callable[[int], str],
) -> None:
    """New SKUs beside a product's ``kept`` ones: codes and barcodes unique in the store (409
    for one another SKU has, 422 for one the request repeats), distinct attributes.

    ``where(i)`` is the path of the i-th new SKU in the request ("skus.0." or "").
    """
    codes: dict[str, int] = {}
    barcodes: dict[str, int] = {}
    attributes = [sku.attributes for sku in kept]
    for index, spec in enumerate(specs):
        _check_supply_price(store, spec.supply_price_minor, where(index) + "supply_price_minor")
        if spec.code in codes:
            raise InvalidInput(
                f"code {spec.code} is given twice", field=where(index) + "code", rule="code_unique"
            )
        codes[spec.code] = index
        if spec.barcode is not None and spec.barcode in barcodes:
            raise InvalidInput(
                f"barcode {spec.barcode} is given twice",
                field=where(index) + "barcode",
                rule="barcode_unique",
            )
        if spec.barcode is not None:
            barcodes[spec.barcode] = index
        _check_distinct(attributes, spec.attributes, where(index) + "attributes")
        attributes.append(spec.attributes)
    taken = await repository.taken_codes(session, store_id=store.id, codes=list(codes))
    if taken:
        code = min(taken, key=codes.__getitem__)
        raise Conflict(
            f"code {code} is taken by another SKU of this store",
            field=where(codes[code]) + "code",
            rule="code_unique",
        )
    taken = await repository.taken_barcodes(session, store_id=store.id, barcodes=list(barcodes))
    if taken:
        barcode = min(taken, key=barcodes.__getitem__)
        raise Conflict(
            f"barcode {barcode} is on another SKU of this store",
            field=where(barcodes[barcode]) + "barcode",
            rule="barcode_unique",
        )


async def _flush_skus(session: AsyncSession) -> None:
    """Flush; a code or barcode taken meanwhile by a concurrent request is a 409 too."""
    try:
        await session.flush()
    except IntegrityError as exc:
        which = "barcode" if "barcode" in str(exc.orig) else "code"
        raise Conflict(
            f"another SKU of this store took this {which} meanwhile",
            field=which,
            rule=f"{which}_unique",
        ) from exc


async def list_skus(session: AsyncSession, *, principal: Principal, product_id: str) -> list[Sku]:
    """A product's SKUs, for whoever may see the product; the storefront sees the active ones."""
    if principal.role is Role.carrier:
        raise Forbidden("carriers do not read the catalog")
    product = await get_product(session, principal=principal, product_id=product_id)
    if principal.role is Role.buyer_channel:
        return [sku for sku in product.skus if sku.active]
    return list(product.skus)


async def _own_product(session: AsyncSession, ctx: Ctx, product_id: str) -> tuple[Product, Store]:
    """A product the caller may change (its seller or an operator), with its store."""
    if ctx.principal.role not in (Role.seller, Role.operator):
        raise Forbidden("this role cannot change products")
    product = await get_product(session, principal=ctx.principal, product_id=product_id)
    store = await stores.get_store(session, principal=ctx.principal, store_id=product.store_id)
    return product, store


async def add_sku(session: AsyncSession, *, ctx: Ctx, product_id: str, data: SkuCreate) -> Sku:
    """The product's seller (or an operator) adds a variant (C3)."""
    product, store = await _own_product(session, ctx, product_id)
    if len(product.skus) >= MAX_SKUS:
        raise InvalidInput(
            f"a product has at most {MAX_SKUS} SKUs", field="product_id", rule="max_skus"
        )
    await locks.check_seller_change(
        session, principal=ctx.principal, store=store, product=product, fields=["skus"]
    )
    await _check_new_skus(session, store, product.skus, [data], where=lambda _: "")
    now = ctx.clock.now()
    position = max((sku.position for sku in product.skus), default=-1) + 1
    sku = _sku(product, data, position, now)
    product.skus.append(sku)
    audit.record(
        session,
        ctx=ctx,
        subject_type="product",
        subject_id=product.id,
        store_id=product.store_id,
        action="add_sku",
        data={"sku_id": sku.id, "code": sku.code, "attributes": sku.attributes},
    )
    await _flush_skus(session)
    return sku


async def update_sku(
    session: AsyncSession, *, ctx: Ctx, product_id: str, sku_id: str, data: SkuUpdate
) -> Sku:
    """Change a SKU's attributes, barcode, weight and size, supply price or whether it sells."""
    product, store = await _own_product(session, ctx, product_id)
    sku = next((sku for sku in product.skus if sku.id == sku_id), None)
    if sku is None:
        raise NotFound(f"SKU {sku_id} of product {product_id} not found", field="sku_id")
    changes = data.model_dump(mode="json", exclude_unset=True)
    for required in ("attributes", "active"):
        if required in changes and changes[required] is None:
            raise InvalidInput(f"{required} cannot be cleared", field=required, rule="required")
    _check_supply_price(store, changes.get("supply_price_minor"), "supply_price_minor")
    others = [other for other in product.skus if other.id != sku.id]
    if "attributes" in changes:
        _check_distinct([other.attributes for other in others], changes["attributes"], "attributes")
    if changes.get("barcode") is not None:
        taken = await repository.taken_barcodes(
            session, store_id=store.id, barcodes=[changes["barcode"]], besides=sku.id
        )
        if taken:
            raise Conflict(
                f"barcode {changes['barcode']} is on another SKU of this store",
                field="barcode",
                rule="barcode_unique",
            )
    if changes.get("active") is False and not any(other.active for other in others):
        raise InvalidInput(
            "a product keeps at least one SKU on sale; delist the product instead",
            field="active",
            rule="one_active_sku",
        )
    changes = {key: value for key, value in changes.items() if getattr(sku, key) != value}
    await locks.check_seller_change(
        session, principal=ctx.principal, store=store, product=product, fields=changes, sku=True
    )
    if _apply(session, ctx, sku, product, changes, "update_sku", {"sku_id": sku.id, **changes}):
        await _flush_skus(session)
    return sku

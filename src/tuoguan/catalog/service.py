"""Use cases for products; the caller commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.catalog import repository
from tuoguan.catalog.models import Product, ProductStatus
from tuoguan.catalog.schemas import ProductCreate, ProductStatusSet, ProductUpdate
from tuoguan.context import Ctx
from tuoguan.errors import Forbidden, InvalidInput, NotFound
from tuoguan.kit.ids import new_id
from tuoguan.principal import Principal, Role
from tuoguan.stores import service as stores
from tuoguan.stores.models import Store, StoreMode

# Prices may be cleared (a delisted price); every other listing field must stay filled.
_NULLABLE = frozenset({"price_minor", "supply_price_minor"})


def _check_prices(store: Store, principal: Principal, changes: dict[str, object]) -> None:
    """C1: full-managed sellers report a supply price and the operator sets the retail price.

    The check is on which fields a request touches, not on their values: clearing a
    price (null) is changing it, and is the operator's alone in full-managed.
    """
    if store.mode is StoreMode.full_managed:
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
    kept = ["price_minor"] + (
        ["supply_price_minor"] if store.mode is StoreMode.full_managed else []
    )
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
    values = data.model_dump(mode="json")
    product = Product(
        id=new_id("product"),
        currency=store.currency,
        status=ProductStatus.draft,
        created_at=now,
        updated_at=now,
        **values,
    )
    session.add(product)
    audit.record(
        session,
        ctx=ctx,
        subject_type="product",
        subject_id=product.id,
        store_id=store.id,
        action="create",
        to_state=product.status.value,
    )
    await session.flush()
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
    for key, value in changes.items():
        setattr(product, key, value)
    if changes:
        product.updated_at = ctx.clock.now()
        audit.record(
            session,
            ctx=ctx,
            subject_type="product",
            subject_id=product.id,
            store_id=product.store_id,
            action="update",
            data=changes,
        )
    return product


async def set_status(
    session: AsyncSession, *, ctx: Ctx, product_id: str, data: ProductStatusSet
) -> Product:
    """An operator sets a product's review status directly (the review flow comes later, C2)."""
    if not ctx.principal.is_operator:
        raise Forbidden("only an operator sets a product's review status (C2)")
    product = await get_product(session, principal=ctx.principal, product_id=product_id)
    if data.status is ProductStatus.active and product.price_minor is None:
        raise InvalidInput("a product needs a retail price before it can sell", field="status")
    previous = product.status
    product.status = data.status
    product.review_note = data.note
    product.updated_at = ctx.clock.now()
    audit.record(
        session,
        ctx=ctx,
        subject_type="product",
        subject_id=product.id,
        store_id=product.store_id,
        action="set_status",
        from_state=previous.value,
        to_state=data.status.value,
        reason=data.note,
    )
    return product


async def orderable(
    session: AsyncSession, *, store_id: str, product_ids: Sequence[str]
) -> dict[str, Product]:
    """Active, priced products of one store, keyed by id; anything else is refused."""
    found = await repository.products_by_id(session, product_ids)
    for index, product_id in enumerate(product_ids):
        product = found.get(product_id)
        field = f"lines.{index}.product_id"
        if product is None or product.store_id != store_id:
            raise InvalidInput(f"product {product_id} is not sold by this store", field=field)
        if product.status is not ProductStatus.active or product.price_minor is None:
            raise InvalidInput(f"product {product_id} is not on sale", field=field)
    return found


async def products_by_id(session: AsyncSession, ids: Sequence[str]) -> dict[str, Product]:
    """Products keyed by id, whatever their status (an order keeps what it sold)."""
    return await repository.products_by_id(session, ids)

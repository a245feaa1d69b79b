"""Which of a product's values its seller changes only through review (C1, C2).

Full-managed products are always reviewed; semi-managed and self-run ones when their category's
rule says so (``categories.requirements``). Once a product's first review approved it, the
seller's direct changes to what the buyer sees are refused (422 ``reviewed_fields``): they go
into a revision (``review.propose``) while the approved values keep selling. While the first
review waits, they wait too (409 ``review_pending``).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.catalog.categories import requirements
from tuoguan.catalog.models import Product, ProductStatus
from tuoguan.errors import Conflict, InvalidInput
from tuoguan.principal import Principal, Role
from tuoguan.stores.models import Store
from tuoguan.stores.modes import Party, rules

# What the buyer sees of a product (and customs, its declared value): reviewed (C2).
REVIEWED_FIELDS = (
    "name",
    "description",
    "images",
    "category",
    "declared_value_minor",
    "weight_g",
    "length_mm",
    "width_mm",
    "height_mm",
)
SKU_REVIEWED_FIELDS = ("attributes", "barcode", "weight_g", "length_mm", "width_mm", "height_mm")
SUPPLY = "supply_price_minor"  # full-managed: a supply-price change is a new review too (C1)
# Where an operator's reasons may point, beside the fields: ``product`` is the whole.
REASON_FIELDS = frozenset((*REVIEWED_FIELDS, SUPPLY, "skus", "product"))


def platform_prices(store: Store) -> bool:
    """C1: the operator sets the retail price (full-managed)."""
    return rules(store.mode).retail_price_by is Party.platform


def reviewed_fields(store: Store) -> tuple[str, ...]:
    """The product fields reviewed in this store's mode."""
    return REVIEWED_FIELDS + ((SUPPLY,) if rules(store.mode).supply_price else ())


def sku_reviewed_fields(store: Store) -> tuple[str, ...]:
    """The SKU fields reviewed in this store's mode."""
    return SKU_REVIEWED_FIELDS + ((SUPPLY,) if rules(store.mode).supply_price else ())


async def needs_review(session: AsyncSession, store: Store, category: str) -> bool:
    """C2: whether listing a product of this category in this store waits for review."""
    if platform_prices(store):
        return True
    return (await requirements(session, [category]))[category].review_required


async def locked(session: AsyncSession, store: Store, product: Product) -> bool:
    """Whether the product's reviewed values change only through a revision now."""
    return product.approved_at is not None and await needs_review(session, store, product.category)


async def check_seller_change(
    session: AsyncSession,
    *,
    principal: Principal,
    store: Store,
    product: Product,
    fields: Iterable[str],
    sku: bool = False,
    category: str | None = None,
) -> None:
    """Refuse a seller's direct change of reviewed values (operators are not held to it)."""
    if principal.role is not Role.seller:
        return
    # "skus": a SKU added to the product.
    reviewed = sku_reviewed_fields(store) if sku else (*reviewed_fields(store), "skus")
    touched = [name for name in fields if name in reviewed]
    if touched and product.status is ProductStatus.under_review:
        raise Conflict(
            "the product is waiting for its review: change it after the decision",
            field=touched[0],
            rule="review_pending",
        )
    if touched and await locked(session, store, product):
        raise InvalidInput(
            f"{touched[0]} of an approved product changes only through review: propose a "
            "revision (POST /products/{id}/revisions)",
            field=touched[0],
            rule="reviewed_fields",
        )
    on_sale = product.status in (ProductStatus.active, ProductStatus.suspended)
    if (
        category is not None
        and category != product.category
        and on_sale
        and await needs_review(session, store, category)
    ):
        raise InvalidInput(
            f"a product on sale moves into {category}, which needs review, only through "
            "review: delist it, change it, and list it again",
            field="category",
            rule="category_needs_review",
        )

"""API shapes for products."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tuoguan.catalog.models import ProductStatus
from tuoguan.kit.outbound import WebUrl
from tuoguan.principal import Role
from tuoguan.stores.schemas import Name, Strict

Category = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9_\-/]{0,59}$")
]
Minor = Annotated[int, Field(ge=0, le=10**12, strict=True)]
Millimetres = Annotated[int, Field(gt=0, le=5_000, strict=True)]
Grams = Annotated[int, Field(gt=0, le=100_000, strict=True)]


class ProductCreate(Strict):
    store_id: str = Field(min_length=1, max_length=40)
    name: Name
    description: str = Field(default="", max_length=10_000)
    images: list[WebUrl] = Field(default_factory=list, max_length=20)
    category: Category
    price_minor: Minor | None = Field(
        default=None, description="Retail price; not allowed for full-managed stores (C1)."
    )
    supply_price_minor: Minor | None = Field(
        default=None, description="Supply price; full-managed stores only (上报价格)."
    )
    declared_value_minor: Minor
    weight_g: Grams
    length_mm: Millimetres
    width_mm: Millimetres
    height_mm: Millimetres


class ProductUpdate(Strict):
    name: Name | None = None
    description: str | None = Field(default=None, max_length=10_000)
    images: list[WebUrl] | None = Field(default=None, max_length=20)
    category: Category | None = None
    price_minor: Minor | None = None
    supply_price_minor: Minor | None = None
    declared_value_minor: Minor | None = None
    weight_g: Grams | None = None
    length_mm: Millimetres | None = None
    width_mm: Millimetres | None = None
    height_mm: Millimetres | None = None


class ProductStatusSet(Strict):
    status: ProductStatus
    note: str | None = Field(default=None, max_length=500)


class ProductRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    store_id: str
    name: str
    description: str
    images: list[str]
    category: str
    currency: str
    price_minor: int | None
    supply_price_minor: int | None
    declared_value_minor: int
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    status: ProductStatus
    review_note: str | None
    created_at: datetime
    updated_at: datetime
    version: int


class PublicProductRead(BaseModel):
    """A product as the storefront lists it: what the buyer sees and pays (C1); never the supply
    price, the declared customs value or the review notes."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    store_id: str
    name: str
    description: str
    images: list[str]
    category: str
    currency: str
    price_minor: int | None
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int


ProductView = ProductRead | PublicProductRead

PRODUCT_VIEWS: dict[Role, type[ProductView]] = {
    Role.operator: ProductRead,
    Role.seller: ProductRead,
    Role.buyer_channel: PublicProductRead,
}
"""Each role's view of a product: a seller's own (supply price included) and operators' all;
carriers do not read the catalog."""

"""API shapes for products and their SKUs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from tuoguan.catalog.models import ProductStatus
from tuoguan.kit.outbound import WebUrl
from tuoguan.principal import Role
from tuoguan.stores.schemas import Name, Storable, Strict

Category = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9_\-/]{0,59}$")
]
Minor = Annotated[int, Field(ge=0, le=10**12, strict=True)]
Millimetres = Annotated[int, Field(gt=0, le=5_000, strict=True)]
Grams = Annotated[int, Field(gt=0, le=100_000, strict=True)]
MAX_SKUS = 100
"""SKUs one product may have (C3)."""
# The seller's code for a variant (商家编码); a product's default SKU takes the product's id.
SkuCode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,63}$")
]
# What a scanner types: EAN/UPC digits, or the seller's own printable code.
Barcode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[!-~]{1,64}$")]
AttributeName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30), Storable
]
AttributeValue = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60), Storable
]
Attributes = Annotated[
    dict[AttributeName, AttributeValue],
    Field(
        max_length=10,
        description='Up to 10 attribute name -> value pairs, e.g. {"colour": "red"} (规格).',
    ),
]


class SkuCreate(Strict):
    """One variant of a product (C3); unset weight, size and supply price are the product's."""

    code: SkuCode = Field(description="The seller's code for the variant, unique in the store.")
    attributes: Attributes = Field(default_factory=dict)
    barcode: Barcode | None = Field(default=None, description="Unique in the store.")
    weight_g: Grams | None = None
    length_mm: Millimetres | None = None
    width_mm: Millimetres | None = None
    height_mm: Millimetres | None = None
    supply_price_minor: Minor | None = Field(
        default=None, description="This variant's supply price; full-managed stores only."
    )


class SkuUpdate(Strict):
    """Changes to a SKU; its code stays. Null clears the barcode, weight, size or supply price
    (the product's then apply)."""

    attributes: Attributes | None = None
    barcode: Barcode | None = None
    weight_g: Grams | None = None
    length_mm: Millimetres | None = None
    width_mm: Millimetres | None = None
    height_mm: Millimetres | None = None
    supply_price_minor: Minor | None = None
    active: bool | None = Field(default=None, strict=True)


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
    skus: list[SkuCreate] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_SKUS,
        description="The product's SKUs (C3); absent, one SKU whose code is the product's id.",
    )


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


Days = Annotated[list[int], Field(min_length=2, max_length=2)]


class ShippingPeriod(BaseModel):
    """F7: how long the product takes to reach the buyer, in business days, as [fewest, most]:
    to leave (the store's ship promise, or the platform warehouse's ship time for full-managed
    products) and in transit to the buyer's country (the logistics services' zones that carry
    it there, else the lane's transit days, F2)."""

    ship_days: Days = Field(description="[min, max] business days until it ships.")
    transit_days: Days = Field(description="[min, max] business days in transit.")
    total_days: Days = Field(description="[min, max] business days from order to delivery.")
    ships_from: str = Field(description="The country it ships from (ISO 3166 alpha-2).")
    country: str | None = Field(
        description="The buyer's country the transit is for (``?country=``); null: any (F2's "
        "range)."
    )


class SkuRead(BaseModel):
    """A SKU as its seller and the operators see it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    product_id: str
    store_id: str
    position: int
    code: str
    attributes: dict[str, str]
    barcode: str | None
    weight_g: int | None
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None
    supply_price_minor: int | None
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int


class PublicSkuRead(BaseModel):
    """A SKU as the storefront shows it (active ones only): never the supply price, nor the
    seller's own code."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    product_id: str
    attributes: dict[str, str]
    barcode: str | None
    weight_g: int | None
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None


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
    approved_at: datetime | None = Field(
        description="When its first review approved it (C2): from then on a full-managed "
        "product, or one whose category needs review, changes what buyers see only through a "
        "reviewed revision."
    )
    listed_at: datetime | None = Field(description="When it last went on sale.")
    pending_revision_id: str | None = Field(
        description="The revision waiting for an operator's decision, if any."
    )
    review_reasons: dict[str, str] = Field(
        description="The last rejection's reasons by field, until the next submission."
    )
    suspended_reason: str | None = Field(description="Why an operator suspended its sale.")
    created_at: datetime
    updated_at: datetime
    version: int
    skus: list[SkuRead] = Field(description="Its SKUs in the order they were added (C3).")
    shipping_period: ShippingPeriod | None = Field(
        default=None, description="F7: the storefront's shipping period (on reads)."
    )

    @field_validator("review_reasons", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return {} if value is None else value


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
    skus: list[PublicSkuRead] = Field(description="The SKUs a buyer may order (C3).")
    shipping_period: ShippingPeriod | None = Field(
        default=None,
        description="F7: business days to ship and in transit to ``?country=`` (null: the "
        "store cannot ship it now, e.g. no platform warehouse).",
    )

    @field_validator("skus", mode="before")
    @classmethod
    def _on_sale(cls, skus: object) -> object:
        """Only the SKUs a buyer may choose: the active ones (a row already shaped is kept)."""
        if isinstance(skus, list):
            return [sku for sku in skus if getattr(sku, "active", True)]
        return skus


ProductView = ProductRead | PublicProductRead

PRODUCT_VIEWS: dict[Role, type[ProductView]] = {
    Role.operator: ProductRead,
    Role.seller: ProductRead,
    Role.buyer_channel: PublicProductRead,
}
"""Each role's view of a product: a seller's own (supply price included) and operators' all;
carriers do not read the catalog."""

SkuView = SkuRead | PublicSkuRead

SKU_VIEWS: dict[Role, type[SkuView]] = {
    Role.operator: SkuRead,
    Role.seller: SkuRead,
    Role.buyer_channel: PublicSkuRead,
}
"""Each role's view of a SKU, as of its product (``PRODUCT_VIEWS``)."""

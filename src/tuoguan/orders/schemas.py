"""API shapes for orders."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AliasChoices, AliasPath, BaseModel, ConfigDict, Field, StringConstraints

from tuoguan.orders.states import OrderAction, OrderStatus
from tuoguan.principal import Role
from tuoguan.stores.models import StoreMode
from tuoguan.stores.schemas import Address, CurrencyCode, Strict

__all__ = ["Address"]

TRACKING_PATTERN = r"^[A-Z0-9]{8,30}$"
CARRIER_PATTERN = r"^[a-z0-9][a-z0-9_\-]{1,31}$"
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
# The languages the storefront's buyers are told things in (``kit.i18n.LANGUAGES``).
BuyerLocale = Literal["zh-CN", "en"]


class LineCreate(Strict):
    product_id: str = Field(min_length=1, max_length=40)
    sku_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description="The SKU bought (C3); may be left out when the product has one on sale.",
    )
    quantity: int = Field(ge=1, le=10_000, strict=True)


class OrderCreate(Strict):
    store_id: str = Field(min_length=1, max_length=40)
    currency: CurrencyCode
    lines: list[LineCreate] = Field(min_length=1, max_length=100)
    address: Address
    shipping_minor: int = Field(default=0, ge=0, le=10**9, strict=True)
    buyer_ref: str | None = Field(default=None, max_length=64)
    buyer_locale: BuyerLocale | None = Field(
        default=None,
        description="The buyer's language (zh-CN or en) for what the storefront is told to "
        "pass on, e.g. why a parcel was cancelled (O6); none: English.",
    )


class ShipBody(Strict):
    """F9: the carrier and tracking number the buyer will track with."""

    carrier_code: Annotated[str, StringConstraints(pattern=CARRIER_PATTERN)] = Field(
        description="Carrier code, lower-case letters, digits, '-' or '_'."
    )
    tracking_number: Annotated[str, StringConstraints(pattern=TRACKING_PATTERN)] = Field(
        description="8-30 upper-case letters and digits."
    )


class CancelBody(Strict):
    reason: Reason


class ActionBody(Strict):
    """For actions that need nothing but an optional note."""

    reason: Reason | None = None


class OrderLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    product_id: str
    sku_id: str
    attributes: dict[str, str] = Field(
        # read from the line's SKU, or from a line already shaped
        validation_alias=AliasChoices("attributes", AliasPath("sku", "attributes")),
        description="The SKU's attributes, e.g. colour and size (C3).",
    )
    name: str
    quantity: int
    unit_price_minor: int
    line_total_minor: int


class Deadline(BaseModel):
    kind: str
    at: datetime
    timezone: str
    seconds_left: int


class DeadlineExplanation(BaseModel):
    """How one deadline was computed (``tuoguan sla explain``)."""

    kind: str
    rule: str = Field(description="The SPEC rule it follows, e.g. F1.")
    at: datetime | None
    steps: list[str]


class OrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    store_id: str
    seller_id: str
    mode: StoreMode
    status: OrderStatus
    currency: str
    subtotal_minor: int
    shipping_minor: int
    total_minor: int
    buyer_ref: str | None
    recipient_name: str
    recipient_phone: str
    address_line1: str
    address_line2: str | None
    city: str
    region: str | None
    postcode: str | None
    country: str
    carrier_code: str | None
    tracking_number: str | None
    placed_at: datetime
    confirm_by: datetime | None
    ship_by: datetime | None
    deliver_by: datetime | None
    auto_complete_at: datetime | None
    deadline_missed_at: datetime | None = Field(
        description="When the running deadline was recorded as missed (a breach), if it was."
    )
    next_deadline: Deadline | None = None
    deadlines: list[Deadline] = Field(
        default_factory=list, description="Every deadline, each in the zone it applies to."
    )
    confirmed_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    allowed_actions: list[OrderAction] = Field(default_factory=list)
    version: int
    lines: list[OrderLineRead]


class OrderSort(StrEnum):
    newest = "newest"
    deadline = "deadline"


class OrderPage(BaseModel):
    items: list[OrderRead]
    next_cursor: str | None


class BuyerOrderRead(BaseModel):
    """The storefront's view of an order: what the buyer bought and paid, where it goes, its
    tracking (F9) and its delivery promise; never the seller's deadlines or breach flags."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    store_id: str
    status: OrderStatus
    currency: str
    subtotal_minor: int
    shipping_minor: int
    total_minor: int
    buyer_ref: str | None
    buyer_locale: BuyerLocale | None = Field(
        description="The buyer's language for what the storefront is told (O6); none: English."
    )
    recipient_name: str
    recipient_phone: str
    address_line1: str
    address_line2: str | None
    city: str
    region: str | None
    postcode: str | None
    country: str
    carrier_code: str | None
    tracking_number: str | None
    placed_at: datetime
    deliver_by: datetime | None = Field(description="The delivery promise (F2).")
    auto_complete_at: datetime | None = Field(
        description="When receipt is confirmed unless the buyer does it first (O3)."
    )
    confirmed_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    allowed_actions: list[OrderAction] = Field(default_factory=list)
    version: int
    lines: list[OrderLineRead]


class ParcelLineRead(BaseModel):
    """What is in the parcel, without its price."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    quantity: int


class CarrierOrderRead(BaseModel):
    """A carrier's view of an order it carries: where the parcel goes, what is in it and what
    the carrier may do; no prices, no seller deadlines."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    status: OrderStatus
    recipient_name: str
    recipient_phone: str
    address_line1: str
    address_line2: str | None
    city: str
    region: str | None
    postcode: str | None
    country: str
    carrier_code: str | None
    tracking_number: str | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    allowed_actions: list[OrderAction] = Field(default_factory=list)
    version: int
    lines: list[ParcelLineRead]


class BuyerOrderPage(BaseModel):
    items: list[BuyerOrderRead]
    next_cursor: str | None


class CarrierOrderPage(BaseModel):
    items: list[CarrierOrderRead]
    next_cursor: str | None


OrderView = OrderRead | BuyerOrderRead | CarrierOrderRead
OrderPageView = OrderPage | BuyerOrderPage | CarrierOrderPage

ORDER_VIEWS: dict[Role, type[OrderView]] = {
    Role.operator: OrderRead,
    Role.seller: OrderRead,
    Role.system: OrderRead,
    Role.carrier: CarrierOrderRead,
    Role.buyer_channel: BuyerOrderRead,
}
"""Each role's view of an order: sellers (their own) and operators everything."""

ORDER_PAGES: dict[Role, type[OrderPageView]] = {
    Role.operator: OrderPage,
    Role.seller: OrderPage,
    Role.system: OrderPage,
    Role.carrier: CarrierOrderPage,
    Role.buyer_channel: BuyerOrderPage,
}


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    action: str
    from_state: str | None
    to_state: str | None
    actor_id: str
    actor_role: str
    reason: str | None
    request_id: str | None
    at: datetime
    data: dict[str, object]

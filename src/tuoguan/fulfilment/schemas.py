"""API shapes for fulfilment orders and supply orders (备货单)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tuoguan.fulfilment.models import FulfilmentStatus, SupplyStatus
from tuoguan.orders.schemas import Reason
from tuoguan.stores.modes import Party
from tuoguan.stores.schemas import Strict


class FulfilmentLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    order_line_id: str
    sku_id: str
    quantity: int


class FulfilmentOrderRead(BaseModel):
    """The part of a buyer order one warehouse fulfils, and who ships it (M1, F11)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    order_id: str
    store_id: str
    warehouse_id: str | None = Field(
        description="Where it ships from; null when the seller ships from an address that is "
        "not registered as a warehouse."
    )
    shipper: Party
    status: FulfilmentStatus
    ship_by: datetime | None = Field(
        description="The platform's ship deadline from the warehouse (F11), once stock is held."
    )
    reserved_at: datetime | None
    picked_at: datetime | None
    shipped_at: datetime | None
    created_at: datetime
    lines: list[FulfilmentLineRead]


class SupplyLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku_id: str
    quantity: int
    supply_price_minor: int | None = Field(
        description="The SKU's supply price when the supply order was made (the product's when "
        "the SKU has none), in minor units of ``currency``."
    )


class SupplyOrderRead(BaseModel):
    """A supply order (备货单): what the platform asks a full-managed seller to send to its
    warehouse for a buyer order it cannot serve from stock (O2 × M5)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    order_id: str
    fulfilment_order_id: str
    store_id: str
    seller_id: str
    warehouse_id: str = Field(description="The warehouse the goods go to.")
    status: SupplyStatus
    currency: str
    confirm_by: datetime = Field(description="O2: 24 hours after the buyer order was placed.")
    confirm_seconds_left: int | None = Field(
        description="While it awaits confirmation: the time left to confirm it, counted at this "
        "request (negative once late)."
    )
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    lines: list[SupplyLineRead]


class SupplyCancelBody(Strict):
    """Why the operator cancels a supply order (the buyer order is cancelled with it)."""

    reason: Reason

"""API shapes for the platform shipping from its warehouse: quotes from the warehouse's origin and
the parcel it ships (F8, F11)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from tuoguan.fulfilment.picking_schemas import PickOrderRead
from tuoguan.shipping.schemas import ParcelIn, ParcelRead, QuoteLineRead, ServiceOption
from tuoguan.stores.modes import Party
from tuoguan.stores.schemas import Strict


class WarehouseQuoteCreate(Strict):
    """The packed parcel, if measured (else estimated from the products), and whether to insure."""

    parcel: ParcelIn | None = Field(default=None, description="Measured; else estimated.")
    insure: bool = Field(default=False, strict=True)


class SenderRead(BaseModel):
    """Where the parcel leaves from, as the label prints it: the warehouse's address."""

    name: str | None = None
    phone: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postcode: str | None = None
    country: str


class WarehouseOptions(BaseModel):
    """F8 step 2 from the warehouse (F11): every service for the parcel leaving the warehouse's
    country, allowed ones itemized and cheapest first, refused ones with every reason."""

    fulfilment_order_id: str
    order_id: str
    warehouse_id: str
    origin_country: str = Field(description="The warehouse's country: where the parcel leaves.")
    sender: SenderRead
    parcel: ParcelRead
    options: list[ServiceOption]


class WarehouseParcelRead(BaseModel):
    """The parcel the platform ships from its warehouse and pays for (F11)."""

    id: str = Field(description="The shipment's id.")
    order_id: str
    warehouse_id: str
    payer: Party = Field(description="Who pays the carrier: the platform, never the seller.")
    service_code: str
    carrier_code: str
    tracking_number: str
    status: str
    sender: SenderRead
    weight_g: int
    currency: str
    insured: bool
    quote_lines: list[QuoteLineRead]
    quote_total_minor: int = Field(description="What the platform pays the carrier (G1).")
    created_at: datetime
    submitted_at: datetime | None
    label_pdf: str = Field(description="Where the label (面单) prints, for the warehouse's staff.")


class WarehouseShipped(BaseModel):
    """The fulfilment order, shipped, and its parcel."""

    fulfilment_order: PickOrderRead
    shipment: WarehouseParcelRead

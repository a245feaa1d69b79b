"""API shapes for inbound notices (ASN, 入库单), receiving counts and the stale-inbound report
(R1, R2, R4)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tuoguan.fulfilment.models import DiscrepancyKind, InboundStatus
from tuoguan.stores.schemas import Strict

MAX_LINES = 500
MAX_UNITS = 100_000
MAX_CARTONS = 999
MAX_COUNTS = 200

ObjectId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
# What a scanner types, or a person: a SKU id, its code (商家编码) or its barcode.
Scanned = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
CarrierName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# Stored upper-case, so a number typed in lower case finds the notice too.
TrackingNumber = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9\-]{3,63}$"
    ),
]
Quantity = Annotated[int, Field(ge=1, le=MAX_UNITS, strict=True)]
Cartons = Annotated[int, Field(ge=1, le=MAX_CARTONS, strict=True)]
Counted = Annotated[int, Field(ge=0, le=MAX_UNITS, strict=True)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]

TRACKING_HELP = "The carrier's tracking number (letters, digits, dashes); stored upper-case."
SUPPLY_HELP = (
    "The supply order (备货单) this notice answers: the seller's, confirmed, for this warehouse; "
    "the lines are its SKUs."
)


class InboundLineCreate(Strict):
    """One SKU of the store and how many units are sent."""

    sku_id: ObjectId
    quantity: Quantity


class InboundNoticeCreate(Strict):
    """A draft inbound notice: what the store sends to which warehouse, in how many cartons."""

    store_id: ObjectId
    warehouse_id: ObjectId = Field(
        description="A platform or third-party warehouse that receives stock, or the seller's own."
    )
    lines: list[InboundLineCreate] = Field(min_length=1, max_length=MAX_LINES)
    cartons: Cartons = 1
    supply_order_id: ObjectId | None = Field(default=None, description=SUPPLY_HELP)
    carrier_name: CarrierName | None = None
    tracking_number: TrackingNumber | None = Field(default=None, description=TRACKING_HELP)


class InboundNoticeUpdate(Strict):
    """Changes to a draft; a field left out stays, ``null`` clears an optional one. ``lines``
    replaces all the lines."""

    warehouse_id: ObjectId | None = None
    lines: list[InboundLineCreate] | None = Field(default=None, min_length=1, max_length=MAX_LINES)
    cartons: Cartons | None = None
    supply_order_id: ObjectId | None = Field(default=None, description=SUPPLY_HELP)
    carrier_name: CarrierName | None = None
    tracking_number: TrackingNumber | None = Field(default=None, description=TRACKING_HELP)


class DiscrepancyNote(Strict):
    """Why a count differs from the notice: ``over`` (多货), ``wrong_sku`` (错货) or
    ``damaged`` (破损); ``short`` (少货) is recorded at close."""

    kind: DiscrepancyKind
    note: Note | None = None


class CountLine(Strict):
    """Units counted of one SKU, named by its id or by the code or barcode as scanned."""

    sku_id: ObjectId | None = None
    code: Scanned | None = Field(
        default=None, description="The SKU's id, code (商家编码) or barcode, as scanned or typed."
    )
    good: Counted = 0
    defective: Counted = Field(default=0, description="Units found damaged: kept apart (次品).")
    discrepancy: DiscrepancyNote | None = None


class CountsCreate(Strict):
    """One or more counts; each adds to what was counted before (a scanner counts one by one)."""

    counts: list[CountLine] = Field(min_length=1, max_length=MAX_COUNTS)


class InboundLineRead(BaseModel):
    """A SKU announced on a notice and what receiving counted of it."""

    sku_id: str
    sku_code: str
    barcode: str | None
    product_id: str
    product_name: str
    attributes: dict[str, str]
    expected: int
    received_good: int
    received_defective: int
    outstanding: int = Field(description="Announced units not counted yet (0 once reached).")


class PhotoRead(BaseModel):
    """A photo of a discrepancy; ``url`` serves it to the notice's seller, operators and the
    warehouse's staff."""

    n: int
    name: str
    content_type: str
    size: int
    sha256: str
    url: str


class DiscrepancyRead(BaseModel):
    """A receiving discrepancy with who recorded it and when (the input of R2-R3 cases)."""

    id: str
    kind: DiscrepancyKind
    sku_id: str | None
    scanned_code: str | None
    expected: int
    counted: int
    note: str | None
    photos: list[PhotoRead]
    recorded_by: str
    recorded_at: datetime


class InboundNoticeRead(BaseModel):
    """An inbound notice (ASN) with its lines, its discrepancies and the caller's next steps."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    store_id: str
    store_name: str
    seller_id: str
    warehouse_id: str
    warehouse_code: str
    warehouse_name: str
    supply_order_id: str | None
    status: InboundStatus
    cartons: int
    carrier_name: str | None
    tracking_number: str | None
    shipped_at: datetime | None
    arrived_at: datetime | None
    received_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    units_expected: int
    units_counted: int
    lines: list[InboundLineRead]
    discrepancies: list[DiscrepancyRead]
    allowed_actions: list[str] = Field(
        description="What the caller may do next (send, cancel, arrive, count, close...)."
    )


class StaleInboundRow(BaseModel):
    """A notice in transit for longer than the report's days (R4)."""

    id: str
    seller_id: str
    store_id: str
    warehouse_id: str
    carrier_name: str | None
    tracking_number: str | None
    shipped_at: datetime
    days_in_transit: int


class StaleBySeller(BaseModel):
    seller_id: str
    seller_name: str
    notices: int
    oldest_shipped_at: datetime


class StaleByCarrier(BaseModel):
    carrier_name: str | None
    notices: int
    oldest_shipped_at: datetime


class StaleInboundReport(BaseModel):
    """R4: inbound shipped more than ``days`` ago and not arrived, by seller and by carrier
    (repeat offenders first), then the notices themselves, oldest first, a page at a time."""

    days: int
    as_of: datetime
    shipped_before: datetime
    total: int
    by_seller: list[StaleBySeller]
    by_carrier: list[StaleByCarrier]
    rows: list[StaleInboundRow]
    next_cursor: str | None = Field(description="Pass as ``cursor`` for the next rows.")

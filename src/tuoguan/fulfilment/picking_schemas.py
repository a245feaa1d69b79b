"""API shapes for the warehouse's pick list and picking (拣货, F11, C3)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from tuoguan.fulfilment.models import FulfilmentStatus
from tuoguan.stores.schemas import Strict

MAX_SCANS = 500
MAX_UNITS = 100_000

# What a scanner types, or a person: a SKU id, its code (商家编码) or its barcode.
Scanned = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class PickLineRead(BaseModel):
    """One SKU to take from the shelf, with what the picker reads and scans."""

    sku_id: str
    sku_code: str = Field(description="The seller's code for the variant (商家编码).")
    barcode: str | None
    attributes: dict[str, str] = Field(description="The variant (规格), e.g. colour and size.")
    product_id: str
    product_name: str
    quantity: int


class PickOrderRead(BaseModel):
    """A fulfilment order on a warehouse's pick list: what to pick and pack, and by when."""

    id: str
    order_id: str
    store_id: str
    warehouse_id: str
    status: FulfilmentStatus
    ship_by: datetime | None = Field(
        description="The platform's ship deadline from the warehouse (F11)."
    )
    reserved_at: datetime | None
    picked_at: datetime | None
    shipped_at: datetime | None
    units: int = Field(description="Units to pick, all lines together.")
    lines: list[PickLineRead]


class PickedItem(Strict):
    """Units of one SKU as scanned at the packing bench."""

    code: Scanned = Field(description="The SKU's id, code (商家编码) or barcode, as scanned.")
    quantity: int = Field(default=1, ge=1, le=MAX_UNITS, strict=True)


class PickCreate(Strict):
    """Optionally, what was scanned: it must match the fulfilment order's lines exactly, SKU by
    SKU and unit by unit (C3); a SKU scanned several times adds up."""

    items: list[PickedItem] | None = Field(default=None, min_length=1, max_length=MAX_SCANS)

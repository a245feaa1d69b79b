"""API shapes for warehouses and stock."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from tuoguan.inventory.models import MoveKind, WarehouseKind, WarehouseOwner
from tuoguan.stores.schemas import Address, CountryCode, Name, Strict

WarehouseCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9\-]{1,15}$"),
]
ShipDays = Annotated[int, Field(ge=1, le=3, strict=True)]
ClosedDays = Annotated[
    list[date],
    Field(
        max_length=366,
        description="Days the warehouse does not work, on top of its country's public holidays.",
    ),
]
CUTOFF_HELP = (
    "Warehouse-local time of day, HH:MM (no offset): work arriving at or after it is taken in "
    "on the next business day (F11)."
)
Cutoff = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
]
# One move never changes a bucket by more than this (a container is far less).
MAX_DELTA = 1_000_000
Delta = Annotated[int, Field(ge=-MAX_DELTA, le=MAX_DELTA, strict=True)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class WarehouseCreate(Strict):
    """A warehouse. Sellers register their own origin or overseas warehouses only."""

    code: WarehouseCode = Field(description="Short and unique, e.g. DG1.")
    name: Name
    owner: WarehouseOwner
    seller_id: str | None = Field(
        default=None, max_length=40, description="The owning seller (owner=seller only)."
    )
    kind: WarehouseKind
    address: Address
    country: CountryCode
    timezone: str | None = Field(
        default=None, max_length=64, description="IANA zone; the country's by default."
    )
    closed_days: ClosedDays = Field(default_factory=list)
    pickup_cutoff: Cutoff = Field(default="16:00", description=CUTOFF_HELP)
    ship_days: ShipDays = Field(
        default=2, description="The platform's ship deadline from here, in business days (F11)."
    )
    active: bool = Field(default=True, strict=True)


class WarehouseUpdate(Strict):
    """Changes to a warehouse; its code, owner, kind and place stay."""

    name: Name | None = None
    address: Address | None = None
    closed_days: ClosedDays | None = None
    pickup_cutoff: Cutoff | None = Field(default=None, description=CUTOFF_HELP)
    ship_days: ShipDays | None = None
    active: bool | None = Field(default=None, strict=True)


class WarehouseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    code: str
    name: str
    owner: WarehouseOwner
    seller_id: str | None
    kind: WarehouseKind
    address: Address
    country: str
    timezone: str
    closed_days: list[date]
    pickup_cutoff: str = Field(description=CUTOFF_HELP)
    ship_days: int
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int

    @field_validator("pickup_cutoff", mode="before")
    @classmethod
    def _hh_mm(cls, value: object) -> object:
        return value.strftime("%H:%M") if isinstance(value, time) else value


class StockRead(BaseModel):
    """The stock of one SKU in one warehouse (M5)."""

    model_config = ConfigDict(from_attributes=True)

    warehouse_id: str
    sku_id: str
    store_id: str
    on_hand: int = Field(description="Good units in the warehouse, reserved ones included.")
    reserved: int = Field(description="Units held for orders.")
    available: int = Field(description="on_hand - reserved: what can still be sold.")
    defective: int = Field(description="Damaged units, kept apart.")
    inbound: int = Field(description="Announced by inbound notices, not yet received.")
    updated_at: datetime


class StockMoveRead(BaseModel):
    """One row of the stock ledger: the deltas of each bucket, who and why."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    warehouse_id: str
    sku_id: str
    store_id: str
    kind: MoveKind
    quantity: int | None = Field(description="The units the move is about; null for an adjustment.")
    on_hand: int
    reserved: int
    defective: int
    inbound: int
    reason: str | None
    actor_id: str
    actor_role: str
    ref_type: str | None
    ref_id: str | None
    created_at: datetime


class StockAdjustmentCreate(Strict):
    """An operator's count correction (盘点调整): a delta per bucket and why (M5)."""

    warehouse_id: str = Field(min_length=1, max_length=40)
    sku_id: str = Field(min_length=1, max_length=40)
    on_hand: Delta = 0
    defective: Delta = 0
    inbound: Delta = 0
    reason: Reason


class StockAdjusted(BaseModel):
    """The ledger row an adjustment wrote and the balance after it."""

    move: StockMoveRead
    stock: StockRead

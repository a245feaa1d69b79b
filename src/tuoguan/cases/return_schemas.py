"""What the after-sales API takes and gives: a buyer's return, its authorization (the label),
its receipt, and the return parcel as a case reads it (G6)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from tuoguan.stores.schemas import Strict

Said = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Condition = Literal["resellable", "damaged", "wrong_item"]


class ReturnCreate(Strict):
    """A buyer's return of a delivered order (G6), asked by the storefront within the return
    window after delivery."""

    order_id: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    cause: Literal["not_as_described", "damaged", "wrong_item", "not_wanted"]
    summary: Said


class ReturnAuthorize(Strict):
    """Authorize the return: a return label is booked with the carrier, from the buyer to the
    platform's warehouse that shipped the order or to the seller."""

    service_code: (
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,31}$")] | None
    ) = Field(
        default=None,
        description="The logistics service of the return; the outbound parcel's when left out.",
    )
    note: Note | None = None


class ReturnReceipt(Strict):
    """The return arrived: what came back, as inspected."""

    condition: Condition = Field(
        description="resellable: back on hand; damaged: kept as defective (full-managed goods "
        "at the platform's warehouse, on the seller's books unless the platform bore the "
        "refund in the exemption); wrong_item: not what was sold (nothing taken back)."
    )
    note: Note | None = None


class ReturnRead(BaseModel):
    """A return parcel: where it goes, the carrier's tracking, and its receipt."""

    destination: Literal["warehouse", "seller"]
    ship_to: dict[str, object] = Field(description="The address the buyer sends the parcel to.")
    carrier_code: str
    service_code: str
    tracking_number: str
    label_url: str | None = Field(
        description="The return label (PDF, or the carrier's own format); none for warehouse "
        "staff, who receive the parcel rather than send it."
    )
    authorized_at: datetime
    received_at: datetime | None
    condition: Condition | None
    received_note: str | None

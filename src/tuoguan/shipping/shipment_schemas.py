"""API shapes for shipments: booking a parcel with a service, its pickup and cancellation, what
each party sees of it and its tracking (F8-F10), and claims on insured parcels (G3)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tuoguan.kit.clock import UTCInstant
from tuoguan.kit.outbound import WebUrl
from tuoguan.principal import Role
from tuoguan.shipping.models import ClaimKind, ClaimStatus
from tuoguan.shipping.rates import Code
from tuoguan.shipping.schemas import Note, ParcelIn, QuoteLineRead
from tuoguan.stores.modes import Party
from tuoguan.stores.schemas import Strict


class CancelReason(StrEnum):
    """F10: why a shipment is cancelled (取消发货原因)."""

    wrong_product_info = "wrong_product_info"  # 商品信息错误
    buyer_cancelled = "buyer_cancelled"  # 买家取消 (abnormal order)
    return_ = "return"  # 退货
    logistics_problem = "logistics_problem"  # 物流问题 (delay, damage)


class ShipmentCreate(Strict):
    """F8 step 3: ship an order with one service; the carrier assigns the tracking number."""

    service_code: Code
    parcel: ParcelIn | None = Field(default=None, description="Measured; else estimated.")
    insure: bool = Field(default=False, strict=True)
    expected_total_minor: int | None = Field(
        default=None,
        ge=0,
        strict=True,
        description="The quote total the seller accepted; 409 if the price moved since.",
    )


class PickupCreate(Strict):
    """F8 step 5: when and where the carrier collects the parcel."""

    window_from: UTCInstant
    window_until: UTCInstant
    place: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class ShipmentCancel(Strict):
    """F10: ask the carrier to cancel; the shipment waits for its answer."""

    reason: CancelReason
    note: Note | None = None


class TrackingEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    occurred_at: datetime
    location: str | None
    detail: str | None


class ShipmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    order_id: str
    store_id: str
    service_code: str
    carrier_code: str
    tracking_number: str
    status: str
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    declared_value_minor: int
    currency: str
    insured: bool
    payer: Party = Field(
        description="Who pays the carrier: the seller, or the platform whose warehouse ships (F11)."
    )
    warehouse_id: str | None = Field(description="The warehouse it left from, if it did.")
    rate_card_id: str
    zone: str
    quote_lines: list[QuoteLineRead]
    quote_total_minor: int
    charged_weight_g: int | None
    charged_lines: list[QuoteLineRead] | None
    charged_total_minor: int | None
    charge_difference: list[QuoteLineRead] = Field(
        default_factory=list, description="G1: what the reweigh changed, line by line."
    )
    handover: str | None
    pickup_ref: str | None
    pickup_from: datetime | None
    pickup_until: datetime | None
    pickup_place: str | None
    handover_by: datetime | None
    commit_by: datetime | None
    created_at: datetime
    submitted_at: datetime | None
    picked_up_at: datetime | None
    delivered_at: datetime | None
    cancel_reason: str | None
    cancel_note: str | None
    cancel_requested_at: datetime | None
    cancel_answered_at: datetime | None
    missing_glyphs: list[str] = Field(
        default_factory=list, description="Address characters the label fonts cannot print."
    )
    allowed_actions: list[str] = Field(default_factory=list)
    version: int


class CarrierShipmentRead(BaseModel):
    """A parcel as the carrier that carries it sees it: what, how heavy, where and when it is
    handed over, and its own commitment (G2); no quotes, charges or rate cards."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    order_id: str
    service_code: str
    carrier_code: str
    tracking_number: str
    status: str
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    declared_value_minor: int = Field(description="The customs value declared on the parcel.")
    currency: str
    insured: bool
    handover: str | None
    pickup_ref: str | None
    pickup_from: datetime | None
    pickup_until: datetime | None
    pickup_place: str | None
    handover_by: datetime | None
    commit_by: datetime | None
    created_at: datetime
    submitted_at: datetime | None
    picked_up_at: datetime | None
    delivered_at: datetime | None
    cancel_reason: str | None
    cancel_requested_at: datetime | None
    cancel_answered_at: datetime | None
    allowed_actions: list[str] = Field(default_factory=list)
    version: int


class BuyerShipmentRead(BaseModel):
    """A parcel as the storefront shows it to the buyer: the carrier and tracking number (F9),
    where it is, and why it was cancelled if it was (O6)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    order_id: str
    carrier_code: str
    tracking_number: str
    status: str
    created_at: datetime
    submitted_at: datetime | None
    picked_up_at: datetime | None
    delivered_at: datetime | None
    cancel_reason: str | None


ShipmentView = ShipmentRead | CarrierShipmentRead | BuyerShipmentRead

SHIPMENT_VIEWS: dict[Role, type[ShipmentView]] = {
    Role.operator: ShipmentRead,
    Role.seller: ShipmentRead,
    Role.system: ShipmentRead,
    Role.carrier: CarrierShipmentRead,
    Role.buyer_channel: BuyerShipmentRead,
}
"""Each role's view of a shipment: the seller (its own) and operators everything."""


class PushResult(BaseModel):
    accepted: int
    duplicates: int


# A photo or document the seller links to: shown to operators, never fetched by the server.
Evidence = WebUrl


class ClaimCreate(Strict):
    """G3: claim on an insured parcel's loss or damage, with evidence (photo or document URLs)."""

    kind: ClaimKind
    amount_minor: int = Field(
        ge=1, le=10**12, strict=True, description="At most the insured cover."
    )
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)
    ]
    evidence: list[Evidence] = Field(min_length=1, max_length=10)


class ClaimApprove(Strict):
    amount_minor: int = Field(ge=1, le=10**12, strict=True, description="At most what was claimed.")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class ClaimReject(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class ClaimRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    shipment_id: str
    order_id: str
    kind: ClaimKind
    status: ClaimStatus
    currency: str
    claimed_minor: int
    cover_minor: int
    approved_minor: int | None
    description: str
    evidence: list[str]
    decision_reason: str | None
    filed_at: datetime
    decided_at: datetime | None
    version: int

"""The one interface every carrier plugs in through (F8, F9, F10).

An adapter turns these calls into the carrier's own API and the carrier's
answers back into these values; nothing else in tuoguan knows a carrier's
wire format. Cancellation is a request: the carrier's answer is a ``cancelled`` or
``cancel_refused`` event, pushed or polled like any tracking event, or
returned at once by a carrier whose API answers synchronously.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from tuoguan.errors import DomainError

# Carrier answers that are not parcel movements.
CANCELLED = "cancelled"
CANCEL_REFUSED = "cancel_refused"


class CarrierRefused(DomainError):
    """The carrier said no (bad address, overweight...): the seller can fix and retry."""

    code = "carrier_refused"
    http_status = 422
    title = "The carrier refused the request"


class CarrierUnavailable(DomainError):
    """The carrier could not be reached or failed: nothing was changed; try again later."""

    code = "carrier_unavailable"
    http_status = 503
    title = "The carrier is unavailable"


@dataclass(frozen=True)
class Item:
    """One kind of goods in the parcel, for the customs declaration (per unit)."""

    description: str
    quantity: int
    unit_value_minor: int
    unit_weight_g: int
    category: str


@dataclass(frozen=True)
class BookingRequest:
    """What a carrier needs to book a parcel and print its label."""

    reference: str  # our shipment id, so the carrier's records point back at it
    service_code: str
    sender: dict[str, Any]
    receiver: dict[str, Any]
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    declared_value_minor: int
    currency: str
    insured: bool
    items: tuple[Item, ...] = ()


@dataclass(frozen=True)
class Booking:
    tracking_number: str
    carrier_ref: str
    # The carrier's own label, when it issues one (a real carrier's routing
    # barcode must be printed); None: tuoguan draws the label.
    label: bytes | None = None
    label_format: str | None = None  # "PDF" or "ZPL"


@dataclass(frozen=True)
class CarrierRate:
    """What the carrier itself would charge for a booking, by its own tariff."""

    total_minor: int
    currency: str
    transit_days: int | None = None
    lines: tuple[tuple[str, int], ...] = ()  # (the carrier's name for the charge, minor units)


@dataclass(frozen=True)
class PickupRequest:
    tracking_numbers: list[str]
    window_from: datetime
    window_until: datetime
    place: str
    address: dict[str, Any] | None = None  # the sender's address, where the courier calls
    weight_g: int = 0


@dataclass(frozen=True)
class PickupBooking:
    ref: str
    window_from: datetime
    window_until: datetime


@dataclass(frozen=True)
class Scan:
    """One event from the carrier, already in tuoguan's vocabulary."""

    event_id: str
    tracking_number: str
    code: str  # a TrackingCode value, CANCELLED or CANCEL_REFUSED
    occurred_at: datetime
    location: str | None = None
    detail: str | None = None
    weight_g: int | None = None  # set when the carrier reweighed the parcel


class Carrier(Protocol):
    """A carrier as tuoguan uses it."""

    code: str

    async def quote(self, request: BookingRequest) -> CarrierRate:
        """The carrier's own price for this booking (to check tuoguan's rate cards, G1)."""
        ...

    async def book(self, request: BookingRequest) -> Booking: ...

    async def submit(self, tracking_number: str, request: BookingRequest) -> None: ...

    async def schedule_pickup(self, request: PickupRequest) -> PickupBooking: ...

    async def cancel_pickup(self, ref: str) -> None: ...

    async def request_cancel(self, tracking_number: str, reason: str) -> list[Scan]:
        """Ask to cancel. A carrier that answers at once returns its answer as a
        ``cancelled`` or ``cancel_refused`` scan; one that answers later returns []."""
        ...

    async def track(self, tracking_number: str) -> list[Scan]: ...

    def read_push(self, headers: dict[str, str], body: bytes, now: datetime) -> list[Scan]: ...

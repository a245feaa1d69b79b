"""The adapter for the sandbox carrier: pure request building and parsing, a thin HTTP client."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx

from tuoguan.errors import InvalidInput
from tuoguan.kit.outbound import GuardedClient, OutboundPolicy, OutboundRefused
from tuoguan.kit.signing import verify
from tuoguan.shipping.carriers.base import (
    CANCEL_REFUSED,
    CANCELLED,
    Booking,
    BookingRequest,
    CarrierRate,
    CarrierRefused,
    CarrierUnavailable,
    PickupBooking,
    PickupRequest,
    Scan,
)
from tuoguan.shipping.states import TrackingCode

SIGNATURE_HEADER = "sandbox-signature"
# The sandbox's event codes in tuoguan's words (F9).
CODES: dict[str, str] = {
    "ACCEPTED": TrackingCode.label_created,
    "PICKUP": TrackingCode.picked_up,
    "DEPARTED": TrackingCode.in_transit,
    "ARRIVED": TrackingCode.in_transit,
    "OUT_FOR_DELIVERY": TrackingCode.out_for_delivery,
    "DELIVERED": TrackingCode.delivered,
    "DELAY": TrackingCode.delayed,
    "DAMAGED": TrackingCode.exception,
    "LOST": TrackingCode.lost,
    "RETURNED": TrackingCode.returned,
    "REFUSED": TrackingCode.buyer_caused,  # the buyer refused the parcel at the door
    "CANCELLED": CANCELLED,
    "CANCEL_REFUSED": CANCEL_REFUSED,
}


def booking_body(request: BookingRequest) -> dict[str, Any]:
    """Our booking in the sandbox's words."""
    return {
        "reference": request.reference,
        "service": request.service_code,
        "shipper": request.sender,
        "consignee": request.receiver,
        "weight_grams": request.weight_g,
        "dimensions_mm": [request.length_mm, request.width_mm, request.height_mm],
        "declared_value": request.declared_value_minor,
        "currency": request.currency,
        "insured": request.insured,
    }


def _text(raw: dict[str, Any], key: str, limit: int) -> str | None:
    value = raw.get(key)
    return None if value is None else str(value)[:limit]


def parse_event(raw: dict[str, Any]) -> Scan:
    """One sandbox event as a Scan; an unknown code or a malformed field is refused, named."""
    try:
        code = CODES[str(raw["status"])]
        event_id, number = str(raw["id"]), str(raw["tracking_number"])
        occurred = datetime.fromisoformat(str(raw["time"]))
        weight = int(raw["weight_grams"]) if raw.get("weight_grams") is not None else None
    except KeyError as exc:
        raise InvalidInput(f"event lacks or misnames {exc}", field="events") from exc
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidInput(f"event is malformed: {exc}", field="events") from exc
    if occurred.tzinfo is None:
        raise InvalidInput("event time needs a UTC offset", field="events.time")
    if not (1 <= len(event_id) <= 64 and 1 <= len(number) <= 40):
        raise InvalidInput("event id or tracking number too long", field="events.id")
    if weight is not None and not 1 <= weight <= 1_000_000:
        raise InvalidInput("weight_grams must be 1 to 1 000 000", field="events.weight_grams")
    return Scan(
        event_id=event_id,
        tracking_number=number,
        code=str(code),
        occurred_at=occurred,
        location=_text(raw, "location", 100),
        detail=_text(raw, "description", 500),
        weight_g=weight,
    )


def parse_events(body: bytes) -> list[Scan]:
    """The events of a pushed or polled document."""
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise InvalidInput("the body is not JSON", field="body") from exc
    raw = document.get("events") if isinstance(document, dict) else None
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
        raise InvalidInput("the body carries an events list", field="events")
    return [parse_event(event) for event in raw]


class SandboxCarrier:
    """The sandbox carrier over HTTP, through the outbound guard (its base URL is one the
    server was given: it may not reach an internal address unless the policy allows it)."""

    def __init__(
        self, code: str, base_url: str, api_key: str, webhook_secret: str, policy: OutboundPolicy
    ) -> None:
        self.code = code
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.policy = policy

    async def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        try:
            async with GuardedClient(self.policy, timeout=10.0) as client:
                answer = await client.request(
                    method, self.base_url + path, json=body, headers={"X-Api-Key": self.api_key}
                )
        except OutboundRefused as exc:
            raise CarrierUnavailable(f"carrier {self.code} refused: {exc.reason}") from exc
        except httpx.HTTPError as exc:
            raise CarrierUnavailable(f"carrier {self.code} unreachable: {exc}") from exc
        if answer.status_code >= 500 or answer.status_code == 401:
            raise CarrierUnavailable(f"carrier {self.code} answered {answer.status_code}")
        data = answer.json() if answer.content else {}
        if answer.status_code >= 400:
            detail = data.get("detail", data) if isinstance(data, dict) else data
            message = detail.get("message") if isinstance(detail, dict) else str(detail)
            error = detail.get("error") if isinstance(detail, dict) else None
            raise CarrierRefused(f"carrier {self.code}: {message}", carrier_error=error)
        return data if isinstance(data, dict) else {"items": data}

    async def quote(self, request: BookingRequest) -> CarrierRate:
        data = await self._call("POST", "/v1/rates", booking_body(request))
        return CarrierRate(
            total_minor=int(data["total"]),
            currency=str(data["currency"]),
            transit_days=data.get("transitDays"),
            lines=tuple((str(c["name"]), int(c["amount"])) for c in data.get("charges", [])),
        )

    async def book(self, request: BookingRequest) -> Booking:
        data = await self._call("POST", "/v1/shipments", booking_body(request))
        return Booking(tracking_number=data["trackingNumber"], carrier_ref=data["shipmentId"])

    async def submit(self, tracking_number: str, request: BookingRequest) -> None:
        await self._call("POST", f"/v1/shipments/{tracking_number}/manifest")

    async def schedule_pickup(self, request: PickupRequest) -> PickupBooking:
        data = await self._call(
            "POST",
            "/v1/pickups",
            {
                "tracking_numbers": request.tracking_numbers,
                "ready_from": request.window_from.isoformat(),
                "ready_until": request.window_until.isoformat(),
                "address": request.place,
            },
        )
        return PickupBooking(
            ref=data["pickupId"],
            window_from=datetime.fromisoformat(data["from"]),
            window_until=datetime.fromisoformat(data["until"]),
        )

    async def cancel_pickup(self, ref: str) -> None:
        await self._call("DELETE", f"/v1/pickups/{ref}")

    async def request_cancel(self, tracking_number: str, reason: str) -> list[Scan]:
        await self._call(
            "POST", f"/v1/shipments/{tracking_number}/cancellation", {"reason": reason}
        )
        return []  # the sandbox answers later, by push or poll

    async def track(self, tracking_number: str) -> list[Scan]:
        data = await self._call("GET", f"/v1/shipments/{tracking_number}/events")
        return [parse_event(event) for event in data.get("events", [])]

    def read_push(self, headers: dict[str, str], body: bytes, now: datetime) -> list[Scan]:
        verify(self.webhook_secret, headers.get(SIGNATURE_HEADER), body, now)
        return parse_events(body)

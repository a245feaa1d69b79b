"""An adapter over the karrio SDK, so a real carrier plugs in without changing the core.

Install it with ``pip install 'tuoguan[karrio]'`` and the carrier's karrio
plugin (``karrio-fedex``, ``karrio-ups``, ``karrio-dhl-express``...). A carrier
account with ``adapter: karrio`` names the karrio carrier, its connection
settings, how tuoguan's service codes map onto the carrier's, and the
timezone its scan times are read in (karrio hands times over without their
UTC offset).

karrio is synchronous (urllib), so each call runs in a worker thread. What
the carrier says no to comes back as karrio messages and becomes a
``CarrierRefused`` naming the carrier's code; a network failure or an answer
karrio cannot read becomes ``CarrierUnavailable``, and nothing changes.
Money crosses into karrio as decimal major units, because its models take
floats there; tuoguan keeps its own amounts in minor units.

What karrio does not do the adapter does not pretend to: carriers reached
through it are polled (``track``), not pushed to; their cancellation answer
is the synchronous one their API gives.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import anyio

from tuoguan.errors import InvalidInput
from tuoguan.kit.money import minor_digits
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
from tuoguan.timing.places import check_timezone

# karrio's normalized tracker statuses in tuoguan's words (F9).
STATUSES: dict[str, str] = {
    "pending": TrackingCode.label_created,
    "picked_up": TrackingCode.picked_up,
    "in_transit": TrackingCode.in_transit,
    "ready_for_pickup": TrackingCode.out_for_delivery,
    "out_for_delivery": TrackingCode.out_for_delivery,
    "delivered": TrackingCode.delivered,
    "on_hold": TrackingCode.delayed,
    "delivery_delayed": TrackingCode.delayed,
    "delivery_failed": TrackingCode.exception,
    "return_to_sender": TrackingCode.returned,
    "cancelled": CANCELLED,
}
# Incident reasons that say more than the status does.
REASONS: dict[str, str] = {
    "carrier_parcel_lost": TrackingCode.lost,
    "carrier_damaged_parcel": TrackingCode.exception,
    # The buyer's doing (G2: a delay it caused is not compensated).
    **{
        reason: TrackingCode.buyer_caused
        for reason in (
            "consignee_refused",
            "consignee_not_home",
            "consignee_not_available",
            "consignee_business_closed",
            "consignee_incorrect_address",
            "consignee_access_restricted",
        )
    },
}
# Codes karrio reports its own failures under (not the carrier's answer).
SDK_FAILURES = {"SHIPPING_SDK_INTERNAL_ERROR"}
# Per carrier account: karrio's cache, which keeps the carrier's OAuth token between calls.
_caches: dict[str, Any] = {}
_caches_lock = threading.Lock()


def _sdk() -> Any:
    try:
        from loguru import logger  # karrio's logger; tuoguan keeps its own logs

        logger.disable("karrio")
        import karrio.sdk as sdk
    except ImportError as exc:  # the optional extra is not installed
        raise CarrierUnavailable(
            "the karrio adapter needs `pip install 'tuoguan[karrio]'` and the carrier's plugin"
        ) from exc
    return sdk


def validate(options: dict[str, Any]) -> None:
    """Refuse, naming the field, an account karrio could not connect with (no network used)."""
    try:
        sdk = _sdk()
    except CarrierUnavailable as exc:
        raise InvalidInput(str(exc), field="adapter", rule="karrio_installed") from exc
    name = options["carrier"]
    if name not in sdk.gateway.providers:
        raise InvalidInput(
            f"karrio has no carrier {name!r} here; install its plugin (e.g. karrio-{name})",
            field="carrier",
            rule="karrio_carrier_installed",
        )
    import attr

    known = attr.fields_dict(sdk.gateway.providers[name].Settings)
    unknown = sorted(set(options["settings"]) - set(known))
    if unknown:
        raise InvalidInput(
            f"karrio's {name} has no setting {unknown[0]!r}; it knows {', '.join(sorted(known))}",
            field="settings",
        )
    try:
        sdk.gateway[name].create(dict(options["settings"]))
    except Exception as exc:
        raise InvalidInput(
            f"karrio refused the settings for {name}: {exc.__cause__ or exc}",
            field="settings",
        ) from exc
    _zone(options.get("timezone", "UTC"))


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(check_timezone(name))


def _major(minor: int, currency: str) -> float:
    return float(Decimal(minor).scaleb(-minor_digits(currency)))


def address(party: dict[str, Any]) -> Any:
    """One of tuoguan's addresses as karrio's."""
    from karrio.core.models import Address

    return Address(
        person_name=party.get("name"),
        phone_number=party.get("phone"),
        address_line1=party.get("line1") or "",
        address_line2=party.get("line2"),
        city=party.get("city"),
        state_code=party.get("region"),
        postal_code=party.get("postcode"),
        country_code=party.get("country"),
    )


def shipment_request(request: BookingRequest, options: dict[str, Any]) -> Any:
    """Our booking as karrio's ShipmentRequest, with a customs declaration across borders."""
    from karrio.core.models import Commodity, Customs, Duty, Parcel, Payment, ShipmentRequest

    sender_country = request.sender.get("country")
    customs = None
    if sender_country != request.receiver.get("country"):
        customs = Customs(
            commodities=[
                Commodity(
                    title=item.description[:35],
                    description=item.description,
                    quantity=item.quantity,
                    weight=item.unit_weight_g / 1000,
                    weight_unit="KG",
                    value_amount=_major(item.unit_value_minor, request.currency),
                    value_currency=request.currency,
                    origin_country=sender_country,
                    category=item.category,
                )
                for item in request.items
            ],
            content_type="merchandise",
            incoterm=options.get("incoterm", "DAP"),
            duty=Duty(
                paid_by=options.get("duty_paid_by", "recipient"),
                currency=request.currency,
                declared_value=_major(request.declared_value_minor, request.currency),
            ),
            certify=True,
            signer=request.sender.get("name"),
        )
    extra: dict[str, Any] = {
        "currency": request.currency,
        "declared_value": _major(request.declared_value_minor, request.currency),
        **options.get("shipment_options", {}),
    }
    if request.insured:
        extra["insurance"] = _major(request.declared_value_minor, request.currency)
    return ShipmentRequest(
        service=options.get("services", {}).get(request.service_code, request.service_code),
        shipper=address(request.sender),
        recipient=address(request.receiver),
        parcels=[
            Parcel(
                weight=request.weight_g / 1000,
                weight_unit="KG",
                # whole centimetres, rounded up, as carriers measure
                length=-(-request.length_mm // 10),
                width=-(-request.width_mm // 10),
                height=-(-request.height_mm // 10),
                dimension_unit="CM",
            )
        ],
        payment=Payment(paid_by="sender", currency=request.currency),
        customs=customs,
        options=extra,
        reference=request.reference,
        label_type=options.get("label_type"),
    )


def _minor(amount: Any, currency: str) -> int:
    """karrio's decimal major units as minor units (read through str, never float arithmetic)."""
    return int(Decimal(str(amount)).scaleb(minor_digits(currency)).to_integral_value())


def _problems(messages: list[Any]) -> list[Any]:
    return [m for m in messages if (m.level or "error") == "error"]


def _said(messages: list[Any]) -> str:
    return "; ".join(f"{m.code}: {m.message}" if m.code else str(m.message) for m in messages)


def event_time(event: Any, zone: ZoneInfo) -> datetime:
    """When a karrio event happened. karrio keeps the carrier's wall-clock time (its
    ``Z`` suffix is not a real UTC offset for every carrier), read in the account's zone."""
    stamp = event.timestamp
    try:
        if stamp:
            return datetime.fromisoformat(stamp.removesuffix("Z")[:19]).replace(tzinfo=zone)
        day = date.fromisoformat(event.date)
        clock = time.fromisoformat(event.time) if event.time else time(0, 0)
        return datetime.combine(day, clock, tzinfo=zone)
    except (TypeError, ValueError) as exc:
        raise CarrierUnavailable(f"a tracking event has no readable time: {exc}") from exc


def scan_of(tracking_number: str, event: Any, zone: ZoneInfo) -> Scan:
    """One karrio tracking event as a Scan; karrio events carry no id, so it is derived."""
    occurred = event_time(event, zone)
    code = REASONS.get(event.reason or "") or STATUSES.get(event.status or "", TrackingCode.info)
    key = "|".join(
        str(x)
        for x in (
            tracking_number,
            occurred.isoformat(),
            event.code,
            event.description,
            event.location,
        )
    )
    return Scan(
        event_id="k-" + hashlib.sha256(key.encode()).hexdigest()[:40],
        tracking_number=tracking_number,
        code=str(code),
        occurred_at=occurred,
        location=(event.location or None) and str(event.location)[:100],
        detail=(event.description or None) and str(event.description)[:500],
    )


class KarrioCarrier:
    """A carrier reached through karrio."""

    def __init__(self, code: str, options: dict[str, Any]) -> None:
        self.code = code
        self.options = options
        self.zone = _zone(options.get("timezone", "UTC"))

    def _gateway(self) -> Any:
        sdk = _sdk()
        from karrio.core.utils import Cache

        with _caches_lock:
            cache = _caches.setdefault(self.code, Cache())
        try:
            return sdk.gateway[self.options["carrier"]].create(
                dict(self.options["settings"]), cache=cache
            )
        except Exception as exc:
            raise CarrierUnavailable(f"carrier {self.code}: karrio cannot connect: {exc}") from exc

    async def _run(self, what: str, call: Callable[[Any, Any], Any]) -> tuple[Any, list[Any]]:
        """One karrio call in a thread: (result, messages), or the refusal or outage it was."""

        def work() -> tuple[Any, list[Any]]:
            return call(_sdk(), self._gateway())

        try:
            result, messages = await anyio.to_thread.run_sync(work)
        except (CarrierUnavailable, CarrierRefused):
            raise
        except OSError as exc:
            raise CarrierUnavailable(f"carrier {self.code} unreachable ({what}): {exc}") from exc
        except Exception as exc:  # an answer karrio could not read
            raise CarrierUnavailable(
                f"carrier {self.code}: unreadable {what} answer: {exc}"
            ) from exc
        return result, list(messages or [])

    def _refused(self, what: str, messages: list[Any]) -> CarrierRefused | CarrierUnavailable:
        problems = _problems(messages)
        if not problems:
            return CarrierUnavailable(f"carrier {self.code} gave no {what} and no reason")
        internal = [m for m in problems if m.code in SDK_FAILURES]
        if internal:  # karrio failed before or after the carrier: not the carrier's no
            return CarrierUnavailable(f"carrier {self.code}: karrio failed: {_said(internal)}")
        return CarrierRefused(
            f"carrier {self.code} refused the {what}: {_said(problems)}",
            carrier_error=problems[0].code,
        )

    async def quote(self, request: BookingRequest) -> CarrierRate:
        from karrio.core.models import RateRequest

        shipment = shipment_request(request, self.options)
        payload = RateRequest(
            shipper=shipment.shipper,
            recipient=shipment.recipient,
            parcels=shipment.parcels,
            customs=shipment.customs,
            services=[shipment.service],
            options=shipment.options,
            reference=request.reference,
        )
        found, messages = await self._run(
            "rate", lambda sdk, gw: sdk.Rating.fetch(payload).from_(gw).parse()
        )
        chosen = [r for r in found or [] if r.service == shipment.service] or list(found or [])
        if not chosen:
            raise self._refused("rate", messages)
        rate = chosen[0]
        currency = str(rate.currency or request.currency)
        return CarrierRate(
            total_minor=_minor(rate.total_charge, currency),
            currency=currency,
            transit_days=rate.transit_days,
            lines=tuple(
                (str(c.name), _minor(c.amount, c.currency or currency))
                for c in rate.extra_charges or []
            ),
        )

    async def book(self, request: BookingRequest) -> Booking:
        payload = shipment_request(request, self.options)
        shipment, messages = await self._run(
            "shipment", lambda sdk, gw: sdk.Shipment.create(payload).from_(gw).parse()
        )
        if shipment is None:
            raise self._refused("shipment", messages)
        label = shipment.docs.label if shipment.docs else None
        return Booking(
            tracking_number=str(shipment.tracking_number),
            carrier_ref=str(shipment.shipment_identifier or shipment.tracking_number),
            label=base64.b64decode(label) if label else None,
            label_format=(shipment.label_type or "PDF").upper() if label else None,
        )

    async def submit(self, tracking_number: str, request: BookingRequest) -> None:
        """Booking through karrio already transmitted the shipping information; nothing more to send."""

    async def schedule_pickup(self, request: PickupRequest) -> PickupBooking:
        from karrio.core.models import Parcel
        from karrio.core.models import PickupRequest as KarrioPickup

        start = request.window_from.astimezone(self.zone)
        end = request.window_until.astimezone(self.zone)
        payload = KarrioPickup(
            pickup_date=start.date().isoformat(),
            ready_time=start.strftime("%H:%M"),
            closing_time=end.strftime("%H:%M") if end.date() == start.date() else "23:59",
            address=address(request.address or {}),
            parcels=[Parcel(weight=max(request.weight_g, 1) / 1000, weight_unit="KG")],
            shipment_identifiers=list(request.tracking_numbers),
            package_location=request.place[:30],
            instruction=request.place,
            options=dict(self.options.get("pickup_options", {})),
        )
        booked, messages = await self._run(
            "pickup", lambda sdk, gw: sdk.Pickup.schedule(payload).from_(gw).parse()
        )
        if booked is None:
            raise self._refused("pickup", messages)
        day = date.fromisoformat(booked.pickup_date or payload.pickup_date)
        ready = time.fromisoformat(booked.ready_time or payload.ready_time)
        closing = time.fromisoformat(booked.closing_time or payload.closing_time)
        window_from = datetime.combine(day, ready, tzinfo=self.zone)
        window_until = datetime.combine(day, closing, tzinfo=self.zone)
        if window_until <= window_from:
            window_until = window_from + timedelta(hours=1)
        return PickupBooking(
            ref=f"{booked.confirmation_number}|{day.isoformat()}",
            window_from=window_from,
            window_until=window_until,
        )

    async def cancel_pickup(self, ref: str) -> None:
        from karrio.core.models import PickupCancelRequest

        number, _, day = ref.partition("|")
        payload = PickupCancelRequest(
            confirmation_number=number,
            pickup_date=day or None,
            options=dict(self.options.get("pickup_options", {})),
        )
        done, messages = await self._run(
            "pickup cancellation", lambda sdk, gw: sdk.Pickup.cancel(payload).from_(gw).parse()
        )
        if done is None or not done.success:
            raise self._refused("pickup cancellation", messages)

    async def request_cancel(self, tracking_number: str, reason: str) -> list[Scan]:
        """karrio carriers answer a cancellation at once: the answer is returned as a scan."""
        from karrio.core.models import ShipmentCancelRequest

        payload = ShipmentCancelRequest(shipment_identifier=tracking_number)
        done, messages = await self._run(
            "cancellation", lambda sdk, gw: sdk.Shipment.cancel(payload).from_(gw).parse()
        )
        now = datetime.now(self.zone)  # the caller dates the answer on its own clock
        if done is not None and done.success:
            code, detail = CANCELLED, "cancelled by the carrier"
        else:
            problems = _problems(messages)
            if not problems:
                raise CarrierUnavailable(f"carrier {self.code} gave no cancellation answer")
            code, detail = CANCEL_REFUSED, _said(problems)[:500]
        return [
            Scan(
                event_id="k-cancel-"
                + hashlib.sha256(f"{tracking_number}|{now}".encode()).hexdigest()[:40],
                tracking_number=tracking_number,
                code=code,
                occurred_at=now,
                detail=detail,
            )
        ]

    async def track(self, tracking_number: str) -> list[Scan]:
        from karrio.core.models import TrackingRequest

        payload = TrackingRequest(tracking_numbers=[tracking_number])
        found, messages = await self._run(
            "tracking", lambda sdk, gw: sdk.Tracking.fetch(payload).from_(gw).parse()
        )
        details = [d for d in found or [] if str(d.tracking_number) == tracking_number]
        if not details and _problems(messages):
            raise self._refused("tracking", messages)
        return [scan_of(tracking_number, e, self.zone) for d in details for e in d.events or []]

    def read_push(self, headers: dict[str, str], body: bytes, now: datetime) -> list[Scan]:
        raise InvalidInput(
            f"carrier {self.code} is reached through karrio and polled; it takes no pushes",
            field="carrier_code",
            rule="polled_carrier",
        )

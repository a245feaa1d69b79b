"""The karrio adapter against FedEx's recorded answers: karrio runs whole, only the network is
replaced (F8 steps 3-5, F9, F10)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.builders.karrio import FEDEX_ACCOUNT, TRACKING_NUMBER, Recorded, fedex  # noqa: F401
from tuoguan.errors import InvalidInput
from tuoguan.shipping.carriers import karrio_carrier
from tuoguan.shipping.carriers.base import (
    CANCEL_REFUSED,
    CANCELLED,
    BookingRequest,
    CarrierRefused,
    CarrierUnavailable,
    Item,
    PickupRequest,
)
from tuoguan.shipping.carriers.karrio_carrier import KarrioCarrier
from tuoguan.shipping.schemas import KarrioAccountCreate

SENDER = {
    "name": "深圳优品科技 张三",
    "phone": "+86 138 0013 8000",
    "line1": "科苑路15号",
    "city": "Shenzhen",
    "postcode": "518057",
    "country": "CN",
}
RECEIVER = {
    "name": "Maria Lopez",
    "phone": "+34 612 345 678",
    "line1": "Calle Mayor 1",
    "city": "Madrid",
    "postcode": "28013",
    "country": "ES",
}
BOOKING = BookingRequest(
    reference="shipment_01TEST",
    service_code="TG-FEDEX-IP",
    sender=SENDER,
    receiver=RECEIVER,
    weight_g=1250,
    length_mm=300,
    width_mm=200,
    height_mm=105,
    declared_value_minor=5198,
    currency="EUR",
    insured=True,
    items=(Item("Power bank 充电宝", 2, 2599, 260, "battery/power-bank"),),
)


def _adapter(code: str = "fedex-unit") -> KarrioCarrier:
    karrio_carrier._caches.pop(code, None)  # a fresh OAuth token cache
    options = KarrioAccountCreate.model_validate({**FEDEX_ACCOUNT, "code": code}).options()
    return KarrioCarrier(code, options)


def test_booking_sends_the_parcel_and_its_customs_and_keeps_the_carriers_label(
    fedex: Recorded,  # noqa: F811
) -> None:
    # F8 step 3: the booking crosses a border, so it carries a customs declaration
    adapter = _adapter()
    booking = asyncio.run(adapter.book(BOOKING))
    # then the carrier's tracking number and its own PDF label come back
    assert booking.tracking_number == TRACKING_NUMBER
    assert booking.label_format == "PDF" and booking.label is not None
    assert booking.label.startswith(b"%PDF")
    # and FedEx was asked after authenticating, in its own words
    assert fedex.paths() == ["/oauth/token", "/ship/v1/shipments"]
    sent = fedex.sent[1].body["requestedShipment"]
    assert sent["serviceType"] == "FEDEX_INTERNATIONAL_PRIORITY"  # mapped from TG-FEDEX-IP
    package = sent["requestedPackageLineItems"][0]
    assert package["weight"] == {"units": "KG", "value": 1.25}
    assert package["dimensions"] == {"length": 30, "width": 20, "height": 11, "units": "CM"}
    commodity = sent["customsClearanceDetail"]["commodities"][0]
    assert commodity["quantity"] == 2 and commodity["countryOfManufacture"] == "CN"
    # money crosses as decimal major units, from minor units without a float rounding step
    assert commodity["unitPrice"] == {"amount": 25.99, "currency": "EUR"}
    assert sent["recipients"][0]["address"]["countryCode"] == "ES"
    # and a second call reuses the OAuth token
    asyncio.run(adapter.book(BOOKING))
    assert fedex.paths().count("/oauth/token") == 1


def test_a_carrier_refusal_names_the_carriers_reason(fedex: Recorded) -> None:  # noqa: F811
    # F8 step 3, bad input: FedEx refuses the postcode
    fedex.answer("POST", "/ship/v1/shipments", "ship_refused.json", status=400)
    with pytest.raises(CarrierRefused) as refused:
        asyncio.run(_adapter().book(BOOKING))
    assert refused.value.http_status == 422
    assert "RECIPIENT.POSTALCODE.INVALID" in refused.value.detail
    assert refused.value.extra["carrier_error"] == "RECIPIENT.POSTALCODE.INVALID"


def test_an_unreachable_carrier_is_unavailable_not_refused(fedex: Recorded) -> None:  # noqa: F811
    # F8: a network failure is a 503: nothing was decided, try again later
    fedex.down = True
    with pytest.raises(CarrierUnavailable):
        asyncio.run(_adapter().book(BOOKING))
    with pytest.raises(CarrierUnavailable):
        asyncio.run(_adapter().track(TRACKING_NUMBER))


def test_tracking_events_are_normalized_dated_and_stable_across_polls(
    fedex: Recorded,  # noqa: F811
) -> None:
    # F9: FedEx scan codes become tuoguan's tracking codes
    adapter = _adapter()
    first = asyncio.run(adapter.track(TRACKING_NUMBER))
    assert [s.code for s in sorted(first, key=lambda s: s.occurred_at)] == [
        "label_created",
        "picked_up",
        "in_transit",
    ]
    fedex.answer("POST", "/track/v1/trackingnumbers", "track_delivered.json")
    later = asyncio.run(adapter.track(TRACKING_NUMBER))
    by_time = sorted(later, key=lambda s: s.occurred_at)
    assert [s.code for s in by_time] == [
        "label_created",
        "picked_up",
        "in_transit",
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]
    # the same scan polled twice has the same id, so the second poll is a duplicate
    assert {s.event_id for s in first} <= {s.event_id for s in later}
    assert len({s.event_id for s in later}) == 6
    # times are the carrier's wall clock read in the account's zone (karrio drops the offset)
    pickup = next(s for s in later if s.code == "picked_up")
    assert pickup.occurred_at == datetime(2026, 11, 23, 14, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert pickup.location == "SHENZHEN, CN"
    assert "/track/v1/trackingnumbers" in fedex.paths()


def test_a_parcel_the_carrier_does_not_know_is_a_refusal(fedex: Recorded) -> None:  # noqa: F811
    # F9, bad input: tracking an unknown parcel names the carrier's reason
    fedex.answer("POST", "/track/v1/trackingnumbers", "track_unknown.json")
    with pytest.raises(CarrierRefused) as refused:
        asyncio.run(_adapter().track(TRACKING_NUMBER))
    assert "TRACKING.TRACKINGNUMBER.NOTFOUND" in refused.value.detail


def test_cancellation_is_answered_at_once_either_way(fedex: Recorded) -> None:  # noqa: F811
    # F10: FedEx answers the cancellation synchronously; the answer comes back as a scan
    adapter = _adapter()
    [accepted] = asyncio.run(adapter.request_cancel(TRACKING_NUMBER, "buyer_cancelled"))
    assert (accepted.code, accepted.tracking_number) == (CANCELLED, TRACKING_NUMBER)
    assert fedex.sent[-1].body["trackingNumber"] == TRACKING_NUMBER
    fedex.answer("PUT", "/ship/v1/shipments/cancel", "cancel_refused.json", status=400)
    [refused] = asyncio.run(adapter.request_cancel(TRACKING_NUMBER, "buyer_cancelled"))
    assert refused.code == CANCEL_REFUSED
    assert refused.detail is not None and "cannot be cancelled" in refused.detail
    assert refused.event_id != accepted.event_id


def test_pickup_is_booked_in_the_accounts_zone_and_cancelled_by_its_reference(
    fedex: Recorded,  # noqa: F811
) -> None:
    # F8 step 5: a pickup window in UTC is the sender's local date and hours at FedEx
    adapter = _adapter()
    start = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shenzhen
    end = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 17:00
    booked = asyncio.run(
        adapter.schedule_pickup(
            PickupRequest([TRACKING_NUMBER], start, end, "Front desk", SENDER, 1250)
        )
    )
    assert booked.ref == "CXR4521|2026-11-23"
    assert (booked.window_from, booked.window_until) == (start, end)
    sent = fedex.sent[-1].body["originDetail"]
    assert sent["readyDateTimestamp"].startswith("2026-11-23T10:00")  # FedEx reads it as local
    assert sent["customerCloseTime"].startswith("17:00")
    asyncio.run(adapter.cancel_pickup(booked.ref))
    cancel = fedex.sent[-1]
    assert cancel.path == "/pickup/v1/pickups/cancel"
    assert cancel.body["pickupConfirmationCode"] == "CXR4521"
    assert cancel.body["scheduledDate"] == "2026-11-23"


def test_a_polled_carrier_refuses_pushes() -> None:
    # F9: karrio carriers are polled; a push to one is refused with a reason
    with pytest.raises(InvalidInput) as refused:
        _adapter().read_push({}, b"{}", datetime.now(UTC))
    assert refused.value.extra["rule"] == "polled_carrier"


def test_an_account_is_checked_without_calling_the_carrier() -> None:
    # bad input: an unknown karrio carrier, unknown settings or timezone are named
    with pytest.raises(InvalidInput) as unknown:
        karrio_carrier.validate({"carrier": "no_such_carrier", "settings": {}})
    assert unknown.value.field == "carrier"
    with pytest.raises(InvalidInput) as settings:
        karrio_carrier.validate({"carrier": "fedex", "settings": {"colour": "purple"}})
    assert settings.value.field == "settings"
    for name in ("Mars/Olympus", "America"):  # "America" is a folder of zones, not a zone
        with pytest.raises(InvalidInput) as zone:
            karrio_carrier.validate(
                {"carrier": "fedex", "settings": {"api_key": "k"}, "timezone": name}
            )
        assert zone.value.field == "timezone"


def test_the_carriers_own_price_comes_back_in_minor_units(fedex: Recorded) -> None:  # noqa: F811
    # G1: FedEx's rate for the booking, its charges named as FedEx names them
    fedex.answer("POST", "/rate/v1/rates/quotes", "rate_quoted.json")
    rate = asyncio.run(_adapter().quote(BOOKING))
    assert (rate.total_minor, rate.currency) == (7115, "USD")
    assert ("Base Charge", 5840) in rate.lines and ("Fuel Surcharge", 1275) in rate.lines
    assert fedex.sent[-1].body["requestedShipment"]["requestedPackageLineItems"][0]["weight"] == {
        "units": "KG",
        "value": 1.25,
    }

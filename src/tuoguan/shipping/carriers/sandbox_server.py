"""A sandbox carrier: its own HTTP service that behaves like a real carrier (F8-F10).

It books parcels and assigns tracking numbers, accepts manifests and pickups,
and moves parcels through scans on its clock: pickup, departure, arrival,
out for delivery, delivered. Some parcels are delayed, damaged or lost (fixed
per tracking number by a seeded draw, or set through ``/_sandbox``). It
accepts a cancellation only before pickup and answers it asynchronously.
Every event is pushed to tuoguan as a signed webhook (HMAC-SHA256 over
timestamp + body), retried until accepted, and can also be polled.

Its wire format is its own (upper-case event codes, its own field names), so
the adapter in ``sandbox.py`` does what an adapter for a real carrier does.
State lives in memory: restarting the sandbox forgets its parcels.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI, Header, HTTPException, Request
from pydantic import BaseModel, Field

from tuoguan.kit.clock import Clock
from tuoguan.kit.signing import sign

# Nominal days door to door per service; unknown services take the default.
TRANSIT_DAYS = {"TG-POST-SMALL": 10, "TG-POST-REG": 10, "TG-STANDARD": 7, "TG-EXPRESS": 3}
DEFAULT_DAYS = 7
FATES = ("normal", "delayed", "damaged", "lost")
FATE_WEIGHTS = (85, 8, 4, 3)
SELF_DROP_AFTER = timedelta(hours=6)  # an unpicked, manifested parcel is scanned at the counter
CANCEL_ANSWER_AFTER = timedelta(minutes=10)


@dataclass
class Parcel:
    tracking_number: str
    reference: str
    service_code: str
    weight_g: int
    fate: str
    booked_at: datetime
    manifested_at: datetime | None = None
    pickup_ref: str | None = None
    picked_up_at: datetime | None = None
    cancel_requested_at: datetime | None = None
    weigh_g: int | None = None  # what the scale will say at pickup, when set through /_sandbox
    closed: bool = False  # delivered, lost, returned or cancelled
    schedule: list[tuple[datetime, str, str]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


class BookIn(BaseModel):
    reference: str = Field(min_length=1, max_length=64)
    service: str = Field(min_length=1, max_length=32)
    shipper: dict[str, Any]
    consignee: dict[str, Any]
    weight_grams: int = Field(ge=1, le=100_000)
    dimensions_mm: list[int] = Field(min_length=3, max_length=3)
    declared_value: int = Field(ge=0)
    currency: str
    insured: bool = False


class PickupIn(BaseModel):
    tracking_numbers: list[str] = Field(min_length=1, max_length=500)
    ready_from: datetime
    ready_until: datetime
    address: str = Field(min_length=1, max_length=300)


class CancelIn(BaseModel):
    reason: str = Field(min_length=1, max_length=100)


class Sandbox:
    """The carrier's state and its clockwork."""

    def __init__(
        self, clock: Clock, *, api_key: str, secret: str, push_url: str | None, seed: int = 7
    ) -> None:
        self.clock = clock
        self.api_key = api_key
        self.secret = secret
        self.push_url = push_url
        self.seed = seed
        self.parcels: dict[str, Parcel] = {}
        self.pickups: dict[str, list[str]] = {}
        self.outbox: list[dict[str, Any]] = []
        self.rejected: list[dict[str, Any]] = []
        self._serial = 0

    def _tracking_number(self) -> str:
        self._serial += 1
        return f"SB{self.seed % 100:02d}{self._serial:08d}CN"

    def fate_of(self, tracking_number: str) -> str:
        draw = random.Random(f"{self.seed}:{tracking_number}")
        return draw.choices(FATES, weights=FATE_WEIGHTS)[0]

    def parcel(self, tracking_number: str) -> Parcel:
        found = self.parcels.get(tracking_number)
        if found is None:
            raise HTTPException(404, {"error": "UNKNOWN_PARCEL", "message": "no such parcel"})
        return found

    def book(self, body: BookIn) -> Parcel:
        consignee = body.consignee
        for key in ("name", "phone", "line1", "city", "country"):
            if not str(consignee.get(key) or "").strip():
                raise HTTPException(
                    422, {"error": "BAD_ADDRESS", "message": f"consignee {key} is required"}
                )
        digits = sum(ch.isdigit() for ch in str(consignee["phone"]))
        if not 6 <= digits <= 15:
            raise HTTPException(
                422, {"error": "BAD_PHONE", "message": "consignee phone needs 6-15 digits"}
            )
        tn = self._tracking_number()
        now = self.clock.now()
        parcel = Parcel(tn, body.reference, body.service, body.weight_grams, self.fate_of(tn), now)
        self.parcels[tn] = parcel
        self._emit(parcel, now, "ACCEPTED", "electronic booking received")
        return parcel

    def manifest(self, parcel: Parcel) -> None:
        if parcel.closed:
            raise HTTPException(409, {"error": "CLOSED", "message": "parcel is closed"})
        if parcel.manifested_at is None:
            parcel.manifested_at = self.clock.now()
            self._plan_pickup(parcel, parcel.manifested_at + SELF_DROP_AFTER, "counter drop-off")

    def _plan_pickup(self, parcel: Parcel, at: datetime, where: str) -> None:
        parcel.schedule = [s for s in parcel.schedule if s[1] != "PICKUP"]
        parcel.schedule.append((at, "PICKUP", where))

    def schedule_pickup(self, body: PickupIn) -> str:
        if body.ready_until <= body.ready_from:
            raise HTTPException(
                422, {"error": "BAD_WINDOW", "message": "window ends before it starts"}
            )
        ref = f"PU{secrets.token_hex(4).upper()}"
        for tn in body.tracking_numbers:
            parcel = self.parcel(tn)
            if parcel.manifested_at is None or parcel.picked_up_at or parcel.closed:
                raise HTTPException(
                    409, {"error": "NOT_READY", "message": f"{tn} is not awaiting pickup"}
                )
        for tn in body.tracking_numbers:
            parcel = self.parcels[tn]
            parcel.pickup_ref = ref
            self._plan_pickup(parcel, max(body.ready_from, self.clock.now()), body.address)
        self.pickups[ref] = list(body.tracking_numbers)
        return ref

    def cancel_pickup(self, ref: str) -> None:
        for tn in self.pickups.pop(ref, []):
            parcel = self.parcels[tn]
            if parcel.picked_up_at is None and parcel.manifested_at is not None:
                parcel.pickup_ref = None
                self._plan_pickup(
                    parcel, parcel.manifested_at + SELF_DROP_AFTER, "counter drop-off"
                )

    def request_cancel(self, parcel: Parcel) -> None:
        if parcel.cancel_requested_at is None:
            parcel.cancel_requested_at = self.clock.now()
            parcel.schedule.append(
                (parcel.cancel_requested_at + CANCEL_ANSWER_AFTER, "CANCEL_ANSWER", "")
            )

    def _journey(self, parcel: Parcel, picked: datetime) -> None:
        days = TRANSIT_DAYS.get(parcel.service_code, DEFAULT_DAYS)
        arrive = picked + timedelta(days=days)
        plan = [(picked + timedelta(hours=8), "DEPARTED", "departed origin facility")]
        if parcel.fate == "lost":
            plan.append((picked + timedelta(days=days * 2), "LOST", "parcel declared lost"))
        else:
            if parcel.fate == "delayed":
                plan.append((picked + timedelta(days=days / 2), "DELAY", "held at customs"))
                arrive += timedelta(days=3)
            if parcel.fate == "damaged":
                plan.append((picked + timedelta(days=days / 2), "DAMAGED", "packaging damaged"))
                plan.append((picked + timedelta(days=days / 2, hours=12), "DEPARTED", "repacked"))
            plan.append((arrive - timedelta(hours=8), "OUT_FOR_DELIVERY", "with the courier"))
            plan.append((arrive, "DELIVERED", "delivered to the consignee"))
        parcel.schedule.extend(plan)

    def due(self, now: datetime) -> int:
        """Run every scheduled step that is due; return how many ran."""
        ran = 0
        for parcel in self.parcels.values():
            parcel.schedule.sort()
            while parcel.schedule and parcel.schedule[0][0] <= now and not parcel.closed:
                at, code, detail = parcel.schedule.pop(0)
                self._step(parcel, at, code, detail)
                ran += 1
        return ran

    def _step(self, parcel: Parcel, at: datetime, code: str, detail: str) -> None:
        if code == "CANCEL_ANSWER":
            if parcel.picked_up_at is None:
                parcel.closed = True
                parcel.schedule.clear()
                self._emit(parcel, at, "CANCELLED", "cancelled before pickup")
            else:
                self._emit(parcel, at, "CANCEL_REFUSED", "already picked up")
            return
        if code == "PICKUP":
            parcel.picked_up_at = at
            # The sandbox weighs every parcel at pickup; a heavy hand adds 10% now and then.
            weighed = parcel.weight_g
            if parcel.weigh_g is not None:
                weighed = parcel.weigh_g
            elif random.Random(f"w:{self.seed}:{parcel.tracking_number}").random() < 0.1:
                weighed = parcel.weight_g * 11 // 10 + 1
            self._emit(parcel, at, "PICKUP", detail, weight=weighed)
            self._journey(parcel, at)
            return
        if code in ("DELIVERED", "LOST"):
            parcel.closed = True
        self._emit(parcel, at, code, detail)

    def _emit(
        self, parcel: Parcel, at: datetime, code: str, detail: str, weight: int | None = None
    ) -> None:
        event = {
            "id": f"{parcel.tracking_number}-{len(parcel.events) + 1}",
            "tracking_number": parcel.tracking_number,
            "status": code,
            "time": at.isoformat(),
            "location": "Shenzhen hub" if code in ("ACCEPTED", "PICKUP", "DEPARTED") else None,
            "description": detail,
            "weight_grams": weight,
        }
        parcel.events.append(event)
        self.outbox.append(event)

    async def flush(self) -> int:
        """Push waiting events to tuoguan, signed; keep what failed for the next round."""
        if not self.push_url or not self.outbox:
            return 0
        sent = 0
        waiting, self.outbox = self.outbox, []
        async with httpx.AsyncClient(timeout=5.0) as client:
            for index, event in enumerate(waiting):
                body = json.dumps({"events": [event]}, separators=(",", ":")).encode()
                stamp = int(self.clock.now().timestamp())
                headers = {
                    "Content-Type": "application/json",
                    "Sandbox-Signature": sign(self.secret, stamp, body),
                }
                try:
                    answer = await client.post(self.push_url, content=body, headers=headers)
                except httpx.HTTPError:
                    self.outbox = waiting[index:] + self.outbox
                    break
                if answer.status_code < 300:
                    sent += 1
                elif answer.status_code < 500:
                    self.rejected.append({"event": event, "answer": answer.text[:500]})
                else:
                    self.outbox = waiting[index:] + self.outbox
                    break
        return sent


def tariff(body: BookIn) -> dict[str, Any]:
    """The sandbox's own price for a parcel: the demo's published tariff, as a carrier's
    price list would be. It cannot see tuoguan's rate cards; a card that drifts shows."""
    from tuoguan.shipping import rates
    from tuoguan.shipping.carriers.sandbox_catalog import CARDS, SERVICES

    service = next((s for s in SERVICES if s.code == body.service), None)
    card = CARDS.get(body.service)
    if service is None or card is None:
        raise HTTPException(422, {"error": "UNKNOWN_SERVICE", "message": body.service})
    country, postcode = body.consignee.get("country"), body.consignee.get("postcode")
    zone = rates.zone_for(card, str(country), postcode)
    if zone is None:
        raise HTTPException(422, {"error": "NOT_SERVED", "message": f"no service to {country}"})
    length, width, height = body.dimensions_mm
    parcel = rates.Parcel(
        weight_g=body.weight_grams,
        length_mm=length,
        width_mm=width,
        height_mm=height,
        country=str(country),
        postcode=postcode,
        declared_value_minor=body.declared_value,
        currency=body.currency,
        categories=frozenset(),
    )
    limits = rates.Limits(
        max_weight_g=service.max_weight_g,
        max_sum_sides_mm=service.max_sum_sides_mm,
        max_longest_side_mm=service.max_longest_side_mm,
        volumetric_divisor=service.volumetric_divisor,
    )
    lines = rates.price(card, zone, limits, parcel, insure=body.insured)
    return {
        "currency": body.currency,
        "total": sum(line.amount_minor for line in lines),
        "charges": [{"name": line.code.upper(), "amount": line.amount_minor} for line in lines],
        "transitDays": zone.transit_max_days,
    }


def create_sandbox_app(
    sandbox: Sandbox,
    *,
    auto_tick_seconds: float | None = None,
    before_tick: Callable[[], Awaitable[None]] | None = None,
) -> FastAPI:
    """The sandbox carrier's HTTP API; with ``auto_tick_seconds`` its parcels move by themselves."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        ticker = asyncio.create_task(_tick_forever(sandbox, auto_tick_seconds, before_tick))
        try:
            yield
        finally:
            ticker.cancel()

    app = FastAPI(
        title="tuoguan sandbox carrier",
        version="1",
        lifespan=lifespan if auto_tick_seconds else None,
    )
    app.state.sandbox = sandbox

    def authorised(key: str | None) -> None:
        if key != sandbox.api_key:
            raise HTTPException(401, {"error": "UNAUTHORISED", "message": "bad X-Api-Key"})

    @app.post("/v1/rates")
    async def rate(body: BookIn, x_api_key: str | None = Header(default=None)) -> dict[str, Any]:
        authorised(x_api_key)
        return tariff(body)

    @app.post("/v1/shipments", status_code=201)
    async def book(body: BookIn, x_api_key: str | None = Header(default=None)) -> dict[str, str]:
        authorised(x_api_key)
        parcel = sandbox.book(body)
        return {"trackingNumber": parcel.tracking_number, "shipmentId": f"SBX-{parcel.reference}"}

    @app.post("/v1/shipments/{tn}/manifest")
    async def manifest(tn: str, x_api_key: str | None = Header(default=None)) -> dict[str, str]:
        authorised(x_api_key)
        sandbox.manifest(sandbox.parcel(tn))
        return {"result": "MANIFESTED"}

    @app.post("/v1/pickups", status_code=201)
    async def pickup(
        body: PickupIn, x_api_key: str | None = Header(default=None)
    ) -> dict[str, Any]:
        authorised(x_api_key)
        ref = sandbox.schedule_pickup(body)
        return {
            "pickupId": ref,
            "from": body.ready_from.isoformat(),
            "until": body.ready_until.isoformat(),
        }

    @app.delete("/v1/pickups/{ref}")
    async def cancel_pickup(
        ref: str, x_api_key: str | None = Header(default=None)
    ) -> dict[str, str]:
        authorised(x_api_key)
        sandbox.cancel_pickup(ref)
        return {"result": "CANCELLED"}

    @app.post("/v1/shipments/{tn}/cancellation", status_code=202)
    async def cancel(
        tn: str, body: CancelIn, x_api_key: str | None = Header(default=None)
    ) -> dict[str, str]:
        authorised(x_api_key)
        sandbox.request_cancel(sandbox.parcel(tn))
        return {"result": "PENDING"}

    @app.get("/v1/shipments/{tn}/events")
    async def events(tn: str, x_api_key: str | None = Header(default=None)) -> dict[str, Any]:
        authorised(x_api_key)
        return {"events": sandbox.parcel(tn).events}

    @app.post("/_sandbox/tick")
    async def tick() -> dict[str, int]:
        """Run what is due on the sandbox's clock and push the events (tests and demos)."""
        ran = sandbox.due(sandbox.clock.now())
        return {"steps": ran, "pushed": await sandbox.flush(), "waiting": len(sandbox.outbox)}

    @app.post("/_sandbox/parcels/{tn}/fate")
    async def set_fate(tn: str, request: Request) -> dict[str, str]:
        """Decide a parcel's fate (normal, delayed, damaged, lost) and weight before pickup."""
        body = await request.json()
        fate = body.get("fate")
        weigh = body.get("weigh_g")
        if fate not in FATES or not (weigh is None or (isinstance(weigh, int) and weigh > 0)):
            raise HTTPException(
                422, {"error": "BAD_FATE", "message": f"fate is one of {FATES}; weigh_g > 0"}
            )
        parcel = sandbox.parcel(tn)
        parcel.fate, parcel.weigh_g = fate, weigh
        return {"fate": fate}

    @app.get("/_sandbox/rejected")
    async def rejected() -> list[dict[str, Any]]:
        """Events tuoguan refused (4xx): kept, not retried."""
        return sandbox.rejected

    return app


async def _tick_forever(
    sandbox: Sandbox, seconds: float | None, before_tick: Callable[[], Awaitable[None]] | None
) -> None:
    while True:
        await asyncio.sleep(seconds or 1.0)
        if before_tick is not None:
            await before_tick()
        sandbox.due(sandbox.clock.now())
        await sandbox.flush()

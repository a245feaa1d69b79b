"""Use cases for shipments: create with a label, submit, hand over, cancel (F8, F10). Never commits.

A shipment is created under a lock on its order, and the database holds at
most one shipment per order that is not cancelled (a partial unique index),
so no sequence of requests, retries or races ships an order twice. A
cancellation is only a request until the carrier's answer arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts.visibility import model_for
from tuoguan.catalog import service as catalog
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput, NotFound, check_version
from tuoguan.fulfilment import service as fulfilment
from tuoguan.kit.clock import as_utc
from tuoguan.kit.ids import new_id
from tuoguan.orders import service as orders
from tuoguan.orders.models import Order
from tuoguan.orders.schemas import ShipBody
from tuoguan.orders.states import OrderAction, OrderStatus
from tuoguan.principal import SYSTEM, Principal, Role
from tuoguan.shipping import labels, money, quotes, rates, repository, tracking
from tuoguan.shipping.carriers.base import BookingRequest, Item, PickupRequest, Scan
from tuoguan.shipping.models import CarrierLabel, Shipment, ShipmentStatus
from tuoguan.shipping.records import carrier, line_rows, record
from tuoguan.shipping.schemas import QuoteLineRead
from tuoguan.shipping.shipment_schemas import (
    SHIPMENT_VIEWS,
    CarrierShipmentRead,
    PickupCreate,
    ShipmentCancel,
    ShipmentCreate,
    ShipmentRead,
    ShipmentView,
)
from tuoguan.shipping.states import ShipmentAction, allowed_actions, next_status
from tuoguan.stores import service as stores
from tuoguan.stores.modes import Party
from tuoguan.timing import deadlines

MAX_PICKUP_AHEAD = timedelta(days=7)


def visible_to(principal: Principal) -> Select[Shipment]:
    """Shipments a principal may act on (and print): its own, or the parcels it carries; for
    warehouse staff, the parcels that left their warehouses (F11: they print the labels).

    The parcels the platform pays for are not the seller's (F11): it neither sees nor acts on
    them (the order itself shows their carrier and tracking number)."""
    query = select(Shipment)
    if principal.role in (Role.operator, Role.system):
        return query
    if principal.role is Role.seller and principal.seller_id:
        return query.where(
            Shipment.seller_id == principal.seller_id, Shipment.payer == Party.seller
        )
    if principal.role is Role.carrier and principal.carrier_code:
        return query.where(Shipment.carrier_code == principal.carrier_code)
    if principal.role is Role.warehouse and principal.warehouse_ids:
        return query.where(Shipment.warehouse_id.in_(principal.warehouse_ids))
    return query.where(Shipment.id.is_(None))


def _readable(principal: Principal) -> Select[Shipment]:
    """Shipments a principal may read: those it may act on, and for the storefront, which sees
    every order, every order's parcels (F9: the buyer tracks them). Reading is not printing."""
    if principal.role is Role.buyer_channel:
        return select(Shipment)
    return visible_to(principal)


async def live_for_order(session: AsyncSession, order_id: str) -> Shipment | None:
    """The order's shipment that is not cancelled (at most one exists)."""
    return await repository.live_shipment(session, order_id)


async def get_shipment(
    session: AsyncSession, *, principal: Principal, shipment_id: str
) -> Shipment:
    """A shipment the principal may see; anyone else's is not found."""
    found = await session.scalar(visible_to(principal).where(Shipment.id == shipment_id))
    if found is None:
        raise NotFound(f"shipment {shipment_id} not found", field="shipment_id")
    return found


async def read_shipment(
    session: AsyncSession, *, principal: Principal, shipment_id: str
) -> Shipment:
    """A shipment the principal may read (``_readable``); anyone else's is not found."""
    found = await session.scalar(_readable(principal).where(Shipment.id == shipment_id))
    if found is None:
        raise NotFound(f"shipment {shipment_id} not found", field="shipment_id")
    return found


async def for_order(
    session: AsyncSession, *, principal: Principal, order_id: str
) -> list[Shipment]:
    """The order's shipments the principal may read, newest first: the same ones
    ``read_shipment`` finds (a carrier's only), so neither answer says more than the other."""
    found = await session.scalars(
        _readable(principal).where(Shipment.order_id == order_id).order_by(Shipment.id.desc())
    )
    rows = list(found.all())
    if not rows:
        await orders.get_order(session, principal=principal, order_id=order_id)
    return rows


async def _lock(session: AsyncSession, principal: Principal, shipment_id: str) -> Shipment:
    found = await session.scalar(
        visible_to(principal)
        .where(Shipment.id == shipment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise NotFound(f"shipment {shipment_id} not found", field="shipment_id")
    return found


def _booking(shipment: Shipment) -> BookingRequest:
    return BookingRequest(
        reference=shipment.id,
        service_code=shipment.service_code,
        sender=shipment.sender,
        receiver=shipment.receiver,
        weight_g=shipment.weight_g,
        length_mm=shipment.length_mm,
        width_mm=shipment.width_mm,
        height_mm=shipment.height_mm,
        declared_value_minor=shipment.declared_value_minor,
        currency=shipment.currency,
        insured=shipment.insured,
        items=tuple(Item(**x) for x in shipment.contents or []),
    )


async def sender_of(session: AsyncSession, principal: Principal, order: Order) -> dict[str, Any]:
    """Where the order's parcel leaves from: its store's sender address, which must be set."""
    store = await stores.get_store(session, principal=principal, store_id=order.store_id)
    if not store.sender_address:
        raise InvalidInput(
            f"store {store.id} has no sender address for the label; set it on the store first",
            field="sender_address",
            rule="sender_address_required",
        )
    return dict(store.sender_address)


def receiver_of(order: Order) -> dict[str, Any]:
    """Where the order's parcel goes, as the label and the carrier take it."""
    return {
        "name": order.recipient_name,
        "phone": order.recipient_phone,
        "line1": order.address_line1,
        "line2": order.address_line2,
        "city": order.city,
        "region": order.region,
        "postcode": order.postcode,
        "country": order.country,
    }


async def contents_of(session: AsyncSession, order: Order) -> list[dict[str, Any]]:
    """What is inside, per product, for the customs declaration."""
    products = await catalog.products_by_id(session, [line.product_id for line in order.lines])
    return [
        {
            "description": line.name,
            "quantity": line.quantity,
            "unit_value_minor": products[line.product_id].declared_value_minor,
            "unit_weight_g": products[line.product_id].weight_g,
            "category": products[line.product_id].category,
        }
        for line in order.lines
    ]


@dataclass(frozen=True)
class Origin:
    """Where a parcel leaves from and who pays the carrier: the store's sender address, paid by
    the seller; or the platform's warehouse, paid by the platform (F11)."""

    sender: dict[str, Any]
    country: str
    payer: Party = Party.seller
    warehouse_id: str | None = None


async def create(
    session: AsyncSession, *, ctx: Ctx, order_id: str, data: ShipmentCreate
) -> Shipment:
    """F8 step 3: book the parcel with the carrier under the accepted quote; label printable.

    An order the platform ships from its warehouse is not shipped here (F11): the seller is
    refused (403 ``platform_ships``), an operator sent to the warehouse's flow (409)."""
    if ctx.principal.role not in (Role.seller, Role.operator):
        raise Forbidden("only the seller or an operator ships an order")
    order = await orders.lock_order(session, principal=ctx.principal, order_id=order_id)
    if await fulfilment.platform_shipped(session, [order.id]):
        why = f"the platform ships order {order.id} from its warehouse (F11)"
        if ctx.principal.role is Role.seller:
            raise Forbidden(f"{why}; the seller does not", field="order_id", rule="platform_ships")
        raise Conflict(
            f"{why}: ship its fulfilment order (POST /fulfilment-orders/{{id}}/ship)",
            field="order_id",
            rule="platform_ships",
        )
    return await book(session, ctx=ctx, order=order, data=data)


async def book(
    session: AsyncSession,
    *,
    ctx: Ctx,
    order: Order,
    data: ShipmentCreate,
    origin: Origin | None = None,
) -> Shipment:
    """Book the locked order's parcel with the carrier under the accepted quote, from
    ``origin`` (the store's sender address, paid by the seller, when not given)."""
    live = await repository.live_shipment(session, order.id)
    if live is not None:
        raise Conflict(
            f"order {order.id} already has shipment {live.id} ({live.status.value}); "
            "cancel it and wait for the carrier's confirmation first",
            field="order_id",
            rule="one_live_shipment",
            shipment_id=live.id,
        )
    if order.status is not OrderStatus.awaiting_shipment:
        raise Conflict(
            f"order {order.id} is {order.status.value}; only orders awaiting shipment are shipped",
            field="order_id",
            rule="awaiting_shipment",
        )
    if origin is None:
        origin = Origin(
            sender=await sender_of(session, ctx.principal, order),
            country=await orders.origin_country(session, order),
        )
    parcel, _ = await quotes.parcel_for(session, order, data.parcel)
    found = await quotes.choices(
        session,
        order=order,
        parcel=parcel,
        insure=data.insure,
        now=ctx.clock.now(),
        origin=origin.country,
    )
    choice = next((c for c in found if c.service.code == data.service_code), None)
    if choice is None:
        raise InvalidInput(f"no active service {data.service_code}", field="service_code")
    if choice.priced is None:
        first = choice.refusals[0]
        raise InvalidInput(
            f"{data.service_code} cannot carry this parcel: "
            + "; ".join(r.detail for r in choice.refusals),
            field="service_code",
            rule=first.rule,
            refusals=[
                {
                    "rule": r.rule,
                    "detail": r.detail,
                    "rule_id": r.rule_id,
                    "code": r.code,
                    "params": dict(r.params),
                }
                for r in choice.refusals
            ],
        )
    priced = choice.priced
    if data.expected_total_minor is not None and data.expected_total_minor != priced.total_minor:
        raise Conflict(
            f"the quote is now {priced.total_minor}, not {data.expected_total_minor}: "
            f"rate card v{priced.card.version} applies; list the options again",
            field="expected_total_minor",
            rule="quote_changed",
        )
    receiver = receiver_of(order)
    contents = await contents_of(session, order)
    now = ctx.clock.now()
    shipment = Shipment(
        id=new_id("shipment"),
        order_id=order.id,
        store_id=order.store_id,
        seller_id=order.seller_id,
        service_code=choice.service.code,
        carrier_code=choice.service.carrier_code,
        tracking_number="",
        status=ShipmentStatus.created,
        weight_g=parcel.weight_g,
        length_mm=parcel.length_mm,
        width_mm=parcel.width_mm,
        height_mm=parcel.height_mm,
        declared_value_minor=parcel.declared_value_minor,
        currency=parcel.currency,
        insured=data.insure,
        sender=origin.sender,
        receiver=receiver,
        payer=origin.payer,
        warehouse_id=origin.warehouse_id,
        contents=contents,
        rate_card_id=priced.card.id,
        zone=priced.zone.code,
        quote_lines=line_rows(priced.lines),
        quote_total_minor=priced.total_minor,
        transit_max_days=priced.zone.transit_max_days,
        created_at=now,
    )
    adapter = await carrier(session, shipment.carrier_code, ctx.settings)
    booking = await adapter.book(_booking(shipment))
    shipment.tracking_number = booking.tracking_number
    shipment.carrier_ref = booking.carrier_ref
    try:
        async with session.begin_nested():
            session.add(shipment)
            if booking.label is not None:
                await session.flush()
                session.add(
                    CarrierLabel(
                        shipment_id=shipment.id,
                        format=booking.label_format or "PDF",
                        content=booking.label,
                        created_at=now,
                    )
                )
    except IntegrityError as exc:
        if await repository.live_shipment(session, order.id) is None:
            raise Conflict(
                f"carrier {shipment.carrier_code} assigned tracking number "
                f"{shipment.tracking_number}, which another shipment has",
                field="tracking_number",
                rule="tracking_number_taken",
            ) from exc
        raise Conflict(
            f"order {order.id} got another shipment meanwhile",
            field="order_id",
            rule="one_live_shipment",
        ) from exc
    # The order's timeline is the seller's to read: the platform's freight stays off it (F11).
    paid = (
        {"quote_total_minor": priced.total_minor}
        if origin.payer is Party.seller
        else {"payer": origin.payer.value, "warehouse_id": origin.warehouse_id}
    )
    record(session, ctx, shipment, "create", None, paid)
    await money.charge_fee(session, ctx, shipment)  # F8, G1: the quote, charged to the payer
    return shipment


async def act(
    session: AsyncSession,
    *,
    ctx: Ctx,
    shipment_id: str,
    action: ShipmentAction,
    body: PickupCreate | ShipmentCancel | None = None,
    expected_version: int | None = None,
) -> Shipment:
    """Submit, arrange the handover, or ask to cancel: one step, its carrier call, its audit."""
    seen = await get_shipment(session, principal=ctx.principal, shipment_id=shipment_id)
    # The order first, then the shipment, as every writer locks them: no deadlock.
    await orders.lock_order(session, principal=SYSTEM, order_id=seen.order_id)
    shipment = await _lock(session, ctx.principal, shipment_id)
    check_version("shipment", shipment_id, shipment.version, expected_version)
    source = shipment.status
    target = next_status(source, action, ctx.principal.role)
    adapter = await carrier(session, shipment.carrier_code, ctx.settings)
    now = ctx.clock.now()
    data: dict[str, Any] = {}
    reason = None
    answers: list[Scan] = []
    if action is ShipmentAction.submit:
        await adapter.submit(shipment.tracking_number, _booking(shipment))
        shipment.submitted_at = now
        ship = ShipBody(
            carrier_code=shipment.carrier_code, tracking_number=shipment.tracking_number
        )
        await orders.act(
            session, ctx=ctx, order_id=shipment.order_id, action=OrderAction.ship, body=ship
        )
    elif action is ShipmentAction.schedule_pickup:
        assert isinstance(body, PickupCreate)
        start, end = as_utc(body.window_from), as_utc(body.window_until)
        if end <= start:
            raise InvalidInput("the pickup window ends before it starts", field="window_until")
        if end <= now or start > now + MAX_PICKUP_AHEAD:
            raise InvalidInput(
                "the pickup window must end in the future and start within 7 days",
                field="window_from",
                rule="pickup_window",
            )
        booked = await adapter.schedule_pickup(
            PickupRequest(
                [shipment.tracking_number],
                start,
                end,
                body.place,
                address=shipment.sender,
                weight_g=shipment.weight_g,
            )
        )
        shipment.handover = "pickup"
        shipment.pickup_ref = booked.ref
        shipment.pickup_from, shipment.pickup_until = (
            as_utc(booked.window_from),
            as_utc(booked.window_until),
        )
        shipment.pickup_place = body.place
        shipment.handover_by = shipment.pickup_until
        data = {"pickup_ref": booked.ref, "from": start.isoformat(), "until": end.isoformat()}
    elif action is ShipmentAction.self_drop:
        shipment.handover = "self_drop"
        shipment.handover_by = deadlines.self_drop_by(as_utc(shipment.created_at))
        data = {"handover_by": shipment.handover_by.isoformat()}
    elif action is ShipmentAction.cancel:
        assert isinstance(body, ShipmentCancel)
        answers = await adapter.request_cancel(shipment.tracking_number, body.reason.value)
        shipment.status_before_cancel = source
        shipment.cancel_reason = body.reason.value
        shipment.cancel_note = body.note
        shipment.cancel_requested_at = now
        shipment.cancel_answered_at = shipment.cancel_escalated_at = None
        reason = body.reason.value
    shipment.status = target
    record(session, ctx, shipment, action.value, source, data, reason)
    await session.flush()
    if action is ShipmentAction.cancel and answers:
        # A carrier that answers at once: its answer applies like a pushed one.
        dated = [replace(scan, occurred_at=now) for scan in answers]
        await tracking.ingest(
            session,
            ctx=tracking.as_carrier(ctx, shipment.carrier_code),
            carrier_code=shipment.carrier_code,
            scans=dated,
        )
    return shipment


def present(shipment: Shipment, principal: Principal) -> ShipmentView:
    """A shipment as the caller's role sees it (``SHIPMENT_VIEWS``): for sellers and operators
    with what they may do, the reweigh difference and unprintable glyphs."""
    read = model_for(SHIPMENT_VIEWS, principal, "shipments").model_validate(shipment)
    if isinstance(read, ShipmentRead | CarrierShipmentRead):
        read.allowed_actions = [a.value for a in allowed_actions(shipment.status, principal.role)]
    if not isinstance(read, ShipmentRead):
        return read
    if shipment.charged_lines is not None:
        quoted = [rates.Line(**x) for x in shipment.quote_lines]
        charged = [rates.Line(**x) for x in shipment.charged_lines]
        read.charge_difference = [
            QuoteLineRead(
                code=x.code,
                amount_minor=x.amount_minor,
                detail=x.detail,
                note=x.note,
                params=dict(x.params),
            )
            for x in rates.difference(quoted, charged, shipment.currency)
        ]
    texts = [str(v) for party in (shipment.sender, shipment.receiver) for v in party.values() if v]
    read.missing_glyphs = labels.missing_glyphs(texts)
    return read


@orders.guard("shipping.one_live_shipment")
async def _refuse_second_shipment(
    session: AsyncSession, ctx: Ctx, order: Order, action: OrderAction, body: Any
) -> None:
    """F10: while an online shipment is live, the order ships only under its tracking number."""
    if action is not OrderAction.ship or not isinstance(body, ShipBody):
        return
    live = await live_for_order(session, order.id)
    if live is not None and (live.carrier_code, live.tracking_number) != (
        body.carrier_code,
        body.tracking_number,
    ):
        raise Conflict(
            f"order {order.id} has shipment {live.id} ({live.status.value}); cancel it and wait "
            "for the carrier's confirmation before shipping again",
            field="tracking_number",
            rule="one_live_shipment",
        )

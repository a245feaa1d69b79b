"""Carrier events in: tracking (F9), reweighs (G1), answers to cancellations (F10). Never commits.

Events arrive pushed (signed webhooks) or polled. A repeat is recognised by the
carrier's event id and ignored; an event older than the newest one applied is
kept in the history but moves nothing; an event for a parcel tuoguan does not
know refuses the whole delivery, naming the parcel, so nothing is half-applied.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.errors import InvalidInput
from tuoguan.kit import i18n
from tuoguan.kit.clock import as_utc
from tuoguan.kit.ids import new_id
from tuoguan.notify import service as notify
from tuoguan.orders import service as orders
from tuoguan.orders.models import Order
from tuoguan.orders.schemas import ActionBody, CancelBody
from tuoguan.orders.states import OrderAction, OrderStatus
from tuoguan.principal import SYSTEM, Principal, Role
from tuoguan.shipping import (
    cancel_listeners,
    compensation,
    money,
    other_parcels,
    quotes,
    repository,
)
from tuoguan.shipping.carriers import PUSHING
from tuoguan.shipping.carriers.base import CANCEL_REFUSED, CANCELLED, Scan
from tuoguan.shipping.models import Shipment, ShipmentStatus, TrackingEvent
from tuoguan.shipping.records import carrier, line_rows, record
from tuoguan.shipping.shipment_schemas import CancelReason, PushResult
from tuoguan.shipping.states import FINAL, TrackingCode, after_scan
from tuoguan.stores import service as stores
from tuoguan.timing import deadlines
from tuoguan.timing.calendar import calendar_for
from tuoguan.timing.places import country_timezone

_WORTH_TELLING = {
    ShipmentStatus.exception: i18n.N_("note_parcel_exception"),
    ShipmentStatus.lost: i18n.N_("note_parcel_lost"),
    ShipmentStatus.returned: i18n.N_("note_parcel_returned"),
}


def carrier_principal(code: str) -> Principal:
    """Who a carrier's events act as."""
    return Principal(role=Role.carrier, actor_id=f"carrier:{code}", carrier_code=code, name=code)


def as_carrier(ctx: Ctx, carrier_code: str) -> Ctx:
    """The context a carrier's answers apply in: its principal, the caller's clock."""
    return Ctx(
        principal=carrier_principal(carrier_code),
        clock=ctx.clock,
        settings=ctx.settings,
        request_id=ctx.request_id,
    )


async def ingest(
    session: AsyncSession, *, ctx: Ctx, carrier_code: str, scans: list[Scan]
) -> PushResult:
    """Store and apply a carrier's events, oldest first; repeats count as duplicates."""
    numbers = sorted({scan.tracking_number for scan in scans})
    orders_of: dict[str, str] = {}
    others: list[str] = []
    for number in numbers:
        found = await repository.shipment_by_tracking(session, carrier_code, number, lock=False)
        if found is None:
            others.append(number)
        else:
            orders_of[number] = found.order_id
    # A number no shipment has may be another layer's parcel (a return's); else the batch is
    # refused whole, before anything is applied.
    accepted = duplicates = 0
    for number in others:
        taken = await other_parcels.claim(
            session, ctx, carrier_code, number, [s for s in scans if s.tracking_number == number]
        )
        if taken is None:
            raise InvalidInput(
                f"no parcel {number} with carrier {carrier_code}; nothing was applied",
                field="tracking_number",
                rule="unknown_parcel",
            )
        accepted, duplicates = accepted + taken[0], duplicates + taken[1]
    numbers = [n for n in numbers if n not in others]
    scans = [s for s in scans if s.tracking_number not in others]
    # Orders first, then their shipments, as every other writer locks them: no deadlock.
    for order_id in sorted(set(orders_of.values())):
        await orders.lock_order(session, principal=SYSTEM, order_id=order_id)
    parcels: dict[str, Shipment] = {}
    for number in numbers:
        locked = await repository.shipment_by_tracking(session, carrier_code, number)
        assert locked is not None  # it was there a moment ago, and shipments are never deleted
        parcels[number] = locked
    known = await repository.known_events(session, carrier_code, [s.event_id for s in scans])
    for scan in sorted(scans, key=lambda s: (as_utc(s.occurred_at), s.event_id)):
        if scan.event_id in known:
            duplicates += 1
            continue
        known.add(scan.event_id)
        shipment = parcels[scan.tracking_number]
        session.add(
            TrackingEvent(
                id=new_id("tracking"),
                shipment_id=shipment.id,
                carrier_code=carrier_code,
                carrier_event_id=scan.event_id,
                code=scan.code,
                occurred_at=as_utc(scan.occurred_at),
                location=scan.location,
                detail=scan.detail,
                received_at=ctx.clock.now(),
            )
        )
        await _apply(session, ctx, shipment, scan)
        accepted += 1
    await session.flush()
    return PushResult(accepted=accepted, duplicates=duplicates)


async def _apply(session: AsyncSession, ctx: Ctx, shipment: Shipment, scan: Scan) -> None:
    if scan.code == CANCELLED:
        await _cancelled(session, ctx, shipment)
        return
    if scan.code == CANCEL_REFUSED:
        await _refused(session, ctx, shipment, scan.detail or "refused by the carrier")
        return
    at = as_utc(scan.occurred_at)
    if scan.code == TrackingCode.picked_up and shipment.picked_up_at is None:
        # The pickup's facts (time, commitment, weight) hold even when the scan arrives late.
        await _picked_up(session, shipment, at, scan.weight_g)
    # G2: a delivery in time settles the commitment; news that the delay was not the carrier's
    # reverses a compensation already posted (whatever the event's order).
    await compensation.on_scan(session, ctx, shipment, scan.code, at, scan.detail or "")
    if shipment.last_event_at is not None and at < as_utc(shipment.last_event_at):
        return  # older than what we know: the status stays
    shipment.last_event_at = at
    source = shipment.status
    target = after_scan(source, TrackingCode(scan.code))
    if target is source:
        return
    if source is ShipmentStatus.cancel_requested:
        await _refused(session, ctx, shipment, f"the carrier scanned the parcel ({scan.code})")
    shipment.status = target
    record(session, ctx, shipment, f"scan_{scan.code}", source, {"event_id": scan.event_id})
    if target is ShipmentStatus.delivered:
        shipment.delivered_at = at
        order = await orders.get_order(session, principal=SYSTEM, order_id=shipment.order_id)
        if order.status is OrderStatus.shipped:
            await orders.act(session, ctx=ctx, order_id=order.id, action=OrderAction.deliver)
    if target in _WORTH_TELLING:
        notify.notify(
            session,
            ctx=ctx,
            seller_id=shipment.seller_id,
            kind=f"shipment_{target.value}",
            subject_type="order",
            subject_id=shipment.order_id,
            key=_WORTH_TELLING[target],
            params={"tracking": shipment.tracking_number, "detail": scan.detail or ""},
        )


async def _picked_up(
    session: AsyncSession, shipment: Shipment, at: datetime, weighed: int | None
) -> None:
    """The pickup scan: G2's delivery commitment starts; a reweigh reprices (G1)."""
    shipment.picked_up_at = at
    store = await stores.get_store(session, principal=SYSTEM, store_id=shipment.store_id)
    zone = ZoneInfo(store.timezone)
    try:
        day = deadlines.pickup_day(at, zone, stores.store_calendar(store))
    except ValueError:
        # A calendar with no business day left in a year (closed days stored before they were
        # bounded): the scan's own day counts, rather than the carrier's event failing.
        day = at.astimezone(zone).date()
    country = shipment.receiver["country"]
    shipment.commit_by = as_utc(
        deadlines.deliver_by(
            day, shipment.transit_max_days, country_timezone(country), calendar_for(country)
        )
    )
    if weighed is not None and weighed != shipment.weight_g:
        charged = await quotes.reprice(session, shipment, weighed)
        shipment.charged_weight_g = weighed
        shipment.charged_lines = line_rows(charged)
        shipment.charged_total_minor = sum(x.amount_minor for x in charged)


async def _cancelled(session: AsyncSession, ctx: Ctx, shipment: Shipment) -> None:
    """F10: the carrier confirmed; the order awaits shipment again (O4: the buyer's cancel is
    the order's own step, taken after this)."""
    if shipment.status is not ShipmentStatus.cancel_requested:
        return
    source = shipment.status
    shipment.status = ShipmentStatus.cancelled
    shipment.cancel_answered_at = ctx.clock.now()
    record(session, ctx, shipment, "cancelled", source, reason=shipment.cancel_reason)
    await money.void_fee(session, ctx, shipment)  # voided before pickup: its fee goes back
    order = await orders.get_order(session, principal=SYSTEM, order_id=shipment.order_id)
    # The order's cancel waited on this parcel: it is cancelled now; else it ships again.
    ends = order.status is OrderStatus.cancel_requested
    after = (
        i18n.N_("note_parcel_cancelled_order_cancelled")
        if ends
        else i18n.N_("note_parcel_cancelled_reship")
    )
    if order.status is OrderStatus.shipped:
        await orders.act(session, ctx=ctx, order_id=order.id, action=OrderAction.unship)
    await carrier_voided(session, ctx, shipment)
    notify.notify(
        session,
        ctx=ctx,
        seller_id=shipment.seller_id,
        kind="shipment_cancelled",
        subject_type="order",
        subject_id=shipment.order_id,
        key=after,
        params={"carrier": shipment.carrier_code, "tracking": shipment.tracking_number},
    )
    # O6: the buyer is told why, in words a buyer reads, and what happens next, in their language.
    why = {
        CancelReason.wrong_product_info.value: i18n.N_("buyer_why_wrong_product_info"),
        CancelReason.buyer_cancelled.value: i18n.N_("buyer_why_buyer_cancelled"),
        CancelReason.return_.value: i18n.N_("buyer_why_return"),
        CancelReason.logistics_problem.value: i18n.N_("buyer_why_logistics_problem"),
    }
    reason = shipment.cancel_reason or ""
    notify.tell_storefront(
        session,
        ctx=ctx,
        order_id=order.id,
        locale=order.buyer_locale,
        kind="shipment_cancelled",
        key=i18n.N_("buyer_parcel_cancelled"),
        params={
            "tracking": shipment.tracking_number,
            "reason": i18n.label(why.get(reason, i18n.N_("buyer_why_other"))),
            "next": i18n.label(
                i18n.N_("buyer_next_order_cancelled") if ends else i18n.N_("buyer_next_reship")
            ),
        },
        data={
            "reason": reason,
            "next": "order_cancelled" if ends else "reship",
            "shipment_id": shipment.id,
            "tracking_number": shipment.tracking_number,
        },
    )


async def _refused(session: AsyncSession, ctx: Ctx, shipment: Shipment, why: str) -> None:
    """F10: the carrier refused (or overtook) the cancellation; the shipment goes on, and an
    order that waited on it to be cancelled goes on where it was: awaiting shipment, or shipped
    (O4: the buyer's cancel then becomes a return, see ``carrier_refused``)."""
    if shipment.status is not ShipmentStatus.cancel_requested:
        return
    source = shipment.status
    shipment.status = shipment.status_before_cancel or ShipmentStatus.submitted
    shipment.cancel_answered_at = ctx.clock.now()
    record(session, ctx, shipment, "cancel_refused", source, reason=why)
    await carrier_refused(session, ctx, shipment, why)
    notify.notify(
        session,
        ctx=ctx,
        seller_id=shipment.seller_id,
        kind="shipment_cancel_refused",
        subject_type="order",
        subject_id=shipment.order_id,
        key=i18n.N_("note_cancel_refused"),
        params={
            "carrier": shipment.carrier_code,
            "tracking": shipment.tracking_number,
            "reason": why,
        },
    )


async def refresh(session: AsyncSession, *, ctx: Ctx, shipment: Shipment) -> PushResult:
    """Poll the carrier for a shipment's events and apply what is new."""
    if shipment.status in FINAL and shipment.status is not ShipmentStatus.cancel_requested:
        return PushResult(accepted=0, duplicates=0)
    adapter = await carrier(session, shipment.carrier_code, ctx.settings)  # app allow-list
    scans = await adapter.track(shipment.tracking_number)
    shipment.polled_at = ctx.clock.now()
    as_carrier_ctx = as_carrier(ctx, shipment.carrier_code)
    return await ingest(
        session, ctx=as_carrier_ctx, carrier_code=shipment.carrier_code, scans=scans
    )


# Where a carrier still has news to give: every live status, and a cancellation awaiting its answer.
POLLED = [s for s in ShipmentStatus if s not in FINAL or s is ShipmentStatus.cancel_requested]


async def claim_polls(
    session: AsyncSession, *, now: datetime, every: timedelta, limit: int, skip_locked: bool
) -> list[tuple[str, str, str]]:
    """Shipments due a poll, marked as polled now so no other worker takes them:
    (shipment id, carrier code, tracking number). The carrier is asked after commit."""
    due = await repository.due_polls(
        session,
        before=now - every,
        statuses=POLLED,
        pushing=PUSHING,
        limit=limit,
        skip_locked=skip_locked,
    )
    for shipment in due:
        shipment.polled_at = now
    await session.flush()
    return [(s.id, s.carrier_code, s.tracking_number) for s in due]


async def escalate_unanswered(
    session: AsyncSession, *, ctx: Ctx, now: datetime, limit: int, skip_locked: bool
) -> int:
    """F10: cancellations the carrier left unanswered too long go to an operator, once each."""
    waited = ctx.settings.cancel_escalate_hours
    due = await repository.unanswered_cancels(
        session, before=now - timedelta(hours=waited), limit=limit, skip_locked=skip_locked
    )
    for shipment in due:
        shipment.cancel_escalated_at = now
        record(
            session, ctx, shipment, "cancel_escalated", shipment.status, {"waited_hours": waited}
        )
        notify.notify(
            session,
            ctx=ctx,
            seller_id=None,
            kind="shipment_cancel_unanswered",
            subject_type="order",
            subject_id=shipment.order_id,
            key=i18n.N_("note_cancel_unanswered"),
            params={
                "carrier": shipment.carrier_code,
                "tracking": shipment.tracking_number,
                "waited": i18n.duration(timedelta(hours=waited)),
            },
        )
    await session.flush()
    return len(due)


async def events(session: AsyncSession, shipment_id: str) -> list[TrackingEvent]:
    """A shipment's tracking history, oldest first (the caller checked visibility)."""
    return await repository.events_of(session, shipment_id)


# The order's side of the carrier's answer to a cancellation (F10, with O4).


def as_platform(ctx: Ctx) -> Ctx:
    """The platform acting for the requester on the parcel (the buyer cannot see shipments)."""
    return Ctx(principal=SYSTEM, clock=ctx.clock, settings=ctx.settings, request_id=ctx.request_id)


async def carrier_voided(session: AsyncSession, ctx: Ctx, shipment: Shipment) -> Order:
    """The carrier confirmed voiding the parcel: an order waiting on it is cancelled, whether
    or not it had shipped (O4 with F10)."""
    if shipment.commit_by is not None and shipment.commit_settled_at is None:
        # G2: a parcel stopped after its pickup owes no delivery, so it is never judged late.
        shipment.commit_settled_at = ctx.clock.now()
    order = await orders.get_order(session, principal=SYSTEM, order_id=shipment.order_id)
    if order.status is OrderStatus.cancel_requested:
        reason = order.cancel_reason or CancelReason.buyer_cancelled.value
        await orders.act(
            session,
            ctx=as_platform(ctx),
            order_id=order.id,
            action=OrderAction.cancel,
            body=CancelBody(reason=reason),
        )
    return order


async def carrier_refused(session: AsyncSession, ctx: Ctx, shipment: Shipment, why: str) -> None:
    """The carrier kept the parcel: an order waiting on it goes on where it was. Before shipment
    it awaits shipment again; after it, it stays shipped and the buyer's cancel becomes a return
    (O4), which the listeners registered in ``cancel_listeners`` open in this transaction."""
    order = await orders.get_order(session, principal=SYSTEM, order_id=shipment.order_id)
    if order.status is not OrderStatus.cancel_requested:
        return
    platform = as_platform(ctx)
    had_shipped = order.shipped_at is not None
    await orders.act(
        session,
        ctx=platform,
        order_id=order.id,
        action=OrderAction.keep_shipping if had_shipped else OrderAction.resume,
        body=ActionBody(reason=f"the carrier refused to void the parcel: {why}"[:500]),
    )
    if had_shipped:
        await cancel_listeners.after_shipment_refused(session, platform, order, why)

"""A return's parcel (G6): authorized with a label booked through the shipping module's
carriers, from the buyer to where the order came from (the platform's warehouse that shipped
it, or the seller's sender address); received and inspected there, full-managed goods taken
back on the platform warehouse's books. Never commits: one transaction of the caller's, with
the case row locked, its timeline entry and its audit event."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.cases import service
from tuoguan.cases.kinds import CaseKind, CaseParty, CaseState
from tuoguan.cases.models import Case, CaseReturn
from tuoguan.cases.return_schemas import ReturnAuthorize, ReturnRead, ReturnReceipt
from tuoguan.cases.returns import DELIVERED
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput, NotFound
from tuoguan.fulfilment import service as fulfilment
from tuoguan.inventory import service as inventory
from tuoguan.inventory.models import Warehouse
from tuoguan.inventory.schemas import StockAdjustmentCreate
from tuoguan.kit import i18n
from tuoguan.orders import service as orders
from tuoguan.orders.models import Order
from tuoguan.principal import SYSTEM, Principal
from tuoguan.shipping import labels, quotes, records, refunds
from tuoguan.shipping.carriers.base import BookingRequest, Item
from tuoguan.shipping.models import LogisticsService, Shipment, ShipmentStatus
from tuoguan.shipping.shipments import contents_of, receiver_of
from tuoguan.stores.models import Store, StoreMode
from tuoguan.stores.modes import Party

# The carrier's own label, served in its format (karrio's carriers answer PDF, ZPL or PNG).
LABEL_MEDIA = {"PDF": "application/pdf", "ZPL": "text/plain; charset=utf-8", "PNG": "image/png"}
AFTER_DECISION = (CaseState.decided, CaseState.appealed, CaseState.closed)


def _not_a_return(case: Case) -> None:
    if case.kind is not CaseKind.after_sale:
        raise Conflict(
            f"case {case.id} is a {case.kind.value}: only a return has a parcel",
            field="case_id",
            rule="return_case",
        )


def _in_state(case: Case, state: CaseState, what: str) -> None:
    if case.state is not state:
        raise Conflict(
            f"case {case.id} is {case.state.value}: {what}",
            field="case_id",
            rule="illegal_transition",
            current_state=case.state.value,
        )


async def _outbound(session: AsyncSession, order_id: str) -> Shipment | None:
    """The parcel that took the order to the buyer (the last one not cancelled)."""
    return await session.scalar(
        select(Shipment)
        .where(Shipment.order_id == order_id, Shipment.status != ShipmentStatus.cancelled)
        .order_by(Shipment.created_at.desc())
        .limit(1)
    )


async def _destination(
    session: AsyncSession, case: Case, outbound: Shipment | None
) -> tuple[str, Warehouse | None, dict[str, object]]:
    assert case.order_id is not None
    shipped_from = outbound.warehouse_id if outbound is not None else None
    if shipped_from is None:  # the platform's warehouse fulfilled it, whoever booked the parcel
        shipped_from = (await fulfilment.platform_shipped(session, [case.order_id])).get(
            case.order_id
        )
    if shipped_from is not None:
        warehouse = await session.get(Warehouse, shipped_from)
        assert warehouse is not None
        return "warehouse", warehouse, {"name": warehouse.name, **dict(warehouse.address)}
    store = await session.get(Store, case.store_id)
    assert store is not None
    if not store.sender_address:
        raise Conflict(
            f"store {store.id} has no sender address to take the return at; the seller sets "
            "it on the store first",
            field="sender_address",
            rule="return_address",
        )
    return "seller", None, dict(store.sender_address)


async def authorize(
    session: AsyncSession, ctx: Ctx, *, case_id: str, data: ReturnAuthorize
) -> Case:
    """G6: an operator (or, outside full-managed, the seller) authorizes the return: the
    carrier books the return parcel and its label, and the buyer has its step to send it.
    Refused, nothing booked: not a return (409 ``return_case``), not awaiting authorization
    (409 ``illegal_transition``), an order not delivered (409 ``return_after_delivery``), no
    service to book with (422 ``service_code``), the carrier's refusal (422) or absence (503)."""
    case = await service.lock_case(session, principal=ctx.principal, case_id=case_id)
    _not_a_return(case)
    party = service.party_on(ctx, case)
    seller_may = party is CaseParty.seller and case.mode is not StoreMode.full_managed
    if party is not CaseParty.platform and not seller_may:
        raise Forbidden(
            "the platform authorizes returns (the seller too, outside full-managed)",
            field="case_id",
            rule="authorizer",
        )
    _in_state(case, CaseState.return_requested, "a return is authorized once, when asked")
    assert case.order_id is not None
    order = await orders.lock_order(session, principal=SYSTEM, order_id=case.order_id)
    if order.status not in DELIVERED:
        raise Conflict(
            f"order {order.id} is {order.status.value}: the return label is booked once the "
            "parcel has reached the buyer",
            field="order_id",
            rule="return_after_delivery",
            current_state=order.status.value,
        )
    outbound = await _outbound(session, order.id)
    code = data.service_code or (outbound.service_code if outbound else None)
    if code is None:
        raise InvalidInput(
            "the order did not ship through the platform: name the return's logistics service",
            field="service_code",
            rule="service_required",
        )
    found = await session.get(LogisticsService, code)
    if found is None or not found.active:
        raise InvalidInput(f"no active service {code}", field="service_code", rule="active")
    destination, warehouse, ship_to = await _destination(session, case, outbound)
    request = await _request(session, case, order, outbound, found, ship_to)
    booking = await (await records.carrier(session, found.carrier_code, ctx.settings)).book(request)
    now = ctx.clock.now()
    row = CaseReturn(
        case_id=case.id,
        order_id=order.id,
        destination=destination,
        warehouse_id=warehouse.id if warehouse else None,
        service_code=found.code,
        carrier_code=found.carrier_code,
        tracking_number=booking.tracking_number,
        carrier_ref=booking.carrier_ref,
        sender=request.sender,
        receiver=request.receiver,
        weight_g=request.weight_g,
        label=booking.label,
        label_format=booking.label_format if booking.label is not None else None,
        authorized_by=ctx.principal.actor_id,
        authorized_at=now,
        restocked={},
        scans=[],
    )
    session.add(row)
    # The return's carrier and receiving warehouse are parties from now on.
    case.carrier_code, case.warehouse_id = found.carrier_code, row.warehouse_id
    before = case.state
    service.enter(case, CaseState.return_shipping, now)
    said: dict[str, object] = {
        "carrier_code": found.carrier_code,
        "tracking_number": booking.tracking_number,
        "destination": destination,
    }
    service.append(session, ctx, case, "return_authorized", party=party, text=data.note, data=said)
    service.audit_case(session, ctx, case, "authorize_return", before, data=said)
    service.tell_seller(
        session,
        ctx,
        case,
        "case_return_authorized",
        i18n.N_("case_note_return_authorized"),
        tracking=booking.tracking_number,
    )
    await service.tell_buyer(
        session,
        ctx,
        case,
        "return_authorized",
        i18n.N_("buyer_return_authorized"),
        tracking=booking.tracking_number,
        label=f"/api/v1/returns/{case.id}/label",
    )
    await session.flush()
    return case


async def _request(
    session: AsyncSession,
    case: Case,
    order: Order,
    outbound: Shipment | None,
    found: LogisticsService,
    ship_to: dict[str, object],
) -> BookingRequest:
    if outbound is not None:
        weight, dims = outbound.weight_g, (outbound.length_mm, outbound.width_mm)
        height, value, currency = (
            outbound.height_mm,
            outbound.declared_value_minor,
            outbound.currency,
        )
        items = tuple(Item(**x) for x in outbound.contents or [])
    else:
        parcel, _ = await quotes.parcel_for(session, order, None)
        weight, dims, height = (
            parcel.weight_g,
            (parcel.length_mm, parcel.width_mm),
            parcel.height_mm,
        )
        value, currency = parcel.declared_value_minor, parcel.currency
        items = tuple(Item(**x) for x in await contents_of(session, order))
    return BookingRequest(
        reference=case.id,
        service_code=found.code,
        sender=receiver_of(order),
        receiver=ship_to,
        weight_g=weight,
        length_mm=dims[0],
        width_mm=dims[1],
        height_mm=height,
        declared_value_minor=value,
        currency=currency,
        insured=False,
        items=items,
    )


async def receive(session: AsyncSession, ctx: Ctx, *, case_id: str, data: ReturnReceipt) -> Case:
    """G6: the return arrived where it was sent; staff of that warehouse (or the seller, when it
    went to the seller, or an operator) record what came back. At the platform's warehouse, a
    resellable return goes back on hand and a damaged one to defective, on the stock ledger in
    this transaction. 409 ``illegal_transition`` before it was authorized or once received."""
    case = await service.lock_case(session, principal=ctx.principal, case_id=case_id)
    _not_a_return(case)
    party = service.party_on(ctx, case)
    row = await session.get(CaseReturn, case.id, with_for_update=True)
    # Decided while the parcel was on its way (refunded or refused without it): its arrival is
    # still recorded, and its goods taken back, without moving the case.
    late = row is not None and row.received_at is None and case.state in AFTER_DECISION
    if not late:
        _in_state(case, CaseState.return_shipping, "a return is received once, after its label")
    assert row is not None and case.order_id is not None
    receiver = CaseParty.warehouse if row.destination == "warehouse" else CaseParty.seller
    if party not in (receiver, CaseParty.platform):
        raise Forbidden(
            f"the return goes to the {receiver.value}: it records the receipt",
            field="case_id",
            rule="receiver",
        )
    now = ctx.clock.now()
    restocking = row.warehouse_id is not None and case.mode is StoreMode.full_managed
    if restocking:
        row.restocked = await _restock(session, ctx, case, row, data.condition)
    row.received_by, row.received_at = ctx.principal.actor_id, now
    row.condition, row.received_note = data.condition, data.note
    before = case.state
    if not late:
        service.enter(case, CaseState.return_received, now)
    said: dict[str, object] = {
        "condition": data.condition,
        "restocked": dict(row.restocked),
        "kept_by_platform": restocking and data.condition != "wrong_item" and not row.restocked,
    }
    service.append(session, ctx, case, "return_received", party=party, text=data.note, data=said)
    service.audit_case(session, ctx, case, "receive_return", before, reason=data.note, data=said)
    service.tell_seller(
        session,
        ctx,
        case,
        "case_return_received",
        i18n.N_("case_note_return_received"),
        condition=i18n.label(f"return_condition_{data.condition}"),
    )
    if not late:
        await service.tell_buyer(
            session, ctx, case, "return_received", i18n.N_("buyer_return_received")
        )
    await session.flush()
    return case


async def _restock(
    session: AsyncSession, ctx: Ctx, case: Case, row: CaseReturn, condition: str
) -> dict[str, int]:
    """Full-managed goods back on the seller's books at the platform's warehouse: resellable on
    hand, damaged as defective. Not when the platform bears the buyer's refund (inside the
    3-month exemption, M3): the seller is paid for that sale all the same, so the unit is the
    platform's and goes on no seller's books (the seller would be paid for it twice). A wrong
    item is not what was sold, and nothing is taken back."""
    if condition == "wrong_item":
        return {}
    order = await orders.get_order(session, principal=SYSTEM, order_id=row.order_id)
    now = ctx.clock.now()
    if refunds.bearer_of(order, now, ctx.settings.refund_exemption_months) is Party.platform:
        return {}
    platform = replace(ctx, principal=SYSTEM)
    done: dict[str, int] = {}
    for line in order.lines:
        bucket = (
            {"on_hand": line.quantity}
            if condition == "resellable"
            else {"defective": line.quantity}
        )
        assert row.warehouse_id is not None
        await inventory.adjust(
            session,
            ctx=platform,
            data=StockAdjustmentCreate(
                warehouse_id=row.warehouse_id,
                sku_id=line.sku_id,
                reason=f"return received on case {case.id} ({condition})",
                **bucket,
            ),
        )
        done[line.sku_id] = done.get(line.sku_id, 0) + line.quantity
    return done


async def parcel_of(session: AsyncSession, case: Case) -> CaseReturn | None:
    return await session.get(CaseReturn, case.id) if case.kind is CaseKind.after_sale else None


def present(row: CaseReturn, label_url: str | None) -> ReturnRead:
    return ReturnRead(
        destination=row.destination,  # type: ignore[arg-type]
        ship_to=dict(row.receiver),
        carrier_code=row.carrier_code,
        service_code=row.service_code,
        tracking_number=row.tracking_number,
        label_url=label_url,
        authorized_at=row.authorized_at,
        received_at=row.received_at,
        condition=row.condition,  # type: ignore[arg-type]
        received_note=row.received_note,
    )


async def label(
    session: AsyncSession, *, principal: Principal, case_id: str, printed_on: str
) -> tuple[bytes, str]:
    """The return label as (content, media type): the carrier's own when it issued one, else
    drawn by tuoguan (PDF). 404 ``return_label`` before the return is authorized."""
    case = await service.get_case(session, principal=principal, case_id=case_id)
    row = await parcel_of(session, case)
    if row is None:
        raise NotFound(
            f"case {case.id} has no return label: the return is not authorized yet",
            field="case_id",
            rule="return_label",
        )
    if row.label is not None:
        media = LABEL_MEDIA.get((row.label_format or "PDF").upper(), "application/octet-stream")
        return row.label, media
    found = await session.get(LogisticsService, row.service_code)
    data = labels.LabelData(
        shipment_id=case.id,
        order_id=row.order_id,
        tracking_number=row.tracking_number,
        carrier_code=row.carrier_code,
        service_code=row.service_code,
        service_name=found.name if found else row.service_code,
        zone="RETURN",
        sender=dict(row.sender),
        receiver=dict(row.receiver),
        weight_g=row.weight_g,
        insured=False,
        printed_on=printed_on,
    )
    return await labels.pdf([data]), "application/pdf"

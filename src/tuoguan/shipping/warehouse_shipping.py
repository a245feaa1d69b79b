"""The platform ships from its warehouse (F11): quotes from the warehouse's origin, then pack and
ship through the online-shipping flow (F8), the label printed at the warehouse, the carrier paid
by the platform. Never commits.

A fulfilment order the warehouse picked (``fulfilment.picking``) is shipped here: the shipment is
booked from the warehouse's address (its country is the origin every service is checked
against), marked paid by the platform, and submitted at once, so the order ships (its ``ship``
action: the carrier and tracking number; the fulfilment guard then marks the fulfilment order
shipped and the units leave the ledger). Tracking, delivery and completion follow as for any
parcel. The seller never ships these orders and never sees what their parcels cost
(``shipments.visible_to``).

Who acts: the order and shipment tables give booking, submitting and the order's ``ship`` to
operators and sellers, not to warehouse staff (nor to the system), so staff take these steps as
the platform's operator while every event still names them (their actor id); the step they
took in their own role, packing, is on the order's timeline too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.errors import Conflict, NotFound
from tuoguan.fulfilment import picking
from tuoguan.fulfilment import service as fulfilment
from tuoguan.fulfilment.models import FulfilmentOrder, FulfilmentStatus
from tuoguan.inventory.models import Warehouse
from tuoguan.orders import service as orders
from tuoguan.principal import SYSTEM, Principal, Role
from tuoguan.shipping import quotes, repository, shipments
from tuoguan.shipping.models import Shipment
from tuoguan.shipping.schemas import QuoteLineRead
from tuoguan.shipping.shipment_schemas import ShipmentCreate
from tuoguan.shipping.shipments import Origin
from tuoguan.shipping.states import ShipmentAction
from tuoguan.shipping.warehouse_schemas import (
    SenderRead,
    WarehouseOptions,
    WarehouseParcelRead,
    WarehouseQuoteCreate,
)
from tuoguan.stores.modes import Party

API = "/api/v1"


def origin_of(warehouse: Warehouse) -> Origin:
    """A parcel from the platform's warehouse: its address on the label, its country as the
    origin, the platform paying (F11)."""
    sender = {**dict(warehouse.address), "country": warehouse.country}
    return Origin(
        sender=sender, country=warehouse.country, payer=Party.platform, warehouse_id=warehouse.id
    )


def as_platform(ctx: Ctx) -> Ctx:
    """The platform's operator acting for warehouse staff (see the module), named as them."""
    staff = ctx.principal
    if staff.role is not Role.warehouse:
        return ctx
    name = f"{staff.name or staff.actor_id} (warehouse staff)"
    return replace(ctx, principal=Principal(role=Role.operator, actor_id=staff.actor_id, name=name))


async def _warehouse(session: AsyncSession, fo: FulfilmentOrder) -> Warehouse:
    assert fo.warehouse_id is not None
    return await picking.warehouse_for(session, principal=SYSTEM, warehouse_id=fo.warehouse_id)


# -- quotes --------------------------------------------------------------------------------------


async def quote(
    session: AsyncSession,
    *,
    ctx: Ctx,
    fulfilment_order_id: str,
    data: WarehouseQuoteCreate | None = None,
) -> WarehouseOptions:
    """F8 step 2 from the warehouse: the services for the fulfilment order's parcel leaving the
    warehouse's country, each itemized (G1), and why the others are refused (F5)."""
    fo = await picking.get_fulfilment_order(
        session, principal=ctx.principal, fulfilment_order_id=fulfilment_order_id
    )
    if fo.shipper is not Party.platform:
        raise Conflict(
            f"the seller ships fulfilment order {fo.id} itself; the warehouse does not (M1)",
            field="fulfilment_order_id",
            rule="seller_ships",
        )
    warehouse = await _warehouse(session, fo)
    order = await orders.get_order(session, principal=SYSTEM, order_id=fo.order_id)
    measured = data.parcel if data is not None else None
    parcel, estimated = await quotes.parcel_for(session, order, measured)
    origin = origin_of(warehouse)
    found = await quotes.choices(
        session,
        order=order,
        parcel=parcel,
        insure=data.insure if data is not None else False,
        now=ctx.clock.now(),
        origin=origin.country,
    )
    return WarehouseOptions(
        fulfilment_order_id=fo.id,
        order_id=order.id,
        warehouse_id=warehouse.id,
        origin_country=origin.country,
        sender=SenderRead.model_validate(origin.sender),
        parcel=quotes.parcel_read(parcel, estimated),
        options=[quotes.option_read(choice) for choice in found],
    )


# -- pack and ship -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shipped:
    """A fulfilment order that left the warehouse, and its parcel."""

    fulfilment_order: FulfilmentOrder
    shipment: Shipment


async def ship(
    session: AsyncSession, *, ctx: Ctx, fulfilment_order_id: str, data: ShipmentCreate
) -> Shipped:
    """F8 steps 3-4 from the warehouse (F11): book the picked fulfilment order's parcel with the
    chosen service from the warehouse's address, paid by the platform, and submit it: the order
    is shipped. 409 ``not_picked`` before it is picked; a quote that moved is 409
    ``quote_changed`` (``expected_total_minor``), as for any parcel."""
    fo = await picking.lock_for_work(
        session, principal=ctx.principal, fulfilment_order_id=fulfilment_order_id
    )
    if fo.status is not FulfilmentStatus.picked:
        raise Conflict(
            f"fulfilment order {fo.id} is {fo.status.value}: only a picked order is packed and "
            "shipped (pick it first)",
            field="fulfilment_order_id",
            rule="not_picked",
            current_state=fo.status.value,
        )
    warehouse = await _warehouse(session, fo)
    order = await orders.lock_order(session, principal=SYSTEM, order_id=fo.order_id)
    fulfilment.note(
        session,
        ctx,
        order,
        "fulfilment_packed",
        {"fulfilment_order_id": fo.id, "warehouse_id": warehouse.id, "service": data.service_code},
    )
    platform = as_platform(ctx)
    booked = await shipments.book(
        session, ctx=platform, order=order, data=data, origin=origin_of(warehouse)
    )
    shipment = await shipments.act(
        session, ctx=platform, shipment_id=booked.id, action=ShipmentAction.submit
    )
    # The guard read the fulfilment order afresh into this same object, and shipped it.
    return Shipped(fulfilment_order=fo, shipment=shipment)


# -- the label -----------------------------------------------------------------------------------


async def parcel_of(
    session: AsyncSession, *, principal: Principal, fulfilment_order_id: str
) -> Shipment:
    """The live parcel the warehouse shipped the fulfilment order in (its label prints); 404
    ``no_parcel`` before it is shipped."""
    fo = await picking.get_fulfilment_order(
        session, principal=principal, fulfilment_order_id=fulfilment_order_id
    )
    live = await repository.live_shipment(session, fo.order_id)
    if live is None or live.warehouse_id != fo.warehouse_id or live.payer is not Party.platform:
        raise NotFound(
            f"fulfilment order {fo.id} has no parcel from its warehouse: ship it first",
            field="fulfilment_order_id",
            rule="no_parcel",
        )
    return live


def label_url(fulfilment_order_id: str) -> str:
    """Where the warehouse prints the parcel's label."""
    return f"{API}/fulfilment-orders/{fulfilment_order_id}/label.pdf"


def parcel_read(shipment: Shipment, fulfilment_order_id: str) -> WarehouseParcelRead:
    """The platform's parcel as the warehouse and operators see it."""
    assert shipment.warehouse_id is not None
    lines: list[dict[str, Any]] = shipment.quote_lines
    return WarehouseParcelRead(
        id=shipment.id,
        order_id=shipment.order_id,
        warehouse_id=shipment.warehouse_id,
        payer=shipment.payer,
        service_code=shipment.service_code,
        carrier_code=shipment.carrier_code,
        tracking_number=shipment.tracking_number,
        status=shipment.status.value,
        sender=SenderRead.model_validate(shipment.sender),
        weight_g=shipment.weight_g,
        currency=shipment.currency,
        insured=shipment.insured,
        quote_lines=[QuoteLineRead(**line) for line in lines],
        quote_total_minor=shipment.quote_total_minor,
        created_at=shipment.created_at,
        submitted_at=shipment.submitted_at,
        label_pdf=label_url(fulfilment_order_id),
    )

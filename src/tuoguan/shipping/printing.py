"""Printing labels (面单, F8 step 3): which shipments may be printed, and what each prints.

A batch takes the shipments the caller may act on, in the order asked, each once;
a parcel voided or being voided prints nothing, and a label the carrier issued
prints as the carrier's own, in its format.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.errors import Conflict, InvalidInput, NotFound
from tuoguan.principal import Principal
from tuoguan.shipping import labels, repository
from tuoguan.shipping.models import CarrierLabel, Shipment, ShipmentStatus
from tuoguan.shipping.shipments import visible_to

# A label is not printed for a parcel that is voided or being voided (F10).
UNPRINTABLE = (ShipmentStatus.cancelled, ShipmentStatus.cancel_requested)
MAX_LABELS = 200  # one batch print; a bigger one would hold a render thread for seconds


async def printable(
    session: AsyncSession, *, principal: Principal, order_ids: list[str]
) -> dict[str, Shipment]:
    """Each listed order's live shipment the principal may see: its label can be printed."""
    found = await session.scalars(
        visible_to(principal).where(
            Shipment.order_id.in_(order_ids), Shipment.status.not_in(UNPRINTABLE)
        )
    )
    return {s.order_id: s for s in found}


def label_data(shipment: Shipment, service_name: str, printed_on: str) -> labels.LabelData:
    """What the label of a shipment prints."""
    return labels.LabelData(
        shipment_id=shipment.id,
        order_id=shipment.order_id,
        tracking_number=shipment.tracking_number,
        carrier_code=shipment.carrier_code,
        service_code=shipment.service_code,
        service_name=service_name,
        zone=shipment.zone,
        sender=shipment.sender,
        receiver=shipment.receiver,
        weight_g=shipment.weight_g,
        insured=shipment.insured,
        printed_on=printed_on,
    )


async def label_batch(
    session: AsyncSession, *, ctx: Ctx, shipment_ids: list[str], fmt: str = "PDF"
) -> list[labels.LabelData]:
    """The labels of shipments the principal may see, in the order asked (batch printing).

    A label the carrier issued is printed as the carrier's, in the carrier's format.
    """
    if not 1 <= len(shipment_ids) <= MAX_LABELS:
        raise InvalidInput(
            f"print 1 to {MAX_LABELS} labels at a time", field="ids", rule="max_labels"
        )
    shipment_ids = list(dict.fromkeys(shipment_ids))  # a label asked twice prints once
    found = {
        s.id: s
        for s in await session.scalars(
            visible_to(ctx.principal).where(Shipment.id.in_(shipment_ids))
        )
    }
    missing = [i for i in shipment_ids if i not in found]
    if missing:
        raise NotFound(f"shipment {missing[0]} not found", field="ids")
    names = {s.code: s.name for s in await repository.services(session)}
    today = ctx.clock.now().date().isoformat()
    unprintable = [s for s in found.values() if s.status in UNPRINTABLE]
    if unprintable:
        void = unprintable[0]
        why = (
            "is cancelled; its label is void"
            if void.status is ShipmentStatus.cancelled
            else "is being voided by the carrier; print it again only if the carrier refuses"
        )
        raise Conflict(f"shipment {void.id} {why}", field="ids", rule="label_void")
    issued = {
        x.shipment_id: x
        for x in await session.scalars(
            select(CarrierLabel).where(CarrierLabel.shipment_id.in_(shipment_ids))
        )
    }
    other = [i for i, x in issued.items() if x.format != fmt]
    if other:
        raise Conflict(
            f"the carrier issued shipment {other[0]}'s label as {issued[other[0]].format}; "
            f"print it as {issued[other[0]].format}",
            field="ids",
            rule="carrier_label_format",
        )
    batch = []
    for i in shipment_ids:
        data = label_data(found[i], names.get(found[i].service_code, ""), today)
        if i in issued:
            data = replace(data, carrier_label=issued[i].content, carrier_format=fmt)
        batch.append(data)
    return batch

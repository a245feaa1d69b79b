"""What the case page shows of a return (G6): where it goes, its label and receipt, and which
of its forms the reader may use."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.cases import return_parcel
from tuoguan.cases.kinds import CaseKind, CaseParty, CaseState
from tuoguan.cases.models import Case
from tuoguan.cases.service import BUYER_KINDS
from tuoguan.orders import service as orders
from tuoguan.principal import SYSTEM, Principal, Role
from tuoguan.shipping import labels
from tuoguan.shipping import repository as shipping_reads
from tuoguan.stores.models import StoreMode


async def context(
    session: AsyncSession, principal: Principal, case: Case, party: CaseParty | None
) -> dict[str, Any]:
    """What the case page shows of a return and which of its forms the reader may use."""
    if case.kind is not CaseKind.after_sale or case.order_id is None:
        return {}
    row = await return_parcel.parcel_of(session, case)
    may_authorize = party is CaseParty.platform or (
        party is CaseParty.seller and case.mode is not StoreMode.full_managed
    )
    receiver = None
    if row is not None:
        receiver = CaseParty.warehouse if row.destination == "warehouse" else CaseParty.seller
    found = {s.code: s for s in await shipping_reads.services(session, active_only=True)}
    order = await orders.get_order(session, principal=SYSTEM, order_id=case.order_id)
    outbound = await shipping_reads.live_shipment(session, order.id)
    went = ""
    if row is not None and row.received_at is not None:
        if row.restocked:
            went = "return_went_restocked"
        elif row.warehouse_id and case.mode is StoreMode.full_managed:
            went = "" if row.condition == "wrong_item" else "return_went_platform"
    return {
        "return_row": row,
        "return_to": [str(row.receiver.get("name") or ""), *labels.address_lines(row.receiver)]
        if row
        else [],
        "return_lines": [(line.name, line.quantity) for line in order.lines],
        "return_went": went,
        "can_print": row is not None and principal.role is not Role.warehouse,
        "return_service": found[row.service_code].name
        if row and row.service_code in found
        else (row.service_code if row else ""),
        "services": sorted(found.values(), key=lambda s: s.name),
        # The order's own service is offered only when the order shipped through the platform.
        "same_service": outbound is not None and outbound.service_code in found,
        "can_authorize": may_authorize and case.state is CaseState.return_requested,
        "can_receive": row is not None
        and row.received_at is None
        and case.state is not CaseState.return_requested
        and party in (receiver, CaseParty.platform),
    }


async def refund_context(session: AsyncSession, case: Case) -> dict[str, Any]:
    """A buyer's case: what the buyer paid, was refunded and may still be, and who bore the
    refunds this case made (the platform inside a full-managed order's exemption)."""
    if case.kind not in BUYER_KINDS or case.order_id is None:
        return {}
    order = await orders.get_order(session, principal=SYSTEM, order_id=case.order_id)
    refunded = await shipping_reads.refunded_minor(session, order.id)
    made = [
        r for r in await shipping_reads.refunds_of(session, order.id) if r.id in case.refund_ids
    ]
    return {
        "paid_minor": order.total_minor,
        "refunded_minor": refunded,
        "refundable_minor": max(order.total_minor - refunded, 0),
        "refund_bearers": sorted({r.bearer.value for r in made}),
    }

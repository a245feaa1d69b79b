"""What every shipment writer shares: the carrier's adapter, stored quote lines, the audit pair.

Below `shipments` and `tracking`, which both use it, so neither imports the other's callers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.shipping import rates
from tuoguan.shipping.carriers import carrier_for
from tuoguan.shipping.carriers.base import Carrier, CarrierUnavailable
from tuoguan.shipping.models import CarrierAccount, Shipment, ShipmentStatus

__all__ = ["carrier", "line_rows", "record"]


async def carrier(session: AsyncSession, code: str, settings: Settings | None = None) -> Carrier:
    """The adapter for a carrier, from its account, calling out as ``settings`` allow."""
    account = await session.get(CarrierAccount, code)
    if account is None or not account.active:
        raise CarrierUnavailable(f"no active carrier account for {code}", field="carrier_code")
    return carrier_for(account, settings)


def line_rows(lines: list[rates.Line]) -> list[dict[str, Any]]:
    """Quote lines as stored on a shipment, each with its note's key and parameters."""
    return [
        {
            "code": x.code,
            "amount_minor": x.amount_minor,
            "detail": x.detail,
            "note": x.note,
            "params": dict(x.params),
        }
        for x in lines
    ]


def record(
    session: AsyncSession,
    ctx: Ctx,
    shipment: Shipment,
    action: str,
    source: ShipmentStatus | None,
    data: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """The audit event, on the shipment and on its order's timeline."""
    fields = {
        "store_id": shipment.store_id,
        "action": f"shipment_{action}",
        "from_state": source.value if source else None,
        "to_state": shipment.status.value,
        "reason": reason,
        "data": {
            "shipment_id": shipment.id,
            "tracking_number": shipment.tracking_number,
            **(data or {}),
        },
    }
    audit.record(session, ctx=ctx, subject_type="shipment", subject_id=shipment.id, **fields)
    audit.record(session, ctx=ctx, subject_type="order", subject_id=shipment.order_id, **fields)

"""The carrier's events for a return's parcel (G6): the parcel is not a shipment, so shipping
offers its tracking number here (``shipping.other_parcels``). Each new event goes on the
return's case as a timeline entry by the carrier, once (a repeat, by its event id, is counted
as a duplicate); none moves the case: the receipt is recorded by who receives the parcel."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.cases import service
from tuoguan.cases.kinds import CaseParty
from tuoguan.cases.models import Case, CaseReturn
from tuoguan.context import Ctx
from tuoguan.kit.clock import as_utc
from tuoguan.shipping import other_parcels
from tuoguan.shipping.carriers.base import Scan


@other_parcels.register
async def return_scans(
    session: AsyncSession, ctx: Ctx, carrier_code: str, number: str, scans: list[Scan]
) -> tuple[int, int] | None:
    """Record a return parcel's new events on its case: (accepted, duplicates); None when no
    return has this tracking number with this carrier."""
    case_id = await session.scalar(
        select(CaseReturn.case_id).where(
            CaseReturn.carrier_code == carrier_code, CaseReturn.tracking_number == number
        )
    )
    if case_id is None:
        return None
    # The case first, then its return, as the receipt locks them.
    case = await session.scalar(
        select(Case)
        .where(Case.id == case_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    row = await session.get(CaseReturn, case_id, with_for_update=True, populate_existing=True)
    assert case is not None and row is not None
    seen = {s["event_id"] for s in row.scans or []}
    accepted = duplicates = 0
    added = list(row.scans or [])
    for scan in sorted(scans, key=lambda s: (as_utc(s.occurred_at), s.event_id)):
        if scan.event_id in seen:
            duplicates += 1
            continue
        seen.add(scan.event_id)
        at = as_utc(scan.occurred_at)
        added.append(
            {
                "event_id": scan.event_id,
                "code": scan.code,
                "at": at.isoformat(),
                "location": scan.location,
            }
        )
        service.append(
            session,
            ctx,
            case,
            "return_scan",
            party=CaseParty.carrier,
            text=scan.detail,
            data={"code": scan.code, "event_id": scan.event_id, "at": at.isoformat()},
        )
        accepted += 1
    row.scans = added
    await session.flush()
    return accepted, duplicates

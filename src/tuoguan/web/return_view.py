"""What the case page shows of a return (G6): where it goes, its label and receipt, and which
of its forms the reader may use."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.cases import return_parcel
from tuoguan.cases.kinds import CaseKind, CaseParty, CaseState
from tuoguan.cases.models import Case
from tuoguan.principal import Principal, Role
from tuoguan.shipping import labels
from tuoguan.shipping import repository as shipping_reads
from tuoguan.stores.models import StoreMode


async def context(
    session: AsyncSession, principal: Principal, case: Case, party: CaseParty | None
) -> dict[str, Any]:
    """What the case page shows of a return and which of its forms the reader may use."""
    if case.kind is not CaseKind.after_sale:
        return {}
    row = await return_parcel.parcel_of(session, case)
    may_authorize = party is CaseParty.platform or (
        party is CaseParty.seller and case.mode is not StoreMode.full_managed
    )
    receiver = None
    if row is not None:
        receiver = CaseParty.warehouse if row.destination == "warehouse" else CaseParty.seller
    found = {s.code: s for s in await shipping_reads.services(session, active_only=True)}
    return {
        "return_row": row,
        "return_to": [str(row.receiver.get("name") or ""), *labels.address_lines(row.receiver)]
        if row
        else [],
        "can_print": row is not None and principal.role is not Role.warehouse,
        "return_service": found[row.service_code].name
        if row and row.service_code in found
        else (row.service_code if row else ""),
        "services": sorted(found.values(), key=lambda s: s.name),
        "can_authorize": may_authorize and case.state is CaseState.return_requested,
        "can_receive": case.state is CaseState.return_shipping
        and party in (receiver, CaseParty.platform),
    }

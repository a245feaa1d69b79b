"""Before an inbound notice is sent (R4: 仔细核对, 预防收货异常): what to check, from the notice
itself and from the seller's own receiving exceptions.

- **Counts against the supply order**: a notice that answers a supply order and announces
  another quantity of a SKU than the order asked for (``supply_counts``).
- **Cartons**: more cartons than units (``cartons``).
- **Labels**: every carton labelled with the notice and the warehouse (the notice's carton
  labels print both), to the warehouse it names (``labels``, always, as information).
- **The seller's history**: each cause of its receiving exceptions in the last 90 days, with
  how many, and the advice for that cause (``history``).

Nothing here refuses a send: it warns, and the seller decides.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.cases.kinds import CaseKind
from tuoguan.cases.models import Case
from tuoguan.fulfilment import inbound
from tuoguan.fulfilment.models import SupplyLine
from tuoguan.inventory.models import Warehouse
from tuoguan.principal import Principal

HISTORY_DAYS = 90


@dataclass(frozen=True)
class Check:
    check: str  # supply_counts, cartons, labels, history
    level: str  # warn, info
    data: dict[str, Any] = field(default_factory=dict)


async def pre_send(
    session: AsyncSession, *, principal: Principal, notice_id: str, now: datetime
) -> list[Check]:
    """What to check before sending this notice (see the module); another seller's: 404."""
    notice = await inbound.get_notice(session, principal=principal, notice_id=notice_id)
    found: list[Check] = []
    announced = {line.sku_id: line.expected for line in notice.lines}
    if notice.supply_order_id is not None:
        asked = {
            sku: quantity
            for sku, quantity in (
                await session.execute(
                    select(SupplyLine.sku_id, SupplyLine.quantity).where(
                        SupplyLine.supply_order_id == notice.supply_order_id
                    )
                )
            ).all()
        }
        for sku in sorted(set(asked) | set(announced)):
            if asked.get(sku, 0) != announced.get(sku, 0):
                found.append(
                    Check(
                        "supply_counts",
                        "warn",
                        {
                            "sku_id": sku,
                            "announced": announced.get(sku, 0),
                            "asked": asked.get(sku, 0),
                        },
                    )
                )
    units = sum(announced.values())
    if notice.cartons > units:
        found.append(Check("cartons", "warn", {"cartons": notice.cartons, "units": units}))
    warehouse = await session.get(Warehouse, notice.warehouse_id)
    if warehouse is not None:
        found.append(Check("labels", "info", {"warehouse": warehouse.name}))
    since = now - timedelta(days=HISTORY_DAYS)
    causes = Counter(
        cause
        for (cause,) in (
            await session.execute(
                select(Case.cause).where(
                    Case.seller_id == notice.seller_id,
                    Case.kind == CaseKind.receiving_exception,
                    Case.opened_at >= since,
                )
            )
        ).all()
    )
    for cause, count in sorted(causes.items(), key=lambda c: (-c[1], c[0])):
        found.append(Check("history", "warn", {"cause": cause, "count": count}))
    return found

"""A receiving exception decided as ``adjust_quantities`` (R3): the count is corrected on the
stock ledger in the decision's transaction, units put on hand (found later) or taken off, at the
notice's warehouse for the discrepancy's SKU; an overturned appeal takes the correction back."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.cases.models import Case
from tuoguan.context import Ctx
from tuoguan.errors import Conflict
from tuoguan.fulfilment.models import InboundDiscrepancy
from tuoguan.inventory import service as inventory
from tuoguan.inventory.schemas import StockAdjustmentCreate


async def adjust(session: AsyncSession, ctx: Ctx, case: Case, units: int, reason: str) -> None:
    """Put ``units`` on hand (negative: take them off); never below zero (409 from the stock
    ledger). A case with no discrepancy of a known SKU: 409 ``adjust_needs_sku``."""
    discrepancy = (
        await session.get(InboundDiscrepancy, case.discrepancy_id) if case.discrepancy_id else None
    )
    if discrepancy is None or discrepancy.sku_id is None or case.warehouse_id is None:
        raise Conflict(
            f"case {case.id} names no discrepancy of a known SKU: there is no count to adjust",
            field="decision",
            rule="adjust_needs_sku",
        )
    await inventory.adjust(
        session,
        ctx=ctx,
        data=StockAdjustmentCreate(
            warehouse_id=case.warehouse_id,
            sku_id=discrepancy.sku_id,
            on_hand=units,
            reason=f"case {case.id}: {reason}"[:500],
        ),
    )

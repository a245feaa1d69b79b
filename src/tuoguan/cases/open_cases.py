"""A store's open cases hold back its deposit refund and its exit (S3, S4): the counters the
settlement's checks read (``deposit_checks.OPEN_CASES``), added when this module is imported
(``tuoguan.tables`` imports it, so every process that opens the database has them). Importing
``cases.returns`` and ``cases.return_tracking`` here registers, in every such process, the
return a buyer's cancel becomes when the carrier will not stop a shipped parcel (O4), and the
carrier's events for a return's parcel (G6)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.cases import (  # noqa: F401  (they register with shipping on import)
    return_tracking,
    returns,
)
from tuoguan.cases.kinds import CaseKind, CaseState
from tuoguan.cases.models import Case
from tuoguan.settlement import deposit_checks
from tuoguan.stores.models import Store


def _counter(kind: CaseKind) -> deposit_checks.CaseCounter:
    async def count(session: AsyncSession, store: Store, now: datetime) -> int:
        found = await session.scalar(
            select(func.count())
            .select_from(Case)
            .where(Case.store_id == store.id, Case.kind == kind, Case.state != CaseState.closed)
        )
        return int(found or 0)

    return count


for _kind in CaseKind:
    deposit_checks.OPEN_CASES.setdefault(_kind.value, _counter(_kind))

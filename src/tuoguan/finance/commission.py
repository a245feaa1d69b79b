"""Commission rates (佣金比例) as versioned configuration per product category (M3).

Self-run and semi-managed sales pay the platform a commission; full-managed ones do not (M3:
the mode table's ``commission``). An operator sets the rate of a category, or of ``*`` (every
category without a rate of its own), as a version in force from ``effective_from``, the way
penalty policies are versioned: a version is never edited, a change is a new version of the
category that starts later, and never in the past.

A line's rate is its category's version in force at the moment the order was placed; a
category without one takes its parent's (``electronics/audio`` → ``electronics``), then
``*``'s. The order line records it at placement, so the seller knows the rate it sells at and
a later version never changes a sale already made. The migration seeds ``*`` at 8% from
2000-01-01, so every category has a rate.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Forbidden
from tuoguan.finance import repository
from tuoguan.finance.models import CommissionRate
from tuoguan.finance.policy import MAX_RATE_BP
from tuoguan.finance.schemas import CommissionRateCreate
from tuoguan.kit.clock import as_utc
from tuoguan.kit.ids import new_id
from tuoguan.kit.versions import next_start
from tuoguan.principal import Principal, Role

EVERY_CATEGORY = "*"


def commission(total_minor: int, rate_bp: int) -> int:
    """``rate_bp`` basis points of an amount in minor units, rounded half to even (a line's
    commission: 8% of 1,999 is 159.92 → 160; 5% of 1,250 is 62.5 → 62); integers only."""
    quotient, remainder = divmod(total_minor * rate_bp, MAX_RATE_BP)
    twice = 2 * remainder
    if twice > MAX_RATE_BP or (twice == MAX_RATE_BP and quotient % 2 == 1):
        quotient += 1
    return quotient


def lineage(category: str) -> list[str]:
    """Where a category's rate is looked for, nearest first: itself, its parents, then ``*``."""
    parts = category.split("/")
    return ["/".join(parts[:n]) for n in range(len(parts), 0, -1)] + [EVERY_CATEGORY]


def in_force(
    versions: Iterable[CommissionRate], category: str, at: datetime
) -> CommissionRate | None:
    """The version that prices a line of ``category`` sold at ``at``: the nearest category in
    its lineage with a version started by then, and of that category the latest to start."""
    started: dict[str, CommissionRate] = {}
    for version in versions:
        if as_utc(version.effective_from) > at:
            continue
        best = started.get(version.category)
        if best is None or as_utc(version.effective_from) > as_utc(best.effective_from):
            started[version.category] = version
    for name in lineage(category):
        if name in started:
            return started[name]
    return None


async def rates_at(
    session: AsyncSession, categories: Iterable[str], at: datetime
) -> dict[str, CommissionRate | None]:
    """Each category's version in force at ``at`` (None: no rate anywhere in its lineage)."""
    wanted = list(dict.fromkeys(categories))
    names = {name for category in wanted for name in lineage(category)}
    versions = await repository.rates_started(session, names, at) if wanted else []
    return {category: in_force(versions, category, at) for category in wanted}


async def create_rate(
    session: AsyncSession, *, ctx: Ctx, data: CommissionRateCreate
) -> CommissionRate:
    """An operator adds the next version of a category's rate, effective now or later (422
    ``not_past`` for a start in the past, ``after_previous`` for one not after the latest
    version's start)."""
    if not ctx.principal.is_operator:
        raise Forbidden("only an operator may change commission rates")
    now = ctx.clock.now()
    latest = await repository.latest_rate(session, data.category)
    effective_from = next_start(
        data.effective_from,
        now,
        (latest.version, latest.effective_from) if latest else None,
        what="commission rate",
    )
    created = CommissionRate(
        id=new_id("commission_rate"),
        category=data.category,
        version=(latest.version + 1) if latest else 1,
        rate_bp=data.rate_bp,
        effective_from=effective_from,
        note=data.note,
        created_at=now,
        created_by=ctx.principal.actor_id,
    )
    session.add(created)
    audit.record(
        session,
        ctx=ctx,
        subject_type="commission_rate",
        subject_id=created.id,
        action="create",
        data={
            "category": created.category,
            "version": created.version,
            "rate_bp": created.rate_bp,
            "effective_from": effective_from.isoformat(),
        },
    )
    await session.flush()
    return created


async def list_rates(
    session: AsyncSession, *, principal: Principal, category: str | None = None
) -> list[CommissionRate]:
    """Every version, per category oldest first; sellers may read the rates they sell at."""
    if principal.role not in (Role.operator, Role.seller):
        raise Forbidden("this role cannot read commission rates")
    return await repository.commission_rates(session, category)


def standing(rate: CommissionRate, versions: list[CommissionRate], now: datetime) -> str:
    """scheduled, in_force or superseded, as of now (among its own category's versions)."""
    if as_utc(rate.effective_from) > now:
        return "scheduled"
    own = [v for v in versions if v.category == rate.category]
    current = in_force(own, rate.category, now)
    return "in_force" if current is not None and current.id == rate.id else "superseded"

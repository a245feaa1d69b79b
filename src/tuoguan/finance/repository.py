"""Queries for penalty policies, penalties and commission rates."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.finance.models import CommissionRate, Penalty, PenaltyPolicy
from tuoguan.finance.states import PenaltyStatus
from tuoguan.kit.keyset import Keyset
from tuoguan.principal import Principal, Role
from tuoguan.stores.models import Store
from tuoguan.timing.kinds import BreachKind


async def policies(session: AsyncSession, kind: BreachKind | None = None) -> list[PenaltyPolicy]:
    """Every policy version, per kind oldest first."""
    query = select(PenaltyPolicy).order_by(PenaltyPolicy.kind, PenaltyPolicy.version)
    if kind is not None:
        query = query.where(PenaltyPolicy.kind == kind)
    return list(await session.scalars(query))


async def latest_policy(session: AsyncSession, kind: BreachKind) -> PenaltyPolicy | None:
    """The highest version of a kind's policy."""
    return await session.scalar(
        select(PenaltyPolicy)
        .where(PenaltyPolicy.kind == kind)
        .order_by(PenaltyPolicy.version.desc())
        .limit(1)
    )


def visible_penalties(principal: Principal) -> Select[Penalty]:
    """Operators see every penalty, a seller its own; nobody else any."""
    query = select(Penalty)
    if principal.role is Role.operator:
        return query
    if principal.role is Role.seller and principal.seller_id:
        return query.where(Penalty.seller_id == principal.seller_id)
    return query.where(Penalty.id.is_(None))


async def get_for_update(
    session: AsyncSession, principal: Principal, penalty_id: str
) -> Penalty | None:
    """A visible penalty, fresh and row-locked until the transaction ends."""
    return await session.scalar(
        visible_penalties(principal)
        .where(Penalty.id == penalty_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


NEWEST = Keyset((Penalty.assessed_at, Penalty.id), ("instant", "id"), descending=True)


async def page(
    session: AsyncSession,
    principal: Principal,
    *,
    status: PenaltyStatus | None,
    seller_id: str | None,
    cursor: str | None,
    limit: int,
    store_id: str | None = None,
) -> tuple[list[Penalty], str | None]:
    """Penalties newest first and the next page's cursor; appealed ones are the operator's
    queue. Each filter has its ``(…, assessed_at, id)`` index: a store proves its seller, so
    a store's penalties are read on the store's index alone, and another seller's store or id
    is an empty page."""
    if principal.role is Role.operator:
        owner = seller_id
    elif principal.role is Role.seller and principal.seller_id:
        if seller_id not in (None, principal.seller_id):
            return _nothing(cursor)
        owner = principal.seller_id
    else:
        return _nothing(cursor)
    query = select(Penalty)
    if store_id is not None:
        found = await session.scalar(select(Store.seller_id).where(Store.id == store_id))
        if found is None or owner not in (None, found):
            return _nothing(cursor)
        query = query.where(Penalty.store_id == store_id)
    elif owner is not None:
        query = query.where(Penalty.seller_id == owner)
    if status is not None:
        query = query.where(Penalty.status == status)
    return await NEWEST.page(session, [query], cursor=cursor, limit=limit)


def _nothing(cursor: str | None) -> tuple[list[Penalty], str | None]:
    NEWEST.seek(cursor)  # a bad cursor is still a 400
    return [], None


async def rating_points(
    session: AsyncSession, *, seller_id: str, since: datetime
) -> dict[PenaltyStatus, tuple[int, int]]:
    """Per status, how many penalties and how many rating points since an instant."""
    rows = await session.execute(
        select(Penalty.status, func.count(), func.coalesce(func.sum(Penalty.rating_points), 0))
        .where(Penalty.seller_id == seller_id, Penalty.assessed_at >= since)
        .group_by(Penalty.status)
    )
    return {PenaltyStatus(status): (int(n), int(points)) for status, n, points in rows}


async def uncharged_due(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> list[Penalty]:
    """Penalties whose appeal window has closed, neither charged nor decided, oldest window
    first (``ix_penalties_uncharged``), locked for this worker (F6, O2)."""
    query = (
        select(Penalty)
        .where(
            Penalty.charged_at.is_(None),
            Penalty.status.in_((PenaltyStatus.assessed, PenaltyStatus.appealed)),
            Penalty.appeal_by <= now,
        )
        .order_by(Penalty.appeal_by, Penalty.id)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    if only is not None:
        query = query.where(Penalty.id.in_(list(only)))
    if exclude:  # the rows a sweep set aside: a handful
        query = query.where(Penalty.id.not_in(list(exclude)))
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return list(await session.scalars(query))


async def commission_rates(
    session: AsyncSession, category: str | None = None
) -> list[CommissionRate]:
    """Every commission rate version, per category oldest first."""
    query = select(CommissionRate).order_by(CommissionRate.category, CommissionRate.version)
    if category is not None:
        query = query.where(CommissionRate.category == category)
    return list(await session.scalars(query))


async def latest_rate(session: AsyncSession, category: str) -> CommissionRate | None:
    """The highest version of a category's rate."""
    return await session.scalar(
        select(CommissionRate)
        .where(CommissionRate.category == category)
        .order_by(CommissionRate.version.desc())
        .limit(1)
    )


async def rates_started(
    session: AsyncSession, categories: Collection[str], at: datetime
) -> list[CommissionRate]:
    """The versions of these categories that had started at ``at`` (a handful of rows)."""
    return list(
        await session.scalars(
            select(CommissionRate).where(
                CommissionRate.category.in_(sorted(categories)),
                CommissionRate.effective_from <= at,
            )
        )
    )

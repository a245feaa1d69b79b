"""Queries for logistics services, rate cards and route rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.shipping.models import LogisticsService, RateCardVersion, RouteRule


async def services(session: AsyncSession, *, active_only: bool = False) -> list[LogisticsService]:
    """Every service, by code."""
    query = select(LogisticsService).order_by(LogisticsService.code)
    if active_only:
        query = query.where(LogisticsService.active.is_(True))
    return list((await session.scalars(query)).all())


async def latest_card(
    session: AsyncSession, service_code: str, currency: str
) -> RateCardVersion | None:
    """The newest version of a service's card in a currency, scheduled or not."""
    return await session.scalar(
        select(RateCardVersion)
        .where(RateCardVersion.service_code == service_code, RateCardVersion.currency == currency)
        .order_by(RateCardVersion.version.desc())
        .limit(1)
    )


async def cards_in_force(
    session: AsyncSession, currency: str, now: datetime
) -> dict[str, RateCardVersion]:
    """For each service, the card version in force now in this currency."""
    newest = (
        select(
            RateCardVersion.service_code,
            func.max(RateCardVersion.version).label("version"),
        )
        .where(RateCardVersion.currency == currency, RateCardVersion.effective_from <= now)
        .group_by(RateCardVersion.service_code)
        .subquery()
    )
    rows = await session.scalars(
        select(RateCardVersion).join(
            newest,
            (RateCardVersion.service_code == newest.c.service_code)
            & (RateCardVersion.version == newest.c.version)
            & (RateCardVersion.currency == currency),
        )
    )
    return {card.service_code: card for card in rows}


async def cards_of(session: AsyncSession, service_code: str) -> list[RateCardVersion]:
    """Every card version of a service, newest first within each currency."""
    rows = await session.scalars(
        select(RateCardVersion)
        .where(RateCardVersion.service_code == service_code)
        .order_by(RateCardVersion.currency, RateCardVersion.version.desc())
    )
    return list(rows.all())


async def active_rules(session: AsyncSession) -> list[RouteRule]:
    """The route rules in force, in evaluation order."""
    rows = await session.scalars(
        select(RouteRule)
        .where(RouteRule.active.is_(True))
        .order_by(RouteRule.position, RouteRule.id)
    )
    return list(rows.all())

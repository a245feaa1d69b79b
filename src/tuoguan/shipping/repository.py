"""Queries for logistics services, rate cards and route rules."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.orders.repository import scoped
from tuoguan.shipping.models import (
    CarrierAccount,
    LogisticsService,
    RateCardVersion,
    RouteRule,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
)
from tuoguan.shipping.money_models import CompensationPolicy, Refund


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


async def live_shipment(session: AsyncSession, order_id: str) -> Shipment | None:
    """The order's shipment that is not cancelled, if any (there is at most one)."""
    return await session.scalar(
        select(Shipment).where(
            Shipment.order_id == order_id, Shipment.status != ShipmentStatus.cancelled
        )
    )


async def shipment_by_tracking(
    session: AsyncSession, carrier_code: str, tracking_number: str, *, lock: bool = True
) -> Shipment | None:
    """A shipment by its carrier's tracking number, locked for the update that follows
    (lock its order first: rows are always locked order, then shipment)."""
    query = select(Shipment).where(
        Shipment.carrier_code == carrier_code, Shipment.tracking_number == tracking_number
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def known_events(session: AsyncSession, carrier_code: str, event_ids: list[str]) -> set[str]:
    """Which of these carrier event ids are stored already."""
    rows = await session.scalars(
        select(TrackingEvent.carrier_event_id).where(
            TrackingEvent.carrier_code == carrier_code,
            TrackingEvent.carrier_event_id.in_(event_ids),
        )
    )
    return set(rows.all())


async def events_of(session: AsyncSession, shipment_id: str) -> list[TrackingEvent]:
    """A shipment's tracking history, oldest first."""
    rows = await session.scalars(
        select(TrackingEvent)
        .where(TrackingEvent.shipment_id == shipment_id)
        .order_by(TrackingEvent.occurred_at, TrackingEvent.id)
    )
    return list(rows.all())


async def unanswered_cancels(
    session: AsyncSession, *, before: datetime, limit: int, skip_locked: bool
) -> list[Shipment]:
    """Cancellations the carrier has not answered since ``before``, not yet escalated."""
    query = (
        select(Shipment)
        .where(
            Shipment.status == ShipmentStatus.cancel_requested,
            Shipment.cancel_requested_at < before,
            Shipment.cancel_escalated_at.is_(None),
        )
        .order_by(Shipment.cancel_requested_at)
        .limit(limit)
        .with_for_update(skip_locked=skip_locked)
    )
    return list((await session.scalars(query)).all())


async def due_polls(
    session: AsyncSession,
    *,
    before: datetime,
    statuses: list[ShipmentStatus],
    pushing: tuple[str, ...],
    limit: int,
    skip_locked: bool,
) -> list[Shipment]:
    """Live shipments on carriers that do not push, not asked since ``before``, longest first.

    A cancellation a pushing carrier has not answered since ``before`` is polled too: a
    lost push must not leave an order waiting on the carrier until an operator chases it.
    """
    query = (
        select(Shipment)
        .join(CarrierAccount, CarrierAccount.code == Shipment.carrier_code)
        .where(
            Shipment.status.in_(statuses),
            CarrierAccount.active.is_(True),
            CarrierAccount.adapter.not_in(pushing)
            | (
                (Shipment.status == ShipmentStatus.cancel_requested)
                & (Shipment.cancel_requested_at < before)
            ),
            (Shipment.polled_at.is_(None)) | (Shipment.polled_at < before),
        )
        .order_by(Shipment.polled_at.is_not(None), Shipment.polled_at, Shipment.id)
        .limit(limit)
        .with_for_update(of=Shipment, skip_locked=skip_locked)
    )
    return list((await session.scalars(query)).all())


async def carrier_accounts(session: AsyncSession) -> list[CarrierAccount]:
    """Every carrier account, by code."""
    return list((await session.scalars(select(CarrierAccount).order_by(CarrierAccount.code))).all())


# -- G2: delivery commitments ----------------------------------------------------------------


async def open_commitments(
    session: AsyncSession,
    *,
    before: datetime,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> list[Shipment]:
    """Parcels whose delivery commitment passed before ``before`` and is not settled, soonest
    first, locked: the partial index ix_shipments_commit_open holds only open commitments."""
    query = (
        select(Shipment)
        .where(
            Shipment.commit_by.is_not(None),
            Shipment.commit_settled_at.is_(None),
            Shipment.commit_by < before,  # met up to and including its instant
        )
        .order_by(Shipment.commit_by, Shipment.id)
        .limit(limit)
    )
    query = scoped(session, query, Shipment.id, exclude=exclude, only=only)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return list((await session.scalars(query)).all())


async def open_commitment_ids(
    session: AsyncSession, *, before: datetime, limit: int, exclude: Collection[str]
) -> list[str]:
    """The ids ``open_commitments`` would take next, without locks."""
    query = (
        select(Shipment.id)
        .where(
            Shipment.commit_by.is_not(None),
            Shipment.commit_settled_at.is_(None),
            Shipment.commit_by < before,  # met up to and including its instant
        )
        .order_by(Shipment.commit_by, Shipment.id)
        .limit(limit)
    )
    query = scoped(session, query, Shipment.id, exclude=exclude)
    return list((await session.scalars(query)).all())


async def compensation_policies(session: AsyncSession) -> list[CompensationPolicy]:
    """Every version of every compensation policy: a handful, read once per sweep batch."""
    rows = await session.scalars(
        select(CompensationPolicy).order_by(
            CompensationPolicy.region, CompensationPolicy.currency, CompensationPolicy.version
        )
    )
    return list(rows.all())


async def latest_compensation_policy(
    session: AsyncSession, region: str, currency: str
) -> CompensationPolicy | None:
    """The newest version for a region and currency, scheduled or not."""
    return await session.scalar(
        select(CompensationPolicy)
        .where(CompensationPolicy.region == region, CompensationPolicy.currency == currency)
        .order_by(CompensationPolicy.version.desc())
        .limit(1)
    )


async def has_event(session: AsyncSession, shipment_id: str, code: str, by: datetime) -> bool:
    """Whether the carrier reported an event of ``code`` for the parcel at or before ``by``."""
    found = await session.scalar(
        select(TrackingEvent.id)
        .where(
            TrackingEvent.shipment_id == shipment_id,
            TrackingEvent.occurred_at <= by,
            TrackingEvent.code == code,
        )
        .limit(1)
    )
    return found is not None


# -- G6, M3: refunds ---------------------------------------------------------------------------


async def refunded_minor(session: AsyncSession, order_id: str) -> int:
    """What the order's buyer was refunded so far, in minor units."""
    total = await session.scalar(
        select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(Refund.order_id == order_id)
    )
    return int(total or 0)


async def refunds_of(session: AsyncSession, order_id: str) -> list[Refund]:
    """The order's refunds, oldest first."""
    rows = await session.scalars(
        select(Refund).where(Refund.order_id == order_id).order_by(Refund.id)
    )
    return list(rows.all())

"""Sweeps that find due work with an indexed query and act on each item under a row lock."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts.principal import SYSTEM
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.errors import DomainError
from tuoguan.kit import idempotency
from tuoguan.kit.clock import Clock
from tuoguan.notify import webhooks
from tuoguan.orders import repository, service
from tuoguan.orders.schemas import ActionBody
from tuoguan.orders.states import OrderAction
from tuoguan.shipping import shipments, tracking
from tuoguan.shipping.carriers.base import Carrier
from tuoguan.sla import service as sla
from tuoguan.sla import timetravel, warnings

log = logging.getLogger("tuoguan.worker")


async def auto_complete(db: Database, clock: Clock, settings: Settings) -> int:
    """O3: complete delivered orders whose buyer did not confirm receipt in time.

    Several workers on PostgreSQL share the due rows with FOR UPDATE SKIP LOCKED;
    the batch commits as one transaction, so a worker killed mid-batch leaves
    every order as it was for the next sweep.
    """
    ctx = Ctx(principal=SYSTEM, clock=clock, settings=settings)
    body = ActionBody(reason=f"auto-confirmed {settings.auto_confirm_days} days after delivery")
    async with db.write() as session:
        due = await repository.due_for_auto_complete(
            session, now=clock.now(), limit=settings.worker_batch_size, skip_locked=not db.sqlite
        )
        done = 0
        for order in due:
            try:
                async with session.begin_nested():
                    await service.act(
                        session, ctx=ctx, order_id=order.id, action=OrderAction.complete, body=body
                    )
                done += 1
            except DomainError as exc:
                log.warning("auto-complete of %s refused: %s", order.id, exc.detail)
        await session.commit()
    return done


class _Batch(Protocol):
    async def __call__(
        self, session: AsyncSession, *, ctx: Ctx, limit: int, skip_locked: bool
    ) -> int: ...


async def _batch(db: Database, clock: Clock, settings: Settings, work: _Batch) -> int:
    """One batch of a sweep as the system, in one transaction; how many items it handled."""
    ctx = Ctx(principal=SYSTEM, clock=clock, settings=settings)
    async with db.write() as session:
        count = await work(
            session, ctx=ctx, limit=settings.worker_batch_size, skip_locked=not db.sqlite
        )
        await session.commit()
    return count


async def record_breaches(db: Database, clock: Clock, settings: Settings) -> int:
    """O2, F1: record each missed confirm or ship deadline once, flag it, tell the seller."""
    return await _batch(db, clock, settings, sla.record_due_breaches)


async def assess_penalties(db: Database, clock: Clock, settings: Settings) -> int:
    """F6, O2: fine each breach whose lateness is settled, under its deadline's policy version."""
    return await _batch(db, clock, settings, sla.assess_due_breaches)


async def warn_at_risk(db: Database, clock: Clock, settings: Settings) -> int:
    """G5: score orders at their window's checkpoints and warn sellers before deadlines pass."""
    return await _batch(db, clock, settings, warnings.warn_due)


async def escalate_cancellations(db: Database, clock: Clock, settings: Settings) -> int:
    """F10: hand cancellations the carrier left unanswered to an operator, once each."""

    async def work(session: AsyncSession, *, ctx: Ctx, limit: int, skip_locked: bool) -> int:
        return await tracking.escalate_unanswered(
            session, ctx=ctx, now=ctx.clock.now(), limit=limit, skip_locked=skip_locked
        )

    return await _batch(db, clock, settings, work)


async def poll_carriers(db: Database, clock: Clock, settings: Settings) -> int:
    """F9: ask carriers that do not push for news on each live parcel, every
    ``carrier_poll_minutes``. Parcels are claimed in one short transaction, the
    carriers are asked outside any, and each answer applies in its own."""
    ctx = Ctx(principal=SYSTEM, clock=clock, settings=settings)
    async with db.write() as session:
        claimed = await tracking.claim_polls(
            session,
            now=clock.now(),
            every=timedelta(minutes=settings.carrier_poll_minutes),
            limit=settings.worker_batch_size,
            skip_locked=not db.sqlite,
        )
        await session.commit()
    adapters: dict[str, Carrier] = {}
    for shipment_id, code, number in claimed:
        try:
            if code not in adapters:
                async with db.read() as session:
                    adapters[code] = await shipments.carrier(session, code)
            scans = await adapters[code].track(number)
            async with db.write() as session:
                await tracking.ingest(
                    session, ctx=tracking.as_carrier(ctx, code), carrier_code=code, scans=scans
                )
                await session.commit()
        except DomainError as exc:
            log.warning("polling %s for %s failed: %s", code, shipment_id, exc.detail)
    return len(claimed)


async def fan_out_webhooks(db: Database, clock: Clock, settings: Settings) -> int:
    """Queue a delivery of each new notification to its seller's webhook endpoints."""
    async with db.write() as session:
        count = await webhooks.fan_out(
            session, now=clock.now(), limit=settings.worker_batch_size, skip_locked=not db.sqlite
        )
        await session.commit()
    return count


async def deliver_webhooks(db: Database, clock: Clock, settings: Settings) -> int:
    """POST due deliveries, signed, outside any transaction; record each outcome."""
    async with db.write() as session:
        claimed = await webhooks.claim(
            session, now=clock.now(), limit=settings.worker_batch_size, skip_locked=not db.sqlite
        )
        await session.commit()
    if not claimed:
        return 0
    outcomes = await webhooks.send_all(settings, claimed)
    async with db.write() as session:
        for item, (status_code, error) in zip(claimed, outcomes, strict=True):
            await webhooks.record_outcome(
                session,
                now=clock.now(),
                delivery_id=item.delivery_id,
                status_code=status_code,
                error=error,
            )
        await session.commit()
    return len(claimed)


async def prune_idempotency(db: Database, clock: Clock, settings: Settings) -> int:
    """Forget Idempotency-Key responses older than the configured time to live."""
    before = clock.now() - timedelta(hours=settings.idempotency_ttl_hours)
    async with db.write() as session:
        count = await idempotency.prune(session, before=before, limit=settings.worker_batch_size)
        await session.commit()
    return count


SWEEPS = (
    record_breaches,
    assess_penalties,
    warn_at_risk,
    auto_complete,
    escalate_cancellations,
    poll_carriers,
    fan_out_webhooks,
    deliver_webhooks,
    prune_idempotency,
)


async def run_once(db: Database, clock: Clock, settings: Settings) -> dict[str, int]:
    """Run every sweep until none finds a full batch; returns how many items each handled."""
    await timetravel.sync(db, clock, settings)
    handled: dict[str, int] = {}
    for sweep in SWEEPS:
        total = 0
        while True:
            count = await sweep(db, clock, settings)
            total += count
            if count < settings.worker_batch_size:
                break
        handled[sweep.__name__] = total
    return handled


async def run_forever(db: Database, clock: Clock, settings: Settings) -> None:
    """Sweep every ``worker_interval_seconds`` until cancelled."""
    while True:
        try:
            handled = await run_once(db, clock, settings)
            if any(handled.values()):
                log.info("worker: %s", handled)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failed sweep must not stop the loop
            log.exception("worker sweep failed; retrying next interval")
        await asyncio.sleep(settings.worker_interval_seconds)

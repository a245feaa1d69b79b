"""The worker's sweeps: each finds due work with an indexed query and acts on it under row locks.

Each sweep runs on its own (``run_once``): one that fails is logged, counted and
kept on the operators' list, and the next one still runs. The row sweeps split a
failed batch to set the bad row aside (``worker/isolation.py``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.cases import sweep as case_sweep
from tuoguan.catalog import review_sweep
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.errors import DomainError
from tuoguan.finance import charges
from tuoguan.kit import idempotency
from tuoguan.kit.clock import Clock
from tuoguan.notify import webhooks
from tuoguan.onboarding import review_sweep as business_reviews
from tuoguan.ops import service as failures
from tuoguan.orders import deadlines, repository, service
from tuoguan.orders.schemas import ActionBody
from tuoguan.orders.states import OrderAction
from tuoguan.settlement import payouts
from tuoguan.shipping import compensation, shipments, tracking
from tuoguan.shipping.carriers.base import Carrier
from tuoguan.sla import service as sla
from tuoguan.sla import timetravel, warnings
from tuoguan.worker import exit_archives, exports
from tuoguan.worker.isolation import (
    Outcome,
    Rows,
    Sweep,
    row_batch,
    set_aside,
    system_ctx,
    transient,
)

log = logging.getLogger("tuoguan.worker")


async def _complete_due(
    session: AsyncSession,
    *,
    ctx: Ctx,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> int:
    body = ActionBody(reason=f"auto-confirmed {ctx.settings.auto_confirm_days} days after delivery")
    due = await repository.due_for_auto_complete(
        session,
        now=ctx.clock.now(),
        limit=limit,
        skip_locked=skip_locked,
        exclude=exclude,
        only=only,
    )
    for order in due:
        await service.act(
            session, ctx=ctx, order_id=order.id, action=OrderAction.complete, body=body
        )
    return len(due)


async def _delivered_due(
    session: AsyncSession, *, now: datetime, limit: int, exclude: Collection[str]
) -> list[str]:
    due = await repository.due_for_auto_complete(
        session, now=now, limit=limit, skip_locked=False, exclude=exclude
    )
    return [order.id for order in due]


BREACHES = Rows("record_breaches", "order", sla.record_due_breaches, sla.overdue_ids)
PENALTIES = Rows("assess_penalties", "breach", sla.assess_due_breaches, sla.assessable_ids)
CHARGES = Rows("charge_penalties", "penalty", charges.charge_due, charges.chargeable_ids)
WARNINGS = Rows("warn_at_risk", "order", warnings.warn_due, warnings.due_ids)
COMPLETIONS = Rows("auto_complete", "order", _complete_due, _delivered_due)
COMPENSATIONS = Rows(
    compensation.SWEEP, "shipment", compensation.compensate_due, compensation.due_ids
)
# The claim is committed before the rail is called and each answer in its own transaction
# (settlement/payouts.py): a payout is paid at most once, and one that fails alone is set aside.
PAYOUTS = Rows(payouts.SWEEP, "payout", payouts.send_due_rows, payouts.due_ids)
# S2: product reviews waiting past their 2 business days, flagged once (seller and operators told).
PRODUCT_REVIEWS = Rows(
    review_sweep.SWEEP, "product_revision", review_sweep.flag_stuck, review_sweep.stuck_ids
)
# S2: business-info stages waiting past their 3 business days, flagged once (seller and
# operators told).
# R3, G4: each case step's owner warned before its deadline and the miss flagged after, once;
# a decided case closes when its appeal window passes unused.
CASE_DEADLINES = Rows(case_sweep.SWEEP, "case", case_sweep.watch_due, case_sweep.due_ids)
BUSINESS_REVIEWS = Rows(
    business_reviews.SWEEP,
    "business_review",
    business_reviews.flag_stuck_due,
    business_reviews.stuck_ids,
)


async def record_breaches(db: Database, clock: Clock, settings: Settings) -> int:
    """O2, F1: record each missed confirm or ship deadline once, flag it, tell the seller."""
    return (await row_batch(db, clock, settings, BREACHES)).taken


async def assess_penalties(db: Database, clock: Clock, settings: Settings) -> int:
    """F6, O2: fine each breach whose lateness is settled, under its deadline's policy version."""
    return (await row_batch(db, clock, settings, PENALTIES)).taken


async def charge_penalties(db: Database, clock: Clock, settings: Settings) -> int:
    """F6, O2: charge each penalty whose appeal window closed without a waiver, once."""
    return (await row_batch(db, clock, settings, CHARGES)).taken


async def warn_at_risk(db: Database, clock: Clock, settings: Settings) -> int:
    """G5: score orders at their window's checkpoints and warn sellers before deadlines pass."""
    return (await row_batch(db, clock, settings, WARNINGS)).taken


async def auto_complete(db: Database, clock: Clock, settings: Settings) -> int:
    """O3: complete delivered orders whose buyer did not confirm receipt in time.

    Several workers on PostgreSQL share the due rows with FOR UPDATE SKIP LOCKED;
    the batch commits as one transaction, so a worker killed mid-batch leaves
    every order as it was for the next sweep. An order the machine refuses to
    complete is set aside, not tried again every interval.
    """
    return (await row_batch(db, clock, settings, COMPLETIONS)).taken


async def compensate_late(db: Database, clock: Clock, settings: Settings) -> int:
    """G2: compensate each parcel not delivered by its commitment, once, per the policy."""
    return (await row_batch(db, clock, settings, COMPENSATIONS)).taken


class _Batch(Protocol):
    async def __call__(
        self, session: AsyncSession, *, ctx: Ctx, limit: int, skip_locked: bool
    ) -> int: ...


async def _batch(db: Database, clock: Clock, settings: Settings, work: _Batch) -> int:
    """One batch of a sweep as the system, in one transaction; how many items it handled."""
    ctx = system_ctx(clock, settings)
    async with db.write() as session:
        count = await work(
            session, ctx=ctx, limit=settings.worker_batch_size, skip_locked=not db.sqlite
        )
        await session.commit()
    return count


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
    carriers are asked outside any, and each answer applies in its own. A parcel
    whose answer cannot be applied is set aside; a carrier's refusal is not (it
    is asked again at the next poll)."""
    ctx = system_ctx(clock, settings)
    async with db.write() as session:
        skipped, retry = await failures.skipped(
            session, sweep="poll_carriers", subject_type="shipment"
        )
        claimed = await tracking.claim_polls(
            session,
            now=clock.now(),
            every=timedelta(minutes=settings.carrier_poll_minutes),
            limit=settings.worker_batch_size,
            skip_locked=not db.sqlite,
        )
        await session.commit()
    adapters: dict[str, Carrier] = {}
    left_out = set(skipped) - set(retry)
    for shipment_id, code, number in claimed:
        if shipment_id in left_out:
            continue
        try:
            if code not in adapters:
                async with db.read() as session:
                    adapters[code] = await shipments.carrier(session, code, settings)
            scans = await adapters[code].track(number)
            async with db.write() as session:
                await tracking.ingest(
                    session, ctx=tracking.as_carrier(ctx, code), carrier_code=code, scans=scans
                )
                if shipment_id in retry:
                    await failures.resolve(
                        session,
                        ctx=ctx,
                        sweep="poll_carriers",
                        subject_type="shipment",
                        subject_id=shipment_id,
                    )
                await session.commit()
        except DomainError as exc:
            log.warning("polling %s for %s failed: %s", code, shipment_id, exc.detail)
        except Exception as exc:  # noqa: BLE001 - one parcel's bad answer sets only it aside
            if transient(exc):
                log.warning("polling %s for %s failed: %s", code, shipment_id, exc)
                continue
            await set_aside(
                db, ctx, "poll_carriers", "shipment", shipment_id, failures.describe(exc)
            )
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


async def prune_pace(db: Database, clock: Clock, settings: Settings) -> int:
    """Drop a day of pace aggregates older than any early-warning window (G5)."""
    async with db.write() as session:
        dropped = await deadlines.prune_pace(session, now=clock.now())
        await session.commit()
    return dropped


def _counted(name: str, sweep: Callable[[Database, Clock, Settings], Awaitable[int]]) -> Sweep:
    async def batch(db: Database, clock: Clock, settings: Settings) -> Outcome:
        return Outcome(handled=await sweep(db, clock, settings))

    return Sweep(name, batch)


def _rows(rows: Rows) -> Sweep:
    async def batch(db: Database, clock: Clock, settings: Settings) -> Outcome:
        return await row_batch(db, clock, settings, rows)

    return Sweep(rows.name, batch)


# In this order, each on its own: one that fails is counted and the next still runs.
DEADLINE_SWEEPS = (
    _rows(BREACHES),
    _rows(PENALTIES),
    _rows(CHARGES),
    _rows(WARNINGS),
    _rows(COMPLETIONS),
    _rows(COMPENSATIONS),
    _rows(PAYOUTS),
    _rows(PRODUCT_REVIEWS),
    _rows(BUSINESS_REVIEWS),
    _rows(CASE_DEADLINES),
    _counted("escalate_cancellations", escalate_cancellations),
    _counted("poll_carriers", poll_carriers),
    _counted("fan_out_webhooks", fan_out_webhooks),
    _counted("prune_idempotency", prune_idempotency),
    _counted("prune_pace", prune_pace),
    _counted("expire_exports", exports.expire_exports),
    _counted("expire_exit_archives", exit_archives.expire_exit_archives),
    _counted("optimize_sqlite", exports.optimize_sqlite),
)
# Delivery waits on other people's servers: in the long-running worker it has a loop of its
# own, so a slow receiver never delays a breach, a fine or another sweep.
DELIVERY_SWEEPS = (_counted("deliver_webhooks", deliver_webhooks),)
# An export of a million rows takes a while: it has a loop of its own too (O5).
EXPORT_SWEEPS = (
    Sweep(exports.RUN_EXPORTS, exports.run_exports),
    Sweep(exit_archives.RUN_EXIT_ARCHIVES, exit_archives.run_exit_archives),
)
SWEEPS = DEADLINE_SWEEPS + DELIVERY_SWEEPS + EXPORT_SWEEPS


class Report(dict[str, int]):
    """How many items each sweep handled (the mapping), what it set aside, which sweeps failed,
    and the rows set aside and still open, per sweep, after the run."""

    def __init__(self) -> None:
        super().__init__()
        self.set_aside: dict[str, int] = {}
        self.failed: dict[str, str] = {}
        self.open: dict[str, int] = {}

    def line(self) -> str:
        """The worker's log line."""
        done = {name: n for name, n in self.items() if n}
        return (
            f"handled {done or 'nothing'}; set aside now {sum(self.open.values())}"
            + (f" {self.open}" if self.open else "")
            + (f"; new {self.set_aside}" if self.set_aside else "")
            + (f"; failed sweeps {sorted(self.failed)}" if self.failed else "")
        )


async def _drain(
    db: Database, clock: Clock, settings: Settings, sweep: Sweep, report: Report
) -> None:
    handled = aside = 0
    try:
        while True:
            outcome = await sweep.batch(db, clock, settings)
            handled += outcome.handled
            aside += outcome.set_aside
            if outcome.taken < settings.worker_batch_size:
                break
    finally:
        report[sweep.name] = handled
        if aside:
            report.set_aside[sweep.name] = aside


async def _sweep_failed(db: Database, ctx: Ctx, name: str, exc: Exception) -> None:
    """Keep a failed sweep on the operators' list (best effort: the database may be the cause)."""
    try:
        async with db.write() as session:
            await failures.set_aside(
                session,
                ctx=ctx,
                sweep=name,
                subject_type=failures.SWEEP,
                subject_id=name,
                error=failures.describe(exc),
            )
            await session.commit()
    except Exception:  # noqa: BLE001 - the worker's log already says the sweep failed
        log.warning("could not record the failure of %s", name, exc_info=True)


async def run_once(
    db: Database, clock: Clock, settings: Settings, sweeps: tuple[Sweep, ...] = SWEEPS
) -> Report:
    """Run each sweep until it finds no full batch, each isolated from the others' failures."""
    await timetravel.sync(db, clock, settings)
    ctx = system_ctx(clock, settings)
    report = Report()
    async with db.read() as session:
        failing = await failures.failing_sweeps(session)
    for sweep in sweeps:
        try:
            await _drain(db, clock, settings, sweep, report)
            if sweep.name in failing:  # it failed last time and went through now
                async with db.write() as session:
                    await failures.resolve(
                        session,
                        ctx=ctx,
                        sweep=sweep.name,
                        subject_type=failures.SWEEP,
                        subject_id=sweep.name,
                    )
                    await session.commit()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - one failed sweep must not stop the others
            log.exception("worker sweep %s failed; the others go on", sweep.name)
            report.failed[sweep.name] = failures.describe(exc)
            await _sweep_failed(db, ctx, sweep.name, exc)
    async with db.read() as session:
        report.open = await failures.open_counts(session)
    return report


async def run_forever(db: Database, clock: Clock, settings: Settings) -> None:
    """Sweep every ``worker_interval_seconds`` until cancelled: the deadline sweeps, the
    webhook deliveries and the export jobs in three loops side by side."""
    async with asyncio.TaskGroup() as group:
        group.create_task(_loop(db, clock, settings, DEADLINE_SWEEPS))
        group.create_task(_loop(db, clock, settings, DELIVERY_SWEEPS))
        group.create_task(_loop(db, clock, settings, EXPORT_SWEEPS))


async def _loop(db: Database, clock: Clock, settings: Settings, sweeps: tuple[Sweep, ...]) -> None:
    last = ""
    while True:
        try:
            report = await run_once(db, clock, settings, sweeps)
            line = report.line()
            if any(report.values()) or report.failed or report.set_aside or line != last:
                log.info("worker: %s", line)
            last = line
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failed run (the database away) must not stop the loop
            log.exception("worker run failed; retrying next interval")
        await asyncio.sleep(settings.worker_interval_seconds)

"""Delivery-commitment compensation (G2): a parcel not delivered by its ``commit_by`` is
compensated once, per the policy version in force for its destination region. Never commits.

A parcel's ``commit_by`` is set by its pickup scan: the end of the last of its zone's transit
business days, destination-local (``tracking._picked_up``); the zone's ``region`` (e.g.
``Europe``) names the policy that applies. A delivery scan at or before ``commit_by`` settles
the commitment on time (``commit_settled_at``). The worker's sweep (``compensate_due``) takes
the open commitments that fell due, oldest first, off the partial index
``ix_shipments_commit_open``, each under a row lock, and judges each once:

- delivered by ``commit_by`` after all (the scans arrived out of order): settled, nothing owed;
- the carrier reported, by ``commit_by``, that the buyer caused the failed delivery (a refusal,
  nobody home, a wrong address: ``TrackingCode.buyer_caused``): nothing posted;
- no policy in force, or one worth 0: recorded as nothing due;
- the platform shipped it from its warehouse (F11): posted to the platform's own accounts
  (``delivery_compensation_platform``: its compensation expense, credited to its revenue, the
  sales the late parcel served), key ``compensation:<shipment id>``; no seller is told;
- otherwise the seller's receivable is credited (``delivery_compensation``, same key) and the
  seller told.

A polled carrier's news can be one poll interval old, so the sweep waits that long
(``carrier_poll_minutes``) past ``commit_by`` before it judges. News that still comes later and
proves the delay was not the carrier's (a buyer-caused failure, or a delivery, at or before
``commit_by``) reverses the compensation in the transaction that records the event.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput
from tuoguan.kit import i18n
from tuoguan.kit.clock import as_utc
from tuoguan.kit.ids import new_id
from tuoguan.kit.money import check_currency
from tuoguan.kit.versions import next_start
from tuoguan.ledger import service as ledger
from tuoguan.ledger.kinds import EntryKind
from tuoguan.notify import service as notify
from tuoguan.shipping import repository
from tuoguan.shipping.models import RateCardVersion, Shipment
from tuoguan.shipping.money_models import (
    ANY,
    CompensationOutcome,
    CompensationPolicy,
    DeliveryCompensation,
)
from tuoguan.shipping.rates import RateCard
from tuoguan.shipping.records import record
from tuoguan.shipping.states import TrackingCode
from tuoguan.stores.modes import Party
from tuoguan.timing.places import country_timezone

SWEEP = "compensate_late"
BP = 10_000


def compensation_key(shipment_id: str) -> str:
    """The idempotency key of a parcel's compensation."""
    return f"compensation:{shipment_id}"


# -- the policy (pure) ---------------------------------------------------------------------------


def pick(
    policies: Sequence[CompensationPolicy], *, region: str, currency: str, at: datetime
) -> CompensationPolicy | None:
    """The version that judges a parcel due at ``at``: the region's own over any region's
    (``*``), the currency's own over any currency's, then the latest to take effect by ``at``."""
    candidates = [
        p
        for p in policies
        if p.region in (region, ANY)
        and p.currency in (currency, ANY)
        and as_utc(p.effective_from) <= at
    ]
    if not candidates:
        return None
    return max(
        candidates,
        key=lambda p: (p.region != ANY, p.currency != ANY, as_utc(p.effective_from), p.version),
    )


def amount_of(policy: CompensationPolicy, fee_minor: int) -> int:
    """The fixed amount plus ``rate_bp`` of the parcel's quoted fee, rounded half up."""
    return policy.amount_minor + (fee_minor * policy.rate_bp + BP // 2) // BP


async def add_policy(
    session: AsyncSession,
    ctx: Ctx,
    *,
    region: str,
    currency: str,
    amount_minor: int,
    rate_bp: int,
    effective_from: datetime | None = None,
    note: str | None = None,
) -> CompensationPolicy:
    """An operator adds the next version of a region's policy, effective now or later; the
    versions before it are never edited."""
    if not ctx.principal.is_operator:
        raise Forbidden("only an operator changes the delivery compensation policy")
    if not 1 <= len(region.strip()) <= 100:
        raise InvalidInput("name the region (1-100 characters), or * for any", field="region")
    if currency != ANY:
        currency = check_currency(currency)
    elif amount_minor:
        raise InvalidInput(
            "a fixed amount is in a currency: name it (* only for a rate of the fee)",
            field="currency",
            rule="fixed_amount_currency",
        )
    for field, value in (("amount_minor", amount_minor), ("rate_bp", rate_bp)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**12:
            raise InvalidInput(f"{field} is a whole number, 0 or more", field=field)
    region = region.strip()
    latest = await repository.latest_compensation_policy(session, region, currency)
    start = next_start(
        effective_from,
        ctx.clock.now(),
        (latest.version, latest.effective_from) if latest else None,
        what="compensation policy",
    )
    policy = CompensationPolicy(
        id=new_id("compensation_policy"),
        region=region,
        currency=currency,
        version=(latest.version + 1) if latest else 1,
        amount_minor=amount_minor,
        rate_bp=rate_bp,
        effective_from=start,
        note=note,
        created_at=ctx.clock.now(),
        created_by=ctx.principal.actor_id,
    )
    session.add(policy)
    await session.flush()
    return policy


async def region_of(session: AsyncSession, shipment: Shipment, cards: dict[str, RateCard]) -> str:
    """The destination region of the parcel's quoted zone (``*`` if the card lacks it)."""
    card = cards.get(shipment.rate_card_id)
    if card is None:
        row = await session.get(RateCardVersion, shipment.rate_card_id)
        assert row is not None
        card = cards[shipment.rate_card_id] = row.rate_card()
    zone = next((z for z in card.zones if z.code == shipment.zone), None)
    return zone.region if zone is not None else ANY


# -- the sweep -----------------------------------------------------------------------------------


def _grace(ctx: Ctx) -> timedelta:
    return timedelta(minutes=ctx.settings.carrier_poll_minutes)


async def compensate_due(
    session: AsyncSession,
    *,
    ctx: Ctx,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> int:
    """G2: judge each parcel whose commitment fell due unsettled, once (see the module)."""
    due = await repository.open_commitments(
        session,
        before=ctx.clock.now() - _grace(ctx),
        limit=limit,
        skip_locked=skip_locked,
        exclude=exclude,
        only=only,
    )
    if not due:
        return 0
    policies = await repository.compensation_policies(session)
    cards: dict[str, RateCard] = {}
    for shipment in due:
        await _judge(session, ctx, shipment, policies, cards)
    await session.flush()
    return len(due)


async def due_ids(
    session: AsyncSession, *, now: datetime, limit: int, exclude: Collection[str]
) -> list[str]:
    """The parcels the sweep would take next (no locks): to retry them one by one."""
    return await repository.open_commitment_ids(session, before=now, limit=limit, exclude=exclude)


async def _judge(
    session: AsyncSession,
    ctx: Ctx,
    shipment: Shipment,
    policies: Sequence[CompensationPolicy],
    cards: dict[str, RateCard],
) -> None:
    assert shipment.commit_by is not None
    now, commit_by = ctx.clock.now(), as_utc(shipment.commit_by)
    shipment.commit_settled_at = now
    if shipment.delivered_at is not None and as_utc(shipment.delivered_at) <= commit_by:
        return  # on time: the delivery scan came before the pickup scan that set commit_by
    region = await region_of(session, shipment, cards)
    policy = pick(policies, region=region, currency=shipment.currency, at=commit_by)
    amount = amount_of(policy, shipment.quote_total_minor) if policy else 0
    row = DeliveryCompensation(
        shipment_id=shipment.id,
        order_id=shipment.order_id,
        store_id=shipment.store_id,
        payer=shipment.payer,
        region=region,
        commit_by=commit_by,
        policy_id=policy.id if policy else None,
        amount_minor=amount,
        currency=shipment.currency,
        judged_at=now,
    )
    platform = shipment.payer is Party.platform
    if await repository.has_event(session, shipment.id, TrackingCode.buyer_caused, commit_by):
        row.outcome = CompensationOutcome.buyer_caused
    elif amount <= 0:
        row.outcome = CompensationOutcome.nothing_due
    else:
        entry = await ledger.post(
            session,
            ctx,
            EntryKind.delivery_compensation_platform
            if platform
            else EntryKind.delivery_compensation,
            currency=shipment.currency,
            parts={"amount": amount},
            store_id=None if platform else shipment.store_id,
            # the platform's own entry stays off the seller's order (F11)
            subject=("shipment", shipment.id) if platform else ("order", shipment.order_id),
            idem_key=compensation_key(shipment.id),
            memo=f"shipment {shipment.id} not delivered by {commit_by.isoformat()} ({region})",
        )
        row.outcome, row.entry_id = CompensationOutcome.compensated, entry.id
        if not platform:
            _tell(session, ctx, shipment, "delivery_compensated", amount, commit_by=commit_by)
    session.add(row)
    _audit(session, ctx, shipment, "commitment_missed", row)


# -- the carrier's proof that the delay was not the carrier's -----------------------------------


async def on_scan(
    session: AsyncSession, ctx: Ctx, shipment: Shipment, code: str, at: datetime, detail: str
) -> None:
    """A carrier's event at or before ``commit_by``: a delivery settles the commitment on time
    (or, judged late already, reverses the compensation); a buyer-caused failure reverses it."""
    if shipment.commit_by is None or at > as_utc(shipment.commit_by):
        return
    if code == TrackingCode.delivered:
        if shipment.commit_settled_at is None:
            shipment.commit_settled_at = ctx.clock.now()
            return
        why = "the carrier's delivery scan, received late, shows the parcel delivered in time"
    elif code == TrackingCode.buyer_caused:
        why = f"the carrier shows the buyer caused the failed delivery ({detail or code})"
    else:
        return
    await reverse(session, ctx, shipment, why)


async def reverse(session: AsyncSession, ctx: Ctx, shipment: Shipment, why: str) -> bool:
    """Reverse the parcel's compensation, if one was posted and stands; whether it was.

    A seller already paid out may not hold the amount any more: the ledger refuses to take its
    receivable below zero (409 ``insufficient_balance``). The seller then owes it back:
    ``compensation_recovered`` puts it on the store's payable, netted from what it is due
    next."""
    why = why[:500]
    row = await session.get(DeliveryCompensation, shipment.id, with_for_update=True)
    if row is None or row.outcome is not CompensationOutcome.compensated or not row.entry_id:
        return False
    try:
        mirror = await ledger.reverse(session, ctx, row.entry_id, why)
    except Conflict as refused:
        if refused.extra.get("rule") != "insufficient_balance":
            raise
        mirror = await ledger.post(
            session,
            ctx,
            EntryKind.compensation_recovered,
            currency=row.currency,
            parts={"amount": row.amount_minor},
            store_id=row.store_id,
            subject=("order", shipment.order_id),
            idem_key=f"{compensation_key(shipment.id)}:recovered",
            memo=f"shipment {shipment.id}: {why}",
        )
    row.outcome = CompensationOutcome.reversed
    row.reversal_entry_id, row.reversed_at, row.reversal_reason = mirror.id, ctx.clock.now(), why
    if shipment.payer is Party.seller:
        _tell(session, ctx, shipment, "delivery_compensation_reversed", row.amount_minor, why=why)
    _audit(session, ctx, shipment, "compensation_reversed", row)
    return True


# -- what people read ----------------------------------------------------------------------------


def _tell(
    session: AsyncSession,
    ctx: Ctx,
    shipment: Shipment,
    kind: str,
    amount: int,
    *,
    commit_by: datetime | None = None,
    why: str = "",
) -> None:
    """The seller's notification (only the seller's own parcels are compensated)."""
    params: dict[str, Any] = {
        "tracking": shipment.tracking_number,
        "amount": i18n.money(amount, shipment.currency),
    }
    if commit_by is not None:
        zone = country_timezone(shipment.receiver["country"]).key
        params["commit_by"] = i18n.when(commit_by, zone)
        key = i18n.N_("note_delivery_compensated")
    else:
        params["reason"] = why
        key = i18n.N_("note_delivery_compensation_reversed")
    notify.notify(
        session,
        ctx=ctx,
        seller_id=shipment.seller_id,
        kind=kind,
        subject_type="order",
        subject_id=shipment.order_id,
        key=key,
        params=params,
    )


def _audit(
    session: AsyncSession, ctx: Ctx, shipment: Shipment, action: str, row: DeliveryCompensation
) -> None:
    """On the shipment, and on the order's timeline for the seller's own parcels; the platform's
    parcels stay off the seller's timeline (F11: their price is the platform's)."""
    data = {
        "outcome": row.outcome.value,
        "region": row.region,
        "commit_by": as_utc(row.commit_by).isoformat(),
        "amount_minor": row.amount_minor,
        "currency": row.currency,
        "policy_id": row.policy_id,
        "entry_id": row.entry_id,
        "reversal_entry_id": row.reversal_entry_id,
    }
    if shipment.payer is Party.seller:
        record(session, ctx, shipment, action, shipment.status, data, row.reversal_reason)
        return
    audit.record(
        session,
        ctx=ctx,
        subject_type="shipment",
        subject_id=shipment.id,
        store_id=shipment.store_id,
        action=f"shipment_{action}",
        from_state=shipment.status.value,
        to_state=shipment.status.value,
        reason=row.reversal_reason,
        data={"shipment_id": shipment.id, **data},
    )

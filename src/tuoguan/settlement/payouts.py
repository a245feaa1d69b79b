"""Payouts (打款): money owed to a store, set aside for its bound payout account and sent on the
payment rail at most once.

``prepare`` is called by the settlement runs and the deposit refunds, in their transaction: it
posts ``payout_prepared`` (or ``deposit_refunded``) to the store's payout clearing and writes
the payout, ``prepared``. Nothing is sent there. After commit, ``send_due`` (the worker's
``send_payouts`` sweep, or the run command) sends it:

1. claim: the payout is marked ``sending`` (attempts + 1) and that is COMMITTED before the rail
   is called, so a worker that dies after calling the rail leaves a trace;
2. the rail is called with the payout id as the instruction's key; a payout that was already
   ``sending`` is first looked up on the rail (the bank may have paid it and its answer been
   lost), and sent only if the rail never saw it. The rail is idempotent on the key: a second
   send returns the first answer and never pays again;
3. accepted: ``payout_sent`` is posted (idempotency key ``payout_sent:<payout id>``) and the
   payout is ``sent``; rejected: the prepare entry is reversed (the money goes back where it
   came from), the payout is ``failed`` with the rail's reason, and the seller is told; a
   timeout: the payout stays ``sending`` and the next sweep asks the rail again.

So a payout is paid at most once (the rail's key) and never lost (``sending`` is swept until it
has an answer).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.errors import Conflict, InvalidInput
from tuoguan.kit import i18n
from tuoguan.kit.ids import new_id
from tuoguan.ledger import amounts
from tuoguan.ledger import service as ledger
from tuoguan.ledger.kinds import EntryKind
from tuoguan.notify import service as notify
from tuoguan.settlement.models import (
    Payout,
    PayoutPurpose,
    PayoutStatus,
)
from tuoguan.settlement.payout_accounts import account_in_force, accounts_of
from tuoguan.settlement.rail import Instruction, PaymentRail, RailResult, RailTimeout, get_rail
from tuoguan.stores.models import Store

__all__ = [
    "SWEEP",
    "PayoutPurpose",
    "PayoutStatus",
    "due_ids",
    "prepare",
    "send_due",
    "send_due_rows",
]

log = logging.getLogger("tuoguan.payouts")
SWEEP = "send_payouts"
# A payout left ``sending`` this long (its worker died, or the rail timed out) is asked again.
RESEND_AFTER = timedelta(minutes=1)

_PREPARE_KIND = {
    PayoutPurpose.settlement: EntryKind.payout_prepared,
    PayoutPurpose.deposit_refund: EntryKind.deposit_refunded,
}


async def _by_idem(session: AsyncSession, idem_key: str) -> Payout | None:
    found = await session.execute(select(Payout).where(Payout.idem_key == idem_key))
    return found.scalar_one_or_none()


def _same(
    payout: Payout, *, store_id: str, currency: str, amount_minor: int, purpose: PayoutPurpose
) -> Payout:
    """The payout prepared before under this key, if it is this payout; 409 if another."""
    if (payout.store_id, payout.currency, payout.amount_minor, payout.purpose) != (
        store_id,
        currency,
        amount_minor,
        purpose,
    ):
        raise Conflict(
            f"idempotency key {payout.idem_key!r} was used for another payout ({payout.id}: "
            f"{payout.amount_minor} {payout.currency} to store {payout.store_id})",
            field="idem_key",
            rule="idem_key_reused",
            payout_id=payout.id,
        )
    return payout


async def prepare(
    session: AsyncSession,
    ctx: Ctx,
    *,
    store_id: str,
    currency: str,
    amount_minor: int,
    purpose: PayoutPurpose | str,
    subject: tuple[str, str | None] | None,
    idem_key: str,
) -> Payout:
    """Set ``amount_minor`` aside for a payout to the store's bound account, in the caller's
    transaction: posts ``payout_prepared`` (receivable -> payout clearing) for a settlement or
    ``deposit_refunded`` (deposit held -> payout clearing) for a deposit refund, and writes the
    payout, ``prepared``. Nothing is sent here.

    Refused, with nothing written: an amount that is not a positive whole number of minor units
    (422 ``positive`` / ``no_fractions``), a currency that is not ISO 4217 (422), a store with no
    bound payout account (409 ``payout_account_bound``) or whose account keeps another currency
    (409 ``payout_account_currency``), more than the account it comes from holds (409
    ``insufficient_balance``), the key used for another payout (409 ``idem_key_reused``). The
    same ``idem_key`` for the same payout returns the payout prepared before.
    """
    kind = PayoutPurpose(purpose)
    value = amounts.minor_units(amount_minor, field="amount_minor")
    if value <= 0:
        raise InvalidInput(
            f"a payout pays some money: amount_minor must be above 0 (got {value})",
            field="amount_minor",
            rule="positive",
        )
    code = amounts.currency(currency)
    amounts.fits(
        idem_key=idem_key,
        subject_type=subject[0] if subject else None,
        subject_id=subject[1] if subject else None,
    )
    before = await _by_idem(session, idem_key)
    if before is not None:
        return _same(before, store_id=store_id, currency=code, amount_minor=value, purpose=kind)
    account = await account_in_force(session, store_id)
    if account is None:
        raise Conflict(
            f"store {store_id} has no payout account bound: bind one before it is paid",
            field="store_id",
            rule="payout_account_bound",
        )
    if account.currency != code:
        raise Conflict(
            f"store {store_id}'s payout account keeps {account.currency}; a {code} payout "
            "cannot go to it",
            field="currency",
            rule="payout_account_currency",
        )
    payout_id = new_id("payout")
    entry = await ledger.post(
        session,
        ctx,
        _PREPARE_KIND[kind],
        currency=code,
        parts={"amount": value},
        store_id=store_id,
        subject=("payout", payout_id),
        idem_key=f"payout:{idem_key}"[:200],
        memo=f"payout {payout_id} ({kind.value})",
    )
    if entry.subject_id != payout_id:
        # Another transaction prepared this key first and committed while we waited on the
        # accounts' locks: its payout is the one.
        raced = await _by_idem(session, idem_key)
        assert raced is not None
        return _same(raced, store_id=store_id, currency=code, amount_minor=value, purpose=kind)
    now = ctx.clock.now()
    payout = Payout(
        id=payout_id,
        store_id=store_id,
        currency=code,
        amount_minor=value,
        purpose=kind,
        status=PayoutStatus.prepared,
        subject_type=subject[0] if subject else None,
        subject_id=subject[1] if subject else None,
        payout_account_id=account.id,
        prepare_entry_id=entry.id,
        attempts=0,
        idem_key=idem_key,
        created_at=now,
        created_by=ctx.principal.actor_id,
    )
    session.add(payout)
    _event(session, ctx, payout, "prepare", None, data={"entry_id": entry.id})
    await session.flush()
    return payout


def _event(
    session: AsyncSession,
    ctx: Ctx,
    payout: Payout,
    action: str,
    source: PayoutStatus | None,
    *,
    reason: str | None = None,
    data: dict[str, object] | None = None,
) -> None:
    audit.record(
        session,
        ctx=ctx,
        subject_type="payout",
        subject_id=payout.id,
        store_id=payout.store_id,
        action=action,
        from_state=source.value if source else None,
        to_state=payout.status.value,
        reason=reason,
        data={
            "amount_minor": payout.amount_minor,
            "currency": payout.currency,
            "purpose": payout.purpose.value,
            "attempts": payout.attempts,
            **(data or {}),
        },
    )


# --- sending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    payout_id: str
    asked_before: bool  # it was ``sending`` already: the rail may have paid it
    instruction: Instruction


def _unsettled(
    now: datetime, *, exclude: Collection[str], only: Collection[str] | None
) -> Select[Payout]:
    """Due payouts: ``only`` these if given (whatever their age), else the prepared ones and
    those left ``sending`` longer than ``RESEND_AFTER``; oldest first."""
    if only is not None:
        query = select(Payout).where(
            Payout.id.in_(list(only)),
            Payout.status.in_((PayoutStatus.prepared, PayoutStatus.sending)),
        )
    else:
        query = select(Payout).where(
            or_(
                Payout.status == PayoutStatus.prepared,
                and_(
                    Payout.status == PayoutStatus.sending, Payout.sending_at <= now - RESEND_AFTER
                ),
            )
        )
    if exclude:
        query = query.where(Payout.id.not_in(list(exclude)))
    return query.order_by(Payout.created_at, Payout.id)


async def due_ids(
    session: AsyncSession, *, now: datetime, limit: int, exclude: Collection[str]
) -> list[str]:
    """Payouts not settled yet (for the sweep to try one by one): prepared, or sending."""
    query = select(Payout.id).where(
        Payout.status.in_((PayoutStatus.prepared, PayoutStatus.sending))
    )
    if exclude:
        query = query.where(Payout.id.not_in(list(exclude)))
    rows = await session.scalars(query.order_by(Payout.created_at, Payout.id).limit(limit))
    return list(rows)


async def _begin(session: AsyncSession) -> None:
    """Start the next transaction of a session that committed: on SQLite as a writer at once."""
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


async def _claim(
    session: AsyncSession,
    ctx: Ctx,
    *,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str],
    only: Collection[str] | None,
) -> list[_Claimed]:
    """Mark the due payouts ``sending`` (attempts + 1); the caller commits before the rail."""
    now = ctx.clock.now()
    query = _unsettled(now, exclude=exclude, only=only).limit(limit)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    payouts = list(await session.scalars(query.execution_options(populate_existing=True)))
    accounts = await accounts_of(session, payouts)
    claimed = []
    for payout in payouts:
        source = payout.status
        payout.status = PayoutStatus.sending
        payout.attempts += 1
        payout.sending_at = now
        _event(session, ctx, payout, "send", source)
        account = accounts[payout.payout_account_id]
        claimed.append(
            _Claimed(
                payout.id,
                source is PayoutStatus.sending,
                Instruction(
                    key=payout.id,
                    amount_minor=payout.amount_minor,
                    currency=payout.currency,
                    holder_name=account.holder_name,
                    bank_name=account.bank_name,
                    account_number=account.account_number,
                ),
            )
        )
    await session.flush()
    return claimed


async def _ask(rail: PaymentRail, item: _Claimed) -> RailResult | None:
    """The rail's answer for a claimed payout; None when it timed out (asked again later)."""
    try:
        if item.asked_before:
            found = await rail.lookup(item.instruction.key)
            if found is not None:
                return found
        return await rail.send(item.instruction)
    except RailTimeout as exc:
        log.warning(
            "payout %s: the rail did not answer (%s); asked again later", item.payout_id, exc
        )
        return None


async def record(session: AsyncSession, ctx: Ctx, payout_id: str, result: RailResult) -> bool:
    """Record the rail's answer for a payout ``sending``, under its row lock; False if another
    worker recorded it first."""
    found = await session.execute(
        select(Payout)
        .where(Payout.id == payout_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    payout = found.scalar_one()
    if payout.status is not PayoutStatus.sending:
        return False
    payout.rail_reference = result.reference
    if result.accepted:
        entry = await ledger.post(
            session,
            ctx,
            EntryKind.payout_sent,
            currency=payout.currency,
            parts={"amount": payout.amount_minor},
            store_id=payout.store_id,
            subject=("payout", payout.id),
            idem_key=f"payout_sent:{payout.id}",
            memo=f"payout {payout.id}: rail reference {result.reference}",
        )
        payout.status = PayoutStatus.sent
        payout.sent_entry_id = entry.id
        payout.sent_at = result.at
        _event(session, ctx, payout, "sent", PayoutStatus.sending, data={"entry_id": entry.id})
    else:
        reason = (result.reason or "refused by the rail")[:500]
        reversal = await ledger.reverse(
            session, ctx, payout.prepare_entry_id, f"payout {payout.id} refused: {reason}"[:500]
        )
        payout.status = PayoutStatus.failed
        payout.failure_reason = reason
        payout.failed_at = ctx.clock.now()
        payout.reversal_entry_id = reversal.id
        _event(
            session,
            ctx,
            payout,
            "fail",
            PayoutStatus.sending,
            reason=reason,
            data={"reversal_entry_id": reversal.id},
        )
        seller_id = await session.scalar(select(Store.seller_id).where(Store.id == payout.store_id))
        notify.notify(
            session,
            ctx=ctx,
            seller_id=seller_id,
            kind="payout_failed",
            subject_type="payout",
            subject_id=payout.id,
            key=i18n.N_("payout_note_failed"),
            params={"amount": i18n.money(payout.amount_minor, payout.currency), "reason": reason},
        )
    await session.flush()
    return True


async def send_batch(
    session: AsyncSession,
    *,
    ctx: Ctx,
    rail: PaymentRail,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> int:
    """Send up to ``limit`` due payouts (see the module): the claim is committed before the
    rail is called, and each answer is recorded and committed on its own; how many were
    handed to the rail."""
    claimed = await _claim(
        session, ctx, limit=limit, skip_locked=skip_locked, exclude=exclude, only=only
    )
    if not claimed:
        return 0
    await session.commit()
    for item in claimed:
        result = await _ask(rail, item)
        if result is None:
            continue
        await _begin(session)
        await record(session, ctx, item.payout_id, result)
        await session.commit()
    await _begin(session)
    return len(claimed)


def _bank(session: AsyncSession) -> Database:
    """The database the session writes to, for the sandbox bank's own transactions."""
    engine = session.bind
    assert isinstance(engine, AsyncEngine)
    sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    return Database(url=engine.url.render_as_string(), engine=engine, sessions=sessions)


async def send_due_rows(
    session: AsyncSession,
    *,
    ctx: Ctx,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> int:
    """The worker's ``send_payouts`` sweep: ``send_batch`` on the rail the settings name."""
    rail = get_rail(ctx.settings, _bank(session), ctx.clock)
    return await send_batch(
        session,
        ctx=ctx,
        rail=rail,
        limit=limit,
        skip_locked=skip_locked,
        exclude=exclude,
        only=only,
    )


async def send_due(
    db: Database,
    ctx: Ctx,
    rail: PaymentRail,
    ids: Collection[str] | None = None,
    *,
    limit: int | None = None,
) -> int:
    """Send due payouts now (the run command after it prepared them, tests): ``ids`` only
    those, whatever their age; else every due payout, a batch at a time."""
    batch = max(limit or ctx.settings.worker_batch_size, len(ids or ()))
    total = 0
    while True:
        async with db.write() as session:
            count = await send_batch(
                session, ctx=ctx, rail=rail, limit=batch, skip_locked=not db.sqlite, only=ids
            )
            await session.commit()
        total += count
        if ids is not None or count < batch:
            return total

"""Penalties as money (F6, O2): what the store owes once a penalty stands; the caller commits.

A penalty becomes payable by its store, and posts ``penalty_charged`` (the store's payable
debited, the platform's revenue credited) once, under the key ``penalty:<id>``:

- when an operator upholds the appeal against it, at once;
- when its appeal window (``appeal_by``) closes and no decision has waived it, by the worker's
  ``charge_penalties`` sweep. An appeal still waiting for its decision does not hold the charge
  back: the window bounds how long a fine waits, whatever the operators' queue.

An appeal won after the charge (waived later) reverses the charge's entry, in the waive's
transaction. ``charged_at`` says when the penalty became payable; a fine of 0 posts nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.finance import repository
from tuoguan.finance.models import Penalty
from tuoguan.kit import i18n
from tuoguan.ledger import reads as ledger_reads
from tuoguan.ledger import service as ledger
from tuoguan.ledger.kinds import EntryKind
from tuoguan.ledger.records import Entry
from tuoguan.notify import service as notify

SUBJECT = "penalty"


def charge_key(penalty_id: str) -> str:
    """The idempotency key of a penalty's charge."""
    return f"penalty:{penalty_id}"


async def charge(
    session: AsyncSession, ctx: Ctx, penalty: Penalty, *, why: str, tell: bool = False
) -> Entry | None:
    """Make a penalty payable by its store: post its charge once and stamp ``charged_at``;
    ``tell`` the seller (when no decision of an operator told it already)."""
    if penalty.charged_at is not None:
        return None
    entry = None
    if penalty.amount_minor > 0:
        entry = await ledger.post(
            session,
            ctx,
            EntryKind.penalty_charged,
            currency=penalty.currency,
            parts={"amount": penalty.amount_minor},
            store_id=penalty.store_id,
            subject=(SUBJECT, penalty.id),
            idem_key=charge_key(penalty.id),
            memo=f"penalty {penalty.id} ({penalty.kind.value}, order {penalty.order_id}): {why}",
        )
    penalty.charged_at = ctx.clock.now()
    audit.record(
        session,
        ctx=ctx,
        subject_type="penalty",
        subject_id=penalty.id,
        store_id=penalty.store_id,
        action="charge",
        reason=why,
        data={
            "amount_minor": penalty.amount_minor,
            "currency": penalty.currency,
            "entry_id": entry.id if entry else None,
        },
    )
    if tell:
        notify.notify(
            session,
            ctx=ctx,
            seller_id=penalty.seller_id,
            kind="penalty_charged",
            subject_type="penalty",
            subject_id=penalty.id,
            key=i18n.N_("note_penalty_charged"),
            params={"amount": i18n.money(penalty.amount_minor, penalty.currency)},
            data={
                "order_id": penalty.order_id,
                "amount_minor": penalty.amount_minor,
                "currency": penalty.currency,
            },
        )
    return entry


async def reverse_charge(
    session: AsyncSession, ctx: Ctx, penalty: Penalty, reason: str
) -> Entry | None:
    """Reverse the charge of a penalty waived after it was charged (None: nothing posted)."""
    if penalty.charged_at is None:
        return None
    entries = await ledger_reads.entries_of(session, subject_type=SUBJECT, subject_id=penalty.id)
    reversed_ids = {entry.reverses_id for entry in entries if entry.reverses_id}
    for entry in entries:
        if (
            entry.kind is EntryKind.penalty_charged
            and entry.reverses_id is None
            and entry.id not in reversed_ids
        ):
            return await ledger.reverse(
                session, ctx, entry.id, f"penalty {penalty.id} waived on appeal: {reason}"[:500]
            )
    return None


async def charge_due(
    session: AsyncSession,
    *,
    ctx: Ctx,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> int:
    """F6, O2: charge each penalty whose appeal window has closed without a waiver, once.

    The sweep reads only uncharged, undecided penalties (``ix_penalties_uncharged``) under a
    row lock; the charge's idempotency key refuses a second entry all the same.
    """
    due = await repository.uncharged_due(
        session,
        now=ctx.clock.now(),
        limit=limit,
        skip_locked=skip_locked,
        exclude=exclude,
        only=only,
    )
    for penalty in due:
        await charge(session, ctx, penalty, why="the appeal window closed", tell=True)
    return len(due)


async def chargeable_ids(
    session: AsyncSession, *, now: datetime, limit: int, exclude: Collection[str]
) -> list[str]:
    """The penalties the charge sweep would take next (no locks): to retry them one by one."""
    due = await repository.uncharged_due(
        session, now=now, limit=limit, skip_locked=False, exclude=exclude
    )
    return [penalty.id for penalty in due]

"""The deposit of a full-managed store (保证金, S3) and its refund. Never commits.

- **Funding.** The seller pays its deposit by bank transfer; an operator records it on receipt
  (``deposit_funded``: the platform's cash to the store's deposit held), once per transfer
  reference.
- **Status.** What the store must hold (``deposit_rates``), what it holds, what it owes (its
  payable) and so what is refundable: held - owed, never below zero; its debts line by line.
- **Refund.** The seller applies with a reason and an amount (at most the refundable amount);
  the application is refused naming every precondition that fails (``deposit_checks``). An
  operator approves it (the preconditions checked again) or rejects it. Approval, in one
  transaction: what the store owes is taken from the deposit (``deposit_applied_to_debt``,
  penalties first, each debt kept line by line on the application), and the refund is set aside
  for a payout to the store's bound payout account (``payouts.prepare``, ``deposit_refunded``),
  which the worker sends after commit; it arrives within 3-5 business days of the seller's
  country (``timing.deadlines.refund_arrival``). A payout that fails puts the money back in the
  deposit; the application reads as paid or failed from its payout.

Every change writes its audit event and tells the seller (or, for an application, the
operators) in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound
from tuoguan.kit import i18n
from tuoguan.kit.ids import new_id
from tuoguan.ledger import reads
from tuoguan.ledger import repository as ledger_repository
from tuoguan.ledger import service as ledger
from tuoguan.ledger.accounts import AccountKind
from tuoguan.ledger.kinds import EntryKind
from tuoguan.notify import service as notify
from tuoguan.principal import SYSTEM, Role
from tuoguan.settlement import deposit_checks as checks
from tuoguan.settlement import deposit_rates, payouts
from tuoguan.settlement.deposit_models import DepositRefund, DepositRefundStatus, DepositState
from tuoguan.settlement.deposit_schemas import DepositRefundCreate
from tuoguan.settlement.models import PayoutPurpose
from tuoguan.stores import repository as store_repository
from tuoguan.stores import service as stores
from tuoguan.stores.models import Store, StoreMode
from tuoguan.timing.calendar import calendar_for
from tuoguan.timing.deadlines import refund_arrival
from tuoguan.timing.places import country_timezone

SUBJECT = "deposit_refund"
BOOKKEEPERS = (Role.operator, Role.system)  # who records deposits and decides refunds
_READERS = (Role.operator, Role.seller, Role.system)
S = DepositRefundStatus


@dataclass(frozen=True)
class Status:
    """A store's deposit as of now (S3)."""

    store: Store
    requirement: deposit_rates.Requirement
    held_minor: int
    owed_minor: int
    refundable_minor: int
    state: DepositState
    open_refund: DepositRefund | None
    debts: list[checks.DebtLine]
    blockers: list[checks.Failed]

    @property
    def currency(self) -> str:
        return self.store.currency


def state_of(
    required: int | None, held: int, open_refund: DepositRefund | None, refunded: bool
) -> DepositState:
    """The deposit's state in one word: an application waiting first, then by what is held."""
    if open_refund is not None:
        return DepositState.refund_applied
    if held <= 0:
        return DepositState.refunded if refunded else DepositState.unfunded
    if required is not None and held < required:
        return DepositState.partly_funded
    return DepositState.funded


def full_managed_only(store: Store) -> Conflict:
    return Conflict(
        f"store {store.id} is {store.mode.value}: only a full-managed store holds a deposit",
        field="store_id",
        rule="full_managed_only",
        mode=store.mode.value,
    )


async def balances(session: AsyncSession, store: Store) -> tuple[int, int]:
    """(deposit held, payable) of the store in its currency, as people read them."""
    held = await reads.balance(
        session, kind=AccountKind.deposit_held, currency=store.currency, store_id=store.id
    )
    payable = await reads.balance(
        session, kind=AccountKind.payable, currency=store.currency, store_id=store.id
    )
    return held, payable


async def _open_refund(session: AsyncSession, store_id: str) -> DepositRefund | None:
    return await session.scalar(
        select(DepositRefund).where(
            DepositRefund.store_id == store_id, DepositRefund.status == S.applied
        )
    )


async def status_of(session: AsyncSession, store: Store, now: datetime) -> Status:
    """The deposit of a store (any reader's check done), as of ``now``."""
    held, payable = await balances(session, store)
    if store.mode is not StoreMode.full_managed and held <= 0:
        raise full_managed_only(store)
    requirement = (
        await deposit_rates.required(session, store, now)
        if store.mode is StoreMode.full_managed
        else deposit_rates.Requirement(None)
    )
    owed = max(payable, 0)
    debts = checks.outstanding(await checks.payable_moves(session, store.id, store.currency))
    open_refund = await _open_refund(session, store.id)
    refunded = await session.scalar(
        select(DepositRefund.id)
        .where(DepositRefund.store_id == store.id, DepositRefund.status == S.approved)
        .limit(1)
    )
    blockers = await checks.failing(
        session, store, now, held_minor=held, owed_minor=owed, debts=len(debts)
    )
    return Status(
        store=store,
        requirement=requirement,
        held_minor=held,
        owed_minor=owed,
        refundable_minor=max(held - owed, 0),
        state=state_of(requirement.amount_minor, held, open_refund, refunded is not None),
        open_refund=open_refund,
        debts=debts,
        blockers=blockers,
    )


async def status(session: AsyncSession, *, ctx: Ctx, store_id: str) -> Status:
    """S3: a store's deposit as its seller (or an operator) reads it."""
    if ctx.principal.role not in _READERS:
        raise Forbidden(f"a {ctx.principal.role.value} does not read deposits")
    store = await stores.get_store(session, principal=ctx.principal, store_id=store_id)
    return await status_of(session, store, ctx.clock.now())


# -- the refund ---------------------------------------------------------------------------------


def _preconditions(failed: list[checks.Failed], *, refund_id: str | None = None) -> Conflict:
    said = "; ".join(f"{f.rule}: {f.what}" for f in failed)
    return Conflict(
        f"the deposit cannot be refunded yet: {said}",
        field="store_id",
        rule="refund_preconditions",
        failed=[f.problem() for f in failed],
        **({"refund_id": refund_id} if refund_id else {}),
    )


async def apply_refund(
    session: AsyncSession, ctx: Ctx, *, store_id: str, data: DepositRefundCreate
) -> DepositRefund:
    """S3: the seller applies for (part of) its deposit back, with a reason.

    Refused, with nothing written: another role (403), a store with an application waiting
    (409 ``one_open_application``), every failing precondition at once (409
    ``refund_preconditions``, each in ``failed``: ``no_unfinished_orders``, ``no_open_cases``,
    ``no_unpaid_debt``), more than the refundable amount (422 ``within_refundable``)."""
    if ctx.principal.role is not Role.seller:
        raise Forbidden("only the store's seller applies for its deposit back")
    store = await stores.get_store(session, principal=ctx.principal, store_id=store_id)
    # The store's row lock: a second application sent at the same moment waits here, then finds
    # this one waiting (409 one_open_application), not the unique index's bare conflict.
    await session.execute(select(Store.id).where(Store.id == store.id).with_for_update())
    now = ctx.clock.now()
    found = await status_of(session, store, now)
    if found.open_refund is not None:
        raise Conflict(
            f"store {store.id} has an application waiting for its decision "
            f"({found.open_refund.id}); one at a time",
            field="store_id",
            rule="one_open_application",
            refund_id=found.open_refund.id,
        )
    if found.blockers:
        raise _preconditions(found.blockers)
    if data.amount_minor > found.refundable_minor:
        raise InvalidInput(
            f"the deposit holds {found.held_minor} and the store owes {found.owed_minor} "
            f"({store.currency} minor units): at most {found.refundable_minor} is refundable",
            field="amount_minor",
            rule="within_refundable",
            refundable_minor=found.refundable_minor,
        )
    row = DepositRefund(
        id=new_id("deposit_refund"),
        store_id=store.id,
        seller_id=store.seller_id,
        currency=store.currency,
        amount_minor=data.amount_minor,
        reason=data.reason,
        status=S.applied,
        queue_rank=0,
        deductions=[],
        deducted_minor=0,
        created_at=now,
        created_by=ctx.principal.actor_id,
        updated_at=now,
    )
    session.add(row)
    _audit(session, ctx, row, "apply", None, data.reason, held_minor=found.held_minor)
    notify.notify(
        session,
        ctx=ctx,
        seller_id=None,  # the operators' inbox: an application to review
        kind="deposit_refund_applied",
        subject_type=SUBJECT,
        subject_id=row.id,
        key=i18n.N_("note_deposit_refund_applied"),
        params={"store": store.name, "amount": i18n.money(row.amount_minor, row.currency)},
    )
    await session.flush()
    return row


async def _decidable(session: AsyncSession, ctx: Ctx, refund_id: str, action: str) -> DepositRefund:
    """The application, row-locked, if it still waits for its decision."""
    if ctx.principal.role not in BOOKKEEPERS:
        raise Forbidden(f"only an operator may {action} a deposit refund")
    row = await session.get(DepositRefund, refund_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound(f"deposit refund {refund_id} not found", field="refund_id")
    if row.status is not S.applied:
        raise IllegalTransition(
            current=row.status.value, action=action, allowed=[], subject="deposit refund"
        )
    return row


def _snapshot(line: checks.DebtLine) -> dict[str, object]:
    return {
        "entry_id": line.entry_id,
        "kind": line.kind.value,
        "subject_type": line.subject_type,
        "subject_id": line.subject_id,
        "posted_at": line.posted_at.isoformat(),
        "amount_minor": line.left_minor,
    }


async def approve(
    session: AsyncSession, ctx: Ctx, *, refund_id: str, note: str | None = None
) -> DepositRefund:
    """S3: an operator approves; see the module. Refused, with nothing written: an application
    already decided (409 ``illegal_transition``), a precondition failing now (409
    ``refund_preconditions``), an amount above what is refundable now (409
    ``within_refundable``), a store with no bound payout account (409 ``payout_account_bound``)."""
    row = await _decidable(session, ctx, refund_id, "approve")
    store = await store_repository.get_store(session, row.store_id)
    assert store is not None
    # Hold the store's deposit and payable still while they are read and moved.
    await ledger_repository.lock_accounts(
        session,
        currency=row.currency,
        keys=[(store.id, AccountKind.deposit_held), (store.id, AccountKind.payable)],
    )
    now = ctx.clock.now()
    found = await status_of(session, store, now)
    if found.blockers:
        raise _preconditions(found.blockers, refund_id=row.id)
    if row.amount_minor > found.refundable_minor:
        raise Conflict(
            f"the application asks for {row.amount_minor} but only {found.refundable_minor} "
            f"({row.currency} minor units) is refundable now",
            field="amount_minor",
            rule="within_refundable",
            refundable_minor=found.refundable_minor,
        )
    deductions = checks.deduction_order(found.debts)
    if found.owed_minor > 0:
        entry = await ledger.post(
            session,
            ctx,
            EntryKind.deposit_applied_to_debt,
            currency=row.currency,
            parts={"amount": found.owed_minor},
            store_id=store.id,
            subject=(SUBJECT, row.id),
            idem_key=f"{SUBJECT}:{row.id}:debt",
            memo=f"deposit refund {row.id}: debts deducted before the refund",
        )
        row.debt_entry_id = entry.id
    payout = await payouts.prepare(
        session,
        ctx,
        store_id=store.id,
        currency=row.currency,
        amount_minor=row.amount_minor,
        purpose=PayoutPurpose.deposit_refund,
        subject=(SUBJECT, row.id),
        idem_key=f"{SUBJECT}:{row.id}",
    )
    seller = await store_repository.get_seller(session, store.seller_id)
    country = seller.country if seller is not None else store.country
    zone = country_timezone(country)
    earliest, latest = refund_arrival(now, zone, calendar_for(country))
    row.status, row.queue_rank = S.approved, 1
    row.deductions = [_snapshot(line) for line in deductions]
    row.deducted_minor = found.owed_minor
    row.payout_minor, row.payout_id = row.amount_minor, payout.id
    row.arrives_earliest, row.arrives_latest = earliest.date(), latest.date()
    row.decided_at, row.decided_by, row.decision_note = now, ctx.principal.actor_id, note or None
    row.updated_at = now
    _audit(
        session,
        ctx,
        row,
        "approve",
        S.applied,
        note,
        deducted_minor=row.deducted_minor,
        debt_entry_id=row.debt_entry_id,
        payout_id=payout.id,
        arrives_latest=row.arrives_latest.isoformat(),
    )
    notify.notify(
        session,
        ctx=ctx,
        seller_id=row.seller_id,
        kind="deposit_refund_approved",
        subject_type=SUBJECT,
        subject_id=row.id,
        key=i18n.N_("note_deposit_refund_approved"),
        params={
            "store": store.name,
            "amount": i18n.money(row.amount_minor, row.currency),
            "deducted": i18n.money(row.deducted_minor, row.currency),
            "latest": i18n.when(latest, zone.key),
        },
    )
    await session.flush()
    return row


async def refund_on_exit(
    session: AsyncSession,
    ctx: Ctx,
    *,
    store_id: str,
    reason: str,
    subject: tuple[str, str],
) -> DepositRefund | None:
    """S3 × S4: a store leaving full-managed gets its whole deposit back at once, on its approved
    exit's behalf (the caller decided who may): an application for everything refundable (held
    - owed), applied for by the caller and approved at once by the system under the money rules
    of ``approve``: the preconditions checked again, the debts taken from the deposit first
    (penalties first), the rest paid to the bound account. With nothing refundable, what the
    deposit covers of the debts is still taken from it (posted under ``subject``; None)."""
    store = await store_repository.get_store(session, store_id)
    if store is None:
        raise NotFound(f"store {store_id} not found", field="store_id")
    await session.execute(select(Store.id).where(Store.id == store.id).with_for_update())
    now = ctx.clock.now()
    found = await status_of(session, store, now)
    if found.open_refund is not None:
        raise Conflict(
            f"store {store.id} has a deposit refund application waiting for its decision "
            f"({found.open_refund.id}); decide it first",
            field="store_id",
            rule="one_open_application",
            refund_id=found.open_refund.id,
        )
    if found.blockers:
        raise _preconditions(found.blockers)
    if found.refundable_minor <= 0:
        taken = min(found.owed_minor, found.held_minor)
        if taken > 0:
            await ledger.post(
                session,
                ctx,
                EntryKind.deposit_applied_to_debt,
                currency=store.currency,
                parts={"amount": taken},
                store_id=store.id,
                subject=subject,
                idem_key=f"{subject[0]}:{subject[1]}:deposit_debt",
                memo=f"{subject[0]} {subject[1]}: debts taken from the deposit",
            )
        return None
    row = DepositRefund(
        id=new_id("deposit_refund"),
        store_id=store.id,
        seller_id=store.seller_id,
        currency=store.currency,
        amount_minor=found.refundable_minor,
        reason=reason[:500],
        status=S.applied,
        queue_rank=0,
        deductions=[],
        deducted_minor=0,
        created_at=now,
        created_by=ctx.principal.actor_id,
        updated_at=now,
    )
    session.add(row)
    _audit(session, ctx, row, "apply", None, row.reason, held_minor=found.held_minor)
    await session.flush()
    system = replace(ctx, principal=SYSTEM)
    return await approve(session, system, refund_id=row.id, note=f"{subject[0]} {subject[1]}")


async def reject(session: AsyncSession, ctx: Ctx, *, refund_id: str, reason: str) -> DepositRefund:
    """An operator rejects the application, saying why (the seller reads it); nothing posts."""
    row = await _decidable(session, ctx, refund_id, "reject")
    if not reason.strip():
        raise InvalidInput(
            "say why the application is rejected", field="reason", rule="reason_required"
        )
    now = ctx.clock.now()
    row.status, row.queue_rank = S.rejected, 1
    row.decided_at, row.decided_by, row.decision_note = now, ctx.principal.actor_id, reason.strip()
    row.updated_at = now
    _audit(session, ctx, row, "reject", S.applied, reason.strip())
    store = await store_repository.get_store(session, row.store_id)
    notify.notify(
        session,
        ctx=ctx,
        seller_id=row.seller_id,
        kind="deposit_refund_rejected",
        subject_type=SUBJECT,
        subject_id=row.id,
        key=i18n.N_("note_deposit_refund_rejected"),
        params={
            "store": store.name if store else "",
            "amount": i18n.money(row.amount_minor, row.currency),
            "reason": reason.strip(),
        },
    )
    await session.flush()
    return row


def _audit(
    session: AsyncSession,
    ctx: Ctx,
    row: DepositRefund,
    action: str,
    before: DepositRefundStatus | None,
    reason: str | None,
    **data: object,
) -> None:
    audit.record(
        session,
        ctx=ctx,
        subject_type=SUBJECT,
        subject_id=row.id,
        store_id=row.store_id,
        action=action,
        from_state=before.value if before else None,
        to_state=row.status.value,
        reason=reason,
        data={"amount_minor": row.amount_minor, "currency": row.currency, **data},
    )

"""Payout runs (结算): settle a cycle's stores up to a cycle boundary, previewed first, then
executed once. Never commits.

A run of a cycle (a store mode, M3) covers [period_start, period_end): from the end of the
cycle's last executed run (or the opening of its first store) to the last cycle boundary that
has passed (``settlement.cycles``). For each store of the mode and each currency with postings
on its due accounts, the run's statement says, at the period's end:

- opening and closing due (receivable + payout clearing - payable) and the movements between;
- what is netted: the store's debts (payable) taken from what it is due (receivable);
- what is paid: the receivable left after netting, when the store has a bound payout account;
- what is carried forward: negative when the store owes more than it is due (never paid; the
  next run nets it), positive when it is held for want of a payout account.

``preview`` writes those figures and moves no money; a new preview of the cycle supersedes the
last. ``execute`` runs a preview once, under the run's row lock: for each store, in batches, it
nets ``min(receivable, payable)`` as they are now (``debt_netted``) and prepares a payout of
the lesser of the previewed payout and what the receivable holds now (``payouts.prepare``); the
payouts go out on the rail after commit (``payouts.send_due``). A second execution, or one of a
superseded preview, is refused (409 ``run_once``) with nothing posted, and a partial unique
index allows one executed run per cycle and boundary in the database too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.db import bulk_insert, table_of
from tuoguan.errors import Conflict, Forbidden, InvalidInput, NotFound
from tuoguan.kit.clock import as_utc
from tuoguan.kit.ids import new_id, new_ids
from tuoguan.ledger import service as ledger
from tuoguan.ledger.accounts import AccountKind
from tuoguan.ledger.kinds import EntryKind
from tuoguan.principal import Principal, Role
from tuoguan.settlement import cycles, payouts
from tuoguan.settlement import run_repository as repository
from tuoguan.settlement.run_models import PayoutRun, RunStatement, RunStatus, StatementStatus
from tuoguan.stores.models import StoreMode

RUNNERS = (Role.operator, Role.system)
SUBJECT = "payout_run"
# Statements per batch of an execution: each batch reads and locks its stores' accounts at once.
BATCH = 200

Progress = Callable[[int, int], Awaitable[None] | None]


def _may_run(principal: Principal) -> None:
    if principal.role not in RUNNERS:
        raise Forbidden(f"a {principal.role.value} does not run settlements: operators only")


def cycle_of(value: StoreMode | str) -> StoreMode:
    """The cycle a value names (422 ``known_cycle`` otherwise)."""
    try:
        return StoreMode(value)
    except ValueError:
        names = ", ".join(mode.value for mode in StoreMode)
        raise InvalidInput(
            f"{value!r} is not a settlement cycle: one of {names}",
            field="cycle",
            rule="known_cycle",
        ) from None


@dataclass(frozen=True)
class Outcome:
    """What a run does with one store's money in one currency."""

    netted: int
    payout: int
    carried: int
    status: StatementStatus


def _status(*, paid: int, held: bool, carried: int) -> StatementStatus:
    if paid > 0:
        return StatementStatus.paid
    if held:
        return StatementStatus.held_no_account
    return StatementStatus.carried if carried != 0 else StatementStatus.nothing_due


def settle(
    *, receivable: int, payable: int, in_clearing: int, closing: int, bound: bool
) -> Outcome:
    """Net the store's debts from what it is due and pay the rest, if it can be paid.

    ``receivable`` and ``payable`` on their normal side; ``closing`` the due they make with the
    payout clearing. ``closing = in_clearing + payout + carried`` always."""
    netted = max(0, min(receivable, payable))
    payable_now = receivable - netted
    payout = payable_now if bound else 0
    carried = closing - in_clearing - payout
    held = payable_now > 0 and not bound
    return Outcome(netted, payout, carried, _status(paid=payout, held=held, carried=carried))


def _payable_at_end(statement: RunStatement) -> int:
    """What the statement found payable at the period's end, netted (held or not)."""
    receivable = statement.receivable_minor
    return receivable - max(0, min(receivable, statement.payable_minor))


async def preview(session: AsyncSession, ctx: Ctx, cycle: StoreMode | str) -> PayoutRun:
    """Preview the cycle's run up to its last boundary not yet executed; nothing is posted.

    409 ``cycle_not_due`` when no boundary has passed since the last executed run (or the
    cycle has no store). A previewed run of the cycle is superseded by this one."""
    _may_run(ctx.principal)
    mode = cycle_of(cycle)
    now = ctx.clock.now()
    end = cycles.latest_boundary(ctx.settings, mode, now)
    last = await repository.last_executed(session, mode)
    start = last.period_end if last else await repository.first_store_created(session, mode)
    if start is None or end <= start:
        upcoming = cycles.next_boundary(ctx.settings, mode, max(now, start or now))
        zone = ZoneInfo(ctx.settings.settlement_zone)

        def said(at: datetime) -> str:
            return f"{as_utc(at).astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"

        why = (
            f"the {mode.value} cycle was settled up to {said(start)}"
            if start
            else f"there is no {mode.value} store yet"
        )
        raise Conflict(
            f"{why}; its next boundary is {said(upcoming)}: nothing to settle before then",
            field="cycle",
            rule="cycle_not_due",
            next_boundary=upcoming.isoformat(),
        )
    stale = await repository.lock_previewed(session, mode)
    await repository.supersede(session, [run.id for run in stale], now)
    events = [
        audit.event_row(
            ctx=ctx,
            subject_type=SUBJECT,
            subject_id=run.id,
            action="supersede",
            from_state=RunStatus.previewed.value,
            to_state=RunStatus.superseded.value,
        )
        for run in stale
    ]
    dues = await repository.dues(session, mode=mode, start=start, end=end)
    dues = [d for d in dues if d.moves or d.opening or d.receivable or d.payable or d.in_clearing]
    accounts = await repository.bound_currencies(session, {d.store_id for d in dues})
    run = PayoutRun(
        id=new_id("payout_run"),
        cycle=mode,
        period_start=start,
        period_end=end,
        status=RunStatus.previewed,
        created_by=ctx.principal.actor_id,
        previewed_at=now,
        store_count=len({d.store_id for d in dues}),
    )
    session.add(run)
    await session.flush()
    rows = []
    for statement_id, due in zip(new_ids("run_statement", len(dues)), dues, strict=True):
        outcome = settle(
            receivable=due.receivable,
            payable=due.payable,
            in_clearing=due.in_clearing,
            closing=due.closing,
            bound=accounts.get(due.store_id) == due.currency,
        )
        rows.append(
            {
                "id": statement_id,
                "run_id": run.id,
                "store_id": due.store_id,
                "currency": due.currency,
                "opening_due_minor": due.opening,
                "movements_minor": due.closing - due.opening,
                "closing_due_minor": due.closing,
                "receivable_minor": due.receivable,
                "payable_minor": due.payable,
                "in_clearing_minor": due.in_clearing,
                "netted_minor": outcome.netted,
                "payout_minor": outcome.payout,
                "carried_forward_minor": outcome.carried,
                "status": outcome.status,
                "payout_id": None,
                "settled_at": None,
            }
        )
    await bulk_insert(session, table_of(RunStatement), rows)
    events.append(
        audit.event_row(
            ctx=ctx,
            subject_type=SUBJECT,
            subject_id=run.id,
            action="preview",
            to_state=RunStatus.previewed.value,
            data={
                "cycle": mode.value,
                "period_start": start.isoformat(),
                "period_end": end.isoformat(),
                "statements": len(rows),
                "superseded": [r.id for r in stale],
            },
        )
    )
    await audit.record_many(session, events)
    return run


def _run_once(run: PayoutRun) -> Conflict:
    if run.status is RunStatus.executed:
        when = run.executed_at.isoformat() if run.executed_at else "before"
        detail = f"payout run {run.id} was executed {when}; a run is executed once"
    else:
        detail = (
            f"payout run {run.id} is {run.status.value}: a newer preview of the "
            f"{run.cycle.value} cycle replaced it; execute that one"
        )
    return Conflict(detail, field="run_id", rule="run_once", current_state=run.status.value)


async def execute(
    session: AsyncSession, ctx: Ctx, run_id: str, *, progress: Progress | None = None
) -> PayoutRun:
    """Execute a previewed run once, in the caller's transaction (see the module); ``progress``
    is told (statements done, statements in all) after each batch."""
    _may_run(ctx.principal)
    run = await repository.lock_run(session, run_id)
    if run is None:
        raise NotFound(f"payout run {run_id} does not exist", field="run_id")
    if run.status is not RunStatus.previewed:
        raise _run_once(run)
    now = ctx.clock.now()
    settled = f"the {run.cycle.value} cycle's run up to {run.period_end.isoformat()}"
    run.status = RunStatus.executed
    run.executed_by = ctx.principal.actor_id
    run.executed_at = now
    try:
        await session.flush()
    except IntegrityError:
        # Another preview of this boundary was executed meanwhile (uq_payout_runs_executed).
        raise Conflict(
            f"{settled} was executed already; a run is executed once",
            field="run_id",
            rule="run_once",
        ) from None
    total = await repository.count_statements(session, run.id)
    done, after = 0, None
    while batch := await repository.statement_batch(session, run.id, after=after, limit=BATCH):
        await _settle_batch(session, ctx, run, batch)
        done += len(batch)
        after = batch[-1].id
        if progress is not None:
            told = progress(done, total)
            if told is not None:
                await told
    audit.record(
        session,
        ctx=ctx,
        subject_type=SUBJECT,
        subject_id=run.id,
        action="execute",
        from_state=RunStatus.previewed.value,
        to_state=RunStatus.executed.value,
        data={"statements": total},
    )
    await session.flush()
    return run


async def _settle_batch(
    session: AsyncSession, ctx: Ctx, run: PayoutRun, batch: Sequence[RunStatement]
) -> None:
    """Net and pay each statement of the batch as its accounts are now, with an event each."""
    balances = await repository.lock_balances(
        session, [(statement.store_id, statement.currency) for statement in batch]
    )
    accounts = await repository.bound_currencies(session, {s.store_id for s in batch})
    now = ctx.clock.now()
    events = []
    for statement in batch:
        store_id, currency = statement.store_id, statement.currency
        key = f"{run.id}:{store_id}:{currency}"
        receivable = balances.get((store_id, currency, AccountKind.receivable), 0)
        payable = balances.get((store_id, currency, AccountKind.payable), 0)
        netted = max(0, min(receivable, payable))
        if netted:
            await ledger.post(
                session,
                ctx,
                EntryKind.debt_netted,
                currency=currency,
                parts={"amount": netted},
                store_id=store_id,
                subject=(SUBJECT, run.id),
                idem_key=f"net:{key}",
                memo=f"payout run {run.id}: debts netted",
            )
        # Never more than the period found payable: sales since its end wait for the next run.
        pay = max(0, min(_payable_at_end(statement), receivable - netted))
        held = pay > 0 and accounts.get(store_id) != currency
        payout_id = None
        if pay > 0 and not held:
            payout = await payouts.prepare(
                session,
                ctx,
                store_id=store_id,
                currency=currency,
                amount_minor=pay,
                purpose=payouts.PayoutPurpose.settlement,
                subject=(SUBJECT, run.id),
                idem_key=f"payout:{key}",
            )
            payout_id = payout.id
        paid = 0 if held else pay
        carried = statement.closing_due_minor - statement.in_clearing_minor - paid
        status = _status(paid=paid, held=held, carried=carried)
        statement.netted_minor = netted
        statement.payout_minor = paid
        statement.carried_forward_minor = carried
        statement.status = status
        statement.payout_id = payout_id
        statement.settled_at = now
        events.append(
            audit.event_row(
                ctx=ctx,
                subject_type="run_statement",
                subject_id=statement.id,
                store_id=store_id,
                action="settle",
                to_state=status.value,
                data={
                    "run_id": run.id,
                    "currency": currency,
                    "netted_minor": netted,
                    "payout_minor": paid,
                    "carried_forward_minor": carried,
                    "payout_id": payout_id,
                },
            )
        )
    await audit.record_many(session, events)
    await session.flush()


# -- reads ----------------------------------------------------------------------------------


async def get_run(
    session: AsyncSession, principal: Principal, run_id: str
) -> tuple[PayoutRun, list[RunStatement]]:
    """A run and its statements (operators only; 404 if there is none)."""
    _may_run(principal)
    run = await repository.get_run(session, run_id)
    if run is None:
        raise NotFound(f"payout run {run_id} does not exist", field="run_id")
    return run, await repository.statements(session, run.id)


async def list_runs(
    session: AsyncSession,
    principal: Principal,
    *,
    cycle: StoreMode | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[PayoutRun], str | None]:
    """Runs, newest first, a keyset page (operators only)."""
    _may_run(principal)
    return await repository.list_runs(session, cycle=cycle, cursor=cursor, limit=limit)


@dataclass
class Totals:
    """A run's figures in one currency: how many statements of each status, and the sums."""

    currency: str
    counts: dict[StatementStatus, int]
    netted_minor: int = 0
    payout_minor: int = 0
    carried_minor: int = 0  # what the stores owe, carried forward (negative)
    held_minor: int = 0  # what waits for a payout account


def totals(statements: Sequence[RunStatement]) -> list[Totals]:
    """The run's totals per currency, by currency."""
    found: dict[str, Totals] = {}
    counts: dict[str, dict[StatementStatus, int]] = defaultdict(
        lambda: dict.fromkeys(StatementStatus, 0)
    )
    for s in statements:
        total = found.setdefault(s.currency, Totals(s.currency, counts[s.currency]))
        total.counts[s.status] += 1
        total.netted_minor += s.netted_minor
        total.payout_minor += s.payout_minor
        if s.status is StatementStatus.held_no_account:
            total.held_minor += s.carried_forward_minor
        elif s.carried_forward_minor < 0:
            total.carried_minor += s.carried_forward_minor
    return [found[code] for code in sorted(found)]

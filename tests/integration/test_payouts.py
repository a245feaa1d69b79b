"""Payouts on both engines: prepared in the caller's transaction and refused with nothing
written, sent once on the sandbox rail whatever it answers, a timeout or a worker killed
between the rail's answer and its record recovered by the next sweep without paying twice
(M3, S3; issue 14 "a payout is sent at most once")."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.builders.ledger import START, open_stores, operator, post, run_on
from tests.builders.payouts import bind, instructions, owe, payout, prepared
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.errors import DomainError
from tuoguan.kit.clock import FrozenClock
from tuoguan.ledger import check, reads
from tuoguan.ledger.accounts import AccountKind
from tuoguan.ledger.kinds import EntryKind
from tuoguan.ledger.models import JournalEntry
from tuoguan.notify.models import Notification
from tuoguan.ops import service as failures
from tuoguan.principal import SYSTEM
from tuoguan.settlement import payouts
from tuoguan.settlement.models import Payout, PayoutPurpose, PayoutStatus
from tuoguan.settlement.rail import SandboxRail
from tuoguan.worker import loop

A = AccountKind
ROOT = Path(__file__).resolve().parents[2]


def _system(clock: FrozenClock) -> Ctx:
    return Ctx(principal=SYSTEM, clock=clock)


async def _balances(db: Database, store_id: str) -> dict[str, int]:
    async with db.read() as session:
        return {
            kind.value: await reads.balance(session, kind=kind, currency="CNY", store_id=store_id)
            for kind in (A.receivable, A.payout_clearing, A.deposit_held)
        }


async def _count(db: Database, kind: EntryKind) -> int:
    async with db.read() as session:
        query = select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == kind)
        return int(await session.scalar(query) or 0)


async def _clean(db: Database) -> None:
    async with db.read() as session:
        report = await check.check(session)
    assert report.clean, report


async def _refused(db: Database, **kwargs: object) -> DomainError:
    async with db.write() as session:
        with pytest.raises(DomainError) as refused:
            await payouts.prepare(session, operator(), **kwargs)
        await session.rollback()
    return refused.value


def test_prepare_sets_the_money_aside_and_refuses_with_nothing_written(db_url: str) -> None:
    # M3, S3: a payout goes to the store's bound account; bad input is named and posts nothing
    async def scenario(db: Database) -> None:
        (store,) = await open_stores(db, 1)
        await owe(db, store, 10_000)
        base = {
            "store_id": store,
            "currency": "CNY",
            "purpose": PayoutPurpose.settlement,
            "subject": ("payout_run", "prn_01KB0000000000000000000000"),
            "idem_key": "run-1:store",
        }
        # no account bound yet: 409, nothing posted
        refused = await _refused(db, amount_minor=6_000, **base)
        assert (refused.http_status, refused.extra["rule"]) == (409, "payout_account_bound")
        await bind(db, store)
        for amount, status, rule in [
            (0, 422, "positive"),
            (-5, 422, "not_negative"),
            (12.5, 422, "no_fractions"),
            (10_001, 409, "insufficient_balance"),
        ]:
            refused = await _refused(db, amount_minor=amount, **base)
            assert (refused.http_status, refused.extra["rule"]) == (status, rule), amount
        refused = await _refused(db, amount_minor=100, **{**base, "currency": "USD"})
        assert (refused.http_status, refused.extra["rule"]) == (409, "payout_account_currency")
        assert await _count(db, EntryKind.payout_prepared) == 0
        assert await _balances(db, store) == {
            "receivable": 10_000,
            "payout_clearing": 0,
            "deposit_held": 0,
        }

        # prepared: the money moves from receivable to payout clearing, nothing is sent
        first = await prepared(db, store, 6_000, key="run-1:store")
        assert first.status is PayoutStatus.prepared and first.attempts == 0
        assert await _balances(db, store) == {
            "receivable": 4_000,
            "payout_clearing": 6_000,
            "deposit_held": 0,
        }
        assert await instructions(db) == 0
        # the same key again is the same payout; another payout under it is refused
        again = await prepared(db, store, 6_000, key="run-1:store")
        assert again.id == first.id and await _count(db, EntryKind.payout_prepared) == 1
        refused = await _refused(db, **{**base, "amount_minor": 5_000})
        assert (refused.http_status, refused.extra["rule"]) == (409, "idem_key_reused")

        # a deposit refund comes out of deposit held (S3)
        await post(
            db, EntryKind.deposit_funded, currency="CNY", parts={"amount": 5_000}, store_id=store
        )
        async with db.write() as session:
            refund = await payouts.prepare(
                session,
                operator(),
                store_id=store,
                currency="CNY",
                amount_minor=3_000,
                purpose="deposit_refund",
                subject=("deposit_refund", "dfr_01KB0000000000000000000000"),
                idem_key="deposit-refund-1",
            )
            await session.commit()
        assert refund.purpose is PayoutPurpose.deposit_refund
        assert await _balances(db, store) == {
            "receivable": 4_000,
            "payout_clearing": 9_000,
            "deposit_held": 2_000,
        }
        await _clean(db)

    run_on(db_url, scenario)


def test_an_accepted_payout_is_sent_once_and_clears(db_url: str) -> None:
    # M3: the rail accepts; payout_sent posts once, payout clearing is back at zero
    async def scenario(db: Database) -> None:
        clock = FrozenClock(START)
        (store,) = await open_stores(db, 1)
        await bind(db, store)
        await owe(db, store, 10_000)
        made = await prepared(db, store, 7_500)
        clock.advance(timedelta(minutes=5))
        assert await payouts.send_due(db, _system(clock), SandboxRail(db, clock=clock)) == 1
        sent = await payout(db, made.id)
        assert sent.status is PayoutStatus.sent and sent.attempts == 1
        assert sent.sent_at == clock.now() and sent.rail_reference and sent.sent_entry_id
        assert await _balances(db, store) == {
            "receivable": 2_500,
            "payout_clearing": 0,
            "deposit_held": 0,
        }
        # another sweep finds nothing to send
        clock.advance(timedelta(hours=1))
        assert await payouts.send_due(db, _system(clock), SandboxRail(db, clock=clock)) == 0
        assert await instructions(db, made.id) == 1
        assert await _count(db, EntryKind.payout_sent) == 1
        await _clean(db)

    run_on(db_url, scenario)


def test_a_refused_payout_fails_and_the_money_goes_back_to_the_receivable(db_url: str) -> None:
    # M3: the rail refuses; the prepare entry is reversed, the seller is told why
    async def scenario(db: Database) -> None:
        clock = FrozenClock(START)
        (store,) = await open_stores(db, 1)
        await bind(db, store)
        await owe(db, store, 10_000)
        made = await prepared(db, store, 10_000)
        rail = SandboxRail(db, mode="fail", clock=clock)
        assert await payouts.send_due(db, _system(clock), rail) == 1
        failed = await payout(db, made.id)
        assert failed.status is PayoutStatus.failed and failed.failure_reason
        assert failed.reversal_entry_id and failed.sent_entry_id is None
        assert await _balances(db, store) == {
            "receivable": 10_000,
            "payout_clearing": 0,
            "deposit_held": 0,
        }
        assert await _count(db, EntryKind.payout_sent) == 0
        async with db.read() as session:
            kinds = list(await session.scalars(select(Notification.kind)))
        assert kinds.count("payout_failed") == 1
        # a failed payout is never sent again: its money goes in the next run
        rail.mode = "ok"
        assert await payouts.send_due(db, _system(clock), rail) == 0
        assert await payouts.send_due(db, _system(clock), rail, [made.id]) == 0
        assert await instructions(db) == 1
        await _clean(db)

    run_on(db_url, scenario)


def test_a_timeout_stays_sending_and_the_next_sweep_records_it_without_paying_again(
    db_url: str,
) -> None:
    # issue 14: the bank paid but its answer was lost; the worker's sweep asks it again later
    async def scenario(db: Database) -> None:
        clock = FrozenClock(START)
        (store,) = await open_stores(db, 1)
        await bind(db, store)
        await owe(db, store, 10_000)
        made = await prepared(db, store, 4_000)
        rail = SandboxRail(db, mode="timeout", clock=clock)
        assert await payouts.send_due(db, _system(clock), rail) == 1
        waiting = await payout(db, made.id)
        assert waiting.status is PayoutStatus.sending and waiting.attempts == 1
        assert await instructions(db, made.id) == 1
        assert await _count(db, EntryKind.payout_sent) == 0
        # a sweep at once leaves it to the worker that has it
        assert await payouts.send_due(db, _system(clock), rail) == 0
        # later, the worker's own sweep (the rail in its default mode) finds it on the rail
        clock.advance(payouts.RESEND_AFTER)
        settings = Settings(database_url=db.url, environment="test")
        report = await loop.run_once(db, clock, settings, (loop._rows(loop.PAYOUTS),))
        assert report[payouts.SWEEP] == 1 and not report.failed
        sent = await payout(db, made.id)
        assert sent.status is PayoutStatus.sent and sent.attempts == 2
        assert sent.sent_at == START  # when the bank accepted it
        assert await instructions(db, made.id) == 1
        assert await _count(db, EntryKind.payout_sent) == 1
        assert (await _balances(db, store))["payout_clearing"] == 0
        await _clean(db)

    run_on(db_url, scenario)


def test_two_sweeps_at_once_pay_once(db_url: str) -> None:
    # issue 14: concurrent sweeps (and two asked for the same payout by id) pay it once
    async def scenario(db: Database) -> None:
        clock = FrozenClock(START)
        (store,) = await open_stores(db, 1)
        await bind(db, store)
        await owe(db, store, 10_000)
        first = await prepared(db, store, 3_000, key="a")
        second = await prepared(db, store, 2_000, key="b")
        rails = [SandboxRail(db, clock=clock) for _ in range(2)]
        counts = await asyncio.gather(
            *(payouts.send_due(db, _system(clock), rail) for rail in rails)
        )
        assert sum(counts) == 2
        third = await prepared(db, store, 1_000, key="c")
        await asyncio.gather(
            *(payouts.send_due(db, _system(clock), rail, [third.id]) for rail in rails)
        )
        for made in (first, second, third):
            assert (await payout(db, made.id)).status is PayoutStatus.sent
            assert await instructions(db, made.id) == 1
        assert await _count(db, EntryKind.payout_sent) == 3
        assert await _balances(db, store) == {
            "receivable": 4_000,
            "payout_clearing": 0,
            "deposit_held": 0,
        }
        await _clean(db)

    run_on(db_url, scenario)


# The worker, in a process of its own, dies the moment the bank accepted the instruction:
# before it records the answer. Only this script knows how to die; the code it runs is the
# production sweep and the production sandbox bank.
DYING_WORKER = textwrap.dedent(
    """
    import asyncio, os, sys
    from datetime import datetime

    from tuoguan.context import Ctx
    from tuoguan.db import Database
    from tuoguan.kit.clock import FrozenClock
    from tuoguan.principal import SYSTEM
    from tuoguan.settlement import payouts
    from tuoguan.settlement.rail import SandboxRail

    class DyingRail(SandboxRail):
        async def send(self, instruction):
            await super().send(instruction)
            os._exit(9)

    async def main():
        clock = FrozenClock(datetime.fromisoformat(sys.argv[2]))
        db = Database.from_url(sys.argv[1])
        await payouts.send_due(db, Ctx(principal=SYSTEM, clock=clock), DyingRail(db, clock=clock))
        sys.exit("the worker should have died at the rail")

    asyncio.run(main())
    """
)


def test_a_worker_killed_after_the_rail_paid_neither_pays_twice_nor_loses_the_payout(
    db_url: str, tmp_path: Path
) -> None:
    # issue 14: kill the worker between "instruction sent" and "recorded", then rerun
    clock = FrozenClock(START)

    async def given(db: Database) -> tuple[str, str]:
        (store,) = await open_stores(db, 1)
        await bind(db, store)
        await owe(db, store, 10_000)
        return store, (await prepared(db, store, 8_800)).id

    store, payout_id = run_on(db_url, given)
    script = tmp_path / "dying_worker.py"
    script.write_text(DYING_WORKER)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    child = subprocess.run(
        [sys.executable, str(script), db_url, START.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 9, child.stderr

    async def then(db: Database) -> None:
        # the bank paid it; our books do not know yet, and the payout is not lost
        left = await payout(db, payout_id)
        assert left.status is PayoutStatus.sending and left.attempts == 1
        assert await instructions(db, payout_id) == 1
        assert await _count(db, EntryKind.payout_sent) == 0
        assert (await _balances(db, store))["payout_clearing"] == 8_800
        # the next worker run records it, from the bank's own answer
        clock.advance(payouts.RESEND_AFTER)
        settings = Settings(database_url=db.url, environment="test")
        report = await loop.run_once(db, clock, settings, (loop._rows(loop.PAYOUTS),))
        assert report[payouts.SWEEP] == 1 and not report.failed
        done = await payout(db, payout_id)
        assert done.status is PayoutStatus.sent and done.attempts == 2
        assert await instructions(db) == 1
        assert await _count(db, EntryKind.payout_sent) == 1
        assert await _balances(db, store) == {
            "receivable": 1_200,
            "payout_clearing": 0,
            "deposit_held": 0,
        }
        await _clean(db)
        # and once more: nothing left to send
        clock.advance(timedelta(hours=1))
        report = await loop.run_once(db, clock, settings, (loop._rows(loop.PAYOUTS),))
        assert report[payouts.SWEEP] == 0 and await instructions(db) == 1
        async with db.read() as session:
            assert await session.scalar(select(func.count()).select_from(Payout)) == 1

    run_on(db_url, then)


def test_a_payout_that_cannot_be_recorded_is_set_aside_and_the_others_go_through(
    db_url: str,
) -> None:
    # issue 14: one bad row does not hold up the sweep; it waits on the operators' list
    async def scenario(db: Database) -> None:
        clock = FrozenClock(START)
        (store,) = await open_stores(db, 1)
        await bind(db, store)
        await owe(db, store, 10_000)
        bad = await prepared(db, store, 1_000, key="bad")
        good = await prepared(db, store, 2_000, key="good")
        # an entry that took the bad payout's payout_sent key: its record is refused (409)
        await post(
            db,
            EntryKind.insurance_claim_paid,
            currency="CNY",
            parts={"amount": 1},
            store_id=store,
            idem_key=f"payout_sent:{bad.id}",
        )
        settings = Settings(database_url=db.url, environment="test")
        report = await loop.run_once(db, clock, settings, (loop._rows(loop.PAYOUTS),))
        assert report.set_aside == {payouts.SWEEP: 1} and not report.failed
        assert (await payout(db, good.id)).status is PayoutStatus.sent
        left = await payout(db, bad.id)
        assert left.status is PayoutStatus.sending  # paid by the bank, not recorded: not lost
        async with db.read() as session:
            skipped, _ = await failures.skipped(session, sweep=payouts.SWEEP, subject_type="payout")
        assert skipped == [bad.id]
        # the next runs leave it out, and never pay it twice
        clock.advance(payouts.RESEND_AFTER)
        report = await loop.run_once(db, clock, settings, (loop._rows(loop.PAYOUTS),))
        assert report[payouts.SWEEP] == 0 and not report.set_aside
        assert await instructions(db, bad.id) == 1 and await instructions(db) == 2
        await _clean(db)

    run_on(db_url, scenario)

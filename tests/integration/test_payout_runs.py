"""Payout runs (M3): settlement cycles per mode, full-managed the shorter; a preview that moves
no money and reconciles (opening + movements = closing); an execution, once, that nets debts
from what is due, pays the rest to the bound payout account, carries a negative result forward
(never paid) and holds the money of a store without an account."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from tests.builders import payouts as payout_builders
from tests.builders.ledger import START
from tests.builders.runs import CNY, FULL, SELF, SEMI, World, scenario
from tuoguan.audit.models import Event
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput
from tuoguan.ledger import reads
from tuoguan.ledger.accounts import AccountKind
from tuoguan.ledger.kinds import EntryKind
from tuoguan.onboarding import invitations
from tuoguan.onboarding.origin import LOCAL
from tuoguan.principal import Principal, Role
from tuoguan.settlement import cycles, runs, statements
from tuoguan.settlement import payouts as payout_service
from tuoguan.settlement.models import PayoutStatus
from tuoguan.settlement.rail import get_rail
from tuoguan.settlement.run_models import RunStatus, StatementStatus
from tuoguan.stores import service as stores
from tuoguan.stores.schemas import SellerCreate, StoreCreate

# START is Wednesday 18 November 2026, 09:00 in Shanghai. Cycles end at 00:00 Shanghai time
# on Mondays counted from 5 January 2026: weekly every Monday, fortnightly every other one; both
# end on Monday 23 November (16:00 UTC the day before).
MON_23 = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
MON_30 = MON_23 + timedelta(days=7)
MON_7 = MON_23 + timedelta(days=14)


def _refusal(exc: pytest.ExceptionInfo[Any]) -> tuple[str | None, Any]:
    return exc.value.field, exc.value.extra.get("rule")


# -- cycles ---------------------------------------------------------------------------------------


def test_cycle_boundaries_fall_at_midnight_platform_time_on_mondays() -> None:  # M3
    settings = Settings()
    assert (
        settings.settlement_anchor == date(2026, 1, 5) and settings.settlement_anchor.weekday() == 0
    )
    assert cycles.cycle_days(settings, FULL) < cycles.cycle_days(settings, SEMI)
    assert cycles.cycle_days(settings, SEMI) == cycles.cycle_days(settings, SELF) == 14
    # weekly: the Monday before; fortnightly: every other Monday from the anchor
    assert cycles.latest_boundary(settings, FULL, START) == datetime(2026, 11, 15, 16, tzinfo=UTC)
    assert cycles.latest_boundary(settings, SEMI, START) == datetime(2026, 11, 8, 16, tzinfo=UTC)
    # the boundary itself belongs to the cycle it opens; a minute before, to the one it closes
    assert cycles.latest_boundary(settings, FULL, MON_23) == MON_23
    before = MON_23 - timedelta(minutes=1)
    assert cycles.latest_boundary(settings, FULL, before) == MON_23 - timedelta(days=7)
    assert cycles.next_boundary(settings, FULL, START) == MON_23
    assert cycles.next_boundary(settings, SEMI, MON_23) == MON_7
    # configured otherwise: a three-day cycle in London
    other = Settings(settlement_cycle_days_full_managed=3, settlement_zone="Europe/London")
    assert cycles.latest_boundary(other, FULL, START) == datetime(2026, 11, 16, tzinfo=UTC)
    with pytest.raises(ValueError, match="IANA"):
        Settings(settlement_zone="Mars/Olympus")


def test_the_full_managed_cycle_is_shorter(db_url: str) -> None:  # M3
    async def body(w: World) -> None:
        await w.bind("full")
        await w.bind("semi")
        await w.due_to("full", 1000)
        await w.due_to("semi", 1000)
        # Wednesday: the stores opened this week, no boundary has passed since
        for cycle in (FULL, SEMI):
            with pytest.raises(Conflict) as refused:
                await w.preview(cycle)
            assert _refusal(refused) == ("cycle", "cycle_not_due")
            assert refused.value.extra["next_boundary"] == MON_23.isoformat()
        # Monday 23rd, both cycles end: each run pays its own stores only
        w.clock.current = MON_23 + timedelta(hours=9)
        full, semi = await w.preview(FULL), await w.preview(SEMI)
        assert (full.period_start, full.period_end) == (START, MON_23)
        assert (semi.period_start, semi.period_end) == (START, MON_23)
        assert set(await w.statements(full.id)) == {"full"}
        assert set(await w.statements(semi.id)) == {"semi"}
        await w.execute(full.id)
        await w.execute(semi.id)
        # a week later the full-managed cycle is due again, the semi-managed one is not
        w.clock.current = MON_30 + timedelta(hours=1)
        await w.due_to("full", 500)
        await w.due_to("semi", 500)
        w.clock.current = MON_30 + timedelta(days=7, hours=2)
        week = await w.preview(FULL)
        assert (week.period_start, week.period_end) == (MON_23, MON_30 + timedelta(days=7))
        # (the semi-managed cycle's next end is 7 December: due then, not on the 30th)
        w.clock.current = MON_30 + timedelta(hours=2)
        with pytest.raises(Conflict) as refused:
            await w.preview(SEMI)
        assert _refusal(refused) == ("cycle", "cycle_not_due")
        assert refused.value.extra["next_boundary"] == MON_7.isoformat()
        w.clock.current = MON_7 + timedelta(hours=1)
        fortnight = await w.preview(SEMI)
        assert (fortnight.period_start, fortnight.period_end) == (MON_23, MON_7)
        assert (await w.statements(fortnight.id))["semi"].payout_minor == 500
        await w.clean_books()

    scenario(db_url, body)


def test_a_run_nets_the_debts_and_pays_the_rest(db_url: str) -> None:  # M3 F6
    async def body(w: World) -> None:
        await w.bind("full")
        await w.due_to("full", 10_000)
        await w.owes("full", 3_000)
        w.clock.current = MON_23 + timedelta(hours=1)
        before = await w.entries()
        run = await w.preview(FULL)
        assert await w.entries() == before  # a preview posts nothing
        shown = (await w.statements(run.id))["full"]
        assert shown.status is StatementStatus.paid and shown.payout_id is None
        assert (shown.opening_due_minor, shown.movements_minor, shown.closing_due_minor) == (
            0,
            7_000,
            7_000,
        )
        assert (shown.netted_minor, shown.payout_minor, shown.carried_forward_minor) == (
            3_000,
            7_000,
            0,
        )
        # executed: 30 netted, 70 set aside for the payout account
        done: list[tuple[int, int]] = []
        executed = await w.execute(run.id, progress=lambda n, total: done.append((n, total)))
        assert executed.status is RunStatus.executed and executed.executed_by == "usr_ledger"
        assert done == [(1, 1)]
        paid = (await w.statements(run.id))["full"]
        assert paid.status is StatementStatus.paid and paid.payout_id
        assert (paid.netted_minor, paid.payout_minor, paid.carried_forward_minor) == (
            3_000,
            7_000,
            0,
        )
        assert await w.balance("full", AccountKind.receivable) == 0
        assert await w.balance("full", AccountKind.payable) == 0
        assert await w.balance("full", AccountKind.payout_clearing) == 7_000
        (payout,) = await w.payouts()
        assert (payout.id, payout.amount_minor, payout.status) == (
            paid.payout_id,
            7_000,
            PayoutStatus.prepared,
        )
        assert (payout.subject_type, payout.subject_id) == ("payout_run", run.id)
        async with w.db.read() as session:
            kinds = [
                (e.kind, e.parts["amount"], e.idem_key)
                for e in await reads.entries_of(
                    session, subject_type="payout_run", subject_id=run.id
                )
            ]
            trail = [
                (e.subject_type, e.action)
                for e in await session.scalars(
                    select(Event)
                    .where(Event.subject_type.in_(("payout_run", "run_statement")))
                    .order_by(Event.seq)
                )
            ]
        key = f"{run.id}:{w.stores['full']}:{CNY}"
        assert kinds == [(EntryKind.debt_netted, 3_000, f"net:{key}")]
        assert trail == [
            ("payout_run", "preview"),
            ("run_statement", "settle"),
            ("payout_run", "execute"),
        ]
        # the payout goes out on the rail: the due is paid
        sent = await payout_service.send_due(
            w.db, w.ctx(), get_rail(Settings(), w.db, w.clock), [payout.id]
        )
        assert sent == 1
        assert (await payout_builders.payout(w.db, payout.id)).status is PayoutStatus.sent
        assert await w.balance("full", AccountKind.payout_clearing) == 0
        await w.clean_books()

    scenario(db_url, body)


def test_a_negative_result_is_carried_forward_never_paid_and_netted_next_run(
    db_url: str,
) -> None:  # M3 F6
    async def body(w: World) -> None:
        await w.bind("full")
        await w.due_to("full", 10_000)
        await w.owes("full", 13_000)
        w.clock.current = MON_23 + timedelta(hours=1)
        run = await w.preview(FULL)
        shown = (await w.statements(run.id))["full"]
        assert shown.status is StatementStatus.carried
        assert (shown.closing_due_minor, shown.netted_minor, shown.payout_minor) == (
            -3_000,
            10_000,
            0,
        )
        assert shown.carried_forward_minor == -3_000
        await w.execute(run.id)
        carried = (await w.statements(run.id))["full"]
        assert carried.status is StatementStatus.carried and carried.payout_id is None
        assert (carried.netted_minor, carried.payout_minor, carried.carried_forward_minor) == (
            10_000,
            0,
            -3_000,
        )
        assert await w.payouts() == []
        assert await w.balance("full", AccountKind.receivable) == 0
        assert await w.balance("full", AccountKind.payable) == 3_000
        # a sale in the next cycle: the next run opens at -30, nets the carried debt, pays 20
        w.clock.current = MON_23 + timedelta(days=2)
        await w.due_to("full", 5_000)
        w.clock.current = MON_30 + timedelta(hours=1)
        following = await w.preview(FULL)
        assert following.period_start == run.period_end
        nxt = (await w.statements(following.id))["full"]
        assert (nxt.opening_due_minor, nxt.movements_minor, nxt.closing_due_minor) == (
            -3_000,
            5_000,
            2_000,
        )
        await w.execute(following.id)
        nxt = (await w.statements(following.id))["full"]
        assert (nxt.netted_minor, nxt.payout_minor, nxt.carried_forward_minor) == (3_000, 2_000, 0)
        assert [p.amount_minor for p in await w.payouts()] == [2_000]
        assert await w.balance("full", AccountKind.payable) == 0
        await w.clean_books()

    scenario(db_url, body)


def test_a_store_without_a_payout_account_is_held_for_the_next_run(db_url: str) -> None:  # M3
    async def body(w: World) -> None:
        await w.bind("full2")
        await w.due_to("full", 5_000)
        await w.owes("full", 1_000)
        await w.due_to("full2", 800)
        w.clock.current = MON_23 + timedelta(hours=1)
        run = await w.preview(FULL)
        shown = await w.statements(run.id)
        assert shown["full"].status is StatementStatus.held_no_account
        assert (shown["full"].payout_minor, shown["full"].carried_forward_minor) == (0, 4_000)
        assert shown["full2"].status is StatementStatus.paid
        await w.execute(run.id)
        done = await w.statements(run.id)
        held = done["full"]
        assert held.status is StatementStatus.held_no_account and held.payout_id is None
        assert (held.netted_minor, held.payout_minor, held.carried_forward_minor) == (
            1_000,
            0,
            4_000,
        )
        assert done["full2"].status is StatementStatus.paid
        # its money stays on its receivable; the other store is paid
        assert await w.balance("full", AccountKind.receivable) == 4_000
        assert [(p.store_id, p.amount_minor) for p in await w.payouts()] == [
            (w.stores["full2"], 800)
        ]
        # bound before the next run: paid then
        await w.bind("full")
        w.clock.current = MON_30 + timedelta(hours=1)
        following = await w.preview(FULL)
        nxt = (await w.statements(following.id))["full"]
        assert (nxt.opening_due_minor, nxt.payout_minor) == (4_000, 4_000)
        await w.execute(following.id)
        assert (await w.statements(following.id))["full"].status is StatementStatus.paid
        assert await w.balance("full", AccountKind.receivable) == 0
        await w.clean_books()

    scenario(db_url, body)


def test_only_what_the_period_found_is_paid_and_debts_are_netted_as_they_are_now(
    db_url: str,
) -> None:  # M3 F6
    async def body(w: World) -> None:
        await w.bind("full")
        await w.due_to("full", 10_000)
        w.clock.current = MON_23 + timedelta(hours=1)
        run = await w.preview(FULL)
        # after the boundary: a sale (for the next run) and a fee (netted now)
        await w.due_to("full", 6_000)
        await w.owes("full", 2_500)
        await w.execute(run.id)
        done = (await w.statements(run.id))["full"]
        # netted as of now: 25 (not 0); paid the lesser of 100 previewed and 160 - 25 now
        assert (done.netted_minor, done.payout_minor) == (2_500, 10_000)
        assert await w.balance("full", AccountKind.receivable) == 3_500
        # a fee bigger than what was left after the period: paid only what is due now
        await w.owes("full", 3_000)
        w.clock.current = MON_30 + timedelta(hours=1)
        nxt_run = await w.preview(FULL)
        await w.owes("full", 3_000)  # after the preview: 35 due, 30 owed
        await w.execute(nxt_run.id)
        nxt = (await w.statements(nxt_run.id))["full"]
        assert (nxt.netted_minor, nxt.payout_minor) == (3_500, 0)
        # the period's 5 left unpaid is carried to the next run, whose fee nets it
        assert (nxt.status, nxt.carried_forward_minor) == (StatementStatus.carried, 500)
        assert await w.balance("full", AccountKind.payable) == 2_500
        await w.clean_books()

    scenario(db_url, body)


def test_a_run_is_executed_once_and_a_second_execution_posts_nothing(db_url: str) -> None:  # M3
    async def body(w: World) -> None:
        await w.bind("full")
        await w.due_to("full", 10_000)
        w.clock.current = MON_23 + timedelta(hours=1)
        # a preview superseded by a newer one cannot be executed
        old = await w.preview(FULL)
        new = await w.preview(FULL)
        assert (await w.run(old.id)).status is RunStatus.superseded
        posted = await w.entries()
        with pytest.raises(Conflict) as refused:
            await w.execute(old.id)
        assert _refusal(refused) == ("run_id", "run_once")
        assert await w.entries() == posted
        await w.execute(new.id)
        posted, paid = await w.entries(), [p.id for p in await w.payouts()]
        with pytest.raises(Conflict) as again:
            await w.execute(new.id)
        assert _refusal(again) == ("run_id", "run_once")
        assert await w.entries() == posted and [p.id for p in await w.payouts()] == paid
        # and its boundary is settled: nothing more to preview until the next one
        with pytest.raises(Conflict) as not_due:
            await w.preview(FULL)
        assert _refusal(not_due) == ("cycle", "cycle_not_due")
        assert not_due.value.extra["next_boundary"] == MON_30.isoformat()
        # only operators run settlements; an unknown cycle is named
        seller = Ctx(principal=Principal(role=Role.seller, actor_id="u", seller_id="sel_x"))
        async with w.db.write() as session:
            with pytest.raises(Forbidden):
                await runs.preview(session, seller, FULL)
            with pytest.raises(Forbidden):
                await runs.execute(session, seller, new.id)
            with pytest.raises(InvalidInput) as unknown:
                await runs.preview(session, w.ctx(), "weekly")
        assert _refusal(unknown) == ("cycle", "known_cycle")
        await w.clean_books()

    scenario(db_url, body)


def test_two_executions_at_once_pay_once(db_url: str) -> None:  # M3
    """The same run twice at once, and two previews of one boundary at once (the race the
    supersede cannot see): one execution each time, one payout per store."""

    async def body(w: World) -> None:
        await w.bind("full")
        await w.bind("full2")
        await w.due_to("full", 10_000)
        await w.due_to("full2", 4_000)
        w.clock.current = MON_23 + timedelta(hours=1)
        run = await w.preview(FULL)
        results = await asyncio.gather(w.execute(run.id), w.execute(run.id), return_exceptions=True)
        refused = [r for r in results if isinstance(r, Exception)]
        assert len(refused) == 1 and isinstance(refused[0], Conflict), results
        assert refused[0].extra["rule"] == "run_once"
        assert sorted(p.amount_minor for p in await w.payouts()) == [4_000, 10_000]

        # next week: two previews of one boundary both left previewed (as two concurrent
        # previews would), executed at once: the database allows one executed run per boundary
        await w.due_to("full", 3_000)
        w.clock.current = MON_30 + timedelta(hours=1)
        first = await w.preview(FULL)
        second = await w.preview(FULL)
        async with w.db.write() as session:
            await session.execute(
                text(
                    "UPDATE payout_runs SET status = 'previewed', superseded_at = NULL "
                    "WHERE id = :id"
                ),
                {"id": first.id},
            )
            await session.commit()
        results = await asyncio.gather(
            w.execute(first.id), w.execute(second.id), return_exceptions=True
        )
        refused = [r for r in results if isinstance(r, Exception)]
        assert len(refused) == 1 and isinstance(refused[0], Conflict), results
        assert refused[0].extra["rule"] == "run_once"
        assert sorted(p.amount_minor for p in await w.payouts()) == [3_000, 4_000, 10_000]
        await w.clean_books()

    scenario(db_url, body)


def test_preview_figures_reconcile_with_the_statements(db_url: str, monkeypatch: Any) -> None:  # M3
    """Opening + movements = closing for every store, closing = on its way + paid + carried,
    the same figures the store's statement of the period shows; a big run goes in batches."""
    monkeypatch.setattr(runs, "BATCH", 2)

    async def body(w: World) -> None:
        for store in ("full", "full2"):
            await w.bind(store)
        # first cycle: sales, a fee, a penalty-sized debt
        await w.due_to("full", 12_345)
        await w.owes("full", 2_000)
        await w.due_to("full2", 700)
        await w.owes("full2", 1_900)
        w.clock.current = MON_23 + timedelta(hours=1)
        first = await w.preview(FULL)
        ticks: list[tuple[int, int]] = []
        await w.execute(first.id, progress=lambda n, total: ticks.append((n, total)))
        assert ticks == [(2, 2)]
        # second cycle: more of everything, and a third store opened meanwhile
        async with w.db.write() as session:
            seller = await stores.create_seller(
                session, ctx=w.ctx(), data=SellerCreate(name="Seller c", country="CN")
            )
            base = await stores.create_store(
                session,
                ctx=w.ctx(),
                data=StoreCreate(
                    seller_id=seller.id, name="c self", mode=SELF, country="CN", currency=CNY
                ),
            )
            late = await invitations.open_store(  # M2: accepted on the seller's behalf
                session,
                ctx=w.ctx(),
                data=StoreCreate(
                    seller_id=seller.id,
                    name="c full",
                    mode=FULL,
                    country="CN",
                    currency=CNY,
                    linked_store_id=base.id,
                    on_behalf_reason="a third store opened meanwhile",
                ),
                origin=LOCAL,
            )
            await session.commit()
        w.stores["full3"] = late.id
        await w.bind("full3")
        w.clock.current = MON_23 + timedelta(days=3)
        await w.due_to("full", 4_000)
        await w.owes("full", 500)
        await w.due_to("full2", 5_000)
        await w.due_to("full3", 999)
        w.clock.current = MON_30 + timedelta(hours=3)
        second = await w.preview(FULL)
        assert second.store_count == 3
        await w.execute(second.id, progress=lambda n, total: ticks.append((n, total)))
        assert ticks[1:] == [(2, 3), (3, 3)]
        for run in (first, second):
            for key, s in (await w.statements(run.id)).items():
                assert s.opening_due_minor + s.movements_minor == s.closing_due_minor, key
                assert (
                    s.in_clearing_minor + s.payout_minor + s.carried_forward_minor
                    == s.closing_due_minor
                ), key
                async with w.db.read() as session:
                    period = await statements.statement(
                        session,
                        store_id=s.store_id,
                        currency=CNY,
                        start=run.period_start,
                        end=run.period_end,
                    )
                assert (period.opening_minor, period.closing_minor) == (
                    s.opening_due_minor,
                    s.closing_due_minor,
                ), key
                assert sum(line.amount_minor for line in period.lines) == s.movements_minor
        nxt = await w.statements(second.id)
        # full2 owed 12 after the first run: carried, then netted from its 50
        assert (nxt["full2"].opening_due_minor, nxt["full2"].payout_minor) == (-1_200, 3_800)
        assert nxt["full3"].opening_due_minor == 0 and nxt["full3"].payout_minor == 999
        await w.clean_books()

    scenario(db_url, body)

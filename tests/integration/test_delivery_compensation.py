"""Delivery-commitment compensation (G2): the worker finds a parcel not delivered by its
``commit_by`` and posts, once, what the policy version in force for its destination region sets,
to the seller who shipped it; the carrier's proof that the delay was the buyer's (or that the
parcel arrived in time) reverses it; the platform's own parcels post to its own accounts; a failing parcel
is set aside and the sweep goes on; the sweep reads its partial index."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.faults import refusing
from tests.builders.market import Market, as_system, issue_token
from tests.builders.money import (
    DEFAULT_POLICY,
    amounts,
    assert_books_balance,
    balance,
    entries,
    push,
    read,
    seed_default_policy,
)
from tests.builders.shipping import SandboxHandle, connect_sandbox, ship
from tests.builders.stock import stocked
from tests.builders.workers import sweep_database
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.db import sync_url
from tuoguan.errors import InvalidInput
from tuoguan.kit.clock import FrozenClock
from tuoguan.ledger import service as ledger
from tuoguan.ledger.accounts import AccountKind
from tuoguan.ledger.kinds import EntryKind
from tuoguan.principal import Principal, Role
from tuoguan.shipping import compensation, repository
from tuoguan.shipping.money_models import CompensationPolicy

FEE, LATE = "shipping_fee_charged", "delivery_compensation"
SWEEP = compensation.SWEEP


@pytest.fixture(autouse=True)
def _default_policy(db_url: str) -> None:
    seed_default_policy(db_url)


def _policy(m: Market, clock: FrozenClock, **fields: Any) -> str:
    """An operator adds a version of a region's compensation policy."""
    ctx = Ctx(principal=Principal(role=Role.operator, actor_id="usr_policy"), clock=clock)

    async def add(session: AsyncSession, _: Ctx) -> str:
        return (await compensation.add_policy(session, ctx, **fields)).id

    return as_system(m.db_url, add)


def _picked_up(m: Market, clock: FrozenClock, store_key: str = "a_self") -> dict[str, Any]:
    """A seller's order shipped online and scanned at pickup now: its shipment, with
    ``commit_by`` (15 business days to Spain on the registered postal service)."""
    seller = m.seller_tokens[store_key.split("_")[0]]
    order = m.place(store_key)
    shipment = ship(m, order["id"], seller)
    m.ok(m.post(f"/shipments/{shipment['id']}/submit", seller))
    _scan(m, clock, shipment, "PICKUP", clock.now())
    return dict(m.ok(m.get(f"/shipments/{shipment['id']}", m.operator)))


def _scan(m: Market, clock: FrozenClock, shipment: dict[str, Any], code: str, at: datetime) -> Any:
    tn = shipment["tracking_number"]
    return push(m, tn, (f"{tn}-{code}-{at.isoformat()}", code, at), at=clock.now())


def _due(parcel: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(parcel["commit_by"])


def _sweep(m: Market, clock: FrozenClock, settings: Settings) -> int:
    return int(sweep_database(m.db_url, clock, settings)[SWEEP])


def _kinds(m: Market, parcel: dict[str, Any]) -> list[tuple[str, int, bool]]:
    return amounts(entries(m.db_url, "order", parcel["order_id"]))


def test_a_late_parcel_is_compensated_once_per_its_regions_policy_in_force(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock, settings: Settings
) -> None:  # G2
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    _policy(m, clock, region="Europe", currency="USD", amount_minor=200, rate_bp=5000)
    late, on_time = _picked_up(m, clock), _picked_up(m, clock)
    due = _due(late)
    assert _due(on_time) == due
    # a later version takes effect after the commitment fell due: it does not judge this parcel
    _policy(
        m,
        clock,
        region="Europe",
        currency="USD",
        amount_minor=99_999,
        rate_bp=0,
        effective_from=due + timedelta(days=1),
    )
    # the other parcel arrives a day early
    clock.current = due - timedelta(days=1)
    _scan(m, clock, on_time, "DELIVERED", clock.now())
    # due, but a polled carrier's news may still be on its way: nothing yet
    grace = timedelta(minutes=settings.carrier_poll_minutes)
    clock.current = due + grace
    assert _sweep(m, clock, settings) == 0
    clock.advance(timedelta(seconds=1))
    assert _sweep(m, clock, settings) == 1
    fee = late["quote_total_minor"]
    owed = 200 + (fee * 5000 + 5000) // 10_000
    assert _kinds(m, late) == [(FEE, fee, False), (LATE, owed, False)]
    assert balance(m.db_url, AccountKind.receivable, "USD", m.stores["a_self"]) == owed
    assert balance(m.db_url, AccountKind.compensation_expense, "USD") == owed
    (posted,) = [e for e in entries(m.db_url, "order", late["order_id"]) if e.kind.value == LATE]
    assert posted.idem_key == f"compensation:{late['id']}"
    assert _kinds(m, on_time) == [(FEE, on_time["quote_total_minor"], False)]
    # reruns post nothing more, and the delivery that finally comes changes nothing
    clock.advance(timedelta(days=1))
    assert _sweep(m, clock, settings) == 0
    _scan(m, clock, late, "DELIVERED", clock.now())
    assert _sweep(m, clock, settings) == 0
    assert _kinds(m, late) == [(FEE, fee, False), (LATE, owed, False)]
    seller = m.seller_tokens["a"]
    notes = [n["kind"] for n in m.ok(m.get("/notifications", seller))]
    assert notes.count("delivery_compensated") == 1
    timeline = [e["action"] for e in m.ok(m.get(f"/orders/{late['order_id']}/events", seller))]
    assert "shipment_commitment_missed" in timeline
    assert_books_balance(m.db_url)


def test_the_carriers_proof_that_the_delay_was_not_its_own_reverses_the_compensation(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock, settings: Settings
) -> None:  # G2
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    refused_late, refused_early, refused_after, delivered_in_time = (
        _picked_up(m, clock) for _ in range(4)
    )
    due = _due(refused_late)
    # one buyer refuses the parcel before the deadline, and the news arrives before the sweep
    clock.current = due - timedelta(hours=2)
    _scan(m, clock, refused_early, "REFUSED", due - timedelta(hours=3))
    clock.current = due + timedelta(minutes=settings.carrier_poll_minutes, seconds=1)
    assert _sweep(m, clock, settings) == 4
    # no policy of its own: the default gives the quoted fee back (G2), to all but the refused
    for parcel in (refused_late, refused_after, delivered_in_time):
        fee = parcel["quote_total_minor"]
        assert _kinds(m, parcel) == [(FEE, fee, False), (LATE, fee, False)]
    assert _kinds(m, refused_early) == [(FEE, refused_early["quote_total_minor"], False)]

    # a refusal after the deadline proves nothing: the carrier was late already
    _scan(m, clock, refused_after, "REFUSED", clock.now())
    assert len(_kinds(m, refused_after)) == 2
    # a refusal dated before the deadline, arriving late, reverses it as it is recorded, once
    event = _scan(m, clock, refused_late, "REFUSED", due - timedelta(hours=1))
    assert event == {"accepted": 1, "duplicates": 0}
    fee = refused_late["quote_total_minor"]
    assert _kinds(m, refused_late) == [(FEE, fee, False), (LATE, fee, False), (LATE, fee, True)]
    again = _scan(m, clock, refused_late, "REFUSED", due - timedelta(hours=1))
    assert again == {"accepted": 0, "duplicates": 1}
    assert len(_kinds(m, refused_late)) == 3
    # so does a delivery scan dated in time that the carrier sends late
    _scan(m, clock, delivered_in_time, "DELIVERED", due - timedelta(minutes=5))
    assert _kinds(m, delivered_in_time)[-1] == (LATE, delivered_in_time["quote_total_minor"], True)
    assert _sweep(m, clock, settings) == 0
    kept = refused_after["quote_total_minor"]
    assert balance(m.db_url, AccountKind.receivable, "USD", m.stores["a_self"]) == kept
    notes = [n["kind"] for n in m.ok(m.get("/notifications", m.seller_tokens["a"]))]
    assert notes.count("delivery_compensated") == 3
    assert notes.count("delivery_compensation_reversed") == 2
    assert_books_balance(m.db_url)


def test_the_platforms_late_parcel_is_posted_to_its_own_accounts(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock, settings: Settings
) -> None:  # G2 F11
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    warehouse, _ = stocked(m, "a_full", 1)
    staff = issue_token(m.db_url, Role.warehouse, warehouse_ids=[warehouse])
    order = m.place("a_full")
    (fo,) = m.ok(m.get(f"/orders/{order['id']}/fulfilment-orders", m.operator))
    m.ok(m.post(f"/fulfilment-orders/{fo['id']}/pick", staff))
    body = {"service_code": "TG-POST-REG"}
    parcel = m.ok(m.post(f"/fulfilment-orders/{fo['id']}/ship", staff, body))["shipment"]
    _scan(m, clock, parcel, "PICKUP", clock.now())
    parcel = m.ok(m.get(f"/shipments/{parcel['id']}", m.operator))
    clock.current = _due(parcel) + timedelta(days=1)
    assert _sweep(m, clock, settings) == 1
    assert _sweep(m, clock, settings) == 0
    # posted once to the platform's own accounts, on the shipment, never on the seller's order
    found = entries(m.db_url, "shipment", parcel["id"])
    owed = parcel["quote_total_minor"]  # the default policy: the quoted fee back
    assert amounts(found) == [
        ("shipping_cost_incurred", owed, False),
        ("delivery_compensation_platform", owed, False),
    ]
    assert all(e.store_id is None for e in found)
    assert entries(m.db_url, "order", order["id"]) == []
    assert balance(m.db_url, AccountKind.compensation_expense, "USD") == owed
    notes = [n["kind"] for n in m.ok(m.get("/notifications", m.seller_tokens["a"]))]
    assert "delivery_compensated" not in notes
    timeline = m.ok(m.get(f"/orders/{order['id']}/events", m.seller_tokens["a"]))
    assert not [e for e in timeline if e["action"] == "shipment_commitment_missed"]
    assert_books_balance(m.db_url)


def test_a_parcel_that_fails_is_set_aside_and_the_others_are_compensated(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock, settings: Settings
) -> None:  # G2
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    poisoned, fine = _picked_up(m, clock), _picked_up(m, clock)
    clock.current = _due(fine) + timedelta(days=1)
    with refusing(m.db_url, "delivery_compensations", "shipment_id", poisoned["id"]):
        report = sweep_database(m.db_url, clock, settings)
        assert report.set_aside == {SWEEP: 1} and report.failed == {}
        assert report[SWEEP] == 1
    assert [e[0] for e in _kinds(m, fine)] == [FEE, LATE]
    assert [e[0] for e in _kinds(m, poisoned)] == [FEE]  # its batch rolled back: nothing posted
    (row,) = m.ok(m.get("/sweep-failures", m.operator))
    assert (row["sweep"], row["subject_type"], row["subject_id"]) == (
        SWEEP,
        "shipment",
        poisoned["id"],
    )
    assert _sweep(m, clock, settings) == 0  # left out until an operator retries it
    m.ok(m.post(f"/sweep-failures/{row['id']}/retry", m.operator, {"reason": "trigger dropped"}))
    assert _sweep(m, clock, settings) == 1
    assert [e[0] for e in _kinds(m, poisoned)] == [FEE, LATE]
    assert _sweep(m, clock, settings) == 0
    assert_books_balance(m.db_url)


def test_the_sweep_reads_the_partial_index_of_open_commitments(db_url: str) -> None:  # G2
    query = (
        "SELECT id FROM shipments WHERE commit_by IS NOT NULL AND commit_settled_at IS NULL "
        "AND commit_by <= '2026-12-20 00:00:00' ORDER BY commit_by, id LIMIT 500"
    )
    engine = create_engine(sync_url(db_url))
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                plan = " ".join(str(r) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {query}")))
            else:
                conn.execute(text("SET enable_seqscan = off"))
                plan = " ".join(str(r) for r in conn.execute(text(f"EXPLAIN {query}")))
    finally:
        engine.dispose()
    assert "ix_shipments_commit_open" in plan, plan


def test_the_migration_seeds_a_default_for_every_region(sqlite_template: Path) -> None:  # G2
    async def seeded(session: AsyncSession) -> list[CompensationPolicy]:
        return await repository.compensation_policies(session)

    (default,) = read(f"sqlite+aiosqlite:///{sqlite_template}", seeded)
    assert {name: getattr(default, name) for name in DEFAULT_POLICY} == DEFAULT_POLICY


def test_a_policy_changes_by_a_new_version_never_in_the_past(
    live_market: Market, clock: FrozenClock
) -> None:  # G2
    m = live_market
    first = _policy(m, clock, region="Europe", currency="usd", amount_minor=100, rate_bp=0)
    refusals = [
        ({"effective_from": clock.now() - timedelta(seconds=1)}, "not_past"),
        ({"currency": "*"}, "fixed_amount_currency"),
    ]
    for change, rule in refusals:
        fields = {"region": "Europe", "currency": "USD", "amount_minor": 150, "rate_bp": 0}
        try:
            _policy(m, clock, **{**fields, **change})
        except InvalidInput as refused:
            assert refused.extra["rule"] == rule
        else:
            raise AssertionError(f"{change} was not refused")
    clock.advance(timedelta(hours=1))
    second = _policy(m, clock, region="Europe", currency="USD", amount_minor=150, rate_bp=0)

    async def versions(session: AsyncSession) -> list[tuple[str, str, int, int]]:
        rows = await repository.compensation_policies(session)
        return [(p.id, p.currency, p.version, p.amount_minor) for p in rows if p.region == "Europe"]

    assert read(m.db_url, versions) == [(first, "USD", 1, 100), (second, "USD", 2, 150)]


def test_a_compensation_paid_out_meanwhile_is_owed_back_by_the_seller(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock, settings: Settings
) -> None:  # G2
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    parcel = _picked_up(m, clock)
    due, fee, store = _due(parcel), parcel["quote_total_minor"], m.stores["a_self"]
    clock.current = due + timedelta(days=1)
    assert _sweep(m, clock, settings) == 1
    # what the seller was due is set aside for its payout, so its receivable is empty
    ctx = Ctx(principal=Principal(role=Role.operator, actor_id="usr_payout"), clock=clock)

    async def prepare(session: AsyncSession, _: Ctx) -> None:
        await ledger.post(
            session,
            ctx,
            EntryKind.payout_prepared,
            currency="USD",
            parts={"amount": fee},
            store_id=store,
        )

    as_system(m.db_url, prepare)
    # the buyer's refusal, dated before the deadline: the receivable cannot give the money
    # back, so the seller owes it (its payable, netted from what it is due next)
    _scan(m, clock, parcel, "REFUSED", due - timedelta(hours=1))
    events = m.ok(m.get(f"/shipments/{parcel['id']}/events", m.operator))
    assert events[-1]["code"] == "buyer_caused"
    assert _kinds(m, parcel) == [
        (FEE, fee, False),
        (LATE, fee, False),
        ("compensation_recovered", fee, False),
    ]
    assert balance(m.db_url, AccountKind.receivable, "USD", store) == 0
    assert balance(m.db_url, AccountKind.payable, "USD", store) == 2 * fee  # the fee, and this
    # a second proof changes nothing more
    _scan(m, clock, parcel, "REFUSED", due - timedelta(minutes=30))
    assert len(_kinds(m, parcel)) == 3
    assert_books_balance(m.db_url)

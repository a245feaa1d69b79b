"""A penalty becomes money the store owes once it stands: upheld, or its appeal window closed
without a waiver; an appeal won after the charge reverses it; each is posted once and the books
always add up (F6, O2)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.market import Market, as_system
from tests.builders.workers import sweep_once
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.finance.models import Penalty
from tuoguan.kit.clock import FrozenClock
from tuoguan.ledger import check, reads
from tuoguan.ledger.accounts import AccountKind
from tuoguan.ledger.kinds import EntryKind

# One open-ended tier: the fine is settled the moment the breach is recorded.
FLAT = [{"from_hours": 0, "to_hours": None, "rate_bp": 1000, "rating_points": 2}]


def entries(m: Market, penalty_id: str) -> list[tuple[EntryKind, int, bool]]:
    """The penalty's entries: kind, what it posts to the store's payable, whether a reversal."""

    async def work(session: AsyncSession, _: Ctx) -> list[Any]:
        found = await reads.entries_of(session, subject_type="penalty", subject_id=penalty_id)
        return [
            (e.kind, e.amount_on(AccountKind.payable), e.reverses_id is not None) for e in found
        ]

    return as_system(m.db_url, work)


def payable(m: Market, store_key: str, currency: str = "EUR") -> int:
    async def work(session: AsyncSession, _: Ctx) -> int:
        return await reads.balance(
            session, kind=AccountKind.payable, currency=currency, store_id=m.stores[store_key]
        )

    return as_system(m.db_url, work)


def books_add_up(m: Market) -> None:
    """``tuoguan finance check`` finds no difference."""

    async def work(session: AsyncSession, _: Ctx) -> check.CheckReport:
        return await check.check(session)

    report = as_system(m.db_url, work)
    assert report.clean, report


def fined(
    m: Market, client: TestClient, clock: FrozenClock, settings: Settings, count: int = 1
) -> list[dict[str, Any]]:
    """Semi-managed orders of seller a left unshipped past ship_by: one penalty each, 10% of
    19.99 EUR = 2.00, assessed at once."""
    m.ok(m.post("/penalty-policies", m.operator, {"kind": "ship_late", "tiers": FLAT}), 201)
    orders = [m.place("a_semi") for _ in range(count)]
    clock.current = datetime.fromisoformat(orders[-1]["ship_by"]) + timedelta(seconds=1)
    handled = sweep_once(client, clock, settings)
    assert (handled["record_breaches"], handled["assess_penalties"]) == (count, count)
    found = m.ok(m.get("/penalties", m.operator))
    assert [p["amount_minor"] for p in found] == [200] * count
    return list(found)


def window_closes(clock: FrozenClock, penalty: dict[str, Any]) -> None:
    clock.current = datetime.fromisoformat(penalty["appeal_by"])


def test_a_penalty_past_its_appeal_window_is_charged_once(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # F6
    m = market
    (penalty,) = fined(m, client, clock, settings)
    assert penalty["charged_at"] is None and entries(m, penalty["id"]) == []

    clock.current = datetime.fromisoformat(penalty["appeal_by"]) - timedelta(seconds=1)
    assert sweep_once(client, clock, settings)["charge_penalties"] == 0
    window_closes(clock, penalty)
    assert sweep_once(client, clock, settings)["charge_penalties"] == 1
    assert sweep_once(client, clock, settings)["charge_penalties"] == 0
    assert entries(m, penalty["id"]) == [(EntryKind.penalty_charged, 200, False)]
    assert payable(m, "a_semi") == 200
    seen = m.ok(m.get(f"/penalties/{penalty['id']}", m.seller_tokens["a"]))
    assert seen["status"] == "assessed"
    assert datetime.fromisoformat(seen["charged_at"]) == clock.now()
    notes = m.ok(m.get("/notifications", m.seller_tokens["a"]))
    assert [n["kind"] for n in notes].count("penalty_charged") == 1
    books_add_up(m)


def test_an_upheld_appeal_is_charged_at_once_and_never_again(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # F6 O2
    m = market
    (penalty,) = fined(m, client, clock, settings)
    pid = penalty["id"]
    m.ok(m.post(f"/penalties/{pid}/appeal", m.seller_tokens["a"], {"reason": "carrier strike"}))
    assert entries(m, pid) == []  # an appeal in its window holds the charge back
    upheld = m.ok(m.post(f"/penalties/{pid}/uphold", m.operator, {"reason": "no proof"}))
    assert upheld["status"] == "upheld" and upheld["charged_at"] is not None
    assert entries(m, pid) == [(EntryKind.penalty_charged, 200, False)]
    window_closes(clock, penalty)
    assert sweep_once(client, clock, settings)["charge_penalties"] == 0
    assert entries(m, pid) == [(EntryKind.penalty_charged, 200, False)]
    assert payable(m, "a_semi") == 200
    books_add_up(m)


def test_an_appeal_won_after_the_charge_reverses_it(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # F6 O2
    m = market
    (penalty,) = fined(m, client, clock, settings)
    pid = penalty["id"]
    m.ok(m.post(f"/penalties/{pid}/appeal", m.seller_tokens["a"], {"reason": "flooded"}))
    # The operators decide late: the window closes first, and the undecided fine is charged.
    window_closes(clock, penalty)
    assert sweep_once(client, clock, settings)["charge_penalties"] == 1
    assert payable(m, "a_semi") == 200
    clock.advance(timedelta(days=2))
    waived = m.ok(m.post(f"/penalties/{pid}/waive", m.operator, {"reason": "flood confirmed"}))
    assert waived["status"] == "waived"
    assert entries(m, pid) == [
        (EntryKind.penalty_charged, 200, False),
        (EntryKind.penalty_charged, -200, True),
    ]
    assert payable(m, "a_semi") == 0
    assert sweep_once(client, clock, settings)["charge_penalties"] == 0
    books_add_up(m)


def test_an_appeal_won_inside_the_window_is_never_charged(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # F6
    m = market
    (penalty,) = fined(m, client, clock, settings)
    pid = penalty["id"]
    m.ok(m.post(f"/penalties/{pid}/appeal", m.seller_tokens["a"], {"reason": "flooded"}))
    m.ok(m.post(f"/penalties/{pid}/waive", m.operator, {"reason": "flood confirmed"}))
    window_closes(clock, penalty)
    assert sweep_once(client, clock, settings)["charge_penalties"] == 0
    assert entries(m, pid) == [] and payable(m, "a_semi") == 0
    books_add_up(m)


def test_a_penalty_the_ledger_refuses_is_set_aside_and_the_others_are_charged(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # F6
    m = market
    bad, good = fined(m, client, clock, settings, count=2)

    async def corrupt(session: AsyncSession, _: Ctx) -> None:
        # A currency no ledger account can keep: the charge is refused for this one alone.
        await session.execute(update(Penalty).where(Penalty.id == bad["id"]).values(currency="E1"))

    as_system(m.db_url, corrupt)
    window_closes(clock, max(bad, good, key=lambda p: p["appeal_by"]))
    report = sweep_once(client, clock, settings)
    assert report["charge_penalties"] == 1 and report.set_aside == {"charge_penalties": 1}
    assert entries(m, good["id"]) == [(EntryKind.penalty_charged, 200, False)]
    assert entries(m, bad["id"]) == []
    assert sweep_once(client, clock, settings)["charge_penalties"] == 0  # left aside, not retried
    books_add_up(m)

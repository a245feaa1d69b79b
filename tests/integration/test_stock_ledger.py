"""Stateful property test of the stock ledger (M5): random moves, then the books must balance.

After every step, on both engines: each stored balance equals the sum of its ledger rows and
the model's expectation, no bucket is negative and reserved never exceeds on hand. A move the
model says breaks a rule must be refused with that rule and write nothing.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from tests.builders.market import Market
from tests.builders.stock import sku_of, warehouse_body
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.errors import Conflict
from tuoguan.inventory import service, warehouses
from tuoguan.inventory.ledger import Deltas, Levels, deltas_for
from tuoguan.inventory.models import MoveKind, StockBalance, StockMove
from tuoguan.inventory.schemas import StockAdjustmentCreate, WarehouseCreate
from tuoguan.principal import Principal, Role

OPERATOR = Ctx(principal=Principal(role=Role.operator, actor_id="usr_property"))
_codes = itertools.count(1)
# The moves that take from a bucket (receipts, announcements, reserve and ship have rules
# of their own, so that stock comes in and goes out often enough to matter).
DRAWING = [MoveKind.release, MoveKind.pick, MoveKind.defective, MoveKind.inbound_cancel]


class StockMachine(RuleBasedStateMachine):
    """Random receipts, reservations, releases, picks, shipments, adjustments and damage."""

    runner: asyncio.Runner
    db: Database
    skus: list[str]

    keys = Bundle("keys")

    def __init__(self) -> None:
        super().__init__()
        self.expected: dict[tuple[str, str], Levels] = {}

    def run(self, coro: Any) -> Any:
        return self.runner.run(coro)

    @initialize(target=keys)
    def fresh_warehouse(self) -> Any:
        async def create() -> str:
            async with self.db.write() as session:
                body = warehouse_body(code=f"PT{next(_codes)}")
                made = await warehouses.create_warehouse(
                    session, ctx=OPERATOR, data=WarehouseCreate.model_validate(body)
                )
                await session.commit()
                return made.id

        warehouse = self.run(create())
        keys = [(warehouse, sku) for sku in self.skus]
        for key in keys:
            self.expected[key] = Levels()
        return multiple(*keys)

    def _apply(self, key: tuple[str, str], kind: MoveKind, deltas: Deltas, quantity: int | None) -> None:
        before = self.expected[key]
        probe = Deltas(reserved=-(quantity or 0)) if kind is MoveKind.pick else deltas
        expected_rule = before.plus(probe).broken()

        async def act() -> str | None:
            async with self.db.write() as session:
                try:
                    if kind is MoveKind.adjust:
                        await service.adjust(
                            session,
                            ctx=OPERATOR,
                            data=StockAdjustmentCreate(
                                warehouse_id=key[0],
                                sku_id=key[1],
                                on_hand=deltas.on_hand,
                                defective=deltas.defective,
                                inbound=deltas.inbound,
                                reason="property test count",
                            ),
                        )
                    else:
                        assert quantity is not None
                        await service.move(
                            session,
                            ctx=OPERATOR,
                            kind=kind,
                            warehouse_id=key[0],
                            sku_id=key[1],
                            quantity=quantity,
                            ref_type="test",
                            ref_id="prop",
                        )
                except Conflict as refused:
                    await session.rollback()
                    return str(refused.extra.get("rule"))
                await session.commit()
                return None

        refused = self.run(act())
        if expected_rule is None:
            assert refused is None, f"{kind.value} {deltas} on {before} refused: {refused}"
            self.expected[key] = before.plus(deltas)
        else:
            assert refused is not None, f"{kind.value} {deltas} on {before} went through"

    def _room(self, key: tuple[str, str], kind: MoveKind) -> int:
        levels = self.expected[key]
        return {
            MoveKind.reserve: levels.available,
            MoveKind.defective: levels.available,
            MoveKind.release: levels.reserved,
            MoveKind.pick: levels.reserved,
            MoveKind.ship: levels.reserved,
            MoveKind.inbound_cancel: levels.inbound,
        }.get(kind, 5)

    def _draw(self, data: st.DataObject, kind: MoveKind) -> None:
        """A key that has some of what the move takes (if any does) and mostly a quantity it
        has, sometimes one more, which must be refused."""
        keys = sorted(self.expected)
        keys = [k for k in keys if self._room(k, kind) > 0] or keys
        key = data.draw(st.sampled_from(keys), label="key")
        room = self._room(key, kind)
        over = room == 0 or data.draw(st.integers(0, 3), label="one too many") == 3
        quantity = room + 1 if over else data.draw(st.integers(1, room), label="quantity")
        self._apply(key, kind, deltas_for(kind, quantity), quantity)

    @rule(key=keys, quantity=st.integers(1, 10))
    def receipt(self, key: tuple[str, str], quantity: int) -> None:
        self._apply(key, MoveKind.receipt, deltas_for(MoveKind.receipt, quantity), quantity)

    @rule(key=keys, quantity=st.integers(1, 10))
    def inbound(self, key: tuple[str, str], quantity: int) -> None:
        self._apply(key, MoveKind.inbound, deltas_for(MoveKind.inbound, quantity), quantity)

    @rule(data=st.data(), kind=st.sampled_from(DRAWING))
    def draw_down(self, data: st.DataObject, kind: MoveKind) -> None:
        self._draw(data, kind)

    @precondition(lambda self: any(v.available for v in self.expected.values()))
    @rule(data=st.data())
    def reserve(self, data: st.DataObject) -> None:
        self._draw(data, MoveKind.reserve)

    @precondition(lambda self: any(v.reserved for v in self.expected.values()))
    @rule(data=st.data())
    def ship(self, data: st.DataObject) -> None:
        self._draw(data, MoveKind.ship)

    @rule(
        key=keys,
        on_hand=st.integers(-3, 6),
        defective=st.integers(-2, 2),
        inbound=st.integers(-2, 2),
    )
    def adjust(self, key: tuple[str, str], on_hand: int, defective: int, inbound: int) -> None:
        deltas = Deltas(on_hand=on_hand, defective=defective, inbound=inbound)
        if not deltas.is_zero:
            self._apply(key, MoveKind.adjust, deltas, None)

    @invariant()
    def balances_are_the_sums_of_the_ledger(self) -> None:
        if not self.expected:
            return
        warehouse_ids = {w for w, _ in self.expected}

        async def read() -> tuple[dict[Any, Levels], dict[Any, Levels]]:
            async with self.db.read() as session:
                stored = await session.execute(
                    select(
                        StockBalance.warehouse_id,
                        StockBalance.sku_id,
                        StockBalance.on_hand,
                        StockBalance.reserved,
                        StockBalance.defective,
                        StockBalance.inbound,
                    ).where(StockBalance.warehouse_id.in_(warehouse_ids))
                )
                summed = await session.execute(
                    select(
                        StockMove.warehouse_id,
                        StockMove.sku_id,
                        func.sum(StockMove.on_hand),
                        func.sum(StockMove.reserved),
                        func.sum(StockMove.defective),
                        func.sum(StockMove.inbound),
                    )
                    .where(StockMove.warehouse_id.in_(warehouse_ids))
                    .group_by(StockMove.warehouse_id, StockMove.sku_id)
                )
                return (
                    {(w, s): Levels(*b) for w, s, *b in stored.all()},
                    {(w, s): Levels(*(int(v) for v in b)) for w, s, *b in summed.all()},
                )

        stored, ledger = self.run(read())
        for key, expected in self.expected.items():
            balance = stored.get(key, Levels())
            assert balance == ledger.get(key, Levels()) == expected, key
            assert balance.broken() is None  # no bucket negative, reserved <= on hand


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_every_balance_is_the_sum_of_its_ledger_rows(market: Market, db_url: str) -> None:
    # M5: balances derive from an append-only ledger; R1 receipts and C3 SKUs feed it
    StockMachine.skus = [sku_of(market, "a_full"), sku_of(market, "a_self")]
    with asyncio.Runner() as runner:
        StockMachine.runner = runner
        StockMachine.db = Database.from_url(db_url, pool_size=2)
        try:
            run_state_machine_as_test(
                StockMachine,
                settings=settings(
                    max_examples=30,
                    stateful_step_count=20,
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                    database=None,
                ),
            )
        finally:
            runner.run(StockMachine.db.dispose())

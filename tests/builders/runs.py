"""Payout-run builders: one seller's stores of every mode and another's full-managed store, money
due and owed on them, previews and executions on the test's clock, and what a run stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from tests.builders import payouts as payout_builders
from tests.builders.ledger import START, books, operator, run_on
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.kit.clock import FrozenClock
from tuoguan.ledger import reads
from tuoguan.ledger import service as ledger
from tuoguan.ledger.accounts import AccountKind
from tuoguan.ledger.check import check
from tuoguan.ledger.kinds import EntryKind
from tuoguan.ledger.models import JournalEntry
from tuoguan.onboarding import invitations
from tuoguan.onboarding.origin import LOCAL
from tuoguan.settlement import run_repository, runs
from tuoguan.settlement.models import Payout
from tuoguan.settlement.run_models import PayoutRun, RunStatement
from tuoguan.stores import service as stores
from tuoguan.stores.models import StoreMode
from tuoguan.stores.schemas import SellerCreate, StoreCreate

CNY = "CNY"
FULL, SEMI, SELF = StoreMode.full_managed, StoreMode.semi_managed, StoreMode.self_run


@dataclass
class World:
    """A database, the test's clock and one seller's stores: ``self``, ``full``, ``semi`` (and
    ``full2``, a second full-managed store of another seller)."""

    db: Database
    clock: FrozenClock
    stores: dict[str, str]

    def ctx(self) -> Ctx:
        return operator(self.clock)

    async def post(self, kind: EntryKind, store: str, amount: int) -> None:
        async with self.db.write() as session:
            await ledger.post(
                session,
                self.ctx(),
                kind,
                currency=CNY,
                parts={"amount": amount},
                store_id=self.stores[store],
            )
            await session.commit()

    async def due_to(self, store: str, amount: int) -> None:
        """What the store is due grows (an insurance claim paid onto its receivable)."""
        await self.post(EntryKind.insurance_claim_paid, store, amount)

    async def owes(self, store: str, amount: int) -> None:
        """What the store owes grows (a shipping fee on its payable)."""
        await self.post(EntryKind.shipping_fee_charged, store, amount)

    async def bind(self, store: str) -> None:
        await payout_builders.bind(self.db, self.stores[store], currency=CNY, ctx=self.ctx())

    async def preview(self, cycle: StoreMode) -> PayoutRun:
        async with self.db.write() as session:
            run = await runs.preview(session, self.ctx(), cycle)
            await session.commit()
        return run

    async def execute(self, run_id: str, **kwargs: Any) -> PayoutRun:
        async with self.db.write() as session:
            run = await runs.execute(session, self.ctx(), run_id, **kwargs)
            await session.commit()
        return run

    async def statements(self, run_id: str) -> dict[str, RunStatement]:
        """A run's statements by store key."""
        keys = {store_id: key for key, store_id in self.stores.items()}
        async with self.db.read() as session:
            found = await run_repository.statements(session, run_id)
        return {keys[s.store_id]: s for s in found}

    async def run(self, run_id: str) -> PayoutRun:
        async with self.db.read() as session:
            found = await session.get(PayoutRun, run_id)
            assert found is not None
            return found

    async def balance(self, store: str, kind: AccountKind) -> int:
        async with self.db.read() as session:
            return await reads.balance(
                session, kind=kind, currency=CNY, store_id=self.stores[store]
            )

    async def entries(self) -> int:
        async with self.db.read() as session:
            return int(await session.scalar(select(func.count()).select_from(JournalEntry)) or 0)

    async def payouts(self) -> list[Payout]:
        async with self.db.read() as session:
            return list(await session.scalars(select(Payout).order_by(Payout.id)))

    async def clean_books(self) -> None:
        async with self.db.read() as session:
            report = await check(session)
        assert report.clean, report
        assert not (await books(self.db)).negative_floors()


async def world(db: Database, clock: FrozenClock) -> World:
    """Two sellers' stores in CNY (see ``World``), opened at the clock's time."""
    ctx = operator(clock)
    made: dict[str, str] = {}
    async with db.write() as session:
        for name in ("a", "b"):
            seller = await stores.create_seller(
                session, ctx=ctx, data=SellerCreate(name=f"Seller {name}", country="CN")
            )
            own = await stores.create_store(
                session,
                ctx=ctx,
                data=StoreCreate(
                    seller_id=seller.id,
                    name=f"{name} self",
                    mode=SELF,
                    country="CN",
                    currency=CNY,
                ),
            )
            full = await invitations.open_store(  # M2: accepted on the seller's behalf
                session,
                ctx=ctx,
                data=StoreCreate(
                    seller_id=seller.id,
                    name=f"{name} full",
                    mode=FULL,
                    country="CN",
                    currency=CNY,
                    linked_store_id=own.id,
                    on_behalf_reason="test world",
                ),
                origin=LOCAL,
            )
            if name == "a":
                semi = await stores.create_store(
                    session,
                    ctx=ctx,
                    data=StoreCreate(
                        seller_id=seller.id,
                        name="a semi",
                        mode=SEMI,
                        country="CN",
                        currency=CNY,
                    ),
                )
                made.update(self=own.id, full=full.id, semi=semi.id)
            else:
                made.update(self_b=own.id, full2=full.id)
        await session.commit()
    return World(db, clock, made)


def scenario(db_url: str, body: Any, at: datetime = START) -> Any:
    """Run ``body(world)`` on a fresh world whose clock starts at ``at``."""

    async def main(db: Database) -> Any:
        return await body(await world(db, FrozenClock(at)))

    return run_on(db_url, main)

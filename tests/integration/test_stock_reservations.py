"""Reservations are atomic: N units are never reserved N+1 times, whatever the concurrency (M5).

Racing transactions come from several threads, each with its own event loop and its own
connection pool, so on PostgreSQL they run truly in parallel on separate connections, and on
SQLite they contend for the file's write lock as separate processes would.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from tests.builders.market import Market
from tests.builders.stock import stocked
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.errors import Conflict
from tuoguan.inventory import check, service
from tuoguan.principal import SYSTEM

THREADS = 4
PER_THREAD = 6  # 24 reservations of one unit against 10 available
AVAILABLE = 10


def _race(db_url: str, warehouse: str, sku: str, start: threading.Barrier, thread: int) -> list[str]:
    """One thread's reservations, all at once once every thread is connected."""

    async def main() -> list[str]:
        async with Database.opened(db_url, pool_size=PER_THREAD) as db:

            async def reserve(n: int) -> str:
                async with db.write() as session:
                    try:
                        await service.reserve(
                            session,
                            ctx=Ctx(principal=SYSTEM),
                            warehouse_id=warehouse,
                            sku_id=sku,
                            quantity=1,
                            ref_type="order",
                            ref_id=f"ord_{thread}_{n}",
                        )
                    except Conflict as refused:
                        assert refused.extra["rule"] == "not_enough_available"
                        return "refused"
                    await session.commit()
                    return "reserved"

            async with db.read() as warm:  # open the pool's connections before the start
                await warm.connection()
            await asyncio.to_thread(start.wait)
            return list(await asyncio.gather(*(reserve(n) for n in range(PER_THREAD))))

    return asyncio.run(main())


def test_parallel_reservations_never_oversell(market: Market) -> None:
    # M5: 24 buyers race for 10 units: exactly 10 get one, the rest are refused, nothing else moves
    m = market
    warehouse, sku = stocked(m, "a_full", AVAILABLE)
    start = threading.Barrier(THREADS)
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = [
            outcome
            for results in pool.map(
                lambda t: _race(m.db_url, warehouse, sku, start, t), range(THREADS)
            )
            for outcome in results
        ]
    assert outcomes.count("reserved") == AVAILABLE
    assert outcomes.count("refused") == THREADS * PER_THREAD - AVAILABLE

    (stock,) = m.ok(m.get("/stock", m.operator, params={"sku_id": sku}))
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (10, 10, 0)
    reserves = [r for r in m.ok(m.get("/stock/moves", m.operator)) if r["kind"] == "reserve"]
    assert len(reserves) == AVAILABLE and len({r["ref_id"] for r in reserves}) == AVAILABLE

    async def rebuilt() -> check.CheckReport:
        async with Database.opened(m.db_url) as db, db.read() as session:
            return await check.check(session)

    with ThreadPoolExecutor(max_workers=1) as pool:
        report = pool.submit(asyncio.run, rebuilt()).result()
    assert report.differences == [] and report.moves == AVAILABLE + 1

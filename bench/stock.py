"""Stock: reservations on one hot SKU under concurrency, and `stock check` over a million rows.

    python bench/stock.py [--pg URL] [--workers 32] [--seconds 5] [--rows 1000000] [--no-sqlite]

(a) PostgreSQL only (``--pg`` or TUOGUAN_BENCH_PG_URL): ``--workers`` concurrent buyers
    reserve one unit at a time of one SKU in one warehouse through the inventory service
    (conditional UPDATE of the balance + the ledger row, one transaction each), against a
    same-run baseline: the same workers running a bare
    ``UPDATE hot SET available = available - 1 WHERE id = 1 AND available >= 1`` and a
    commit, on the same engine and pool. Reported: reservations per second of each and
    their ratio (aim >= 0.3). The ledger is then checked against the balance.
(b) Each engine (SQLite, and PostgreSQL with ``--pg``): ``--rows`` ledger rows over 10
    warehouses x 1 000 SKUs are bulk-inserted (db.bulk_insert) with balances that match,
    three balances are then corrupted, and `stock check` (inventory.check, as the CLI runs
    it) must find exactly those three. Reported: seconds and ledger rows per second (aim:
    1 M rows in under 10 s).

Each run builds fresh databases (PostgreSQL: ``<name>_stock`` beside the given one).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tuoguan.catalog import service as catalog  # noqa: E402
from tuoguan.catalog.schemas import ProductCreate, SkuCreate  # noqa: E402
from tuoguan.cli.main import upgrade_database  # noqa: E402
from tuoguan.config import Settings  # noqa: E402
from tuoguan.context import Ctx  # noqa: E402
from tuoguan.db import Database, bulk_insert, sync_url, table_of  # noqa: E402
from tuoguan.inventory import check, service, warehouses  # noqa: E402
from tuoguan.inventory.models import StockBalance, StockMove  # noqa: E402
from tuoguan.inventory.schemas import StockAdjustmentCreate, WarehouseCreate  # noqa: E402
from tuoguan.kit.clock import FrozenClock  # noqa: E402
from tuoguan.principal import SYSTEM, Principal, Role  # noqa: E402
from tuoguan.stores import service as stores  # noqa: E402
from tuoguan.stores.models import StoreMode  # noqa: E402
from tuoguan.stores.schemas import SellerCreate, StoreCreate  # noqa: E402

NOW = datetime(2026, 11, 18, 4, tzinfo=UTC)
OPERATOR = Ctx(principal=Principal(role=Role.operator, actor_id="usr_bench"), clock=FrozenClock(NOW))
WAREHOUSES = 10
PRODUCTS = 10
SKUS_PER_PRODUCT = 100  # 1 000 SKUs, 10 000 keys
CHUNK = 20_000
ADDRESS = {
    "name": "优选仓",
    "phone": "+86 769 2233 4455",
    "line1": "工业北路 8 号",
    "city": "Dongguan",
    "country": "CN",
}


async def seed(db: Database, warehouse_count: int, product_count: int) -> tuple[list[str], list[tuple[str, str]]]:
    """A seller, a store, products with their SKUs and platform warehouses, through the services:
    (warehouse ids, (SKU id, store id) pairs)."""
    async with db.write() as session:
        seller = await stores.create_seller(
            session, ctx=OPERATOR, data=SellerCreate(name="Bench", country="CN")
        )
        store = await stores.create_store(
            session,
            ctx=OPERATOR,
            data=StoreCreate(
                seller_id=seller.id,
                name="bench",
                mode=StoreMode.semi_managed,
                country="CN",
                currency="USD",
                ship_promise_days=2,
            ),
        )
        skus: list[tuple[str, str]] = []
        for p in range(product_count):
            product = await catalog.create_product(
                session,
                ctx=OPERATOR,
                data=ProductCreate(
                    store_id=store.id,
                    name=f"Bench {p}",
                    category="electronics/audio",
                    price_minor=1999,
                    declared_value_minor=1999,
                    weight_g=80,
                    length_mm=100,
                    width_mm=80,
                    height_mm=40,
                    skus=[
                        SkuCreate(code=f"B{p}-{s}", attributes={"size": str(s)})
                        for s in range(SKUS_PER_PRODUCT)
                    ],
                ),
            )
            skus.extend((sku.id, store.id) for sku in product.skus)
        made = []
        for w in range(warehouse_count):
            warehouse = await warehouses.create_warehouse(
                session,
                ctx=OPERATOR,
                data=WarehouseCreate(
                    code=f"BW{w}",
                    name=f"Bench {w}",
                    owner="platform",
                    kind="consolidation",
                    address=ADDRESS,
                    country="CN",
                ),
            )
            made.append(warehouse.id)
        await session.commit()
    return made, skus


# -- (a) reservations on a hot SKU ----------------------------------------------------------------


async def _for(seconds: float, workers: int, once: Callable[[], Awaitable[bool]]) -> int:
    """Run ``once()`` in ``workers`` concurrent loops for ``seconds``; how many succeeded."""
    stop = time.perf_counter() + seconds
    done = [0]

    async def loop() -> None:
        while time.perf_counter() < stop:
            if await once():
                done[0] += 1

    await asyncio.gather(*(loop() for _ in range(workers)))
    return done[0]


async def hot_sku(url: str, workers: int, seconds: float) -> bool:
    """Reservations per second through the service against the bare conditional UPDATE."""
    async with Database.opened(url, pool_size=workers) as db:
        (warehouse,), skus = await seed(db, 1, 1)
        sku = skus[0][0]
        async with db.write() as session:
            await service.adjust(
                session,
                ctx=OPERATOR,
                data=StockAdjustmentCreate(
                    warehouse_id=warehouse, sku_id=sku, on_hand=1_000_000, reason="bench"
                ),
            )
            await session.execute(text("CREATE TABLE bench_hot (id int PRIMARY KEY, available int)"))
            await session.execute(text("INSERT INTO bench_hot VALUES (1, 10000000)"))
            await session.commit()
        ctx = Ctx(principal=SYSTEM)

        async def reserve() -> bool:
            async with db.write() as session:
                await service.reserve(
                    session, ctx=ctx, warehouse_id=warehouse, sku_id=sku, quantity=1
                )
                await session.commit()
            return True

        bare_update = text("UPDATE bench_hot SET available = available - :n WHERE id = 1 AND available >= :n")

        async def bare() -> bool:
            async with db.write() as session:
                result = await session.execute(bare_update, {"n": 1})
                await session.commit()
            return bool(getattr(result, "rowcount", 0) == 1)

        await _for(1.0, workers, bare)  # warm the pool and the caches
        await _for(1.0, workers, reserve)
        rates = {}
        for name, once in (("bare UPDATE", bare), ("inventory service", reserve)):
            count = await _for(seconds, workers, once)
            rates[name] = count / seconds
        async with db.read() as session:
            report = await check.check(session)
    ratio = rates["inventory service"] / rates["bare UPDATE"]
    print(f"\npostgresql: reservations of 1 unit on one hot SKU, {workers} concurrent workers, {seconds:.0f} s each")
    for name, rate in rates.items():
        print(f"  {name:<20}{rate:>10,.0f} /s")
    print(f"  ratio {ratio:.2f} (aim >= 0.3): {'met' if ratio >= 0.3 else 'NOT met'}")
    print(
        f"  ledger check after the run: {report.moves:,} rows, "
        f"{len(report.differences)} differences"
    )
    return ratio >= 0.3 and not report.differences


# -- (b) stock check over a million ledger rows -----------------------------------------------------


async def load_ledger(db: Database, rows: int, warehouse_ids: list[str], skus: list[tuple[str, str]]) -> None:
    """``rows`` ledger rows spread over every (warehouse, SKU), and the balances that match."""
    keys = [(w, sku, store) for w in warehouse_ids for sku, store in skus]
    rng = random.Random(7)
    sums: dict[tuple[str, str], list[int]] = {}
    moves = table_of(StockMove)
    pattern = (("receipt", 1, 0), ("reserve", 0, 1), ("ship", -1, -1), ("receipt", 1, 0))
    written = 0
    while written < rows:
        batch = []
        for i in range(min(CHUNK, rows - written)):
            w, sku, store = keys[(written + i) % len(keys)]
            level = sums.setdefault((w, sku), [0, 0])
            kind, on_hand, reserved = pattern[((written + i) // len(keys)) % len(pattern)]
            quantity = rng.randint(1, 3) if kind == "receipt" else 1
            if kind == "receipt":
                on_hand = quantity
            if level[0] + on_hand - (level[1] + reserved) < 0 or level[1] + reserved < 0:
                kind, on_hand, reserved, quantity = "receipt", 1, 0, 1
            level[0] += on_hand
            level[1] += reserved
            batch.append(
                {
                    "warehouse_id": w,
                    "sku_id": sku,
                    "store_id": store,
                    "kind": kind,
                    "quantity": quantity,
                    "on_hand": on_hand,
                    "reserved": reserved,
                    "defective": 0,
                    "inbound": 0,
                    "reason": None,
                    "actor_id": "usr_bench",
                    "actor_role": "operator",
                    "ref_type": "order",
                    "ref_id": None,
                    "created_at": NOW,
                }
            )
        async with db.write() as session:
            await bulk_insert(session, moves, batch)
            await session.commit()
        written += len(batch)
    store_of = {(w, sku): store for w, sku, store in keys}
    balances = [
        {
            "warehouse_id": w,
            "sku_id": sku,
            "store_id": store_of[(w, sku)],
            "on_hand": on_hand,
            "reserved": reserved,
            "defective": 0,
            "inbound": 0,
            "updated_at": NOW,
        }
        for (w, sku), (on_hand, reserved) in sums.items()
    ]
    async with db.write() as session:
        for start in range(0, len(balances), CHUNK):
            await bulk_insert(session, table_of(StockBalance), balances[start : start + CHUNK])
        # Three balances leave their ledger: the check must find exactly these.
        for w, sku in list(sums)[:: max(1, len(sums) // 3)][:3]:
            await session.execute(
                text("UPDATE stock_balances SET defective = defective + 1 WHERE warehouse_id = :w AND sku_id = :s"),
                {"w": w, "s": sku},
            )
        await session.commit()


async def ledger_check(name: str, url: str, rows: int) -> bool:
    """Build the ledger, then time the check as `tuoguan stock check` runs it."""
    async with Database.opened(url) as db:
        warehouse_ids, skus = await seed(db, WAREHOUSES, PRODUCTS)
        started = time.perf_counter()
        await load_ledger(db, rows, warehouse_ids, skus)
        loaded = time.perf_counter() - started
        async with db.write() as session:  # fresh planner statistics, as after a load
            await session.execute(text("ANALYZE"))
            await session.commit()
        started = time.perf_counter()
        async with db.read() as session:
            report = await check.check(session)
        seconds = time.perf_counter() - started
    print(
        f"\n{name}: stock check over {report.moves:,} ledger rows and {report.balances:,} "
        f"balances (loaded in {loaded:.0f} s)"
    )
    print(
        f"  {seconds:.2f} s, {report.moves / seconds:,.0f} rows/s (aim: 1 M rows < 10 s): "
        f"{'met' if seconds * 1_000_000 / max(report.moves, 1) < 10 else 'NOT met'}"
    )
    print(f"  differences found: {len(report.differences)} (3 planted)")
    return len(report.differences) == 3 and report.moves == rows


def _pg_url(base: str) -> str:
    """A fresh database of its own (``<name>_stock``)."""
    import psycopg

    head, _, name = base.rpartition("/")
    target = f"{name.split('?')[0]}_stock"
    admin = sync_url(f"{head}/postgres").replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target}"')
        conn.execute(f'CREATE DATABASE "{target}"')
    return f"{head}/{target}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("TUOGUAN_BENCH_PG_URL"))
    parser.add_argument("--no-sqlite", action="store_true", help="Only PostgreSQL.")
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            url = f"sqlite+aiosqlite:///{tmp}/stock.db"
            upgrade_database(Settings(database_url=url))
            ok &= asyncio.run(ledger_check("sqlite", url, args.rows))
        if args.pg:
            url = _pg_url(args.pg)
            upgrade_database(Settings(database_url=url))
            ok &= asyncio.run(hot_sku(url, args.workers, args.seconds))
            url = _pg_url(args.pg)
            upgrade_database(Settings(database_url=url))
            ok &= asyncio.run(ledger_check("postgresql", url, args.rows))
        else:
            print("\n(reservations on a hot SKU: PostgreSQL only, give --pg URL)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

"""Breach-sweep cost against the number of open orders: it must follow the due work only.

    python bench/sla.py [--sizes 100000,1000000,5000000] [--due 20000] [--pg URL] [--no-sqlite]

For each size, a fresh database holds that many open orders whose deadlines
lie in the future plus ``--due`` orders whose ship-by has passed. The worker's
breach sweep (record each breach once, flag the order, audit event,
notification) then drains the due ones. Reported per size: the sweep's time
as a ratio to the smallest size's (aim: 5 M within 1.5x of 100 k) and
breaches per second (aim: 20 k/s), beside a same-run baseline: a raw driver
inserting the same number of breach rows, as fast as this machine writes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ulid import ULID

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tuoguan.config import Settings  # noqa: E402
from tuoguan.context import Ctx  # noqa: E402
from tuoguan.db import Database, sync_url  # noqa: E402
from tuoguan.kit.clock import FrozenClock  # noqa: E402
from tuoguan.principal import Principal, Role  # noqa: E402
from tuoguan.stores import service as stores  # noqa: E402
from tuoguan.stores.models import StoreMode  # noqa: E402
from tuoguan.stores.schemas import SellerCreate, StoreCreate  # noqa: E402
from tuoguan.tables import metadata  # noqa: E402
from tuoguan.worker.loop import record_breaches  # noqa: E402

NOW = datetime(2026, 11, 18, 12, tzinfo=UTC)
COLUMNS = (
    "id, store_id, seller_id, mode, status, currency, subtotal_minor, shipping_minor, "
    "total_minor, recipient_name, recipient_phone, address_line1, city, country, placed_at, "
    "ship_by, deliver_by, deadline_at, version"
)


async def seed(db: Database) -> tuple[str, str]:
    """One seller and one semi-managed store through the services."""
    async with db.write() as session:
        ctx = Ctx(principal=Principal(role=Role.operator, actor_id="bench"), clock=FrozenClock(NOW))
        seller = await stores.create_seller(
            session, ctx=ctx, data=SellerCreate(name="Bench", country="CN")
        )
        store = await stores.create_store(
            session,
            ctx=ctx,
            data=StoreCreate(
                seller_id=seller.id,
                name="bench",
                mode=StoreMode.semi_managed,
                country="CN",
                currency="USD",
                ship_promise_days=1,
            ),
        )
        await session.commit()
        return seller.id, store.id


def rows(count: int, due: bool, seller: str, store: str, sqlite: bool):  # type: ignore[no-untyped-def]
    """Order rows: due ones missed their ship-by an hour ago, the rest are days away."""
    fmt = (lambda d: d.replace(tzinfo=None).isoformat(sep=" ")) if sqlite else (lambda d: d)
    for i in range(count):
        deadline = (
            NOW - timedelta(hours=1, seconds=i % 3600)
            if due
            else NOW + timedelta(days=1 + i % 30, seconds=i % 86400)
        )
        yield (
            f"ord_{ULID()}",
            store,
            seller,
            "semi_managed",
            "awaiting_shipment",
            "USD",
            1999,
            0,
            1999,
            "Bench Buyer",
            "+86 138 0000 0000",
            "1 Bench Road",
            "Shenzhen",
            "CN",
            fmt(deadline - timedelta(days=1)),
            fmt(deadline),
            fmt(deadline + timedelta(days=2)),
            fmt(deadline),
            1,
        )


def fill(url: str, count: int, due: int, seller: str, store: str) -> None:
    """Bulk-load the open and the due orders with the driver (COPY on PostgreSQL)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        conn = sqlite3.connect(path)
        marks = ", ".join("?" * 19)
        with conn:
            for chunk_due, n in ((False, count), (True, due)):
                conn.executemany(
                    f"INSERT INTO orders ({COLUMNS}) VALUES ({marks})",
                    rows(n, chunk_due, seller, store, True),
                )
        conn.execute("ANALYZE")
        conn.close()
        return
    import psycopg

    with psycopg.connect(sync_url(url).replace("+psycopg", "")) as conn:
        with conn.cursor().copy(f"COPY orders ({COLUMNS}) FROM STDIN") as copy:
            for chunk_due, n in ((False, count), (True, due)):
                for row in rows(n, chunk_due, seller, store, False):
                    copy.write_row(row)
        conn.execute("ANALYZE orders")


def baseline(url: str, due: int) -> float:
    """Seconds for the raw driver to insert ``due`` breach-sized rows (same machine, same run)."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split("///", 1)[1])
        conn.execute(
            "CREATE TABLE bench_raw (id TEXT PRIMARY KEY, order_id TEXT, kind TEXT, at TEXT)"
        )
        start = time.perf_counter()
        with conn:
            conn.executemany(
                "INSERT INTO bench_raw VALUES (?, ?, ?, ?)",
                ((f"b{i}", f"o{i}", "ship_late", "2026-11-18") for i in range(due)),
            )
        elapsed = time.perf_counter() - start
        conn.close()
        return elapsed
    import psycopg

    with psycopg.connect(sync_url(url).replace("+psycopg", "")) as conn:
        conn.execute(
            "CREATE TABLE bench_raw (id text PRIMARY KEY, order_id text, kind text, at text)"
        )
        start = time.perf_counter()
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO bench_raw VALUES (%s, %s, %s, %s)",
                [(f"b{i}", f"o{i}", "ship_late", "2026-11-18") for i in range(due)],
            )
        conn.commit()
        return time.perf_counter() - start


async def one(url: str, count: int, due: int, batch: int) -> tuple[float, int]:
    """Build a database with ``count`` open orders, then time draining the due ones."""
    async with Database.opened(url) as db:
        async with db.engine.begin() as conn:
            if not db.sqlite:
                await conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            await conn.run_sync(metadata.create_all)
        seller, store = await seed(db)
    fill(url, count, due, seller, store)
    settings = Settings(database_url=url, worker_batch_size=batch)
    async with Database.opened(url) as db:
        clock = FrozenClock(NOW)
        start = time.perf_counter()
        recorded = 0
        while handled := await record_breaches(db, clock, settings):
            recorded += handled
        return time.perf_counter() - start, recorded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000,5000000")
    parser.add_argument("--due", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--pg", default=os.environ.get("TUOGUAN_BENCH_PG_URL"))
    parser.add_argument("--no-sqlite", action="store_true", help="Only PostgreSQL.")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        engines = [] if args.no_sqlite else [("sqlite", lambda n: f"sqlite:///{tmp}/sla-{n}.db")]
        if args.pg:
            engines.append(("postgresql", lambda n: args.pg))
        for name, url_for in engines:
            raw = baseline(url_for("raw") if name == "sqlite" else url_for(0), args.due)
            print(f"\n{name}: baseline raw insert of {args.due} rows: {args.due / raw:,.0f} rows/s")
            first = None
            for size in sizes:
                seconds, recorded = asyncio.run(one(url_for(size), size, args.due, args.batch))
                first = first or seconds
                print(
                    f"  {size:>9,} open orders: {recorded:,} breaches in {seconds:.2f} s = "
                    f"{recorded / seconds:,.0f}/s ({seconds / raw:.1f}x the raw insert); "
                    f"{seconds / first:.2f}x the {sizes[0]:,} sweep"
                )


if __name__ == "__main__":
    main()

"""Order-placement throughput: service layer and HTTP path against raw sqlite3, same run.

    python bench/orders.py [-n 2000] [--load] [--pg URL]

Every figure is a ratio against a baseline measured in this run on this
machine, never an absolute target. Each order is one transaction, as in
production: an order row, one line and its audit event (plus, for tuoguan,
the validation, the product and store reads and the deadline maths).

--load starts ``tuoguan serve`` and drives it with wrk (32 connections) to
report p50/p99 latency; --pg compares the service layer on PostgreSQL at 32
concurrent tasks with pgbench's TPC-B at 32 clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from ulid import ULID

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tuoguan.accounts import service as accounts  # noqa: E402
from tuoguan.api.app import create_app  # noqa: E402
from tuoguan.catalog import listing, review  # noqa: E402
from tuoguan.catalog import service as catalog  # noqa: E402
from tuoguan.catalog.models import ProductStatus  # noqa: E402
from tuoguan.catalog.review_schemas import ProductDecision, RevisionDecision  # noqa: E402
from tuoguan.catalog.schemas import ProductCreate  # noqa: E402
from tuoguan.cli.main import upgrade_database  # noqa: E402
from tuoguan.config import Settings  # noqa: E402
from tuoguan.context import Ctx  # noqa: E402
from tuoguan.db import Database  # noqa: E402
from tuoguan.orders import service as orders  # noqa: E402
from tuoguan.orders.schemas import OrderCreate  # noqa: E402
from tuoguan.principal import SYSTEM, Principal, Role  # noqa: E402
from tuoguan.stores import service as stores  # noqa: E402
from tuoguan.stores.models import StoreMode  # noqa: E402
from tuoguan.stores.schemas import SellerCreate, StoreCreate  # noqa: E402
from tuoguan.tables import metadata  # noqa: E402

ADDRESS = {
    "name": "Maria Lopez",
    "phone": "+34 612 345 678",
    "line1": "Calle Mayor 1",
    "city": "Madrid",
    "postcode": "28013",
    "country": "ES",
}
CHANNEL = Principal(role=Role.buyer_channel, actor_id="bench", name="bench")


async def _on_sale(
    session: Any, ctx: Ctx, seller_id: str, product_id: str, retail_minor: int | None
) -> None:
    """C2: put on sale the way its seller does; where it needs review (full-managed) the
    operator ``ctx`` approves it, full-managed at ``retail_minor``."""
    seller = Ctx(
        principal=Principal(role=Role.seller, actor_id="bench-seller", seller_id=seller_id),
        clock=ctx.clock,
        settings=ctx.settings,
    )
    listed = await listing.list_product(session, ctx=seller, product_id=product_id)
    if listed.status is ProductStatus.under_review and listed.pending_revision_id:
        await review.decide(
            session,
            ctx=ctx,
            product_id=product_id,
            revision_id=listed.pending_revision_id,
            data=RevisionDecision(
                decision=ProductDecision.approve, retail_price_minor=retail_minor, note="bench"
            ),
        )


async def seed(db: Database) -> dict[str, str]:
    """One seller, one self-run store, one active product (one SKU), a channel token."""
    async with db.write() as session:
        ctx = Ctx(principal=Principal(role=Role.operator, actor_id="bench-op"))
        seller = await stores.create_seller(
            session, ctx=ctx, data=SellerCreate(name="Bench", country="CN")
        )
        store = await stores.create_store(
            session,
            ctx=ctx,
            data=StoreCreate(
                seller_id=seller.id,
                name="bench",
                mode=StoreMode.self_run,
                country="CN",
                currency="USD",
            ),
        )
        product = await catalog.create_product(
            session,
            ctx=ctx,
            data=ProductCreate(
                store_id=store.id,
                name="Earbuds",
                category="electronics",
                declared_value_minor=1999,
                weight_g=80,
                length_mm=100,
                width_mm=80,
                height_mm=40,
                price_minor=1999,
            ),
        )
        await _on_sale(session, ctx, store.seller_id, product.id, None)
        _, token = await accounts.create_token(
            session, ctx=Ctx(principal=SYSTEM), name="bench", role=Role.buyer_channel
        )
        await session.commit()
        return {
            "store": store.id,
            "product": product.id,
            "sku": product.skus[0].id,  # its one SKU (C3)
            "seller": seller.id,
            "token": token,
        }


def order_body(ids: dict[str, str]) -> dict[str, Any]:
    return {
        "store_id": ids["store"],
        "currency": "USD",
        "address": ADDRESS,
        "lines": [{"product_id": ids["product"], "quantity": 1}],
    }


async def service_rate(db: Database, ids: dict[str, str], n: int, concurrency: int = 1) -> float:
    """Orders per second through place_order, one write transaction each."""
    data = OrderCreate.model_validate(order_body(ids))
    ctx = Ctx(principal=CHANNEL)

    async def worker(count: int) -> None:
        for _ in range(count):
            async with db.write() as session:
                await orders.place_order(session, ctx=ctx, data=data)
                await session.commit()

    start = time.perf_counter()
    await asyncio.gather(*(worker(n // concurrency) for _ in range(concurrency)))
    return (n // concurrency * concurrency) / (time.perf_counter() - start)


async def http_rate(settings: Settings, ids: dict[str, str], n: int) -> float:
    """Orders per second through POST /api/v1/orders (in-process ASGI client)."""
    app = create_app(settings)
    body = order_body(ids)
    headers = {"Authorization": f"Bearer {ids['token']}"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            start = time.perf_counter()
            for _ in range(n):
                r = await client.post("/api/v1/orders", json=body, headers=headers)
                assert r.status_code == 201, r.text
            return n / (time.perf_counter() - start)


def raw_sqlite_rate(path: Path, ids: dict[str, str], n: int) -> float:
    """The same rows inserted with the standard library's sqlite3, one transaction per order."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    tables = metadata.tables
    order_cols = [c.name for c in tables["orders"].columns]
    line_cols = [c.name for c in tables["order_lines"].columns]
    event_cols = [c.name for c in tables["events"].columns if c.name != "seq"]

    def insert(table: str, cols: list[str]) -> str:
        return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"

    sql_order, sql_line, sql_event = (
        insert("orders", order_cols),
        insert("order_lines", line_cols),
        insert("events", event_cols),
    )
    start = time.perf_counter()
    for _ in range(n):
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
        order_id = f"ord_{ULID()}"
        values = {c: None for c in order_cols} | {
            "id": order_id,
            "store_id": ids["store"],
            "seller_id": ids["seller"],
            "mode": "self_run",
            "status": "awaiting_shipment",
            "currency": "USD",
            "subtotal_minor": 1999,
            "shipping_minor": 0,
            "total_minor": 1999,
            "recipient_name": ADDRESS["name"],
            "recipient_phone": ADDRESS["phone"],
            "address_line1": ADDRESS["line1"],
            "city": ADDRESS["city"],
            "postcode": ADDRESS["postcode"],
            "country": "ES",
            "placed_at": now,
            "ship_by": now,
            "deliver_by": now,
            "deadline_at": now,
            "version": 1,
        }
        line = {c: None for c in line_cols} | {
            "id": f"oln_{ULID()}",
            "order_id": order_id,
            "position": 0,
            "product_id": ids["product"],
            "sku_id": ids["sku"],
            "name": "Earbuds",
            "quantity": 1,
            "unit_price_minor": 1999,
            "line_total_minor": 1999,
        }
        event = {c: None for c in event_cols} | {
            "id": f"evt_{ULID()}",
            "subject_type": "order",
            "subject_id": order_id,
            "store_id": ids["store"],
            "action": "place",
            "to_state": "awaiting_shipment",
            "actor_id": "bench",
            "actor_role": "buyer_channel",
            "at": now,
            "data": "{}",
        }
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(sql_order, [values[c] for c in order_cols])
        conn.execute(sql_line, [line[c] for c in line_cols])
        conn.execute(sql_event, [event[c] for c in event_cols])
        conn.execute("COMMIT")
    rate = n / (time.perf_counter() - start)
    conn.close()
    return rate


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


WRK_POST = """
wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
"""


def wrk_latency(
    url: str, token: str, body: dict[str, Any] | None, seconds: int
) -> dict[str, float]:
    """Run wrk with 32 connections; return requests/s and latency percentiles in ms."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        if body is None:
            script.write(f'wrk.headers["Authorization"] = "Bearer {token}"\n')
        else:
            script.write(WRK_POST.format(body=json.dumps(body), token=token))
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-s", script.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)

    def ms(text: str) -> float:
        value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": ms(pct["50"]),
        "p99": ms(pct["99"]),
        "errors": float(non2xx.group(1)) if non2xx else 0.0,
    }


def load_test(db_url: str, ids: dict[str, str], seconds: int) -> None:
    """p50/p99 under 32 concurrent connections against a real `tuoguan serve`."""
    if not shutil.which("wrk"):
        print("load: skipped (apt-get install wrk)")
        return
    port = free_port()
    env = {
        **os.environ,
        "TUOGUAN_DATABASE_URL": db_url,
        "TUOGUAN_PORT": str(port),
        "TUOGUAN_ENVIRONMENT": "production",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "tuoguan.cli.main", "serve", "--no-worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        for name, path, body in (
            ("GET /orders?limit=20", "/api/v1/orders?limit=20", None),
            ("POST /orders", "/api/v1/orders", order_body(ids)),
        ):
            r = wrk_latency(base + path, ids["token"], body, seconds)
            print(
                f"load {name:<22} {r['rps']:8.0f} req/s  p50 {r['p50']:7.2f} ms  "
                f"p99 {r['p99']:7.2f} ms  p99/p50 {r['p99'] / r['p50']:5.2f}  errors {r['errors']:.0f}"
            )
    finally:
        server.terminate()
        server.wait(timeout=10)


def pgbench_tps(url: str, clients: int, seconds: int) -> float:
    """TPC-B transactions per second from pgbench at the given client count."""
    subprocess.run(["pgbench", "-i", "-q", "-s", "1", url], check=True, capture_output=True)
    out = subprocess.run(
        ["pgbench", "-c", str(clients), "-j", "2", "-T", str(seconds), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]


def _pg_worker(url: str, ids: dict[str, str], n: int, tasks: int, barrier: Any) -> float:
    """One process of the PostgreSQL measurement: ``tasks`` concurrent writers."""

    async def run() -> float:
        db = Database.from_url(url, pool_size=tasks)
        try:
            await service_rate(db, ids, tasks * 4, concurrency=tasks)  # warm the pool
            barrier.wait()
            return await service_rate(db, ids, n, concurrency=tasks)
        finally:
            await db.dispose()

    return asyncio.run(run())


async def pg_bench(url: str, n: int, seconds: int, procs: int) -> None:
    """The service layer at 32 concurrent writers (spread over ``procs`` processes) vs pgbench."""
    import multiprocessing

    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    upgrade_database(Settings(database_url=url))
    db = Database.from_url(url)
    try:
        ids = await seed(db)
    finally:
        await db.dispose()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Manager().Barrier(procs)
    with ctx.Pool(procs) as pool:
        rates = pool.starmap(_pg_worker, [(url, ids, n // procs, 32 // procs, barrier)] * procs)
    service = sum(rates)
    tps = pgbench_tps(url.replace("postgresql+psycopg://", "postgresql://"), 32, seconds)
    print(f"pg   service layer, 32 writers in {procs} process(es) {service:7.0f} orders/s")
    print(f"pg   pgbench TPC-B, 32 clients, 2 threads    {tps:7.0f} tps")
    print(f"pg   ratio service/pgbench                   {service / tps:7.2f}")


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=2000, help="orders per measurement")
    parser.add_argument("--load", action="store_true", help="wrk against `tuoguan serve`")
    parser.add_argument("--seconds", type=int, default=10, help="wrk/pgbench duration")
    parser.add_argument(
        "--pg", help="PostgreSQL URL for the pgbench comparison (its schema is reset)"
    )
    parser.add_argument(
        "--procs",
        type=int,
        default=os.cpu_count() or 1,
        help="processes for the PostgreSQL service-layer run (stateless, like API servers)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for label in ("service", "http", "raw"):
            path = Path(tmp) / f"{label}.db"
            url = f"sqlite+aiosqlite:///{path}"
            upgrade_database(Settings(database_url=url))
            db = Database.from_url(url)
            ids = await seed(db)
            if label == "service":
                await service_rate(db, ids, 100)
                results[label] = await service_rate(db, ids, args.n)
            await db.dispose()
            if label == "http":
                settings = Settings(database_url=url, environment="production")
                await http_rate(settings, ids, 100)
                results[label] = await http_rate(settings, ids, args.n)
            if label == "raw":
                raw_sqlite_rate(path, ids, 100)
                results[label] = raw_sqlite_rate(path, ids, args.n)
        raw = results["raw"]
        print(f"sqlite raw sqlite3 inserts  {raw:9.0f} orders/s  (baseline)")
        print(
            f"sqlite service layer        {results['service']:9.0f} orders/s  ratio {results['service'] / raw:5.2f}"
        )
        print(
            f"sqlite HTTP (ASGI client)   {results['http']:9.0f} orders/s  ratio {results['http'] / raw:5.2f}"
        )
        if args.load:
            path = Path(tmp) / "load.db"
            url = f"sqlite+aiosqlite:///{path}"
            upgrade_database(Settings(database_url=url))
            db = Database.from_url(url)
            ids = await seed(db)
            await db.dispose()
            load_test(url, ids, args.seconds)
    if args.pg:
        for procs in sorted({1, args.procs}):
            await pg_bench(args.pg, args.n, args.seconds, procs)


if __name__ == "__main__":
    asyncio.run(main())

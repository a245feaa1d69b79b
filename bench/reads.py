"""The operator's and the seller's lists at 10 k and at 1 M orders: every list must stay flat.

    python bench/reads.py [--sizes 10000,1000000] [--pg URL] [--no-sqlite] [--rounds 7]
                          [--keep DIR]

For each size a fresh database is built: sellers and stores through the
services, then orders bulk-loaded with the driver (COPY on PostgreSQL) with
their lines and audit events, in a realistic mix of states over 90 days.
The real sweeps then run on it: the breach sweep records the overdue orders,
part of those are then shipped late and the penalty sweep fines them; the
pace aggregates are rebuilt from the orders and the early-warning sweep
stores a risk score on every open order.

Each list endpoint is then requested for each role that may call it, with each
filter, through the ASGI app (in process, no network): its first page of 10 rows
and its fifth (following the cursor). The sizes are served side by side and
every request is made at each size in turn, for several rounds; the median of
each is reported, in all and the part spent in the database. The aim:
every list at the largest size within 1.5x of its time at the smallest, and
``/at-risk`` under 50 ms (p50) at 1 M. Last, the inline CSV export's memory
(tracemalloc peak) at 10 k and 50 k rows: the aim is 50 k within 1.2x of 10 k.

``--keep DIR`` keeps the databases (about 3 GB for 1 M orders on SQLite) and a
later run with the same schema measures them again without building them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, func, update
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
from tuoguan.db import Database, sync_url  # noqa: E402
from tuoguan.kit.clock import FrozenClock  # noqa: E402
from tuoguan.onboarding import invitations  # noqa: E402
from tuoguan.onboarding.origin import LOCAL  # noqa: E402
from tuoguan.orders.models import Order  # noqa: E402
from tuoguan.orders.states import OrderStatus  # noqa: E402
from tuoguan.principal import SYSTEM, Principal, Role  # noqa: E402
from tuoguan.stores import service as stores  # noqa: E402
from tuoguan.stores.models import StoreMode  # noqa: E402
from tuoguan.stores.schemas import SellerCreate, StoreCreate  # noqa: E402
from tuoguan.worker import loop  # noqa: E402

NOW = datetime(2026, 11, 18, 4, tzinfo=UTC)  # a Wednesday, noon in Shanghai
SELLERS = 12
PAGE = 10  # rows per page requested
CARRIER = "sandbox"
ORDER_COLUMNS = (
    "id",
    "store_id",
    "seller_id",
    "mode",
    "status",
    "currency",
    "subtotal_minor",
    "shipping_minor",
    "total_minor",
    "buyer_ref",
    "recipient_name",
    "recipient_phone",
    "address_line1",
    "city",
    "country",
    "carrier_code",
    "tracking_number",
    "placed_at",
    "confirm_by",
    "ship_by",
    "deliver_by",
    "auto_complete_at",
    "deadline_at",
    "risk_check_at",
    "confirmed_at",
    "shipped_at",
    "delivered_at",
    "completed_at",
    "cancelled_at",
    "cancel_reason",
    "version",
)
LINE_COLUMNS = (
    "id",
    "order_id",
    "position",
    "product_id",
    "sku_id",
    "name",
    "quantity",
    "unit_price_minor",
    "line_total_minor",
)
EVENT_COLUMNS = (
    "id",
    "subject_type",
    "subject_id",
    "store_id",
    "action",
    "from_state",
    "to_state",
    "actor_id",
    "actor_role",
    "at",
    "data",
)
DESTINATIONS = ("ES", "FR", "DE", "US", "GB", "IT", "PL", "NL")


@dataclass
class Shop:
    seller: str
    store: str
    product: str
    sku: str  # the product's one SKU (C3)
    mode: str


@dataclass
class Market:
    shops: list[Shop]
    tokens: dict[str, str]  # role name -> secret
    seller_store: str  # a store of the seller whose token is used


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


async def seed(db: Database) -> Market:
    """Sellers, stores, products and tokens, through the services."""
    ctx = Ctx(principal=Principal(role=Role.operator, actor_id="bench"), clock=FrozenClock(NOW))
    shops: list[Shop] = []
    async with db.write() as session:
        for n in range(SELLERS):
            seller = await stores.create_seller(
                session, ctx=ctx, data=SellerCreate(name=f"Seller {n}", country="CN")
            )
            second = StoreMode.full_managed if n % 3 == 0 else StoreMode.self_run
            first: str | None = None
            for mode in (StoreMode.semi_managed, second):
                store = await invitations.open_store(  # M2: full-managed on behalf
                    session,
                    origin=LOCAL,
                    ctx=ctx,
                    data=StoreCreate(
                        seller_id=seller.id,
                        name=f"Store {n} {mode.value}",
                        mode=mode,
                        country="CN",
                        currency="USD",
                        ship_promise_days=2,
                        linked_store_id=first if mode is StoreMode.full_managed else None,
                        on_behalf_reason="bench: invited and accepted"
                        if mode is StoreMode.full_managed
                        else None,
                    ),
                )
                first = first or store.id
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
                        price_minor=None if mode is StoreMode.full_managed else 1999,
                        supply_price_minor=1200 if mode is StoreMode.full_managed else None,
                    ),
                )
                full = mode is StoreMode.full_managed
                await _on_sale(session, ctx, seller.id, product.id, 1999 if full else None)
                shops.append(Shop(seller.id, store.id, product.id, product.skus[0].id, mode.value))
        system = Ctx(principal=SYSTEM)
        tokens = {}
        for role, extra in (
            (Role.operator, {}),
            (Role.seller, {"seller_id": shops[0].seller}),
            (Role.buyer_channel, {}),
            (Role.carrier, {"carrier_code": CARRIER}),
        ):
            _, secret = await accounts.create_token(
                session, ctx=system, name=f"bench {role.value}", role=role, **extra
            )
            tokens[role.value] = secret
        await session.commit()
    return Market(shops, tokens, shops[0].store)


def _ulid(prefix: str, at: datetime, rng: random.Random) -> str:
    """An id of this instant whose random part comes from the seeded generator (repeatable)."""
    millis = int(at.timestamp() * 1000)
    return f"{prefix}_{ULID.from_bytes(millis.to_bytes(6, 'big') + rng.randbytes(10))}"


def _hours(rng: random.Random, median: float) -> timedelta:
    return timedelta(hours=min(median * rng.lognormvariate(0, 0.5), 200))


def generate(
    count: int, shops: list[Shop], seed: int = 11
) -> Iterator[tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]]:
    """(order, line, events) rows in a realistic mix of states; deterministic for a seed.

    Open orders are recent (awaiting shipment: placed in the last 2.2 days with a
    2-day ship-by, so about one in eleven is overdue), closed ones older.
    """
    rng = random.Random(seed)
    day = timedelta(days=1)
    for i in range(count):
        shop = shops[i % len(shops)]
        r = rng.random()
        full = shop.mode == "full_managed"
        if full and r < 0.05:
            status, placed = "awaiting_confirmation", NOW - rng.random() * timedelta(hours=20)
        elif r < 0.17:
            status, placed = "awaiting_shipment", NOW - rng.random() * 2.2 * day
        elif r < 0.27:
            status, placed = "shipped", NOW - (2 + rng.random() * 7) * day
        elif r < 0.32:
            status, placed = "delivered", NOW - (9 + rng.random() * 6) * day
        elif r < 0.37:
            status, placed = "cancelled", NOW - (1 + rng.random() * 89) * day
        else:
            status, placed = "completed", NOW - (16 + rng.random() * 74) * day
        o: dict[str, Any] = dict.fromkeys(ORDER_COLUMNS)
        o.update(
            id=_ulid("ord", placed, rng),
            store_id=shop.store,
            seller_id=shop.seller,
            mode=shop.mode,
            status=status,
            currency="USD",
            subtotal_minor=1999,
            shipping_minor=300,
            total_minor=2299,
            buyer_ref=f"B{i}",
            recipient_name="Maria Lopez",
            recipient_phone="+34 612 345 678",
            address_line1="Calle Mayor 1",
            city="Madrid",
            country=DESTINATIONS[i % len(DESTINATIONS)],
            placed_at=placed,
            version=1,
        )
        if full:
            o["confirm_by"] = placed + day
        o["ship_by"] = placed + 2 * day
        o["deliver_by"] = o["ship_by"] + 9 * day
        events = [("place", None, "awaiting_confirmation" if full else "awaiting_shipment")]
        if status == "awaiting_confirmation":
            o["deadline_at"] = o["risk_check_at"] = o["confirm_by"]
            o["risk_check_at"] = NOW
        elif status == "awaiting_shipment":
            o["deadline_at"] = o["ship_by"]
            o["risk_check_at"] = NOW
            if full:
                o["confirmed_at"] = placed + _hours(rng, 3)
                events.append(("confirm", "awaiting_confirmation", status))
        elif status == "cancelled":
            o["cancelled_at"] = placed + _hours(rng, 5)
            o["cancel_reason"] = "buyer asked"
            events.append(("cancel", events[0][2], status))
        else:
            if full:
                o["confirmed_at"] = placed + _hours(rng, 3)
            o["shipped_at"] = placed + _hours(rng, 20)
            o["carrier_code"], o["tracking_number"] = CARRIER, f"SB{i:012d}"
            events.append(("ship", "awaiting_shipment", "shipped"))
            if status == "shipped":
                o["deadline_at"] = o["deliver_by"]
                o["risk_check_at"] = NOW
            else:
                o["delivered_at"] = o["shipped_at"] + _hours(rng, 150)
                o["auto_complete_at"] = o["delivered_at"] + 7 * day
                events.append(("deliver", "shipped", "delivered"))
                if status == "delivered":
                    o["deadline_at"] = o["auto_complete_at"]
                else:
                    o["completed_at"] = o["auto_complete_at"]
                    events.append(("complete", "delivered", "completed"))
        line = {
            "id": _ulid("oln", placed, rng),
            "order_id": o["id"],
            "position": 0,
            "product_id": shop.product,
            "sku_id": shop.sku,
            "name": "Earbuds",
            "quantity": 1,
            "unit_price_minor": 1999,
            "line_total_minor": 1999,
        }
        rows = [
            {
                "id": _ulid("evt", placed, rng),
                "subject_type": "order",
                "subject_id": o["id"],
                "store_id": shop.store,
                "action": action,
                "from_state": source,
                "to_state": target,
                "actor_id": "bench",
                "actor_role": "system",
                "at": placed,
                "data": "{}",
            }
            for action, source, target in events
        ]
        yield o, line, rows


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    return value


def load(url: str, count: int, shops: list[Shop]) -> None:
    """Bulk-load the orders, their lines and events with the driver."""
    tables = (("orders", ORDER_COLUMNS), ("order_lines", LINE_COLUMNS), ("events", EVENT_COLUMNS))
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split("///", 1)[1])
        batch: tuple[list[Any], list[Any], list[Any]] = ([], [], [])

        def flush() -> None:
            for (table, columns), rows in zip(tables, batch, strict=True):
                marks = ", ".join("?" * len(columns))
                conn.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
                )
                rows.clear()

        with conn:
            for order, line, events in generate(count, shops):
                batch[0].append([_sqlite_value(order[c]) for c in ORDER_COLUMNS])
                batch[1].append([line[c] for c in LINE_COLUMNS])
                batch[2].extend([_sqlite_value(e[c]) for c in EVENT_COLUMNS] for e in events)
                if len(batch[0]) >= 20_000:
                    flush()
            flush()
        conn.execute("ANALYZE")
        conn.close()
        return
    import psycopg

    with psycopg.connect(sync_url(url).replace("+psycopg", "")) as conn:
        copies = [
            conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN")
            for table, columns in tables
        ]
        # One COPY at a time per connection: orders, then lines, then events.
        for index, (_, columns) in enumerate(tables):
            with copies[index] as copy:
                for order, line, events in generate(count, shops):
                    if index == 0:
                        copy.write_row([order[c] for c in columns])
                    elif index == 1:
                        copy.write_row([line[c] for c in columns])
                    else:
                        for event in events:
                            copy.write_row([event[c] for c in columns])
        conn.execute("ANALYZE")


async def sweep(url: str, settings: Settings) -> dict[str, int]:
    """The real sweeps: breaches, then late shipments fined, pace aggregates, risk scores."""
    done: dict[str, int] = {}
    clock = FrozenClock(NOW)
    async with Database.opened(url) as db:
        done["breaches"] = await _drain(loop.record_breaches, db, clock, settings)
        # Two in three of the overdue orders then ship late (through the order service would
        # take minutes at this size; the sweep only reads that they left the late state).
        async with db.write() as session:
            await session.execute(
                update(Order)
                .where(Order.deadline_missed_at.is_not(None), func.substr(Order.id, 26, 1) < "K")
                .values(
                    status=OrderStatus.shipped,
                    shipped_at=NOW,
                    carrier_code=CARRIER,
                    tracking_number="LATE" + Order.id,
                    deadline_at=Order.deliver_by,
                    deadline_missed_at=None,
                )
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        done["penalties"] = await _drain(loop.assess_penalties, db, clock, settings)
        rebuild = _pace_rebuild()
        if rebuild is not None:
            async with db.write() as session:
                await rebuild(session, now=NOW)
                await session.commit()
        done["risk scored"] = await _drain(loop.warn_at_risk, db, clock, settings)
    return done


def _pace_rebuild() -> Any:
    """The pace aggregates' rebuild, when this version of tuoguan keeps them."""
    try:
        from tuoguan.orders import pace  # type: ignore[attr-defined]
    except ImportError:
        return None
    return getattr(pace, "rebuild", None)


async def _drain(sweep_fn: Any, db: Database, clock: FrozenClock, settings: Settings) -> int:
    total = 0
    while handled := await sweep_fn(db, clock, settings):
        total += handled
    return total


def requests(market: Market) -> list[tuple[str, str, dict[str, Any]]]:
    """(role, path, query) of every list a role may call, with its filter combinations."""
    open_statuses = [("status", "awaiting_shipment"), ("status", "shipped")]
    due = (NOW + timedelta(hours=12)).isoformat()
    store = market.seller_store
    rows: list[tuple[str, str, dict[str, Any]]] = []
    for role in ("operator", "seller"):
        rows += [
            (role, "/orders", {}),
            (role, "/orders", {"sort": "deadline"}),
            (role, "/orders", {"sort": "deadline", "due_before": due}),
            (role, "/orders", {"status": "awaiting_shipment"}),
            (role, "/orders", {"status": "awaiting_shipment", "sort": "deadline"}),
            (role, "/orders", {"multi": open_statuses}),
            (role, "/orders", {"store_id": store}),
            (role, "/orders", {"store_id": store, "status": "awaiting_shipment"}),
            (role, "/orders", {"store_id": store, "sort": "deadline"}),
            (role, "/breaches", {}),
            (role, "/penalties", {}),
            (role, "/at-risk", {}),
            (role, "/at-risk", {"store_id": store}),
            (role, "/notifications", {}),
        ]
    rows += [
        ("operator", "/penalties", {"status": "assessed"}),
        ("buyer_channel", "/orders", {}),
        ("buyer_channel", "/orders", {"status": "shipped"}),
        ("carrier", "/orders", {}),
        ("carrier", "/orders", {"status": "shipped"}),
    ]
    return rows


def _params(query: dict[str, Any]) -> list[tuple[str, str]]:
    flat: list[tuple[str, str]] = []
    for key, value in query.items():
        if key == "multi":
            flat += value
        else:
            flat.append((key, value))
    return flat


def _next(response: httpx.Response) -> str | None:
    link = response.headers.get("link")
    if link and 'rel="next"' in link:
        return link.split(">", 1)[0].lstrip("<")
    body = response.json()
    if isinstance(body, dict) and body.get("next_cursor"):
        url = response.request.url
        return str(url.copy_set_param("cursor", body["next_cursor"]).raw_path.decode())
    return None


class SqlClock:
    """Milliseconds the database spent on the statements of one engine, since the last reset."""

    def __init__(self, engine: Any) -> None:
        self.spent = 0.0
        self._started = 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *_: Any) -> None:
        self._started = time.perf_counter()

    def _after(self, *_: Any) -> None:
        self.spent += (time.perf_counter() - self._started) * 1000


Key = tuple[str, str, str, int]


async def measure_all(
    urls: dict[int, str], markets: dict[int, Market], rounds: int
) -> dict[int, dict[Key, tuple[float, float]]]:
    """Median ms of page 1 and page 5 of every list at each size: in all, and in the database.

    The sizes are served side by side and each request is made at every size in
    turn, so whatever else the machine does weighs on all sizes alike.
    """
    times: dict[int, dict[Key, list[tuple[float, float]]]] = {n: {} for n in urls}
    async with AsyncExitStack() as stack:
        clients, clocks = {}, {}
        for size, url in urls.items():
            app = create_app(Settings(database_url=url, environment="test"), clock=FrozenClock(NOW))
            await stack.enter_async_context(app.router.lifespan_context(app))
            clocks[size] = SqlClock(app.state.db.engine.sync_engine)
            transport = httpx.ASGITransport(app=app)
            clients[size] = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://bench")
            )
        specs = requests(markets[min(urls)])
        for round_ in range(rounds + 1):  # round 0 warms the caches and is not counted
            for index in range(len(specs)):
                for size in urls:
                    role, path, query = requests(markets[size])[index]
                    walked = await _walk(
                        clients[size], clocks[size], markets[size], role, path, query
                    )
                    if round_:
                        for page, pair in walked.items():
                            key = (role, path, _label(specs[index][2]), page)
                            times[size].setdefault(key, []).append(pair)
    return {
        size: {
            key: (
                statistics.median(t for t, _ in values),
                statistics.median(d for _, d in values),
            )
            for key, values in found.items()
        }
        for size, found in times.items()
    }


async def _walk(
    client: httpx.AsyncClient,
    clock: SqlClock,
    market: Market,
    role: str,
    path: str,
    query: dict[str, Any],
) -> dict[int, tuple[float, float]]:
    """(ms in all, ms in the database) of page 1 and page 5 (when there is one) of one list."""
    headers = {"Authorization": f"Bearer {market.tokens[role]}"}
    target: str | None = "/api/v1" + path
    # Pages of PAGE rows, which every list fills at either size: a page's time is compared
    # with a page of the same length, not a short one.
    params: list[tuple[str, str]] | None = [*_params(query), ("limit", str(PAGE))]
    found = {}
    for page in range(1, 6):
        assert target is not None
        clock.spent = 0.0
        start = time.perf_counter()
        response = await client.get(target, params=params, headers=headers)
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{role} {path} {query}: {response.status_code} {response.text[:300]}")
        if page in (1, 5):
            found[page] = (elapsed, clock.spent)
        target, params = _next(response), None
        if target is None:
            break
    return found


def _label(query: dict[str, Any]) -> str:
    parts = []
    for key, value in query.items():
        if key == "multi":
            parts.append("status=" + "+".join(v for _, v in value))
        elif key == "store_id":
            parts.append("store")
        elif key == "due_before":
            parts.append("due_before")
        else:
            parts.append(f"{key}={value}")
    return "&".join(parts) or "-"


async def export_peak(url: str, market: Market, rows: int) -> float:
    """Peak traced memory (MiB) while the inline CSV export of ``rows`` orders streams.

    Driven at the ASGI level (``bench/export_memory.py``), dropping each chunk as it
    arrives: httpx's ASGI transport would keep the whole body and measure itself.
    """
    from export_memory import stream_export

    settings = Settings(database_url=url, environment="test", **_inline(rows))
    app = create_app(settings, clock=FrozenClock(NOW))
    async with app.router.lifespan_context(app):
        headers = {"Authorization": f"Bearer {market.tokens['operator']}"}
        streamed = await stream_export(app, f"/api/v1/orders/export.csv?limit={rows}", headers)
    assert streamed.status == 200, streamed.status
    return streamed.traced_peak / 2**20


def _inline(rows: int) -> dict[str, int]:
    """Let the inline export take ``rows`` where this version has a threshold for it."""
    return {"export_inline_rows": rows} if "export_inline_rows" in Settings.model_fields else {}


async def build(url: str, size: int) -> tuple[Market, dict[str, int], float]:
    settings = Settings(database_url=url, worker_batch_size=2000)
    started = time.perf_counter()
    if not url.startswith("sqlite"):
        import psycopg

        with psycopg.connect(sync_url(url).replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
    else:  # a kept file of another schema is built again from nothing
        path = Path(url.split("///", 1)[1])
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
    upgrade_database(settings)
    async with Database.opened(url) as db:
        market = await seed(db)
    load(url, size, market.shops)
    swept = await sweep(url, settings)
    return market, swept, time.perf_counter() - started


def report(name: str, sizes: list[int], results: dict[int, dict[Key, tuple[float, float]]]) -> bool:
    """Print each list's medians at the smallest and the largest size and their ratio."""
    small, large = sizes[0], sizes[-1]
    print(
        f"\n{name}: median ms per request (in all / of it in the database), page 1 and page 5; "
        f"ratio = {large:,} / {small:,}"
    )
    print(
        f"  {'role':<14}{'list':<44}{'page':>5}{small:>14,}{large:>14,}{'ratio':>8}{'db ratio':>10}"
    )
    worst = 0.0
    for key in results[small]:
        role, path, label, page = key
        if key not in results[large]:
            continue
        (a, a_db), (b, b_db) = results[small][key], results[large][key]
        ratio = b / a
        worst = max(worst, ratio)
        flag = "" if ratio <= 1.5 else "  <- over 1.5x"
        print(
            f"  {role:<14}{path + ' ' + label:<44}{page:>5}{a:>8.1f} /{a_db:>4.1f}"
            f"{b:>8.1f} /{b_db:>4.1f}{ratio:>7.2f}x{b_db / a_db:>9.2f}x{flag}"
        )
    risk = [t for (_, path, _, _), (t, _) in results[large].items() if path == "/at-risk"]
    p50 = statistics.median(risk) if risk else float("nan")
    print(f"  worst ratio {worst:.2f}x (aim <= 1.5x): {'met' if worst <= 1.5 else 'NOT met'}")
    print(
        f"  /at-risk p50 at {large:,}: {p50:.1f} ms (aim < 50 ms): "
        f"{'met' if p50 < 50 else 'NOT met'}"
    )
    return worst <= 1.5 and p50 < 50


def _pg_url(base: str, size: int) -> str:
    """A database of its own per size (``<name>_reads_<size>``), created when missing."""
    import psycopg

    head, _, name = base.rpartition("/")
    target = f"{name.split('?')[0]}_reads_{size}"
    admin = sync_url(f"{head}/postgres").replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target,)).fetchone():
            conn.execute(f'CREATE DATABASE "{target}"')
    return f"{head}/{target}"


def _head() -> str:
    """The schema's newest migration: a kept database of another schema is built again."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from tuoguan.cli.main import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return str(ScriptDirectory.from_config(config).get_current_head())


def prepare(name: str, url: str, size: int, keep: Path) -> Market:
    """Build the database of this size, or reuse the one kept from an earlier run."""
    marker = keep / f"{name}-{size}.json"
    data = json.loads(marker.read_text()) if marker.exists() else {}
    if data.get("revision") == _head():
        print(f"{name} {size:,} orders: reusing the database kept in {keep}")
        return Market([Shop(**shop) for shop in data["shops"]], data["tokens"], data["store"])
    market, swept, seconds = asyncio.run(build(url, size))
    print(f"{name} {size:,} orders built in {seconds:.0f} s; swept: {swept}")
    shops = [shop.__dict__ for shop in market.shops]
    payload = {
        "shops": shops,
        "tokens": market.tokens,
        "store": market.seller_store,
        "revision": _head(),
    }
    marker.write_text(json.dumps(payload))
    return market


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--pg", default=os.environ.get("TUOGUAN_BENCH_PG_URL"))
    parser.add_argument("--no-sqlite", action="store_true", help="Only PostgreSQL.")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--export-rows", default="10000,50000")
    parser.add_argument(
        "--keep", type=Path, help="Keep the databases here and reuse them in later runs."
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        keep: Path = args.keep or Path(tmp)
        keep.mkdir(parents=True, exist_ok=True)
        engines: list[tuple[str, Any]] = []
        if not args.no_sqlite:
            engines.append(("sqlite", lambda n: f"sqlite+aiosqlite:///{keep}/reads-{n}.db"))
        if args.pg:
            engines.append(("postgresql", lambda n: _pg_url(args.pg, n)))
        for name, url_for in engines:
            urls = {size: url_for(size) for size in sizes}
            markets = {size: prepare(name, urls[size], size, keep) for size in sizes}
            results = asyncio.run(measure_all(urls, markets, args.rounds))
            report(name, sizes, results)
            if name == "sqlite":
                big = sizes[-1]
                exports = {
                    rows: asyncio.run(export_peak(urls[big], markets[big], rows))
                    for rows in (int(r) for r in args.export_rows.split(","))
                }
                first, *_, last = sorted(exports)
                ratio = exports[last] / exports[first]
                print(
                    f"  inline export peak memory: {first:,} rows {exports[first]:.1f} MiB, "
                    f"{last:,} rows {exports[last]:.1f} MiB = {ratio:.2f}x (aim <= 1.2x): "
                    f"{'met' if ratio <= 1.2 else 'NOT met'}"
                )


if __name__ == "__main__":
    main()

"""The case queue at 10 k and at 1 M cases, against a bare indexed query of the same page (issue 16).

    python bench/cases.py [--sizes 10000,1000000] [--pg URL] [--no-sqlite] [--rounds 7]
                          [--keep DIR]

For each size a fresh database is built: sellers, stores, API tokens and console users
through the services, then the cases bulk-loaded with the driver (executemany on SQLite,
COPY on PostgreSQL) in a realistic mix: half receiving exceptions, three in ten buyer
disputes, one in five after-sales returns; most closed (up to a year old), some decided
within their appeal window, some working (and a few appealed) with their step's deadline
spread over five days either side of now; one large seller holds a third of them, a small one about 1 %, six others the rest.

The receiving-exception queue (``kind=receiving_exception``, 50 rows a page, working cases
first and the nearest deadline first) is then read as an operator (every case), as the large
seller and as the small one (their own): its first page and its fifth, following the next
page's link, through the API (``GET /api/v1/cases``, its ``Link`` header) and the console page
(``GET /console/cases``, signed in), both through the ASGI app in process (no network). A
page a size does not have in full (the small seller's fifth at 10 k) is left out. The same-run
baseline is the bare indexed query of the same page, written by hand (``SELECT * FROM cases
WHERE kind = ? [AND seller_id = ?] [AND (queue_rank, queue_due_at, id) > (?, ?, ?)] ORDER BY
queue_rank, queue_due_at, id LIMIT 51``) on a connection of the same engine, fetching every
row; in the first round the API's pages are checked to hold its cases in its order. The
sizes are served side by side and every walk is made at each size in turn, for several
rounds (the first only warms the caches and checks); medians are reported.

The aims: the page at the largest size within 1.5x of its time at the smallest (flat), and
the API's overhead over the bare query stated (a ratio and the milliseconds it adds) at each
size. Last, the plan of each page's query at the largest size (EXPLAIN QUERY PLAN on SQLite,
EXPLAIN ANALYZE on PostgreSQL), as the app sends it.

PostgreSQL (``--pg URL`` or TUOGUAN_BENCH_PG_URL) builds ``<name>_cases_<size>`` beside the
given database, one per size, created when missing and left in place. ``--keep DIR`` keeps the
SQLite files (0.8 GB at 1 M) and what each build made; a later run with the same schema
measures them again without building them.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import random
import re
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
from sqlalchemy import event
from ulid import ULID

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tuoguan.accounts import service as accounts  # noqa: E402
from tuoguan.api.app import create_app  # noqa: E402
from tuoguan.cases.kinds import APPEAL_DAYS, KINDS, WORKING, CaseKind, CaseState  # noqa: E402
from tuoguan.cases.models import Case  # noqa: E402
from tuoguan.cases.service import FAR  # noqa: E402
from tuoguan.cli.main import upgrade_database  # noqa: E402
from tuoguan.config import Settings  # noqa: E402
from tuoguan.context import Ctx  # noqa: E402
from tuoguan.db import Database, sync_url, table_of  # noqa: E402
from tuoguan.kit.clock import FrozenClock  # noqa: E402
from tuoguan.principal import SYSTEM, Principal, Role  # noqa: E402
from tuoguan.stores import service as stores  # noqa: E402
from tuoguan.stores.models import StoreMode  # noqa: E402
from tuoguan.stores.schemas import SellerCreate, StoreCreate  # noqa: E402
from tuoguan.web.console import SESSION_COOKIE  # noqa: E402

NOW = datetime(2026, 11, 18, 4, tzinfo=UTC)  # a Wednesday, noon in Shanghai
# Each seller's weight in the cases: the large seller (a third), six alike, the small one (1 %).
WEIGHTS = (30, 10, 10, 10, 10, 10, 10, 1)
SELLERS = len(WEIGHTS)
# Who reads the queue: the role, and which seller (by its place in WEIGHTS).
READERS = {"operator": (Role.operator, None), "seller": (Role.seller, 0), "small": (Role.seller, 7)}
PAGE = 50  # rows a page, the API's default and the console's page
KIND = CaseKind.receiving_exception
API = "/api/v1/cases"
CONSOLE = "/console/cases"
CHUNK = 20_000
# Every column the model has (a nullable one this bench does not know stays NULL).
CASE_COLUMNS = tuple(column.name for column in table_of(Case).columns)
NEXT_PAGE = re.compile(r'href="(/console/cases\?[^"]*cursor=[^"]*)"')


@dataclass
class Shop:
    seller: str
    store: str
    mode: str


@dataclass
class Market:
    shops: list[Shop]
    tokens: dict[str, str]  # reader -> API token secret
    cookies: dict[str, str]  # reader -> console session secret
    sellers: dict[str, str]  # reader -> its seller's id (the sellers reading their queue)


async def seed(db: Database) -> Market:
    """Sellers and their stores, each reader's API token and console session (of a user of
    its own), through the services."""
    clock = FrozenClock(NOW)
    ctx = Ctx(principal=Principal(role=Role.operator, actor_id="bench"), clock=clock)
    shops: list[Shop] = []
    async with db.write() as session:
        for n in range(SELLERS):
            seller = await stores.create_seller(
                session, ctx=ctx, data=SellerCreate(name=f"Seller {n}", country="CN")
            )
            for mode in (StoreMode.semi_managed, StoreMode.self_run):
                store = await stores.create_store(
                    session,
                    ctx=ctx,
                    data=StoreCreate(
                        seller_id=seller.id,
                        name=f"Store {n} {mode.value}",
                        mode=mode,
                        country="CN",
                        currency="USD",
                        ship_promise_days=2,
                    ),
                )
                shops.append(Shop(seller.id, store.id, mode.value))
        system = Ctx(principal=SYSTEM, clock=clock)
        tokens, cookies, sellers = {}, {}, {}
        for reader, (role, place) in READERS.items():
            seller_id = None if place is None else shops[2 * place].seller
            _, secret = await accounts.create_token(
                session, ctx=system, name=f"bench {reader}", role=role, seller_id=seller_id
            )
            tokens[reader] = secret
            user = await accounts.create_user(
                session,
                ctx=system,
                email=f"bench-{reader}@example.com",
                password="bench-password",
                display_name=f"Bench {reader}",
                role=role,
                seller_id=seller_id,
            )
            # The app's clock is frozen at NOW too: the session stays live in every later run.
            cookies[reader], _ = await accounts.open_session(
                session, user=user, clock=clock, hours=24
            )
            if seller_id:
                sellers[reader] = seller_id
        await session.commit()
    return Market(shops, tokens, cookies, sellers)


def _ulid(prefix: str, at: datetime, rng: random.Random) -> str:
    """An id of this instant whose random part comes from the seeded generator (repeatable)."""
    millis = int(at.timestamp() * 1000)
    return f"{prefix}_{ULID.from_bytes(millis.to_bytes(6, 'big') + rng.randbytes(10))}"


def _decide(c: dict[str, Any], kind: CaseKind, at: datetime, rng: random.Random) -> None:
    """One of the kind's decisions, with its bearer, amount and units where it takes them."""
    name, decision = rng.choice(list(KINDS[kind].decisions.items()))
    amount = decision.amount == "required" or (decision.amount == "optional" and rng.random() < 0.5)
    c.update(
        decision=name,
        bearer=rng.choice(decision.bearers).value if decision.bearers else None,
        amount_minor=rng.randint(500, 20_000) if amount else None,
        units=rng.choice((-3, -1, 1, 2)) if decision.units else None,
        decision_reason="Counted again on camera; the photos agree.",
        decided_by="usr_bench",
        decided_at=at,
    )


def generate(count: int, shops: list[Shop], seed: int = 16) -> Iterator[dict[str, Any]]:
    """Case rows in a realistic mix of kinds and states; deterministic for a seed.

    About 7 % are working (a step with a deadline between five days ago and five days
    ahead; those past it flagged, those within a day warned), 1 % appealed (the same),
    7 % decided within the last 7 days (the appeal window still open), the rest closed.
    """
    rng = random.Random(seed)
    day = timedelta(days=1)
    owned = [shops[2 * n : 2 * n + 2] for n in range(SELLERS)]  # each seller's two stores
    working = {kind: [s for s in spec.steps if s in WORKING] for kind, spec in KINDS.items()}
    for i in range(count):
        shop = rng.choice(rng.choices(owned, WEIGHTS)[0])
        pick = rng.random()
        kind = (
            CaseKind.receiving_exception
            if pick < 0.5
            else CaseKind.dispute
            if pick < 0.8
            else CaseKind.after_sale
        )
        spec = KINDS[kind]
        r = rng.random()
        c: dict[str, Any] = dict.fromkeys(CASE_COLUMNS)
        due: datetime | None
        if r < 0.08:
            state = CaseState.appealed if r < 0.01 else rng.choice(working[kind])
            opened = NOW - rng.uniform(0.2, 10) * day
            entered = opened + rng.random() * (NOW - opened)
            due = NOW + rng.uniform(-5, 5) * day
            if state is CaseState.appealed:
                _decide(c, kind, opened + (entered - opened) / 2, rng)
                c.update(
                    appealed_by="usr_bench_seller",
                    appealed_party="seller",
                    appealed_at=entered,
                    appeal_reason="The carrier's photo shows the boxes intact.",
                )
            if due < NOW:
                c["breached_at"] = due
            if due - day < NOW:
                c["warned_at"] = due - day
            rank = 0
        elif r < 0.15:
            state = CaseState.decided
            entered = NOW - rng.random() * APPEAL_DAYS * day
            opened = entered - rng.uniform(1, 20) * day
            due = entered + APPEAL_DAYS * day
            _decide(c, kind, entered, rng)
            rank = 1
        else:
            state = CaseState.closed
            opened = NOW - rng.uniform(10, 365) * day
            decided = opened + rng.uniform(1, 3) * day
            entered = decided + APPEAL_DAYS * day
            due = None
            _decide(c, kind, decided, rng)
            c["closed_at"] = entered
            rank = 2
        owner = spec.step(state).owner
        c.update(
            id=_ulid("cas", opened, rng),
            kind=kind.value,
            cause=rng.choice(spec.causes),
            state=state.value,
            store_id=shop.store,
            seller_id=shop.seller,
            mode=shop.mode,
            carrier_code="sandbox" if kind is CaseKind.receiving_exception and i % 2 else None,
            currency="USD",
            summary=f"Case {i}: what was counted differs from the notice.",
            opened_by="usr_bench",
            opened_role="warehouse" if kind is CaseKind.receiving_exception else "buyer_channel",
            opened_at=opened,
            state_entered_at=entered,
            step_owner=owner.value if owner else None,
            step_due_at=due,
            queue_rank=rank,
            queue_due_at=due or FAR,
            entry_ids="[]",
            refund_ids="[]",
            entry_count=0,
        )
        yield c


def _sqlite_value(value: Any) -> Any:
    """A timestamp as SQLAlchemy stores it on SQLite (UTC, naive, with microseconds), so the
    keyset's bound values compare with the loaded ones."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def load(url: str, count: int, shops: list[Shop]) -> None:
    """Bulk-load the cases with the driver."""
    names = ", ".join(CASE_COLUMNS)
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split("///", 1)[1])
        marks = ", ".join("?" * len(CASE_COLUMNS))
        sql = f"INSERT INTO cases ({names}) VALUES ({marks})"
        batch: list[list[Any]] = []
        with conn:
            for case in generate(count, shops):
                batch.append([_sqlite_value(case[c]) for c in CASE_COLUMNS])
                if len(batch) >= CHUNK:
                    conn.executemany(sql, batch)
                    batch.clear()
            conn.executemany(sql, batch)
        conn.execute("ANALYZE")
        conn.close()
        return
    import psycopg

    with psycopg.connect(sync_url(url).replace("+psycopg", "")) as conn:
        with conn.cursor().copy(f"COPY cases ({names}) FROM STDIN") as copy:
            for case in generate(count, shops):
                copy.write_row([case[c] for c in CASE_COLUMNS])
        conn.commit()
        conn.execute("ANALYZE")


async def build(url: str, size: int) -> tuple[Market, float, float]:
    """A fresh database of ``size`` cases: (market, seconds in all, seconds loading)."""
    settings = Settings(database_url=url)
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
    loading = time.perf_counter()
    load(url, size, market.shops)
    done = time.perf_counter()
    return market, done - started, done - loading


class SqlClock:
    """Milliseconds the database spent on one engine's statements, and how many, since the
    last reset; the last statement that read a page of cases, to explain it later."""

    def __init__(self, engine: Any) -> None:
        self.spent = 0.0
        self.count = 0
        self.page: tuple[str, Any] | None = None
        self._started = 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.spent, self.count, self.page = 0.0, 0, None

    def _before(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM cases" in statement and "LIMIT" in statement:
            self.page = (statement, parameters)
        self._started = time.perf_counter()

    def _after(self, *_: Any) -> None:
        self.spent += (time.perf_counter() - self._started) * 1000
        self.count += 1


# (what: api, console or bare; reader: operator, seller or small; page: 1 or 5)
Key = tuple[str, str, int]
# A page's (ms in all, ms in the database, statements), its case ids and its SQL
Walk = dict[int, tuple[tuple[float, float, int], list[str], tuple[str, Any] | None]]


@dataclass
class Served:
    """One size as the bench reads it: the app's client, its engine's clock, a connection of
    the same engine for the bare query."""

    market: Market
    client: httpx.AsyncClient
    clock: SqlClock
    bare: Any  # AsyncConnection
    sqlite: bool


async def _walk_api(served: Served, role: str) -> Walk:
    """Pages 1 to 5 of the API's queue, following the Link header; 1 and 5 kept."""
    headers = {"Authorization": f"Bearer {served.market.tokens[role]}"}
    target: str | None = API
    params: dict[str, Any] | None = {"kind": KIND.value, "limit": PAGE}
    found: Walk = {}
    for page in range(1, 6):
        assert target is not None
        served.clock.reset()
        start = time.perf_counter()
        response = await served.client.get(target, params=params, headers=headers)
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{role} {target}: {response.status_code} {response.text[:300]}")
        if page in (1, 5):
            ids = [case["id"] for case in response.json()]
            found[page] = (
                (elapsed, served.clock.spent, served.clock.count),
                ids,
                served.clock.page,
            )
        link = response.headers.get("link")
        target = link.split(">", 1)[0].lstrip("<") if link and 'rel="next"' in link else None
        params = None
        if target is None:
            break
    return found


async def _walk_console(served: Served, role: str) -> Walk:
    """Pages 1 to 5 of the console's list, following its next-page link; 1 and 5 kept."""
    headers = {"Cookie": f"{SESSION_COOKIE}={served.market.cookies[role]}"}
    target: str | None = f"{CONSOLE}?kind={KIND.value}"
    found: Walk = {}
    for page in range(1, 6):
        assert target is not None
        served.clock.reset()
        start = time.perf_counter()
        response = await served.client.get(target, headers=headers)
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            raise SystemExit(f"console {role} {target}: {response.status_code}")
        if page in (1, 5):
            ids = sorted(set(re.findall(r"/console/cases/(cas_[0-9A-Z]+)", response.text)))
            found[page] = (
                (elapsed, served.clock.spent, served.clock.count),
                ids,
                served.clock.page,
            )
        more = NEXT_PAGE.search(response.text)
        target = html.unescape(more.group(1)) if more else None
        if target is None:
            break
    return found


async def _walk_bare(served: Served, role: str) -> Walk:
    """Pages 1 to 5 of the same queue by the hand-written indexed query, each seeking past
    the last row of the one before; 1 and 5 kept."""
    mark = "?" if served.sqlite else "%s"
    where = [f"kind = {mark}"]
    first: list[Any] = [KIND.value]
    if role in served.market.sellers:
        where.append(f"seller_id = {mark}")
        first.append(served.market.sellers[role])
    found: Walk = {}
    after: tuple[Any, ...] | None = None
    for page in range(1, 6):
        seek = [f"(queue_rank, queue_due_at, id) > ({mark}, {mark}, {mark})"] if after else []
        sql = (
            f"SELECT * FROM cases WHERE {' AND '.join(where + seek)} "
            f"ORDER BY queue_rank, queue_due_at, id LIMIT {PAGE + 1}"
        )
        params = tuple(first) + (after or ())
        start = time.perf_counter()
        result = await served.bare.exec_driver_sql(sql, params)
        rows = result.mappings().fetchall()
        elapsed = (time.perf_counter() - start) * 1000
        await served.bare.rollback()
        if page in (1, 5):
            found[page] = ((elapsed, elapsed, 1), [r["id"] for r in rows[:PAGE]], (sql, params))
        if len(rows) <= PAGE:
            break
        last = rows[PAGE - 1]
        after = (last["queue_rank"], last["queue_due_at"], last["id"])
    return found


# The bare query first: in the first round the others' pages are checked against it.
WALKS = [
    (what, reader, walk)
    for what, walk in (("bare", _walk_bare), ("api", _walk_api), ("console", _walk_console))
    for reader in READERS
]


@dataclass
class Measured:
    medians: dict[int, dict[Key, tuple[float, float, int]]]
    plans: dict[Key, list[str]]  # at the largest size
    seen: dict[int, str]  # size -> how many cases of the kind each reader's queue holds


async def measure_all(urls: dict[int, str], markets: dict[int, Market], rounds: int) -> Measured:
    """Median ms of page 1 and page 5 of each walk at each size, and the pages' plans at the
    largest size.

    The sizes are served side by side and each walk is made at every size in turn, so
    whatever else the machine does weighs on all sizes alike.
    """
    times: dict[int, dict[Key, list[tuple[float, float, int]]]] = {n: {} for n in urls}
    statements: dict[Key, tuple[str, Any]] = {}
    largest = max(urls)
    async with AsyncExitStack() as stack:
        served: dict[int, Served] = {}
        for size, url in urls.items():
            app = create_app(Settings(database_url=url, environment="test"), clock=FrozenClock(NOW))
            await stack.enter_async_context(app.router.lifespan_context(app))
            engine = app.state.db.engine
            transport = httpx.ASGITransport(app=app)
            served[size] = Served(
                market=markets[size],
                client=await stack.enter_async_context(
                    httpx.AsyncClient(transport=transport, base_url="http://bench")
                ),
                clock=SqlClock(engine.sync_engine),
                bare=await stack.enter_async_context(engine.connect()),
                sqlite=url.startswith("sqlite"),
            )
        for round_ in range(rounds + 1):  # round 0 warms the caches and is checked, not counted
            for what, role, walk in WALKS:
                for size in urls:
                    found = await walk(served[size], role)
                    for page, (timing, ids, sql) in found.items():
                        if round_ and len(ids) == PAGE:  # a short page is no page to compare
                            times[size].setdefault((what, role, page), []).append(timing)
                        if size == largest and sql is not None and what != "console":
                            statements[(what, role, page)] = sql
                    if not round_:
                        _check(what, role, size, found)
        plans = {key: await _explain(served[largest], *sql) for key, sql in statements.items()}
        seen = {size: await _seen(one) for size, one in served.items()}
    medians = {
        size: {
            key: (
                statistics.median(t for t, _, _ in values),
                statistics.median(d for _, d, _ in values),
                max(n for _, _, n in values),
            )
            for key, values in found.items()
        }
        for size, found in times.items()
    }
    return Measured(medians, plans, seen)


async def _seen(served: Served) -> str:
    """How many cases of the kind each reader's queue holds, and how many of them working."""
    mark = "?" if served.sqlite else "%s"
    said = []
    for reader in READERS:
        seller = served.market.sellers.get(reader)
        sql = (
            "SELECT count(*), sum(CASE WHEN queue_rank = 0 THEN 1 ELSE 0 END) FROM cases "
            f"WHERE kind = {mark}" + (f" AND seller_id = {mark}" if seller else "")
        )
        result = await served.bare.exec_driver_sql(
            sql, (KIND.value, seller) if seller else (KIND.value,)
        )
        count, working = result.one()
        said.append(f"{READER_LABELS[reader]} {count:,} ({working or 0:,} working)")
    await served.bare.rollback()
    return "the queue holds: " + ", ".join(said)


_bare_ids: dict[tuple[int, str, int], list[str]] = {}


def _check(what: str, role: str, size: int, found: Walk) -> None:
    """The API's pages hold the bare query's cases in its order, the console's the same cases:
    the baseline reads the same page, and the loaded timestamps seek as the app's do."""
    for page, (_, ids, _) in found.items():
        if what == "bare":
            _bare_ids[(size, role, page)] = ids
            continue
        expected = _bare_ids[(size, role, page)]
        if ids != (expected if what == "api" else sorted(expected)):
            raise SystemExit(f"{what} {role} page {page} at {size:,}: not the bare query's page")


async def _explain(served: Served, statement: str, parameters: Any) -> list[str]:
    """The plan the engine picks for a page's statement, with the parameters it was sent."""
    if served.sqlite:
        result = await served.bare.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        depth: dict[int, int] = {0: -1}
        lines = []
        for node, parent, _, detail in result.fetchall():
            depth[node] = depth.get(parent, -1) + 1
            lines.append("  " * depth[node] + detail)
    else:
        result = await served.bare.exec_driver_sql(
            f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters
        )
        lines = [row[0] for row in result.fetchall()]
    await served.bare.rollback()
    return lines


def _pair(values: tuple[float, float, int], bare: bool) -> str:
    total, db, _ = values
    return f"{total:>8.2f}{'':>8}" if bare else f"{total:>8.2f} /{db:>5.2f}"


LABELS = {"api": "API", "console": "console", "bare": "bare SQL"}
READER_LABELS = {"operator": "operator", "seller": "seller", "small": "small seller"}


def _indexes(lines: list[str]) -> set[str]:
    """The indexes a plan reads."""
    return set(re.findall(r"(?:USING (?:COVERING )?INDEX|using) (\w+)", " ".join(lines)))


def report(name: str, sizes: list[int], measured: Measured, built: dict[int, str]) -> None:
    """Each page's medians at every size, the ratios, the aims, the plans."""
    results = measured.medians
    small, large = sizes[0], sizes[-1]
    print(
        f"\n{name}: median ms per page of the {KIND.value} queue, {PAGE} rows (API and "
        f"console: in all / of it in the database), ratio = {large:,} / {small:,}, "
        f"SQL = statements a request makes"
    )
    for size in sizes:
        print(f"  {size:,} cases: {built[size]}; {measured.seen[size]}")
    head = "".join(f"{size:>17,}" for size in sizes)
    print(f"  {'what':<10}{'reader':<14}{'page':>5}{head}{'ratio':>9}{'SQL':>5}")
    worst = 0.0
    for key in results[small]:
        what, reader, page = key
        if any(key not in results[size] for size in sizes):
            continue
        cells = "".join(_pair(results[size][key], what == "bare") for size in sizes)
        ratio = results[large][key][0] / results[small][key][0]
        if what != "bare":
            worst = max(worst, ratio)
        flag = "  <- over 1.5x" if ratio > 1.5 and what != "bare" else ""
        statements = results[large][key][2]
        print(
            f"  {LABELS[what]:<10}{READER_LABELS[reader]:<14}{page:>5}{cells}"
            f"{ratio:>8.2f}x{statements:>5}{flag}"
        )
    print("\n  the API's overhead over the bare query (API / bare, and the ms it adds):")
    print(f"  {'reader':<14}{'page':>5}" + "".join(f"{size:>22,}" for size in sizes))
    overheads: dict[int, list[float]] = {size: [] for size in sizes}
    for reader in READERS:
        for page in (1, 5):
            api, bare = ("api", reader, page), ("bare", reader, page)
            if any(api not in results[s] or bare not in results[s] for s in sizes):
                continue
            cells = ""
            for size in sizes:
                a, b = results[size][api][0], results[size][bare][0]
                overheads[size].append(a / b)
                cells += f"{a / b:>12.1f}x {a - b:>+6.2f} ms"
            print(f"  {READER_LABELS[reader]:<14}{page:>5}{cells}")
    print(
        f"\n  aim: the page at {large:,} within 1.5x of {small:,} (API and console): "
        f"worst {worst:.2f}x, {'met' if worst <= 1.5 else 'NOT met'}"
    )
    spans = ", ".join(
        f"{min(v):.1f}x to {max(v):.1f}x at {size:,}" for size, v in overheads.items() if v
    )
    print(f"  aim: the API's overhead over the bare indexed query stated: {spans}")
    plans = measured.plans
    if plans:
        print(f"\n  plans at {large:,} of the statement each page sent (the console's: the API's)")
        for (what, reader, page), lines in sorted(plans.items()):
            title = f"    {LABELS[what]} {READER_LABELS[reader]} page {page}"
            api = plans.get(("api", reader, page))
            if what == "bare" and api is not None and _indexes(lines) == _indexes(api):
                print(f"{title}: the API's index ({', '.join(sorted(_indexes(lines)))})")
                continue
            print(f"{title}:")
            for line in lines:
                print(f"      {line}")


def _pg_url(base: str, size: int) -> str:
    """A database of its own per size (``<name>_cases_<size>``), created when missing."""
    import psycopg

    head, _, name = base.rpartition("/")
    target = f"{name.split('?')[0]}_cases_{size}"
    admin = sync_url(f"{head}/postgres").replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target,)).fetchone():
            conn.execute(f'CREATE DATABASE "{target}"')
    return f"{head}/{target}"


def _schema() -> str:
    """The schema's newest migration and the cases' columns: a kept database of another
    schema is built again (a migration may be edited in place before its release)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from tuoguan.cli.main import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    return f"{head} {' '.join(CASE_COLUMNS)}"


def prepare(name: str, url: str, size: int, keep: Path) -> tuple[Market, str]:
    """Build the database of this size, or reuse the one kept from an earlier run."""
    marker = keep / f"cases-{name}-{size}.json"
    data = json.loads(marker.read_text()) if marker.exists() else {}
    if data.get("schema") == _schema():
        print(f"{name} {size:,} cases: reusing the database kept in {keep}")
        shops = [Shop(**shop) for shop in data["shops"]]
        return Market(shops, data["tokens"], data["cookies"], data["sellers"]), "kept"
    market, seconds, loading = asyncio.run(build(url, size))
    said = f"built in {seconds:.0f} s, of it {loading:.0f} s loading"
    print(f"{name} {size:,} cases {said}")
    payload = {
        "shops": [shop.__dict__ for shop in market.shops],
        "tokens": market.tokens,
        "cookies": market.cookies,
        "sellers": market.sellers,
        "schema": _schema(),
    }
    marker.write_text(json.dumps(payload))
    return market, said


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--pg", default=os.environ.get("TUOGUAN_BENCH_PG_URL"))
    parser.add_argument("--no-sqlite", action="store_true", help="Only PostgreSQL.")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--keep", type=Path, help="Keep the databases here and reuse them in later runs."
    )
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        keep: Path = args.keep or Path(tmp)
        keep.mkdir(parents=True, exist_ok=True)
        engines: list[tuple[str, Any]] = []
        if not args.no_sqlite:
            engines.append(("sqlite", lambda n: f"sqlite+aiosqlite:///{keep}/cases-{n}.db"))
        if args.pg:
            engines.append(("postgresql", lambda n: _pg_url(args.pg, n)))
        for name, url_for in engines:
            urls = {size: url_for(size) for size in sizes}
            prepared = {size: prepare(name, urls[size], size, keep) for size in sizes}
            markets = {size: market for size, (market, _) in prepared.items()}
            measured = asyncio.run(measure_all(urls, markets, args.rounds))
            report(name, sizes, measured, {size: said for size, (_, said) in prepared.items()})


if __name__ == "__main__":
    main()

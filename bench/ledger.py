"""Ledger: journal entries per second through the service, and `finance check` over a million postings.

    python bench/ledger.py [--pg URL] [--no-sqlite] [--seconds 5] [--workers 4] [--postings 1000000]

(a) Each engine (SQLite, and PostgreSQL with ``--pg`` or TUOGUAN_BENCH_PG_URL): journal
    entries of two to six postings each (a penalty: 2; a sale on commission: 3; operators'
    adjustments of 4, 5 and 6 legs), one transaction each, through ``ledger.service`` (accounts
    locked, floors checked, postings, balances and an audit event written), by ``--workers``
    concurrent writers over 50 stores, against a same-run baseline: the same entry and
    posting rows written by a driver-level executemany (``db.bulk_insert``) and a commit, on
    the same engine and pool (one-second turns in rotation, so a passing load on the machine
    falls on each alike). Reported: entries per second of each and their ratio (aim
    >= 0.4), and the ratio against a second baseline that also writes what the service adds
    (the balances' UPDATE and the audit event) without its reads and checks; the books are
    then checked.
(b) Each engine: ``--postings`` postings (entries of two or three legs over 500 stores' and
    the platform's accounts, in two currencies) bulk-loaded with balances that match, three
    balances then edited, and `finance check` (ledger.check, as the CLI runs it) must find
    exactly those three. Reported: seconds and postings per second (aim: 1 M in under 10 s).

Each run builds fresh databases (PostgreSQL: ``<name>_ledger`` beside the given one).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tuoguan.audit import service as audit  # noqa: E402
from tuoguan.cli.main import upgrade_database  # noqa: E402
from tuoguan.config import Settings  # noqa: E402
from tuoguan.context import Ctx  # noqa: E402
from tuoguan.db import Database, bulk_insert, sync_url, table_of  # noqa: E402
from tuoguan.kit.clock import FrozenClock  # noqa: E402
from tuoguan.kit.ids import new_id  # noqa: E402
from tuoguan.ledger import check, service  # noqa: E402
from tuoguan.ledger.accounts import ACCOUNTS, AccountKind, Owner  # noqa: E402
from tuoguan.ledger.kinds import EntryKind  # noqa: E402
from tuoguan.ledger.models import JournalEntry, LedgerAccount, Posting  # noqa: E402
from tuoguan.principal import Principal, Role  # noqa: E402
from tuoguan.stores import service as stores  # noqa: E402
from tuoguan.stores.models import StoreMode  # noqa: E402
from tuoguan.stores.schemas import SellerCreate, StoreCreate  # noqa: E402

NOW = datetime(2026, 11, 18, 4, tzinfo=UTC)
OPERATOR = Ctx(
    principal=Principal(role=Role.operator, actor_id="usr_bench"), clock=FrozenClock(NOW)
)
CHUNK = 20_000
ENTRY, POSTING, ACCOUNT = table_of(JournalEntry), table_of(Posting), table_of(LedgerAccount)
# Accounts an adjustment may move either way (none with a floor).
FREE = [
    AccountKind.payable,
    AccountKind.cash,
    AccountKind.revenue,
    AccountKind.commission,
    AccountKind.shipping_income,
    AccountKind.shipping_cost,
]


async def seed_stores(db: Database, count: int) -> list[str]:
    """A seller with ``count`` stores, through the stores service."""
    made = []
    async with db.write() as session:
        seller = await stores.create_seller(
            session, ctx=OPERATOR, data=SellerCreate(name="Bench", country="CN")
        )
        for n in range(count):
            store = await stores.create_store(
                session,
                ctx=OPERATOR,
                data=StoreCreate(
                    seller_id=seller.id,
                    name=f"bench {n}",
                    mode=StoreMode.semi_managed,
                    country="CN",
                    currency="CNY",
                ),
            )
            made.append(store.id)
        await session.commit()
    return made


# -- (a) entries per second --------------------------------------------------------------------


async def _for(seconds: float, workers: int, once: Callable[[int], Awaitable[None]]) -> int:
    """Run ``once(n)`` in ``workers`` concurrent loops for ``seconds``; how many ran."""
    stop = time.perf_counter() + seconds
    done = [0]

    async def loop(worker: int) -> None:
        n = worker
        while time.perf_counter() < stop:
            await once(n)
            done[0] += 1
            n += workers

    await asyncio.gather(*(loop(w) for w in range(workers)))
    return done[0]


async def entries_per_second(name: str, url: str, workers: int, seconds: float) -> bool:
    """Entries through the service against the same rows by driver-level executemany."""
    async with Database.opened(url, pool_size=workers) as db:
        store_ids = await seed_stores(db, 50)
        # Open every account an adjustment may name, and note their ids.
        async with db.write() as session:
            for store in store_ids:
                await service.post(
                    session,
                    OPERATOR,
                    EntryKind.penalty_charged,
                    currency="CNY",
                    parts={"amount": 1},
                    store_id=store,
                )
                await service.post(
                    session,
                    OPERATOR,
                    EntryKind.sale_commissioned,
                    currency="CNY",
                    parts={"net": 1, "commission": 1},
                    store_id=store,
                )
            await session.commit()
        async with db.read() as session:
            rows = (
                await session.execute(text("SELECT id, kind, store_id FROM ledger_accounts"))
            ).all()
        free = [account_id for account_id, kind, _ in rows if AccountKind(kind) in FREE]

        def legs(n: int, size: int) -> list[tuple[str, int]]:
            rng = random.Random(n)
            chosen = rng.sample(free, size)
            amounts = [rng.randint(1, 5000) * rng.choice((1, -1)) for _ in chosen[1:]]
            if not sum(amounts):
                amounts[0] += 1
            return list(zip(chosen, [-sum(amounts), *amounts], strict=True))

        def shape(n: int) -> int:
            return 2 + n % 5  # 2, 3, 4, 5, 6 postings

        async def through_service(n: int) -> None:
            size, store = shape(n), store_ids[n % len(store_ids)]
            async with db.write() as session:
                if size == 2:
                    await service.post(
                        session,
                        OPERATOR,
                        EntryKind.penalty_charged,
                        currency="CNY",
                        parts={"amount": 100 + n % 900},
                        store_id=store,
                        subject=("penalty", f"pen_{n}"),
                    )
                elif size == 3:
                    await service.post(
                        session,
                        OPERATOR,
                        EntryKind.sale_commissioned,
                        currency="CNY",
                        parts={"net": 9000, "commission": 1000},
                        store_id=store,
                        subject=("order", f"ord_{n}"),
                        idem_key=f"sale:{name}:{n}:{time.perf_counter_ns()}",
                    )
                else:
                    await service.adjust(
                        session,
                        OPERATOR,
                        [(a, amount, "CNY") for a, amount in legs(n, size)],
                        "bench correction",
                    )
                await session.commit()

        async def raw_rows(n: int, everything: bool = False) -> None:
            size = shape(n)
            entry_id = new_id("journal_entry")
            entry: dict[str, Any] = {
                "id": entry_id,
                "kind": "adjustment",
                "store_id": None,
                "currency": "CNY",
                "subject_type": "order",
                "subject_id": f"ord_{n}",
                "parts": {},
                "reverses_id": None,
                "idem_key": None,
                "memo": "bench",
                "actor_id": "usr_bench",
                "request_id": None,
                "posted_at": NOW,
            }
            postings = [
                {
                    "entry_id": entry_id,
                    "account_id": account_id,
                    "amount_minor": amount,
                    "currency": "CNY",
                    "posted_at": NOW,
                }
                for account_id, amount in legs(n, size)
            ]
            async with db.write() as session:
                await bulk_insert(session, ENTRY, [entry])
                await bulk_insert(session, POSTING, postings)
                if everything:  # and the rest of what the service writes, without its checks
                    connection = await session.connection()
                    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
                    await connection.exec_driver_sql(
                        "UPDATE ledger_accounts SET balance_minor = balance_minor + "
                        f"{mark} WHERE id = {mark}",
                        # in id order, as the service locks them: no deadlocks between writers
                        [
                            (r["amount_minor"], r["account_id"])
                            for r in sorted(postings, key=lambda r: r["account_id"])
                        ],
                    )
                    await audit.record_many(
                        session,
                        [
                            audit.event_row(
                                ctx=OPERATOR,
                                subject_type="journal_entry",
                                subject_id=entry_id,
                                action="post",
                                data={"postings": len(postings)},
                            )
                        ],
                    )
                await session.commit()

        async def raw_everything(n: int) -> None:
            await raw_rows(n, everything=True)

        await _for(1.0, workers, raw_rows)  # warm the pool and the caches
        await _for(1.0, workers, through_service)
        # One-second turns, taken in rotation, so a load that comes and goes on the machine
        # falls on each way of writing alike.
        runs = (
            ("raw executemany", raw_rows),
            ("ledger service", through_service),
            ("raw, every row", raw_everything),
        )
        counts = dict.fromkeys((label for label, _ in runs), 0)
        turns = max(1, round(seconds))
        for _ in range(turns):
            for label, once in runs:
                counts[label] += await _for(seconds / turns, workers, once)
        rates = {label: count / seconds for label, count in counts.items()}
        # The raw rows left balances behind: put them in step, then check the books.
        async with db.write() as session:
            await session.execute(
                text(
                    "UPDATE ledger_accounts SET balance_minor = (SELECT coalesce(sum(amount_minor), 0) "
                    "FROM postings WHERE postings.account_id = ledger_accounts.id)"
                )
            )
            await session.commit()
        async with db.read() as session:
            report = await check.check(session)
    ratio = rates["ledger service"] / rates["raw executemany"]
    print(
        f"\n{name}: journal entries of 2-6 postings, {workers} writers, {seconds:.0f} s each "
        "(in one-second turns)"
    )
    for label, rate in rates.items():
        print(f"  {label:<18}{rate:>10,.0f} entries/s")
    print(
        f"  ratio {ratio:.2f} against the entry and posting rows (aim >= 0.4): "
        f"{'met' if ratio >= 0.4 else 'NOT met'}; "
        f"{rates['ledger service'] / rates['raw, every row']:.2f} against every row the service "
        "writes (balances, audit event)"
    )
    print(f"  finance check after the run: {report.postings:,} postings, clean: {report.clean}")
    return ratio >= 0.4 and report.clean


# -- (b) finance check over a million postings ---------------------------------------------------


async def load(db: Database, postings: int, store_ids: list[str]) -> None:
    """About ``postings`` postings in entries of two or three legs, and the balances that match.

    Each entry credits credit-normal accounts and debits debit-normal ones, and platform cash
    takes the difference, so every floor holds (the balances' CHECK constraints apply).
    """
    rng = random.Random(7)
    accounts: list[dict[str, Any]] = [
        {
            "id": new_id("ledger_account"),
            "owner_type": spec.owner.value,
            "store_id": store,
            "kind": kind.value,
            "currency": code,
            "balance_minor": 0,
            "closed_at": None,
            "created_at": NOW,
        }
        for code in ("CNY", "USD")
        for kind, spec in ACCOUNTS.items()
        for store in (store_ids if spec.owner is Owner.store else [None])
    ]
    async with db.write() as session:
        await bulk_insert(session, ACCOUNT, accounts)
        await session.commit()
    pools = {
        code: [a for a in accounts if a["currency"] == code and a["kind"] != "cash"]
        for code in ("CNY", "USD")
    }
    cash = {a["currency"]: a for a in accounts if a["kind"] == "cash"}
    sign = {kind: 1 if spec.normal.value == "debit" else -1 for kind, spec in ACCOUNTS.items()}
    sums: dict[str, int] = defaultdict(int)
    written = 0
    while written < postings:
        entry_rows: list[dict[str, Any]] = []
        posting_rows: list[dict[str, Any]] = []
        while len(posting_rows) < CHUNK and written + len(posting_rows) < postings:
            entry_id = new_id("journal_entry")
            code = "CNY" if rng.random() < 0.8 else "USD"
            legs = [
                (account, sign[AccountKind(account["kind"])] * rng.randint(1, 10_000))
                for account in rng.sample(pools[code], 1 if rng.random() < 0.5 else 2)
            ]
            legs.append((cash[code], -sum(amount for _, amount in legs)))
            for account, amount in legs:
                if amount:
                    sums[account["id"]] += amount
                    posting_rows.append(
                        {
                            "entry_id": entry_id,
                            "account_id": account["id"],
                            "amount_minor": amount,
                            "currency": code,
                            "posted_at": NOW,
                        }
                    )
            entry_rows.append(
                {
                    "id": entry_id,
                    "kind": "adjustment",
                    "store_id": None,
                    "currency": code,
                    "subject_type": None,
                    "subject_id": None,
                    "parts": {},
                    "reverses_id": None,
                    "idem_key": None,
                    "memo": None,
                    "actor_id": "usr_bench",
                    "request_id": None,
                    "posted_at": NOW,
                }
            )
        async with db.write() as session:
            await bulk_insert(session, ENTRY, entry_rows)
            await bulk_insert(session, POSTING, posting_rows)
            await session.commit()
        written += len(posting_rows)
    async with db.write() as session:
        statement = text("UPDATE ledger_accounts SET balance_minor = :b WHERE id = :id")
        await session.execute(statement, [{"id": k, "b": v} for k, v in sums.items()])
        # Three balances leave their postings: the check must find exactly these.
        for account_id in [a["id"] for a in accounts if a["kind"] == "payable"][:3]:
            await session.execute(
                text("UPDATE ledger_accounts SET balance_minor = balance_minor + 1 WHERE id = :id"),
                {"id": account_id},
            )
        await session.commit()


async def finance_check(name: str, url: str, postings: int) -> bool:
    """Build the ledger, then time the check as `tuoguan finance check` runs it."""
    async with Database.opened(url) as db:
        store_ids = await seed_stores(db, 500)
        started = time.perf_counter()
        await load(db, postings, store_ids)
        loaded = time.perf_counter() - started
        async with db.write() as session:  # fresh planner statistics, as after a load
            await session.execute(text("ANALYZE"))
            await session.commit()
        started = time.perf_counter()
        async with db.read() as session:
            report = await check.check(session)
        seconds = time.perf_counter() - started
    print(
        f"\n{name}: finance check over {report.postings:,} postings and {report.accounts:,} "
        f"accounts (loaded in {loaded:.0f} s)"
    )
    print(
        f"  {seconds:.2f} s, {report.postings / seconds:,.0f} postings/s (aim: 1 M in < 10 s): "
        f"{'met' if seconds * 1_000_000 / max(report.postings, 1) < 10 else 'NOT met'}"
    )
    print(
        f"  differences found: {len(report.differences)} (3 planted); unbalanced entries: "
        f"{len(report.unbalanced)}; currencies off: {report.totals or 'none'}"
    )
    return len(report.differences) == 3 and not report.unbalanced and not report.totals


def _pg_url(base: str) -> str:
    """A fresh database of its own (``<name>_ledger``)."""
    import psycopg

    head, _, name = base.rpartition("/")
    target = f"{name.split('?')[0]}_ledger"
    admin = sync_url(f"{head}/postgres").replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target}"')
        conn.execute(f'CREATE DATABASE "{target}"')
    return f"{head}/{target}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("TUOGUAN_BENCH_PG_URL"))
    parser.add_argument("--no-sqlite", action="store_true", help="Only PostgreSQL.")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--postings", type=int, default=1_000_000)
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        engines = (
            [] if args.no_sqlite else [("sqlite", lambda n: f"sqlite+aiosqlite:///{tmp}/{n}.db")]
        )
        if args.pg:
            engines.append(("postgresql", lambda n: _pg_url(args.pg)))
        elif not args.no_sqlite:
            print("\n(PostgreSQL skipped: give --pg URL or TUOGUAN_BENCH_PG_URL)")
        for name, make in engines:
            url = make("entries")
            upgrade_database(Settings(database_url=url))
            ok &= asyncio.run(entries_per_second(name, url, args.workers, args.seconds))
            url = make("check")
            upgrade_database(Settings(database_url=url))
            ok &= asyncio.run(finance_check(name, url, args.postings))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

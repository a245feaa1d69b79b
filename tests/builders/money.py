"""Money builders: what the ledger holds about an object, a balance, and the books' check, read
on a connection of their own (the app may be served in another thread), and signed carrier
pushes to script a parcel's tracking."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.market import Market, as_system
from tests.builders.shipping import SANDBOX_SECRET
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.kit.signing import sign
from tuoguan.ledger import reads
from tuoguan.ledger.accounts import AccountKind
from tuoguan.ledger.check import check
from tuoguan.ledger.models import JournalEntry
from tuoguan.ledger.records import Entry
from tuoguan.shipping.money_models import CompensationPolicy

T = TypeVar("T")


def read(db_url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in a read transaction on its own connection and event loop."""

    async def run() -> T:
        async with Database.opened(db_url) as db, db.read() as session:
            return await work(session)

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


def entries(db_url: str, subject_type: str, subject_id: str) -> list[Entry]:
    """The journal entries about one object, oldest first."""
    return read(
        db_url,
        lambda s: reads.entries_of(s, subject_type=subject_type, subject_id=subject_id),
    )


def entry_count(db_url: str) -> int:
    """How many journal entries the ledger holds."""

    async def count(session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(JournalEntry)) or 0)

    return read(db_url, count)


def balance(db_url: str, kind: AccountKind, currency: str, store_id: str | None = None) -> int:
    """An account's balance on its normal side (0 before it is opened)."""
    return read(db_url, lambda s: reads.balance(s, kind=kind, currency=currency, store_id=store_id))


def assert_books_balance(db_url: str) -> None:
    """``tuoguan finance check``: every stored balance is its postings' sum, every entry and
    currency balances."""
    report = read(db_url, check)
    assert report.clean, report


def amounts(found: list[Entry]) -> list[tuple[str, int, bool]]:
    """(kind, amount, is a reversal) of each entry, for short assertions."""
    return [(e.kind.value, int(e.parts["amount"]), e.reverses_id is not None) for e in found]


def push(m: Market, tracking_number: str, *events: tuple[str, str, datetime], at: datetime) -> Any:
    """The sandbox carrier pushes ``(event id, its status code, when)`` events, signed."""
    body = {
        "events": [
            {
                "id": event_id,
                "tracking_number": tracking_number,
                "status": code,
                "time": t.isoformat(),
            }
            for event_id, code, t in events
        ]
    }
    raw = json.dumps(body).encode()
    answer = m.client.post(
        "/api/v1/carriers/sandbox/events",
        content=raw,
        headers={
            "Content-Type": "application/json",
            "Sandbox-Signature": sign(SANDBOX_SECRET, int(at.timestamp()), raw),
        },
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


# The default compensation policy the migration seeds (2026-11-28-1500_money_rules.py): any
# region, any currency, the late parcel's quoted fee back.
DEFAULT_POLICY = {
    "id": "cpo_01KB0000000000000000000000",
    "region": "*",
    "currency": "*",
    "version": 1,
    "amount_minor": 0,
    "rate_bp": 10_000,
    "effective_from": datetime(2026, 1, 1, tzinfo=UTC),
}


def seed_default_policy(db_url: str) -> None:
    """Put back the migration's default policy (the PostgreSQL tests truncate every table
    between tests, seeds included; a SQLite test's copy of the migrated file keeps it)."""

    async def seed(session: AsyncSession, _: Ctx) -> None:
        if await session.get(CompensationPolicy, DEFAULT_POLICY["id"]) is None:
            session.add(
                CompensationPolicy(
                    **DEFAULT_POLICY,
                    note="default",
                    created_at=datetime(2026, 11, 28, 15, 0, tzinfo=UTC),
                    created_by="migration",
                )
            )

    as_system(db_url, seed)

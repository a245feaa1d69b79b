"""Run a worker sweep from several processes' worth of database connections at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

from tuoguan.config import Settings
from tuoguan.db import Database
from tuoguan.kit.clock import Clock

if TYPE_CHECKING:
    from tuoguan.worker.loop import Report

Sweep = Callable[[Database, Clock, Settings], Awaitable[int]]


def race_workers(
    client: TestClient, sweep: Sweep, clock: Clock, settings: Settings, *, workers: int = 2
) -> list[int]:
    """Each worker has its own engine (as separate processes would) and drains the sweep."""

    async def run() -> list[int]:
        dbs = [Database.from_url(settings.database_url) for _ in range(workers)]
        try:

            async def drain(db: Database) -> int:
                total = 0
                while count := await sweep(db, clock, settings):
                    total += count
                return total

            return list(await asyncio.gather(*(drain(db) for db in dbs)))
        finally:
            for db in dbs:
                await db.dispose()

    assert client.portal is not None
    return client.portal.call(run)


def sweep_once(client: TestClient, clock: Clock, settings: Settings) -> Report:
    """Run every worker sweep once against the app's database; how many items each handled."""
    from tuoguan.worker.loop import run_once

    db: Database = client.app.state.db  # type: ignore[attr-defined]
    assert client.portal is not None
    return client.portal.call(run_once, db, clock, settings)


def sweep_database(db_url: str, clock: Clock, settings: Settings) -> Report:
    """Run every sweep once on its own connection (for a live server in another thread)."""
    from concurrent.futures import ThreadPoolExecutor

    from tuoguan.worker.loop import run_once

    async def run() -> Report:
        async with Database.opened(db_url) as db:
            return await run_once(db, clock, settings)

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()

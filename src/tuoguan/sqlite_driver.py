"""SQLite for the async engine without a thread hop per statement.

aiosqlite runs every cursor call on a helper thread and waits for it; on this
project's machines that costs ~0.3 ms per statement, ten times the statement
itself (bench/orders.py). SQLite is in-process and each statement takes tens
of microseconds, so tuoguan runs them inline on the event loop instead,
through the ``async_creator`` hook SQLAlchemy's aiosqlite dialect offers.

What makes blocking the loop safe here: writers in this process queue on the
Database's asyncio write gate, so the loop never sits in SQLite's busy wait
behind another writer of its own. Another *process* writing the same file
(a separate ``tuoguan worker``) can still make a statement wait, bounded by
``busy_timeout``; deployments with several processes use PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

BUSY_TIMEOUT_SECONDS = 5.0


class InlineCursor:
    """The async cursor surface SQLAlchemy's aiosqlite adapter calls, done synchronously."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(
        self, operation: str, parameters: Sequence[Any] | None = None
    ) -> InlineCursor:
        if parameters is None:
            self._cursor.execute(operation)
        else:
            self._cursor.execute(operation, parameters)
        return self

    async def executemany(self, operation: str, seq: Iterable[Sequence[Any]]) -> InlineCursor:
        self._cursor.executemany(operation, seq)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()


class InlineConnection:
    """The async connection surface of aiosqlite, run on the caller's thread."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        # SQLAlchemy's adapter checks this attribute to know the connection is open.
        self._connection: sqlite3.Connection | None = conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def execute(
        self, operation: str, parameters: Sequence[Any] | None = None
    ) -> InlineCursor:
        cursor = InlineCursor(self._conn.cursor())
        return await cursor.execute(operation, parameters)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        """Terminate (SQLAlchemy's hard close)."""
        if self._connection is not None:
            self._connection = None
            self._conn.close()


def creator(path: str, *, uri: bool = False):  # type: ignore[no-untyped-def]
    """An ``async_creator`` for create_async_engine: opens the file in autocommit-off-by-hand mode."""

    async def connect() -> InlineConnection:
        conn = sqlite3.connect(
            path,
            uri=uri,
            timeout=BUSY_TIMEOUT_SECONDS,
            isolation_level=None,
            check_same_thread=False,
            detect_types=0,
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
        return InlineConnection(conn)

    return connect

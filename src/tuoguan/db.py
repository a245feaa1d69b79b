"""Engine and session factories (nothing is built at import), Base and naming convention."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    MetaData,
    Table,
    TypeDecorator,
    bindparam,
    event,
    insert,
    make_url,
)
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite(url: str) -> bool:
    """Whether a database URL points at SQLite."""
    return url.startswith("sqlite")


def normalize_url(url: str) -> str:
    """Map plain driver names to the async drivers tuoguan uses."""
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def sync_url(url: str) -> str:
    """The synchronous twin of an async URL (for Alembic and raw tools)."""
    url = normalize_url(url)
    return url.replace("sqlite+aiosqlite", "sqlite+pysqlite")


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """Create an async engine; SQLite gets WAL, foreign keys and explicit BEGIN IMMEDIATE."""
    url = normalize_url(url)
    if is_sqlite(url):
        from tuoguan.sqlite_driver import creator

        parsed = make_url(url)
        engine = create_async_engine(
            url,
            echo=echo,
            async_creator=creator(parsed.database or ":memory:"),
            pool_size=pool_size,
            max_overflow=pool_size,
        )
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    # The driver connects with isolation_level=None, so SQLAlchemy, not sqlite3, decides
    # when a transaction begins: write transactions take the lock up front.
    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


@dataclass
class Database:
    """An engine with its session factory and the in-process writer gate.

    SQLite admits one writer at a time and its busy handler sleeps with
    back-off, which gives long latency tails under concurrency. Writers in
    this process therefore queue on a fair asyncio lock and then take the
    database lock at once with BEGIN IMMEDIATE. PostgreSQL needs no gate.
    """

    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    _write_gate: asyncio.Lock | None = field(default=None)

    @classmethod
    def from_url(cls, url: str, *, pool_size: int = 10) -> Database:
        """Build the engine and session factory for a URL."""
        url = normalize_url(url)
        engine = make_engine(url, pool_size=pool_size)
        sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        return cls(url=url, engine=engine, sessions=sessions)

    @classmethod
    @asynccontextmanager
    async def opened(cls, url: str, *, pool_size: int = 10) -> AsyncIterator[Database]:
        """A database for the length of a block (CLI commands, scripts); disposed at the end."""
        db = cls.from_url(url, pool_size=pool_size)
        try:
            yield db
        finally:
            await db.dispose()

    @property
    def sqlite(self) -> bool:
        """Whether this is the embedded SQLite engine."""
        return is_sqlite(self.url)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; rolled back at the end."""
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session for one write transaction; the caller commits."""
        if not self.sqlite:
            async with self.sessions() as session:
                yield session
            return
        if self._write_gate is None:
            self._write_gate = asyncio.Lock()
        async with self._write_gate, self.sessions() as session:
            conn = await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            assert conn is not None
            yield session

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored in UTC on every engine (SQLite keeps none)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused; attach a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def table_of(model: type[Base]) -> Table:
    """A model's Core table, for bulk statements that skip the ORM's per-row bookkeeping."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


async def bulk_insert(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows with one driver-level executemany.

    Each column's bind processor (the same conversions SQLAlchemy applies:
    UTC datetimes, JSON, enums) runs once per value, and the rows go to the
    DBAPI cursor as they are: a sweep's batch costs about what the driver
    costs, not SQLAlchemy's per-row bookkeeping. Same SQL, same types, same
    transaction as ``session.execute(insert(table), rows)``.
    """
    if not rows:
        return
    connection = await session.connection()
    dialect = connection.dialect
    names = tuple(rows[0])
    sql, processors, order = _bulk_statement(table, names, dialect)
    converted = [
        tuple(
            processor(row[name]) if processor else row[name]
            for name, processor in zip(names, processors, strict=True)
        )
        for row in rows
    ]
    if order is not None:
        params: list[Any] = [tuple(values[i] for i in order) for values in converted]
    else:
        params = [dict(zip(names, values, strict=True)) for values in converted]
    await connection.exec_driver_sql(sql, params)


# (table, columns, dialect class, paramstyle) -> (SQL, bind processors, positional order):
# compiled once, since a use case that writes a row at a time (a ledger entry) calls this often.
_BULK_STATEMENTS: dict[tuple[Any, ...], tuple[str, list[Any], list[int] | None]] = {}


def _bulk_statement(
    table: Table, names: tuple[str, ...], dialect: Dialect
) -> tuple[str, list[Any], list[int] | None]:
    key = (table, names, type(dialect), dialect.paramstyle)
    found = _BULK_STATEMENTS.get(key)
    if found is None:
        columns = [table.c[name] for name in names]
        compiled = (
            insert(table)
            .values({c.key: bindparam(c.key) for c in columns})
            .compile(dialect=dialect)
        )
        processors = [_bulk_processor(c.type, dialect) for c in columns]
        order = (
            [names.index(key) for key in compiled.positiontup or ()]
            if compiled.positional
            else None
        )
        found = _BULK_STATEMENTS[key] = (compiled.string, processors, order)
    return found


def _bulk_processor(type_: Any, dialect: Dialect) -> Any:
    """A column type's bind conversion; psycopg adapts JSON itself when SQLAlchemy does not."""
    # The dialect's own type: a TypeDecorator's processor alone leaves SQLite's datetimes to
    # the driver, which drops ".000000" and so breaks text comparisons with bound instants.
    processor = type_.dialect_impl(dialect).bind_processor(dialect)
    if processor is None and isinstance(type_, JSON) and dialect.name == "postgresql":
        from psycopg.types.json import Json

        return Json
    return processor

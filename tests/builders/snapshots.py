"""Test databases made fast: emptied with a DELETE of the tables that hold rows, and the seeded
market copied in from a snapshot instead of built through the API for every test.

Emptying: a TRUNCATE of every table makes and syncs new files for each table and index (68
tables: from 0.2 s on a quiet machine to 2 s on a busy one, per PostgreSQL test); deleting the
few rows a test wrote takes a few milliseconds, with the same result (sequences restarted too).

The market: the first test of each module that asks for ``market`` (or ``live_market``) builds it
through the API as before, and every row of its database is kept; every later test of that
module with the same engine, settings and clock reading gets those rows in place of its fresh
database's (the migrations' seeds, on SQLite), and the same ids and tokens. A snapshot holds the
database only: a build that writes files (uploads, exports) is not kept, and a database that is
not as fresh as the one the snapshot came from (a fixture before wrote rows) builds its own.
TUOGUAN_TEST_MARKET_SNAPSHOTS=0 builds every market through the API.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from tests.builders.market import Market
from tuoguan.config import Settings
from tuoguan.kit.clock import Clock, FrozenClock
from tuoguan.tables import metadata

_PROBE = " UNION ALL ".join(
    f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")" for t in metadata.sorted_tables
)
_COUNTS = " UNION ALL ".join(
    f"SELECT '{t.name}', COUNT(*) FROM \"{t.name}\"" for t in metadata.sorted_tables
)
_SEQUENCES = (
    "SELECT sequencename, last_value FROM pg_sequences "
    "WHERE schemaname = 'public' AND last_value IS NOT NULL"
)


def _sqlite_path(url: str) -> str | None:
    return url.split("///", 1)[1] if url.startswith("sqlite") else None


def _holding_rows(conn: Any) -> list[str]:
    """The tables that hold a row, in dependency order (works on a psycopg or sqlite3 conn)."""
    return [str(row[0]) for row in conn.execute(_PROBE).fetchall()]


def _counts(conn: Any) -> dict[str, int]:
    """How many rows each table holds that holds any."""
    return {str(name): int(n) for name, n in conn.execute(_COUNTS).fetchall() if n}


def empty_postgresql(url: str) -> None:
    """Delete every row and restart the sequences (what TRUNCATE ... RESTART IDENTITY did)."""
    with psycopg.connect(url, autocommit=True) as conn:
        # The ledger's tables refuse a DELETE (a trigger): a test's reset is not the app.
        # The replica role fires no triggers, foreign-key checks included.
        conn.execute("SET session_replication_role = replica")
        with conn.transaction():
            for name in _holding_rows(conn):
                conn.execute(f'DELETE FROM "{name}"')
            for sequence, _ in conn.execute(_SEQUENCES).fetchall():
                conn.execute(f'ALTER SEQUENCE "{sequence}" RESTART')


@dataclass
class _Rows:
    """A database's rows: per table, COPY text (PostgreSQL) or tuples (SQLite); where its
    sequences stood; and the row counts of the fresh database they were made from."""

    tables: list[tuple[str, Any]]
    sequences: list[tuple[str, int]]
    fresh: dict[str, int]


def _fresh_counts(url: str) -> dict[str, int]:
    path = _sqlite_path(url)
    if path is None:
        with psycopg.connect(url) as conn:
            return _counts(conn)
    conn = sqlite3.connect(path, timeout=10)
    try:
        return _counts(conn)
    finally:
        conn.close()


def _capture(url: str, fresh: dict[str, int]) -> _Rows:
    path = _sqlite_path(url)
    if path is None:
        with psycopg.connect(url) as conn:
            tables = []
            for name in _holding_rows(conn):
                with conn.cursor().copy(f'COPY "{name}" TO STDOUT') as out:
                    tables.append((name, b"".join(bytes(chunk) for chunk in out)))
            sequences = [(str(s), int(v)) for s, v in conn.execute(_SEQUENCES).fetchall()]
        return _Rows(tables, sequences, fresh)
    conn = sqlite3.connect(path, timeout=10)
    try:
        rows = [(n, conn.execute(f'SELECT * FROM "{n}"').fetchall()) for n in _holding_rows(conn)]
        counted = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")
        counters = (
            conn.execute("SELECT name, seq FROM sqlite_sequence").fetchall()
            if counted.fetchone()
            else []
        )
    finally:
        conn.close()
    return _Rows(rows, [(str(n), int(s)) for n, s in counters], fresh)


def _restore(url: str, rows: _Rows) -> bool:
    """Replace the rows of a fresh database (the migrations' seeds, on SQLite) with these;
    False, with nothing done, when the database is not as fresh as the one they came from."""
    path = _sqlite_path(url)
    if path is None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET session_replication_role = replica")
            with conn.transaction():
                found = _counts(conn)
                if found != rows.fresh:
                    return False
                for name in found:
                    conn.execute(f'DELETE FROM "{name}"')
                for name, data in rows.tables:
                    with conn.cursor().copy(f'COPY "{name}" FROM STDIN') as into:
                        into.write(data)
                for sequence, value in rows.sequences:
                    conn.execute("SELECT setval(%s, %s, true)", (f'"{sequence}"', value))
        return True
    conn = sqlite3.connect(path, timeout=10, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        found = _counts(conn)
        if found != rows.fresh:
            conn.execute("ROLLBACK")
            return False
        # This connection leaves foreign keys off (SQLite's default): no cascade, any order.
        for name in found:
            conn.execute(f'DELETE FROM "{name}"')
        for name, table in rows.tables:
            marks = ", ".join("?" * len(table[0]))
            conn.executemany(f'INSERT INTO "{name}" VALUES ({marks})', table)
        if rows.sequences:
            conn.execute("DELETE FROM sqlite_sequence")
            conn.executemany(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", rows.sequences
            )
        conn.execute("COMMIT")
    except sqlite3.DatabaseError:  # a seeded table that refuses a DELETE: build it instead
        conn.execute("ROLLBACK")
        return False
    finally:
        conn.close()
    return True


def _files(settings: Settings) -> set[tuple[str, float]]:
    """The files under the folders the app writes to, with their times."""
    found: set[tuple[str, float]] = set()
    for folder in (settings.export_dir, settings.upload_dir):
        for root, _, names in os.walk(folder):
            for name in names:
                path = os.path.join(root, name)
                found.add((path, os.stat(path).st_mtime))
    return found


@dataclass
class _Snapshot:
    fields: dict[str, Any]  # the Market's ids and tokens, all but its client and database
    rows: _Rows


# Per worker process: (module, kind, engine, settings, clock reading) -> snapshot, or None
# where a build cannot be kept.
_SNAPSHOTS: dict[tuple[str, ...], _Snapshot | None] = {}


def _key(
    request: pytest.FixtureRequest, kind: str, db_url: str, settings: Settings, clock: Clock
) -> tuple[str, ...] | None:
    if not isinstance(clock, FrozenClock):
        return None
    own = str(request.getfixturevalue("tmp_path"))
    values = {
        name: (value.get_secret_value() if hasattr(value, "get_secret_value") else value)
        for name, value in settings.model_dump(exclude={"database_url"}).items()
    }
    described = repr(sorted(values.items())).replace(own, "<tmp_path>")
    engine = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    return (str(request.path), kind, engine, described, clock.now().isoformat())


def seeded_market(
    request: pytest.FixtureRequest,
    kind: str,
    build: Callable[[], Market],
    *,
    client: Any,
    db_url: str,
    settings: Settings,
    clock: Clock,
) -> Market:
    """The module's market for this test: copied from its snapshot, or built (and kept)."""
    if os.environ.get("TUOGUAN_TEST_MARKET_SNAPSHOTS") == "0":  # to rule them out
        return build()
    key = _key(request, kind, db_url, settings, clock)
    kept = _SNAPSHOTS.get(key) if key is not None else None
    if kept is not None and _restore(db_url, kept.rows):
        return Market(client=client, db_url=db_url, **copy.deepcopy(kept.fields))
    if key is None or key in _SNAPSHOTS:
        return build()
    fresh, files = _fresh_counts(db_url), _files(settings)
    market = build()
    if _files(settings) != files:
        _SNAPSHOTS[key] = None
        return market
    fields = {
        f.name: copy.deepcopy(getattr(market, f.name))
        for f in dataclasses.fields(Market)
        if f.init and f.name not in ("client", "db_url")
    }
    _SNAPSHOTS[key] = _Snapshot(fields=fields, rows=_capture(db_url, fresh))
    return market

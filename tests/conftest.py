"""Fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is opt-in locally (set TUOGUAN_TEST_PG_URL) and required on CI
(CI=true without the URL fails the run instead of skipping).
"""

from __future__ import annotations

import os

# The CLI's Rich tables wrap at the terminal's width, which a test run has none of (80 columns),
# and pytest-xdist's temporary paths are longer: give the tests a wide one before anything
# builds a console.
os.environ["COLUMNS"] = "200"
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from fastapi.testclient import TestClient

from tests.builders.market import Market
from tests.builders.shipping import SANDBOX_API_KEY, SANDBOX_SECRET, SandboxHandle
from tuoguan.api.app import create_app
from tuoguan.cli.main import upgrade_database
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.shipping.carriers.sandbox_server import Sandbox, create_sandbox_app
from tuoguan.tables import metadata


def _own_database(url: str | None, worker: str | None) -> str | None:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own (``<name>_gw0``…),
    created on first use, so workers never truncate each other's tables."""
    if url is None or worker is None:
        return url
    base, _, name = url.rpartition("/")
    own = f"{name}_{worker}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (own,)).fetchone()
        if found is None:
            admin.execute(f'CREATE DATABASE "{own}"')
    return f"{base}/{own}"


PG_URL = _own_database(
    os.environ.get("TUOGUAN_TEST_PG_URL"), os.environ.get("PYTEST_XDIST_WORKER")
)
ON_CI = os.environ.get("CI", "").lower() == "true"
START = datetime(2026, 11, 18, 1, 0, tzinfo=UTC)  # a Wednesday, 09:00 in Shanghai


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ON_CI and not PG_URL:
        raise pytest.UsageError("CI=true needs TUOGUAN_TEST_PG_URL: PostgreSQL is required on CI")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_database(Settings(database_url=f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_migrated() -> str:
    """The PostgreSQL test database, migrated once per run."""
    assert PG_URL
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    upgrade_database(Settings(database_url=PG_URL))
    return PG_URL


def _truncate(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with psycopg.connect(url, autocommit=True) as conn:
        # The ledger's tables refuse a TRUNCATE (a trigger): a test's reset is not the app.
        conn.execute("SET session_replication_role = replica")
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A clean, migrated database URL of each engine."""
    if request.param == "sqlite":
        target = tmp_path / "tuoguan.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite+aiosqlite:///{target}"
    if not PG_URL:
        pytest.skip("PostgreSQL is opt-in locally: set TUOGUAN_TEST_PG_URL")
    url: str = request.getfixturevalue("pg_migrated")
    _truncate(url)
    return url


@pytest.fixture
def clock() -> FrozenClock:
    """A frozen clock at a known Wednesday morning."""
    return FrozenClock(START)


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Test settings; the sandbox carrier and webhook receivers listen on 127.0.0.1, which the
    outbound guard refuses unless allowed (tests of the refusal use the default, empty list)."""
    return Settings(
        database_url=db_url, environment="test", db_pool_size=5, outbound_allow="127.0.0.1"
    )


@pytest.fixture
def client(settings: Settings, clock: FrozenClock) -> Iterator[TestClient]:
    """The whole app in-process, with its lifespan (database) running."""
    app = create_app(settings, clock=clock)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def market(client: TestClient, db_url: str) -> Market:
    """A small marketplace: an operator, two sellers, stores in every mode, active products."""
    return Market.build(client, db_url)


@contextmanager
def _serving(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port, in a thread; yield its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture
def live_server(settings: Settings, clock: FrozenClock) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in a thread; yields its base URL."""
    with _serving(create_app(settings, clock=clock)) as url:
        yield url


@pytest.fixture
def sandbox_carrier(live_server: str, clock: FrozenClock) -> Iterator[SandboxHandle]:
    """The sandbox carrier as its own HTTP service on the test clock, pushing to the live server."""
    sandbox = Sandbox(
        clock,
        api_key=SANDBOX_API_KEY,
        secret=SANDBOX_SECRET,
        push_url=f"{live_server}/api/v1/carriers/sandbox/events",
    )
    with _serving(create_sandbox_app(sandbox)) as url:
        yield SandboxHandle(url=url, sandbox=sandbox)


@pytest.fixture
def live_market(live_server: str, db_url: str) -> Iterator[Market]:
    """The seeded marketplace, reached over real HTTP."""
    with httpx.Client(base_url=live_server, timeout=30) as http:
        yield Market.build(http, db_url)

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
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from tests.builders.market import Market
from tests.builders.shipping import SANDBOX_API_KEY, SANDBOX_SECRET, SandboxHandle
from tests.builders.snapshots import empty_postgresql, seeded_market
from tuoguan.accounts import service as accounts_service
from tuoguan.api.app import create_app
from tuoguan.cli.main import upgrade_database
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.shipping.carriers.sandbox_server import Sandbox, create_sandbox_app


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


PG_URL = _own_database(os.environ.get("TUOGUAN_TEST_PG_URL"), os.environ.get("PYTEST_XDIST_WORKER"))
ON_CI = os.environ.get("CI", "").lower() == "true"
START = datetime(2026, 11, 18, 1, 0, tzinfo=UTC)  # a Wednesday, 09:00 in Shanghai


# Files long for their number of tests: about how many seconds each took on one worker of a
# busy three-worker run (both engines). Under `--dist loadfile` pytest-xdist hands out the files
# with the most tests first, which left these (one to four tests each, or slow ones) for the end
# of the run, where the other workers sat idle waiting on them; the workers take them first
# instead, longest first, and the rest in xdist's order (by number of tests). Only the order
# matters: refresh the figures from `pytest --durations=0` when a file grows long.
LONG_FILES = {
    "tests/api/test_schema_fuzz.py": 260,
    "tests/api/test_schema_fuzz_writes.py": 240,
    "tests/web/test_console_walk.py": 210,
    "tests/integration/test_readme.py": 110,
    "tests/api/test_money_attacks.py": 100,
    "tests/integration/test_cli.py": 80,
    "tests/integration/test_order_machine.py": 80,
    "tests/web/test_fulfilment_browser.py": 80,
    "tests/integration/test_stock_ledger.py": 70,
    "tests/api/test_role_views.py": 60,
    "tests/web/test_order_page.py": 60,
    "tests/integration/test_heavy_requests.py": 50,
    "tests/integration/test_list_plans.py": 50,
    "tests/web/test_browser.py": 50,
    "tests/web/test_shipment_pages.py": 45,
    "tests/integration/test_delivery_compensation.py": 43,
    "tests/integration/test_shipments.py": 41,
}


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False  # the workers' own order (below) is kept


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ON_CI and not PG_URL:
        raise pytest.UsageError("CI=true needs TUOGUAN_TEST_PG_URL: PostgreSQL is required on CI")
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: the long files go out first
        files: dict[str, list[pytest.Item]] = {}
        for item in items:
            files.setdefault(item.nodeid.split("::")[0], []).append(item)
        ranked = sorted(files.items(), key=lambda file: -_weight(*file))
        items[:] = [item for _, tests in ranked for item in tests]


def _weight(path: str, tests: list[pytest.Item]) -> float:
    """How early a file goes out: its time if it is known to be long; a file of browser tests
    as a long one (Chromium and a live server each); any other by its number of tests."""
    if path in LONG_FILES:
        return LONG_FILES[path]
    if any(test.get_closest_marker("browser") for test in tests):
        return max(60, len(tests))
    return len(tests)


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashes() -> Iterator[None]:
    """Console passwords hashed with argon2's cheapest parameters: at the production cost
    (64 MiB, about 0.3 s a hash or a check, on purpose) the console tests spent minutes hashing.
    What they prove (who signs in, throttles, sessions) does not depend on the cost, and the
    check of a stored hash reads its parameters from the hash (Django's tests do the same).
    An unknown e-mail is still checked against a hash of the same cost as a known one's."""
    quick = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts_service, "_hasher", quick)
        patch.setattr(accounts_service, "_DUMMY_HASH", quick.hash("tuoguan-dummy-password"))
        yield


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
    """Every table emptied and every sequence restarted (tests/builders/snapshots.py: a DELETE
    of the few tables a test wrote, many times quicker than a TRUNCATE of them all)."""
    empty_postgresql(url)


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
def market(
    request: pytest.FixtureRequest,
    client: TestClient,
    db_url: str,
    settings: Settings,
    clock: FrozenClock,
) -> Market:
    """A small marketplace: an operator, two sellers, stores in every mode, active products
    (built through the API once per module, then copied: tests/builders/snapshots.py)."""
    return seeded_market(
        request,
        "market",
        lambda: Market.build(client, db_url),
        client=client,
        db_url=db_url,
        settings=settings,
        clock=clock,
    )


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
def live_market(
    request: pytest.FixtureRequest,
    live_server: str,
    db_url: str,
    settings: Settings,
    clock: FrozenClock,
) -> Iterator[Market]:
    """The seeded marketplace, reached over real HTTP (built once per module, then copied)."""
    with httpx.Client(base_url=live_server, timeout=30) as http:
        yield seeded_market(
            request,
            "live_market",
            lambda: Market.build(http, db_url),
            client=http,
            db_url=db_url,
            settings=settings,
            clock=clock,
        )

"""The console's sign-in throttle over HTTP: delays, lock, per account and per address, shared
between processes through the database or Redis (issue 10, finding 4).

Every test runs on SQLite and PostgreSQL, each with the throttle in the database and in Redis.
E-mails and client addresses are random, because Redis keeps its keys between runs.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from tests.builders.market import PASSWORD, create_console_user
from tests.conftest import _serving
from tests.web.test_console_http import _csrf
from tuoguan.api.app import create_app
from tuoguan.config import Settings
from tuoguan.db import sync_url
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role

REDIS_URL = os.environ.get("TUOGUAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ON_CI = os.environ.get("CI", "").lower() == "true"
WRONG = "Guess-7f3a-not-it"


def _redis_url() -> str:
    """The test Redis: skipped locally when it is not running, required on CI."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except (redis.exceptions.RedisError, OSError) as exc:
        if ON_CI:
            pytest.fail(f"CI=true needs Redis at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis is not running at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture(params=["database", "redis"])
def settings(request: pytest.FixtureRequest, db_url: str) -> Settings:
    """The app's settings, with the throttle in the database or in Redis."""
    redis_url = _redis_url() if request.param == "redis" else None
    return Settings(database_url=db_url, environment="test", db_pool_size=5, redis_url=redis_url)


def _email() -> str:
    return f"u{secrets.token_hex(6)}@example.com"


def _address() -> str:
    return "10." + ".".join(str(random.randrange(1, 255)) for _ in range(3))


@contextmanager
def console(
    settings: Settings, clock: FrozenClock, *, address: str | None = None, **overrides: Any
) -> Iterator[TestClient]:
    """One app instance (one process, as far as the throttle knows), seen from ``address``."""
    app = create_app(settings.model_copy(update=overrides), clock=clock)
    with TestClient(app, client=(address or _address(), 50000)) as client:
        yield client


def _attempt(
    client: TestClient | httpx.Client, email: str, password: str, **headers: str
) -> httpx.Response:
    page = client.get("/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf": _csrf(page.text)},
        headers=headers,
        follow_redirects=False,
    )


def _rows(db_url: str, sql: str) -> list[Any]:
    engine = create_engine(sync_url(db_url))
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)))
    finally:
        engine.dispose()


def _fail_until_locked(
    client: TestClient, clock: FrozenClock, email: str, *, free: int = 5, lock_after: int = 20
) -> list[int]:
    """Wrong passwords until the lock, waiting out each delay; the Retry-After values seen."""
    assert [_attempt(client, email, WRONG).status_code for _ in range(free)] == [401] * free
    waits = []
    for _ in range(lock_after - free):
        # While a key must wait, even the right password is refused before it is checked.
        refused = _attempt(client, email, PASSWORD)
        assert refused.status_code == 429, refused.text
        waits.append(int(refused.headers["retry-after"]))
        clock.advance(timedelta(seconds=waits[-1]))
        assert _attempt(client, email, WRONG).status_code == 401
    return waits


def test_wrong_passwords_wait_longer_each_time_then_lock_even_the_right_one(
    settings: Settings, clock: FrozenClock
) -> None:
    email = _email()
    create_console_user(settings.database_url, email, Role.operator)
    with console(settings, clock) as client:
        waits = _fail_until_locked(client, clock, email)
        assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60, 60, 60, 60]

        locked = _attempt(client, email, PASSWORD)
        assert locked.status_code == 429 and locked.headers["retry-after"] == "900"
        assert "尝试次数过多，请 15 分钟后再试" in locked.text and "900" not in locked.text
        clock.advance(timedelta(minutes=14))
        still = _attempt(client, email, PASSWORD, **{"Accept-Language": "en"})
        assert still.status_code == 429 and still.headers["retry-after"] == "60"
        assert "Too many attempts. Try again in a minute." in still.text

        clock.advance(timedelta(minutes=1))
        assert _attempt(client, email, PASSWORD).status_code == 303


def test_a_lock_is_audited_once_per_key_and_never_holds_the_password(
    settings: Settings, clock: FrozenClock
) -> None:
    email, unknown = _email(), _email()
    create_console_user(settings.database_url, email, Role.operator)
    short = {
        "login_free_failures": 2,
        "login_lock_after": 4,
        "login_address_free_failures": 2,
        "login_address_lock_after": 4,
    }
    with console(settings, clock, **short) as client:
        _fail_until_locked(client, clock, email, free=2, lock_after=4)
        for _ in range(3):
            assert _attempt(client, email, WRONG).status_code == 429
    with console(settings, clock, **short) as client:
        _fail_until_locked(client, clock, unknown, free=2, lock_after=4)

    (user_id,) = _rows(settings.database_url, f"SELECT id FROM users WHERE email = '{email}'")[0]
    events = _rows(
        settings.database_url,
        "SELECT subject_type, subject_id, actor_role, data FROM events"
        " WHERE action = 'login_locked' ORDER BY seq",
    )
    # One event per locked key (the account and the address, twice), none per failure.
    scopes = [(e.subject_type, _data(e.data)["scope"]) for e in events]
    assert scopes == [
        ("user", "account"),
        ("login", "address"),
        ("login", "account"),
        ("login", "address"),
    ]
    assert user_id in {e.subject_id for e in events}
    assert all(e.actor_role == "system" and _data(e.data)["failures"] == 4 for e in events)
    stored = json.dumps([list(e) for e in events], default=str)
    assert WRONG not in stored and PASSWORD not in stored and unknown not in stored
    throttle = _rows(settings.database_url, "SELECT * FROM login_throttle")
    throttle = json.dumps([list(r) for r in throttle], default=str)
    assert email not in throttle and unknown not in throttle


def _data(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else json.loads(value)


def test_one_address_guessing_at_many_accounts_is_slowed_down(
    settings: Settings, clock: FrozenClock
) -> None:
    victim = _email()
    create_console_user(settings.database_url, victim, Role.operator)
    with console(settings, clock) as guesser:
        # An address gets more attempts than an account (an office shares one), then waits.
        for _ in range(settings.login_address_free_failures):
            assert _attempt(guesser, _email(), WRONG).status_code == 401
        refused = _attempt(guesser, victim, PASSWORD)
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        assert "请 1 秒后再试" in refused.text
    # The account itself was never guessed at: its owner, elsewhere, signs in.
    with console(settings, clock) as owner:
        assert _attempt(owner, victim, PASSWORD).status_code == 303


def test_a_success_resets_the_account(settings: Settings, clock: FrozenClock) -> None:
    email = _email()
    create_console_user(settings.database_url, email, Role.operator)
    # Behind a trusted proxy each attempt comes from its own address, so only the account counts.
    # The proxy appends what it saw; what the client put first is not believed.
    with console(settings, clock, address="127.0.0.1", trusted_proxies="127.0.0.0/8") as client:

        def attempt(password: str) -> int:
            forwarded = {"X-Forwarded-For": f"203.0.113.66, {_address()}"}
            return _attempt(client, email, password, **forwarded).status_code

        assert [attempt(WRONG) for _ in range(4)] == [401] * 4
        assert attempt(PASSWORD) == 303
        assert [attempt(WRONG) for _ in range(5)] == [401] * 5
        assert attempt(WRONG) == 429


def test_a_client_cannot_pick_its_address_without_a_trusted_proxy(
    settings: Settings, clock: FrozenClock
) -> None:
    with console(settings, clock, login_address_free_failures=5) as client:
        for host in range(1, 6):
            forwarded = {"X-Forwarded-For": f"198.51.100.{host}"}
            assert _attempt(client, _email(), WRONG, **forwarded).status_code == 401
        forwarded = {"X-Forwarded-For": "198.51.100.77"}
        assert _attempt(client, _email(), WRONG, **forwarded).status_code == 429


def test_two_app_instances_on_one_database_share_the_count(
    settings: Settings, clock: FrozenClock
) -> None:
    email, address = _email(), _address()
    create_console_user(settings.database_url, email, Role.operator)
    with (
        console(settings, clock, address=address) as one,
        console(settings, clock, address=address) as two,
    ):
        for client in (one, two, one, two, one):
            assert _attempt(client, email, WRONG).status_code == 401
        assert _attempt(two, email, PASSWORD).status_code == 429
        assert _attempt(one, email, PASSWORD).status_code == 429
    rows = _rows(settings.database_url, "SELECT count(*) FROM login_throttle")[0][0]
    # Redis holds the count when it is configured; the database otherwise.
    assert (rows == 0) == bool(settings.redis_url)


def test_a_burst_of_parallel_guesses_gets_no_more_than_the_free_attempts(
    settings: Settings, clock: FrozenClock
) -> None:
    email = _email()
    create_console_user(settings.database_url, email, Role.operator)
    # A real server, so the guesses really run at once; the loopback proxy names the address.
    app = create_app(settings.model_copy(update={"trusted_proxies": "127.0.0.1"}), clock=clock)
    forwarded = {"X-Forwarded-For": _address()}
    with _serving(app) as url:
        clients = [httpx.Client(base_url=url, timeout=30, headers=forwarded) for _ in range(12)]
        tokens = [_csrf(http.get("/login").text) for http in clients]
        start = threading.Barrier(len(clients))

        def guess(http: httpx.Client, token: str) -> int:
            start.wait()
            data = {"email": email, "password": WRONG, "csrf": token}
            return http.post("/login", data=data, follow_redirects=False).status_code

        with ThreadPoolExecutor(max_workers=len(clients)) as pool:
            codes = sorted(pool.map(guess, clients, tokens))
        for http in clients:
            http.close()
    # Charged before the password is checked: five go through at once, the rest must wait.
    assert codes == [401] * 5 + [429] * 7


def test_sign_in_is_refused_not_left_open_when_redis_is_down(
    settings: Settings, clock: FrozenClock
) -> None:
    email = _email()
    create_console_user(settings.database_url, email, Role.operator)
    with console(settings, clock, redis_url="redis://127.0.0.1:1/0") as client:
        refused = _attempt(client, email, PASSWORD)
        assert refused.status_code == 503 and refused.headers["retry-after"] == "30"
        assert "登录暂时不可用" in refused.text
        assert client.get("/console/orders", follow_redirects=False).status_code == 303


def test_colleagues_behind_one_address_sign_in_after_someone_mistyped(
    settings: Settings, clock: FrozenClock
) -> None:
    # Everyone in one office comes from the same address: one person's mistakes, and the
    # others' successes, must not make the next colleague wait.
    office = _address()
    colleagues = [_email() for _ in range(4)]
    for email in colleagues:
        create_console_user(settings.database_url, email, Role.operator)
    with console(settings, clock, address=office) as client:
        for _ in range(9):
            assert _attempt(client, _email(), WRONG).status_code == 401
        for email in colleagues:
            assert _attempt(client, email, PASSWORD).status_code == 303

"""Console sessions last a span of real time: moving the demo clock ends nobody's sign-in."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.builders.market import create_console_user
from tests.web.test_console_http import _login
from tuoguan.api.app import create_app
from tuoguan.cli.main import app as cli
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock, SystemClock
from tuoguan.principal import Role

runner = CliRunner()


def _signed_in(client: TestClient) -> bool:
    page = client.get("/console/orders", follow_redirects=False)
    assert page.status_code in (200, 303), page.text
    return page.status_code == 200


def test_a_console_login_survives_clock_advance(
    db_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an app on the wall clock (as `make run` serves it) and an operator signed in
    monkeypatch.setenv("TUOGUAN_DATABASE_URL", db_url)
    monkeypatch.delenv("TUOGUAN_ENVIRONMENT", raising=False)
    create_console_user(db_url, "op@example.com", Role.operator)
    clock = SystemClock()
    with TestClient(create_app(settings, clock=clock)) as client:
        assert _login(client, "op@example.com") == 303
        assert _signed_in(client)
        # when someone moves the demo clock a month on from the command line
        moved = runner.invoke(cli, ["clock", "advance", "30d"])
        assert moved.exit_code == 0, moved.output
        waited = time.monotonic() + 10
        while clock.offset < timedelta(days=30) and time.monotonic() < waited:
            time.sleep(0.05)
        # then the server follows the new time, and the operator is still signed in
        assert clock.now() - datetime.now(UTC) > timedelta(days=29, hours=23)
        assert _signed_in(client)
        # and a sign-in while time is shifted lasts its hours too, when time comes back
        client.cookies.clear()
        assert _login(client, "op@example.com") == 303
        assert runner.invoke(cli, ["clock", "reset"]).exit_code == 0
        waited = time.monotonic() + 10
        while clock.offset and time.monotonic() < waited:
            time.sleep(0.05)
        assert clock.offset == timedelta(0)
        assert _signed_in(client)


def test_a_console_session_still_ends_after_its_hours(
    client: TestClient, db_url: str, clock: FrozenClock, settings: Settings
) -> None:
    # given an operator signed in, in a world whose time a test moves
    create_console_user(db_url, "op@example.com", Role.operator)
    assert _login(client, "op@example.com") == 303
    clock.advance(timedelta(hours=settings.session_hours) - timedelta(minutes=1))
    assert _signed_in(client)
    # when the session's hours have passed, then the console asks to sign in again
    clock.advance(timedelta(minutes=1))
    assert not _signed_in(client)
    assert client.get("/console/orders", follow_redirects=False).headers["location"] == "/login"

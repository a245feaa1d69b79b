"""The demo marketplace: from the first start, the at-risk, breaches and penalties lists have
something to show, for the operator and for each demo seller, without moving the clock
(O2, F1, F6, G5)."""

from __future__ import annotations

import asyncio
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.market import as_system, auth, issue_token
from tuoguan.accounts.models import User
from tuoguan.api.app import create_app
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.demo import load as demo
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role

API = "/api/v1"
# More moments to load the demo at. What differs between them is the business calendars, not
# the database, so these run on SQLite: the Saturday of China's National Day week, when no CN
# business day is near, and a Sunday evening in Europe.
MOMENTS = {
    "golden-week": datetime(2026, 10, 3, 12, 0, tzinfo=UTC),
    "sunday-evening": datetime(2026, 11, 22, 20, 0, tzinfo=UTC),
}


def _load(settings: Settings, clock: FrozenClock) -> list[demo.DemoLogin]:
    async def run() -> list[demo.DemoLogin]:
        async with Database.opened(settings.database_url) as db:
            return await demo.load(db, clock, settings)

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


def _seller_token(db_url: str, email: str) -> str:
    async def seller_of(session: AsyncSession, _: Ctx) -> str | None:
        return await session.scalar(select(User.seller_id).where(User.email == email))

    seller_id = as_system(db_url, seller_of)
    assert seller_id, email
    return issue_token(db_url, Role.seller, seller_id=seller_id)


def _list(client: TestClient, path: str, token: str) -> list[dict[str, Any]]:
    response = client.get(f"{API}{path}", headers=auth(token))
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


def _every_list_has_data(
    client: TestClient, db_url: str, logins: list[demo.DemoLogin], now: datetime
) -> dict[str, str]:
    """The operator's and each seller's lists; returns the sellers' tokens by e-mail."""
    # the operator sees at-risk orders, some overdue and some still running, breaches of both
    # kinds and penalties
    operator = issue_token(db_url, Role.operator)
    risky = _list(client, "/at-risk", operator)
    assert any(r["seconds_left"] < 0 for r in risky), "no overdue order is at risk"
    assert any(r["seconds_left"] > 0 and r["warn"] for r in risky), "no order is nearly due"
    breaches = _list(client, "/breaches", operator)
    assert {b["kind"] for b in breaches} == {"confirm_late", "ship_late"}
    assert _list(client, "/penalties", operator)
    # R3, G4, G6: a receiving exception waiting for its seller, one decided, a buyer's
    # dispute, and a buyer's return awaiting the platform's authorization
    found = {(c["kind"], c["state"]) for c in _list(client, "/cases", operator)}
    assert found == {
        ("receiving_exception", "awaiting_seller"),
        ("receiving_exception", "decided"),
        ("dispute", "awaiting_seller"),
        ("after_sale", "return_requested"),
    }
    # and each demo seller sees its own, with a penalty it may still appeal
    tokens = {}
    for login in logins:
        if login.role != "seller":
            continue
        token = tokens[login.email] = _seller_token(db_url, login.email)
        assert _list(client, "/at-risk", token), login.email
        assert _list(client, "/breaches", token), login.email
        penalties = _list(client, "/penalties", token)
        open_to_appeal = [p for p in penalties if "appeal" in p["allowed_actions"]]
        assert open_to_appeal, login.email
        for penalty in open_to_appeal:
            assert datetime.fromisoformat(penalty["appeal_by"]) > now + timedelta(days=6)
    return tokens


def test_after_a_demo_load_every_deadline_list_has_data(
    client: TestClient, db_url: str, settings: Settings, clock: FrozenClock
) -> None:
    # given the demo loaded on a Wednesday morning, and nobody moving the clock after
    logins = _load(settings, clock)
    # then every list has something to show, to the operator and to each seller
    tokens = _every_list_has_data(client, db_url, logins, clock.now())
    # and the seller of the README was warned before a deadline, told of the missed ones, and
    # can appeal a fine
    shenzhen = tokens["shenzhen@demo.tuoguan"]
    kinds = {n["kind"] for n in _list(client, "/notifications", shenzhen)}
    assert {"at_risk", "confirm_late", "ship_late"} <= kinds
    penalty = _list(client, "/penalties", shenzhen)[0]
    appealed = client.post(
        f"{API}/penalties/{penalty['id']}/appeal",
        json={"reason": "the courier missed the pickup"},
        headers=auth(shenzhen),
    )
    assert appealed.status_code == 200, appealed.text
    assert appealed.json()["status"] == "appealed"


@pytest.mark.parametrize("moment", MOMENTS.values(), ids=MOMENTS.keys())
def test_the_demo_finds_its_deadlines_whatever_the_calendar(
    sqlite_template: Path, tmp_path: Path, moment: datetime
) -> None:
    # given the demo loaded at a moment of holidays or a weekend
    target = tmp_path / "demo.db"
    shutil.copy(sqlite_template, target)
    url = f"sqlite+aiosqlite:///{target}"
    settings = Settings(database_url=url, environment="test", db_pool_size=5)
    clock = FrozenClock(moment)
    logins = _load(settings, clock)
    # then every list still has something to show
    with TestClient(create_app(settings, clock=clock)) as client:
        _every_list_has_data(client, url, logins, moment)

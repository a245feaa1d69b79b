"""The demo's business-info reviews (S1, S2): one approved after a rejection and a correction,
one still waiting past its typical time, which the worker flags."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.market import Market, as_system
from tests.builders.reviews import perfume_rule
from tests.builders.workers import sweep_once
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.demo import reviews as demo
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Principal, Role


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        environment="test",
        db_pool_size=5,
        upload_dir=str(tmp_path / "uploads"),
    )


def test_the_demo_approves_one_review_and_leaves_one_stuck(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # S1 S2
    m = market
    perfume_rule(m.db_url)

    def seller(name: str) -> Ctx:
        who = Principal(role=Role.seller, actor_id=f"usr_{name}", seller_id=m.sellers[name])
        return Ctx(principal=who, clock=clock, settings=settings)

    operator = Ctx(
        principal=Principal(role=Role.operator, actor_id="usr_op"), clock=clock, settings=settings
    )

    async def load(session: AsyncSession, _: Ctx) -> None:
        await demo.business_reviews(
            session,
            clock=clock,
            operator=operator,
            approved=(seller("a"), m.stores["a_full"]),
            joining=(seller("b"), m.stores["b_full"]),
        )

    as_system(m.db_url, load)
    a = m.ok(m.get(f"/stores/{m.stores['a_full']}/business-review", m.seller_tokens["a"]))
    assert (a["status"], a["round"]) == ("approved", 2)
    rounds = m.ok(m.get(f"/business-reviews/{a['id']}/rounds", m.operator))
    assert [d["decision"] for d in rounds[1]["decisions"]] == ["approve", "reject"]
    # the documents were kept through the storage and are served by their links
    for document in a["documents"]:
        assert client.get(document["url"]).status_code == 200
    b = m.ok(m.get(f"/stores/{m.stores['b_full']}/business-review", m.seller_tokens["b"]))
    assert (b["status"], b["stage"], b["stuck"]) == ("under_review", "background", True)
    assert sweep_once(client, clock, settings)["flag_stuck_reviews"] == 1

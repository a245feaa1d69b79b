"""The console's at-risk page (G5): the API's order, a page at a time, time left in words."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from tests.builders.market import Market, create_console_user
from tests.builders.workers import sweep_once
from tests.conftest import START
from tests.web.test_console_http import _login
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role


def _listed(html: str) -> list[str]:
    return re.findall(r'<tr data-order="([^"]+)">', html)


def test_the_at_risk_page_pages_in_the_apis_order_for_operators_and_sellers(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # G5
    m = market
    create_console_user(m.db_url, "op@example.com", Role.operator)
    create_console_user(m.db_url, "b@example.com", Role.seller, m.sellers["b"])
    for _ in range(50):
        m.place("a_semi")
    clock.advance(timedelta(hours=2))
    late_comer = m.place("b_semi")["id"]
    clock.current = START + timedelta(hours=36)
    sweep_once(client, clock, settings)
    api = [r["order_id"] for r in m.ok(m.get("/at-risk", m.operator, params={"limit": 500}))]
    assert len(api) == 51 and api[-1] == late_comer  # less of its window is gone

    assert _login(client, "op@example.com") == 303
    client.cookies.set("tg_lang", "en")
    first = client.get("/console/at-risk")
    assert first.status_code == 200 and _listed(first.text) == api[:50]
    # 2026-11-19 13:00 UTC; the ship deadline is 23:59:59 in Madrid, 22:59:59 UTC.
    assert "9 h 59 min" in first.text and "55 · medium" in first.text
    assert "deadline is gone and the work is not done" in first.text
    next_url = re.search(r'<a href="([^"]+)" data-testid="next-page">', first.text)
    assert next_url is not None
    second = client.get(next_url.group(1).replace("&amp;", "&"))
    assert _listed(second.text) == api[50:] and 'data-testid="next-page"' not in second.text
    client.cookies.set("tg_lang", "zh-CN")
    chinese = client.get("/console/at-risk").text
    client.cookies.set("tg_lang", "en")
    assert "9小时59分钟" in chinese and "下一页" in chinese
    bad = client.get("/console/at-risk?cursor=junk", follow_redirects=False)
    assert bad.status_code == 303 and bad.headers["location"] == "/console/at-risk"

    assert _login(client, "b@example.com") == 303
    client.cookies.set("tg_lang", "en")
    own = client.get("/console/at-risk").text
    assert _listed(own) == [late_comer] and 'data-testid="next-page"' not in own

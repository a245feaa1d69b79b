"""Console pages for at-risk orders, breaches, penalties with appeals, policy versions (F6, G5)."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from tests.builders.market import Market, create_console_user
from tests.builders.workers import sweep_once
from tests.web.test_console_http import _csrf, _login
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role

TIERS = "0,24,5,1\n24,72,10%,3\n72,,30,6"  # the fine in percent of the order total


def _operator_adds_policy(client: TestClient) -> None:
    page = client.get("/console/policies")
    form = {"csrf": _csrf(page.text), "kind": "ship_late", "tiers": TIERS, "note": "standard"}
    assert client.post("/console/policies", data=form, follow_redirects=False).status_code == 303


def test_an_operator_adds_a_policy_and_a_bad_one_is_refused_with_its_rule(
    client: TestClient, market: Market
) -> None:  # F6
    create_console_user(market.db_url, "op@example.com", Role.operator)
    assert _login(client, "op@example.com") == 303
    _operator_adds_policy(client)
    page = client.get("/console/policies").text
    assert "version 1" in page and "in force" in page and "72 hours and more" in page
    assert "10%" in page
    overlap = {"csrf": _csrf(page), "kind": "ship_late", "tiers": "0,24,5,1\n12,,9,2"}
    refused = client.post("/console/policies", data=overlap)
    assert refused.status_code == 422
    assert "Line 2: overlaps the tier before" in refused.text
    junk = client.post("/console/policies", data={**overlap, "tiers": "zero,ten"})
    assert junk.status_code == 422 and "Line 1: four values a line" in junk.text
    assert client.get("/console/policies").text.count("data-policy=") == 1


def test_a_seller_sees_risk_and_breaches_then_appeals_and_the_operator_waives(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # F6 G5
    m = market
    create_console_user(m.db_url, "op@example.com", Role.operator)
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    create_console_user(m.db_url, "b@example.com", Role.seller, m.sellers["b"])
    assert _login(client, "op@example.com") == 303
    _operator_adds_policy(client)
    order = m.place("a_semi")
    placed, ship_by = (datetime.fromisoformat(order[k]) for k in ("placed_at", "ship_by"))
    clock.current = placed + (ship_by - placed) * 0.8
    sweep_once(client, clock, settings)  # the at-risk list shows the scores the sweep stored

    assert _login(client, "a@example.com") == 303
    risky = client.get("/console/at-risk").text
    assert order["id"] in risky and "deadline is gone and the work is not done" in risky
    assert 'data-countdown="' in risky
    clock.current = ship_by + timedelta(hours=73)
    sweep_once(client, clock, settings)
    assert _login(client, "a@example.com") == 303  # three days on, the console session expired
    assert order["id"] in client.get("/console/breaches").text
    page = client.get("/console/penalties").text
    assert "Rating: 94" in page and "Appeal by" in page
    pid = page.split('data-penalty="')[1].split('"')[0]
    forged = client.post(f"/console/penalties/{pid}/appeal", data={"csrf": "x", "reason": "r"})
    assert forged.status_code == 403
    appealed = client.post(
        f"/console/penalties/{pid}/appeal",
        data={"csrf": _csrf(page), "reason": "typhoon closed the warehouse"},
        follow_redirects=False,
    )
    assert appealed.status_code == 303

    assert _login(client, "b@example.com") == 303
    other = client.get("/console/penalties")
    assert pid not in other.text and order["id"] not in client.get("/console/breaches").text
    stolen = client.post(
        f"/console/penalties/{pid}/appeal", data={"csrf": _csrf(other.text), "reason": "x"}
    )
    assert stolen.status_code == 404

    assert _login(client, "op@example.com") == 303
    queue = client.get("/console/penalties", params={"status": "appealed"}).text
    assert "typhoon closed the warehouse" in queue and "Waive" in queue
    waived = client.post(
        f"/console/penalties/{pid}/waive",
        data={"csrf": _csrf(queue), "reason": "typhoon confirmed"},
        follow_redirects=False,
    )
    assert waived.status_code == 303
    assert _login(client, "a@example.com") == 303
    assert "Rating: 100" in client.get("/console/penalties").text

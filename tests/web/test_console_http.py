"""The console over plain HTTP: sessions, CSRF, scoping, actions (O5, G7)."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from tests.builders.market import PASSWORD, Market, create_console_user
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role
from tuoguan.worker.loop import run_once


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def _login(client: TestClient, email: str, password: str = PASSWORD) -> int:
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"email": email, "password": password, "csrf": _csrf(page.text)},
        follow_redirects=False,
    )
    return r.status_code


def test_login_needs_the_right_password_and_csrf(client: TestClient, market: Market) -> None:
    create_console_user(market.db_url, "a@example.com", Role.seller, market.sellers["a"])
    assert client.get("/console/orders", follow_redirects=False).headers["location"] == "/login"
    assert _login(client, "a@example.com", "wrong-password") == 401
    assert _login(client, "nobody@example.com") == 401
    client.get("/login")
    r = client.post(
        "/login",
        data={"email": "a@example.com", "password": PASSWORD, "csrf": "forged"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert _login(client, "a@example.com") == 303
    assert client.get("/console/orders").status_code == 200


def test_seller_sees_only_own_orders_with_deadlines(
    client: TestClient, market: Market
) -> None:  # O5
    m = market
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    mine = m.place("a_full")
    theirs = m.place("b_full")
    assert _login(client, "a@example.com") == 303
    page = client.get("/console/orders").text
    assert mine["id"] in page and theirs["id"] not in page
    assert 'data-countdown="' in page and "Confirm by" in page
    assert client.get(f"/console/orders/{theirs['id']}").status_code == 404
    r = client.post(f"/console/orders/{theirs['id']}/confirm", data={"csrf": _csrf(page)})
    assert r.status_code == 404
    assert m.ok(m.get(f"/orders/{theirs['id']}", m.operator))["status"] == "awaiting_confirmation"


def test_actions_need_the_session_csrf_token(client: TestClient, market: Market) -> None:
    m = market
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    order = m.place("a_full")
    assert _login(client, "a@example.com") == 303
    r = client.post(f"/console/orders/{order['id']}/confirm", data={"csrf": "forged"})
    assert r.status_code == 403
    assert m.ok(m.get(f"/orders/{order['id']}", m.operator))["status"] == "awaiting_confirmation"
    page = client.get(f"/console/orders/{order['id']}").text
    r = client.post(f"/console/orders/{order['id']}/confirm", data={"csrf": _csrf(page)})
    assert r.status_code == 200 and "awaiting_shipment" in r.text
    bad = client.post(
        f"/console/orders/{order['id']}/ship",
        data={"csrf": _csrf(page), "carrier_code": "cainiao", "tracking_number": "bad"},
    )
    assert bad.status_code == 422 and "A tracking number has 8–30 letters or digits." in bad.text
    assert m.ok(m.get(f"/orders/{order['id']}", m.operator))["status"] == "awaiting_shipment"


def test_console_speaks_chinese_and_english(client: TestClient, market: Market) -> None:
    create_console_user(market.db_url, "zh@example.com", Role.operator, locale="zh-CN")
    market.place("a_full")
    assert _login(client, "zh@example.com") == 303
    assert "待确认接单" in client.get("/console/orders").text
    client.get("/lang/en")
    assert "Awaiting confirmation" in client.get("/console/orders").text


def test_logout_ends_the_session(client: TestClient, market: Market) -> None:
    create_console_user(market.db_url, "a@example.com", Role.seller, market.sellers["a"])
    assert _login(client, "a@example.com") == 303
    page = client.get("/console/orders").text
    client.post("/logout", data={"csrf": _csrf(page)})
    assert client.get("/console/orders", follow_redirects=False).status_code == 303


def test_order_list_filters_survive_the_all_option(
    client: TestClient, market: Market
) -> None:  # O5
    create_console_user(market.db_url, "op@example.com", Role.operator)
    full = market.place("a_full")
    semi = market.place("a_semi")
    assert _login(client, "op@example.com") == 303
    everything = client.get("/console/orders", params={"status": "", "sort": "newest"})
    assert everything.status_code == 200
    assert full["id"] in everything.text and semi["id"] in everything.text
    waiting = client.get("/console/orders", params={"status": "awaiting_confirmation"}).text
    assert full["id"] in waiting and semi["id"] not in waiting
    assert (
        client.get("/console/orders", params={"status": "lost", "sort": "sideways"}).status_code
        == 200
    )


def test_seller_exports_own_orders_from_the_console(
    client: TestClient, market: Market
) -> None:  # O5
    create_console_user(market.db_url, "a@example.com", Role.seller, market.sellers["a"])
    mine = market.place("a_semi")
    theirs = market.place("b_semi")
    assert client.get("/console/orders.csv", follow_redirects=False).status_code == 303
    assert _login(client, "a@example.com") == 303
    r = client.get("/console/orders.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert mine["id"] in r.text and theirs["id"] not in r.text
    assert "ship_by" in r.text.splitlines()[0]


def test_missed_deadlines_show_in_the_list_and_the_inbox(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # O2
    create_console_user(market.db_url, "a@example.com", Role.seller, market.sellers["a"])
    order = market.place("a_full")
    clock.advance(timedelta(hours=25))
    assert client.portal is not None
    client.portal.call(run_once, client.app.state.db, clock, settings)  # type: ignore[attr-defined]
    assert _login(client, "a@example.com") == 303
    page = client.get("/console/orders").text
    assert 'data-testid="missed"' in page
    inbox = client.get("/console/notifications").text
    assert order["id"] in inbox and "Not confirmed in time" in inbox


def test_long_lists_go_on_to_the_next_page(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # O2, O5
    create_console_user(market.db_url, "a@example.com", Role.seller, market.sellers["a"])
    for _ in range(101):
        market.place("a_full")
    clock.advance(timedelta(hours=25))
    assert client.portal is not None
    client.portal.call(run_once, client.app.state.db, clock, settings)  # type: ignore[attr-defined]
    assert _login(client, "a@example.com") == 303
    row = 'href="/console/orders/ord_'  # one per breach, and per breach notification
    for path in ("/console/breaches", "/console/notifications"):
        first = client.get(path).text
        link = re.search(r'<a href="([^"]+)">Next page', first)
        assert link and first.count(row) == 100, path
        second = client.get(link.group(1).replace("&amp;", "&")).text
        assert second.count(row) == 1 and "Next page" not in second, path
        bogus = client.get(f"{path}?cursor=not-ours", follow_redirects=False)
        assert (bogus.status_code, bogus.headers["location"]) == (303, path)


def test_finished_orders_are_listed_newest_first_under_the_default_sort(
    client: TestClient, market: Market
) -> None:  # O5
    m = market
    create_console_user(m.db_url, "op@example.com", Role.operator)
    older, newer = m.place("a_full"), m.place("a_full")
    waiting = m.place("a_full")
    for order in (older, newer):
        m.ok(m.post(f"/orders/{order['id']}/cancel", m.channel, {"reason": "changed my mind"}))
    assert _login(client, "op@example.com") == 303
    # cancelled orders have no deadline running: the list is newest first, and says so
    for params in ({"status": "cancelled"}, {"status": "cancelled", "sort": "deadline"}):
        page = client.get("/console/orders", params=params).text
        assert "No orders" not in page, params
        assert page.index(newer["id"]) < page.index(older["id"]) and waiting["id"] not in page
        assert '<option value="newest" selected>' in page
    # a status with a deadline running keeps the deadline order
    page = client.get("/console/orders", params={"status": "awaiting_confirmation"}).text
    assert waiting["id"] in page and '<option value="deadline" selected>' in page

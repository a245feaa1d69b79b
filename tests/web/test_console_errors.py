"""The console answers a wrong address, a form's address opened as a page, an unreadable request
and a server failure with its own page in the reader's language, while /api/v1 keeps
problem+json (issue 13, G7)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.builders.market import Market, auth, create_console_user
from tests.web.test_console_http import _login
from tuoguan.api.app import create_app
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role

LANGS = ["zh-CN", "en"]
NOT_FOUND = {"zh-CN": "找不到这个页面", "en": "Page not found"}
METHOD = {"zh-CN": "这个地址不能这样打开", "en": "This address cannot be opened this way"}
INPUT = {"zh-CN": "无法读取这个请求", "en": "This request cannot be read"}
SERVER = {"zh-CN": "系统出错了", "en": "Something went wrong on our side"}


def _console_page(response: object, status: int, lang: str, heading: str) -> str:
    from httpx import Response

    assert isinstance(response, Response)
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert f'<html lang="{lang}">' in html
    assert f"<h1>{heading}</h1>" in html, html
    assert f'data-status="{status}"' in html
    # nothing of the API's answer: no problem type, no English detail, no JSON
    for leak in ("urn:tuoguan", "Not Found", "Method Not Allowed", '"detail"', "Internal error"):
        assert leak not in html, leak
    return html


def _sign_in(client: TestClient, market: Market, lang: str) -> None:
    create_console_user(market.db_url, "a@example.com", Role.seller, market.sellers["a"], lang)
    client.cookies.clear()  # signing in sets the language of the seller's account
    assert _login(client, "a@example.com") == 303


@pytest.mark.parametrize("lang", LANGS)
def test_an_unknown_console_address_shows_the_consoles_404_page(
    client: TestClient, market: Market, lang: str
) -> None:
    client.cookies.set("tg_lang", lang)
    # signed out: the page offers to sign in
    for path in ("/console/nope", "/nope", "/console/orders/x/y/z", "/login/extra"):
        html = _console_page(client.get(path), 404, lang, NOT_FOUND[lang])
        assert 'href="/login"' in html and 'action="/logout"' not in html
    _sign_in(client, market, lang)
    html = _console_page(client.get("/console/nope"), 404, lang, NOT_FOUND[lang])
    # signed in: the menu and a way back to the start
    assert 'href="/console/orders"' in html and 'action="/logout"' in html


@pytest.mark.parametrize("lang", LANGS)
def test_an_unknown_order_shows_the_consoles_404_page(
    client: TestClient, market: Market, lang: str
) -> None:
    _sign_in(client, market, lang)
    _console_page(client.get("/console/orders/does-not-exist"), 404, lang, NOT_FOUND[lang])
    # another seller's order is not found either, and says nothing of it
    other = market.place("b_self")
    html = _console_page(client.get(f"/console/orders/{other['id']}"), 404, lang, NOT_FOUND[lang])
    assert other["id"] not in html


@pytest.mark.parametrize("lang", LANGS)
def test_opening_a_forms_address_goes_to_the_page_the_form_is_on(
    client: TestClient, market: Market, lang: str
) -> None:
    _sign_in(client, market, lang)
    order = market.place("a_self")
    for posted, shown in (
        (f"/console/orders/{order['id']}/cancel", f"/console/orders/{order['id']}"),
        ("/console/logistics/rules", "/console/logistics"),
        ("/console/logistics/rules/rr_1/delete", "/console/logistics"),
        ("/console/penalties/pen_1/appeal", "/console/penalties"),
        ("/logout", "/"),
    ):
        opened = client.get(posted, follow_redirects=False)
        assert (opened.status_code, opened.headers.get("location")) == (303, shown), posted
        assert client.get(posted).status_code == 200, posted  # and that page shows
    # the reload of a refused cancellation lands on the order, in the reader's language
    page = client.get(f"/console/orders/{order['id']}/cancel")
    assert str(page.url).endswith(f"/console/orders/{order['id']}")
    assert f'<html lang="{lang}">' in page.text
    # a method no console page takes, e.g. from a script: the page, with the methods it allows
    put = client.put("/console/orders")
    _console_page(put, 405, lang, METHOD[lang])
    assert "GET" in put.headers["allow"]


@pytest.mark.parametrize("lang", LANGS)
def test_a_request_the_console_cannot_read_gets_its_page(
    client: TestClient, market: Market, lang: str
) -> None:
    _sign_in(client, market, lang)
    too_long = client.get("/console/notifications", params={"cursor": "x" * 501})
    _console_page(too_long, 422, lang, INPUT[lang])
    # a sign-in form without its fields
    client.cookies.clear()
    client.cookies.set("tg_lang", lang)
    _console_page(client.post("/login", data={}), 422, lang, INPUT[lang])


@pytest.mark.parametrize("lang", LANGS)
def test_a_server_failure_in_the_console_shows_a_page_with_a_reference(
    settings: Settings, clock: FrozenClock, lang: str
) -> None:
    app = create_app(settings, clock=clock)

    async def broken() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/console/broken", broken)
    app.add_api_route("/api/v1/broken", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.cookies.set("tg_lang", lang)
        failed = client.get("/console/broken", headers={"X-Request-ID": "req-1234"})
        html = _console_page(failed, 500, lang, SERVER[lang])
        assert 'data-testid="reference">req-1234<' in html and "boom" not in html
        api = client.get("/api/v1/broken", headers={"X-Request-ID": "req-5678"})
    assert api.status_code == 500
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["request_id"] == "req-5678"


def test_the_api_keeps_problem_json(client: TestClient, market: Market) -> None:
    client.cookies.set("tg_lang", "en")
    operator = auth(market.operator)
    for response, status in (
        (client.get("/api/v1/nope"), 404),
        (client.get("/api/v1/orders/does-not-exist", headers=operator), 404),
        (client.get("/api/v1/orders/does-not-exist"), 401),
        (client.put("/api/v1/orders"), 405),
        (client.get("/api/v1/orders", params={"limit": "many"}, headers=operator), 422),
    ):
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == status
    # a static file that is not there is no console page either
    assert client.get("/static/nope.css").status_code == 404
    assert "<html" not in client.get("/static/nope.css").text

"""Console hardening: CSP and framing headers on every response, logout only with the session's
CSRF token, a Secure login CSRF cookie behind HTTPS (issue 10, finding 9)."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.builders.market import Market, create_console_user
from tests.builders.shipping import SandboxHandle, connect_sandbox, ship
from tests.web.test_console_http import _csrf, _login
from tuoguan.api.app import create_app
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role

WEB = Path(__file__).resolve().parents[2] / "src" / "tuoguan" / "web"
STRICT = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _assert_hardened(response: httpx.Response, csp: str = STRICT) -> None:
    assert response.headers.get("content-security-policy") == csp, response.request.url
    assert response.headers.get("x-frame-options") == "DENY"
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("referrer-policy") == "same-origin"


def test_console_api_and_static_responses_carry_the_security_headers(
    client: TestClient, market: Market
) -> None:
    create_console_user(market.db_url, "op@example.com", Role.operator)
    _assert_hardened(client.get("/login"))
    assert _login(client, "op@example.com") == 303
    for path in ("/console/orders", "/console/notifications", "/static/console.js"):
        response = client.get(path)
        assert response.status_code == 200
        _assert_hardened(response)
    _assert_hardened(client.get("/static/console.css"))
    _assert_hardened(client.get("/console/orders/ord_missing"))
    _assert_hardened(client.get("/api/v1/orders"))  # 401 problem+json
    listed = market.get("/orders", market.operator)
    assert listed.status_code == 200
    _assert_hardened(listed)
    _assert_hardened(client.get("/api/v1/openapi.json"))
    _assert_hardened(client.get("/nowhere"))
    # One person's pages and data are never kept by a cache (Back after sign-out shows nothing);
    # static files may be.
    for response in (client.get("/console/orders"), listed, client.get("/login")):
        assert response.headers.get("cache-control") == "no-store"
    assert client.get("/static/console.css").headers.get("cache-control") != "no-store"
    # The API's docs load only from this server (issue 13): Swagger UI may run the one inline
    # start it has, named by its hash; ReDoc may apply inline styles and start its search
    # worker. Neither may be framed.
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    script = re.search(r"<script>(.*?)</script>", docs.text, re.S)
    assert script
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    _assert_hardened(
        docs,
        csp=(
            f"default-src 'self'; script-src 'self' 'sha256-{digest}'; style-src 'self'; "
            "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'"
        ),
    )
    _assert_hardened(
        client.get("/api/v1/redoc"),
        csp=(
            "default-src 'self'; script-src 'self'; worker-src 'self' blob:; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        ),
    )
    # the docs' scripts and styles are static files: they may be cached, the pages may not
    assert docs.headers.get("cache-control") == "no-store"
    bundle = client.get("/static/api-docs/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and bundle.headers.get("cache-control") != "no-store"


def test_a_label_pdf_may_be_shown_by_the_browser_but_not_framed(
    live_market: Market, sandbox_carrier: SandboxHandle, live_server: str
) -> None:  # F8
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    order = m.place("a_self")
    shipment = ship(m, order["id"], m.seller_tokens["a"])
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    with httpx.Client(base_url=live_server, timeout=30) as browser:
        assert _login(browser, "a@example.com") == 303
        label = browser.get(f"/console/shipments/{shipment['id']}/label.pdf")
    assert label.status_code == 200 and label.content.startswith(b"%PDF")
    # Chrome's PDF viewer needs object-src and inline styles (crbug.com/271452).
    _assert_hardened(label, csp="frame-ancestors 'none'")


def test_a_forged_logout_keeps_the_session(client: TestClient, market: Market) -> None:
    create_console_user(market.db_url, "a@example.com", Role.seller, market.sellers["a"])
    assert _login(client, "a@example.com") == 303
    for form in ({"csrf": "forged"}, {}):
        forged = client.post("/logout", data=form, follow_redirects=False)
        assert forged.status_code == 403
        assert "tg_session" not in forged.headers.get("set-cookie", "")
        assert client.get("/console/orders", follow_redirects=False).status_code == 200
    page = client.get("/console/orders").text
    done = client.post("/logout", data={"csrf": _csrf(page)}, follow_redirects=False)
    assert done.status_code == 303 and 'tg_session=""' in done.headers["set-cookie"]
    assert client.get("/console/orders", follow_redirects=False).status_code == 303


def test_the_login_csrf_cookie_is_secure_behind_https(
    settings: Settings, clock: FrozenClock
) -> None:
    secure = settings.model_copy(update={"secure_cookies": True})
    with TestClient(create_app(secure, clock=clock), base_url="https://testserver") as client:
        cookie = client.get("/login").headers["set-cookie"]
    assert cookie.startswith("tg_login_csrf=") and "; Secure" in cookie
    with TestClient(create_app(settings, clock=clock)) as client:
        assert "Secure" not in client.get("/login").headers["set-cookie"]


INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "inline style block": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


@pytest.mark.parametrize("path", sorted((WEB / "templates").glob("*.html")), ids=lambda p: p.name)
def test_templates_hold_no_inline_script_or_style(path: Path) -> None:
    text = path.read_text()
    found = [name for name, pattern in INLINE.items() if pattern.search(text)]
    assert not found, f"{path.name}: {found} (the console's CSP blocks them; use /static)"

"""The API's documentation pages work with no internet: Swagger UI and ReDoc come from this
server, and the pages ask no other host for anything (issue 13: the CDN is often blocked in
mainland China). The pages read no data, so one server on SQLite serves the whole module."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import _serving
from tuoguan.api.app import create_app
from tuoguan.config import Settings

CHROMIUM = os.environ.get("TUOGUAN_CHROMIUM", "/usr/bin/chromium")
# Any absolute URL naming a host: a page of ours may only point at paths on this server.
HOSTED = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+""")


@pytest.fixture(scope="module")
def docs_server(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    target = tmp_path_factory.mktemp("docs") / "tuoguan.db"
    shutil.copy(sqlite_template, target)
    settings = Settings(database_url=f"sqlite+aiosqlite:///{target}", environment="test")
    with _serving(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def http(docs_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=docs_server, timeout=60) as client:
        yield client


@pytest.mark.parametrize("path", ["/api/v1/docs", "/api/v1/redoc"])
def test_the_docs_pages_name_no_other_host(http: httpx.Client, path: str) -> None:
    page = http.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert HOSTED.findall(page.text) == []
    linked = re.findall(r"""(?:src|href|spec-url)="([^"]+)\"""", page.text)
    assert len(linked) >= 3, linked  # the script, the favicon, the OpenAPI document
    for asset in linked:
        assert asset.startswith("/"), asset
        assert http.get(asset).status_code == 200, asset
    assert 'rel="shortcut icon" href="/static/favicon.svg"' in page.text
    policy = dict(
        (part.strip().split(" ", 1) + [""])[:2]
        for part in page.headers["content-security-policy"].split(";")
    )
    # this server only: no other host anywhere, no script but its files and its hashed start
    assert not [v for v in policy.values() if "http" in v or "*" in v], policy
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
    assert re.fullmatch(r"'self'( 'sha256-[A-Za-z0-9+/=]+')?", policy["script-src"]), policy
    assert policy["frame-ancestors"] == "'none'" and page.headers["x-frame-options"] == "DENY"


def test_the_favicon_is_an_svg_served_with_the_console(http: httpx.Client) -> None:
    icon = http.get("/static/favicon.svg")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.lstrip().startswith("<svg") and "<script" not in icon.text
    assert '<link rel="icon" href="/static/favicon.svg"' in http.get("/login").text


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and os.environ.get("CI", "").lower() != "true":
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


@pytest.mark.browser
@pytest.mark.parametrize(
    ("path", "operation"),
    [
        # Swagger UI lists each operation as an .opblock, by its path
        ("/api/v1/docs", ".opblock:has([data-path='/api/v1/orders/{order_id}'])"),
        # ReDoc renders each operation as a section named by its tag and operationId
        ("/api/v1/redoc", "[id='tag/orders/operation/get_order'] h2"),
    ],
    ids=["swagger-ui", "redoc"],
)
def test_the_docs_render_operations_with_the_network_cut_off(
    browser: Any, docs_server: str, path: str, operation: str
) -> None:
    from playwright.sync_api import Route, expect

    own = urlsplit(docs_server).netloc
    elsewhere: list[str] = []
    refused: list[str] = []

    def only_this_server(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == own or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            elsewhere.append(url)
            route.abort("internetdisconnected")

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route("**/*", only_this_server)
    page = context.new_page()
    # ReDoc's sidebar shows Redocly's logo from their CDN: the page's policy blocks the image
    # before it leaves the browser, and ReDoc hides it. Nothing else may be blocked.
    page.on(
        "console",
        lambda message: (
            refused.append(message.text)
            if "Content Security Policy" in message.text and "Loading the image" not in message.text
            else None
        ),
    )
    page.goto(f"{docs_server}{path}")
    # ReDoc lays out all 150 operations before it shows one: two minutes on a busy machine.
    expect(page.locator(operation).first).to_be_visible(timeout=240_000)
    expect(page.locator(operation).first).to_contain_text(re.compile(r"\w"))
    if "redoc" in path:  # its search runs in a worker, which indexes after the page shows
        results = page.locator("[data-role='search:results']")
        deadline = time.monotonic() + 120
        while results.count() == 0 and time.monotonic() < deadline:
            page.fill("[role=search] input", "")
            page.fill("[role=search] input", "penalt")
            page.wait_for_timeout(1000)
        expect(results).to_contain_text("List Penalties")
    page.wait_for_load_state("networkidle")
    context.close()
    assert elsewhere == [], f"the page asked other hosts: {elsewhere}"
    assert refused == [], f"the page's own policy blocked: {refused}"

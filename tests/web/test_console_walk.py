"""Playwright walks every console page of the demo marketplace as each demo login (operator,
sellers, warehouse staff), in Chinese and English, at 1280 and 390 px, and fails on what a person
must never see (G7): an internal id outside the copyable places, an ISO timestamp, "minor units",
a raw state name, a page that scrolls sideways, and English words on a Chinese page outside the
brand and code words and the marketplace's own data (product and store names, addresses…).

The pages are found by following the console's own links from each home page, one page per kind
of address, so a new page is walked as soon as something links to it. Screenshots of every page
go to var/screens/walk/ (git-ignored) when TUOGUAN_WALK_SCREENSHOTS=1, and the problems found
to var/screens/walk-problems.txt.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import JSON, String, create_engine, inspect, select
from sqlalchemy import Enum as SqlEnum

from tests.conftest import PG_URL, _serving, _truncate
from tuoguan.api.app import create_app
from tuoguan.config import Settings
from tuoguan.db import Database
from tuoguan.demo import load as demo
from tuoguan.kit.clock import FrozenClock
from tuoguan.tables import metadata

CHROMIUM = os.environ.get("TUOGUAN_CHROMIUM", "/usr/bin/chromium")
SCREENS = Path(__file__).resolve().parents[2] / "var" / "screens" / "walk"
pytestmark = pytest.mark.browser

if not shutil.which(CHROMIUM) and os.environ.get("CI", "").lower() != "true":
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

WIDTHS = (1280, 390)
LANGS = ("zh-CN", "en")
# Screenshots of every page cost time: taken when asked (TUOGUAN_WALK_SCREENSHOTS=1).
SHOOT = os.environ.get("TUOGUAN_WALK_SCREENSHOTS") == "1"
MAX_PAGES = 60  # per login and language: a guard against a link that makes new addresses
# Words a Chinese page may show in Latin letters: brands, codes and units people use as is.
ALLOWED_LATIN = {
    "tuoguan",
    "sku",
    "skus",
    "asn",
    "pdf",
    "zpl",
    "csv",
    "xlsx",
    "api",
    "id",
    "url",
    "utc",
    "gmt",
    "usd",
    "cny",
    "eur",
    "gbp",
    "jpy",
    "us",
    "cn",
    "hk",
    "kg",
    "kb",  # CLDR's Chinese short units for file sizes: kB, MB
    "mb",
    "g",
    "cm",
    "mm",
    "ml",
    "pcs",
    "ean",
    "upc",
    "qr",
    "sms",
    "webhook",
    "http",
    "https",
    "json",
    "ok",
    "cainiao",
    "yunexpress",
    "yanwen",
    "4px",
    "dhl",
    "fedex",
    "ups",
    "usps",
    "ems",
    "sf",
    "karrio",
    "sandbox",
    "english",  # the language switch names the other language in its own words
    "email",
    "e-mail",
    "am",
    "pm",
    "vs",
    "top",
    "h",
    "min",
    "d",
}
ID = re.compile(r"\b[a-z]{2,12}_[0-9A-HJKMNP-TV-Z]{26}\b")
ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?([.,]\d+)?([+-]\d{2}:?\d{2}|Z)?")
RAW_ENUM = re.compile(r"\b[a-z]+_[a-z]+(_[a-z]+)*\b")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
# Visible text, with the copyable refs (order and tracking numbers) and form fields left out.
VISIBLE_TEXT = """() => {
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll('.ref, script, style, noscript, [hidden]').forEach(e => e.remove());
  document.body.append(clone);
  clone.style.position = 'absolute'; clone.style.left = '-99999px';
  const text = clone.innerText;
  clone.remove();
  return text;
}"""
WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
  .map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ')[0] : ''))
  .slice(0, 6)"""


@dataclass
class Walk:
    base: str
    logins: list[demo.DemoLogin]
    data_words: set[str]
    problems: list[str] = field(default_factory=list)
    engine: str = "sqlite"
    visited: dict[str, set[str]] = field(default_factory=dict)


def _data_words(url: str) -> set[str]:
    """Words the marketplace's own records hold (names, addresses, notes people typed): they are
    data, not the console's words, and may be in any language. Columns of states and kinds,
    and values that look like identifiers, are not data."""
    sync_url = url.replace("+aiosqlite", "").replace("postgresql://", "postgresql+psycopg://")
    engine = create_engine(sync_url)
    words: set[str] = set()
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
        for table in metadata.sorted_tables:
            if table.name not in names:
                continue
            for column in table.columns:
                if isinstance(column.type, JSON) and column.name == "attributes":
                    # A SKU's colour and size, as the seller typed them.
                    for (value,) in conn.execute(select(column).limit(5000)):
                        for text in (value or {}).values():
                            words.update(w.lower() for w in LATIN_WORD.findall(str(text)))
                    continue
                if not isinstance(column.type, String) or isinstance(column.type, SqlEnum):
                    continue
                if column.name in {"kind", "status", "action", "from_state", "to_state", "role"}:
                    continue
                for (value,) in conn.execute(select(column).distinct().limit(5000)):
                    if isinstance(value, str) and not re.fullmatch(r"[a-z0-9_.:-]+", value):
                        words.update(w.lower() for w in LATIN_WORD.findall(value))
    engine.dispose()
    return words


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Walk]:
    """The demo marketplace, loaded as `make run` loads it, served on a free port."""
    if request.param == "sqlite":
        target = tmp_path_factory.mktemp("walk") / "demo.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        url = f"sqlite+aiosqlite:///{target}"
    else:
        if not PG_URL:
            pytest.skip("PostgreSQL is opt-in locally: set TUOGUAN_TEST_PG_URL")
        url = request.getfixturevalue("pg_migrated")
        _truncate(url)
    settings = Settings(database_url=url, environment="test", outbound_allow="127.0.0.1")
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))

    async def load() -> list[demo.DemoLogin]:
        async with Database.opened(url) as db:
            return await demo.load(db, clock, settings)

    # Playwright's sync API may already run an event loop in this thread: load in another.
    with ThreadPoolExecutor(1) as pool:
        logins = pool.submit(asyncio.run, load()).result()
    with _serving(create_app(settings, clock=clock)) as base:
        yield Walk(base=base, logins=logins, data_words=_data_words(url), engine=request.param)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
        )
        yield launched
        launched.close()


def _kind_of(path: str) -> str:
    """A page's kind: its address with ids and numbers left out."""
    return re.sub(r"/[a-z]{2,12}_[0-9A-Z]{26}|/\d+", "/{}", path)


def _links(page: Page, base: str) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all(
        "a[href]", "els => els.map(e => e.getAttribute('href'))"
    )
    found = []
    for href in hrefs:
        parts = urlsplit(href)
        if parts.netloc and f"{parts.scheme}://{parts.netloc}" != base:
            continue
        path = parts.path
        if not path.startswith("/console") or re.search(r"\.(pdf|zpl|csv|xlsx|png|jpg)$", path):
            continue
        if "/download" in path or "/label" in path or "/photos/" in path:
            continue
        found.append(path + (f"?{parts.query}" if parts.query else ""))
    return found


def _check(walk: Walk, page: Page, where: str, lang: str, width: int) -> None:
    text: str = page.evaluate(VISIBLE_TEXT)
    said = f"{where} [{lang}, {width}px]"
    for pattern, what in ((ID, "an internal id"), (ISO, "an ISO timestamp")):
        hit = pattern.search(text)
        if hit:
            walk.problems.append(f"{said}: {what}: {hit.group(0)!r}")
    if "minor unit" in text.lower() or "最小单位" in text:
        walk.problems.append(f"{said}: minor units")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        walk.problems.append(f"{said}: scrolls sideways by {overflow}px: {page.evaluate(WIDE)}")
    if width != WIDTHS[0]:
        return
    raw = {
        m.group(0)
        for m in RAW_ENUM.finditer(text)
        if m.group(0).lower() not in walk.data_words and "@" not in m.group(0)
    }
    if raw:
        walk.problems.append(f"{said}: raw names: {sorted(raw)[:8]}")
    if lang == "zh-CN":
        english = {
            w
            for w in LATIN_WORD.findall(text)
            if w.lower() not in ALLOWED_LATIN and w.lower() not in walk.data_words
        }
        if english:
            walk.problems.append(f"{said}: English words: {sorted(english)[:12]}")


def _walk_as(walk: Walk, browser: Browser, login: demo.DemoLogin, lang: str) -> None:
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900})
    context.add_cookies([{"name": "tg_lang", "value": lang, "url": walk.base}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{walk.base}/login")
    page.fill("input[name=email]", login.email)
    page.fill("input[name=password]", demo.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    # Signing in sets the person's own language; the walk reads the page in the one it asks for.
    context.add_cookies([{"name": "tg_lang", "value": lang, "url": walk.base}])
    home = urlsplit(page.url).path
    queue, seen = [home], {_kind_of(home)}
    shots = SCREENS / f"{login.role}-{login.email.split('@')[0]}-{lang}"
    shots.mkdir(parents=True, exist_ok=True)
    count = 0
    while queue and count < MAX_PAGES:
        target = queue.pop(0)
        response = page.goto(f"{walk.base}{target}")
        page.wait_for_load_state()
        count += 1
        kind = _kind_of(urlsplit(target).path)
        walk.visited.setdefault(login.role, set()).add(kind)
        status = response.status if response else 0
        if status >= 400:
            walk.problems.append(f"{target} as {login.email}: HTTP {status}")
            continue
        name = re.sub(r"[^a-z0-9]+", "-", kind.lower()).strip("-") or "home"
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_timeout(30)
            _check(walk, page, f"{target} as {login.email}", lang, width)
            if SHOOT:
                page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
        page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        for link in _links(page, walk.base):
            link_kind = _kind_of(urlsplit(link).path)
            if link_kind not in seen:
                seen.add(link_kind)
                queue.append(link)
    walk.problems.extend(f"script error as {login.email}: {e}" for e in errors)
    context.close()


def test_every_console_page_reads_as_words_for_a_person(
    demo_site: Walk, browser: Browser
) -> None:  # G7
    walk = demo_site
    for login in walk.logins:
        for lang in LANGS:
            # The pages are the same on either engine; PostgreSQL's walk reads the operator's,
            # the views over everyone's data, in Chinese (the whole walk takes minutes).
            if walk.engine == "postgresql" and (login.role != "operator" or lang != "zh-CN"):
                continue
            _walk_as(walk, browser, login, lang)
    # The walk reached the pages each role works on (a broken link would hide a page).
    assert {"/console/orders", "/console/orders/{}", "/console/at-risk"} <= walk.visited["operator"]
    if walk.engine == "sqlite":
        assert {"/console/orders", "/console/orders/{}"} <= walk.visited["seller"]
        assert "/console/warehouse" in walk.visited["warehouse"]
    report = SCREENS.parent / "walk-problems.txt"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(walk.problems) + "\n")
    assert not walk.problems, "\n".join(walk.problems[:80]) + f"\n({len(walk.problems)} in all)"

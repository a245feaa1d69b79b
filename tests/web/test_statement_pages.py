"""Statements in the console (issue 14, Console and CLI): a seller picks one of its stores, a
month and a currency and reads the opening balance, each line (local time, what it records in
words, a link to its order) with the balance after it, and the closing, in Chinese and English,
with no ids, raw names, ISO times or minor units; the CSV and PDF download; operators read any
store's; another seller's store is never shown; the page fits a 390 px phone."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.test_ledger_api import _post
from tests.builders.market import PASSWORD, Market, create_console_user
from tests.web.test_console_http import _login
from tests.web.test_list_pages import RAW_ENUM, _clean, _page
from tuoguan.ledger.kinds import EntryKind as K
from tuoguan.principal import Role

LANGS = ("en", "zh-CN")
CHROMIUM = os.environ.get("TUOGUAN_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def moved(market: Market) -> dict[str, Any]:
    """Seller a's self-run store: a sale and a fee (November 2026), and console users."""
    m = market
    create_console_user(m.db_url, "op@example.com", Role.operator)
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    create_console_user(m.db_url, "b@example.com", Role.seller, m.sellers["b"])
    order = m.place("a_self")["id"]
    store = m.stores["a_self"]
    common: dict[str, Any] = {"currency": "USD", "store_id": store}
    _post(
        m,
        K.sale_commissioned,
        1,
        parts={"net": 9000, "commission": 1000},
        subject=("order", order),
        **common,
    )
    _post(m, K.shipping_fee_charged, 2, parts={"amount": 150}, subject=("order", order), **common)
    return {"store": store, "order": order}


def _rows(html: str, attribute: str) -> list[str]:
    return re.findall(rf'<tr\b[^>]*\s{attribute}="([^"]+)"', html)


def _words(html: str) -> str:
    text = _clean(html)
    raw = {m.group(0) for m in RAW_ENUM.finditer(text)}
    assert not raw, raw
    return text


def _link(html: str, testid: str) -> str:
    match = re.search(rf'href="([^"]+)"[^>]*data-testid="{testid}"', html)
    assert match, testid
    return match.group(1).replace("&amp;", "&")


def test_a_seller_reads_its_statement_and_downloads_it(
    client: TestClient, market: Market, moved: dict[str, Any]
) -> None:  # issue 14
    store = moved["store"]
    assert _login(client, "a@example.com") == 303
    money = _page(client, "/console/money")
    assert 'href="/console/statements"' in money and 'data-testid="statements-link"' in money
    url = f"/console/statements?store={store}&period=2026-11"
    for lang in LANGS:
        page = _page(client, url, lang)
        text = _words(page)
        assert _rows(page, "data-line") == ["sale_commissioned", "shipping_fee_charged"]
        assert _rows(page, "data-balance") == ["9000", "8850"]
        assert re.search(r'data-testid="opening" data-minor="0"', page)
        assert re.search(r'data-testid="closing" data-minor="8850"', page)
        assert f'href="/console/orders/{moved["order"]}"' in page
        if lang == "en":
            assert "Statement" in text and "November 2026" in text
            assert "Opening balance" in text and "Closing balance" in text
            assert "Sale (less commission)" in text and "+$90.00" in text and "$88.50" in text
            assert "Nov 18, 09:01" in text  # 01:01 UTC, in the store's Shanghai time
        else:
            assert "对账单" in text and "2026年11月" in text and "期末余额" in text
            assert "US$88.50" in text and "11月18日 09:01" in text

    # the month before has nothing; an unreadable month reads as this one
    empty = _page(client, f"/console/statements?store={store}&period=2026-10")
    assert _rows(empty, "data-line") == [] and 'data-testid="no-lines"' in empty
    assert _rows(_page(client, f"/console/statements?store={store}&period=2026-13"), "data-line")

    # downloads: the same statement, in the reader's language
    page = _page(client, url, "zh-CN")
    answer = client.get(_link(page, "download-csv"))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["对账单", "a self"]
    assert [row[5] for row in rows if row and row[0] == "期末余额"] == ["88.50"]
    answer = client.get(_link(page, "download-pdf"))
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")


def test_another_sellers_store_is_never_shown(
    client: TestClient, market: Market, moved: dict[str, Any]
) -> None:  # issue 14: each role sees only its own data
    store = moved["store"]
    assert _login(client, "b@example.com") == 303
    page = _page(client, f"/console/statements?store={store}&period=2026-11")
    # the store asked for is not one of b's: b reads its own first store, empty
    assert f'data-store="{store}"' not in page and _rows(page, "data-line") == []
    assert "a self" not in _clean(page)
    refused = client.get(
        f"/console/statements/download?store={store}&period=2026-11&format=csv", follow_redirects=False
    )
    assert refused.status_code == 404 and "text/html" in refused.headers["content-type"]


def test_an_operator_picks_any_store(
    client: TestClient, market: Market, moved: dict[str, Any]
) -> None:  # issue 14
    m, store = market, moved["store"]
    assert _login(client, "op@example.com") == 303
    for lang in LANGS:
        first = _page(client, "/console/statements", lang)
        _words(first)
        assert 'data-testid="choose-store"' in first and 'data-testid="store-filter"' in first
        page = _page(client, f"/console/statements?seller={m.sellers['a']}&store={store}", lang)
        _words(page)
        assert _rows(page, "data-line") == ["sale_commissioned", "shipping_fee_charged"]
        assert 'href="/console/money"' not in page  # operators have no money page
    answer = client.get(f"/console/statements/download?store={store}&period=2026-11&format=pdf")
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
    bad = client.get(f"/console/statements/download?store={store}&period=2026-11&format=doc")
    assert bad.status_code == 422 and "text/html" in bad.headers["content-type"]


@pytest.mark.browser
@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed")
def test_the_statement_fits_a_390px_phone(live_server: str, live_market: Market) -> None:
    # issue 14, G7: the page and its lines, as cards, fit a phone in both languages
    from playwright.sync_api import sync_playwright

    m = live_market
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"], locale="zh-CN")
    order = m.place("a_self")["id"]
    store = m.stores["a_self"]
    _post(
        m,
        K.sale_commissioned,
        1,
        currency="USD",
        store_id=store,
        parts={"net": 123456789, "commission": 1000},
        subject=("order", order),
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"{live_server}/login")
            page.fill("input[name=email]", "a@example.com")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/console/orders")
            for lang in LANGS:
                page.context.add_cookies([{"name": "tg_lang", "value": lang, "url": live_server}])
                page.goto(f"{live_server}/console/statements?store={store}&period=2026-11")
                assert page.locator("tr[data-line]").count() == 1
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"{lang}: the page scrolls sideways by {overflow}px"
                shots = os.environ.get("TUOGUAN_SCREENSHOTS")
                if shots:
                    page.screenshot(path=f"{shots}/statement-phone-{lang}.png", full_page=True)
        finally:
            browser.close()

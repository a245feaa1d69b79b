"""The deposit in the console (S3, G7): the seller's deposit page (what it must hold, holds, owes
and can get back in formatted money, its debts line by line linked to their orders and
penalties, the refund form refusing beside the field in the page's language, its applications
with their expected arrival as local dates), the operators' refund queue with the deposit
received and deposit rate forms, and an application's page with its deductions and the approve
and reject forms; in Chinese and English, without ids, raw names, ISO times or minor units."""

from __future__ import annotations

import os
import re
import shutil
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders.market import PASSWORD, Market, create_console_user
from tests.builders.money import entry_count
from tests.builders.workers import sweep_once
from tests.integration.test_deposits import FLAT, apply, bind, fund, rate
from tests.web.test_console_http import _csrf, _login
from tests.web.test_list_pages import RAW_ENUM, _clean, _page, visible
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role

LANGS = ("en", "zh-CN")
DEPOSIT, QUEUE = "/console/deposit", "/console/deposit-refunds"


def _words(html: str) -> str:
    text = _clean(html)
    raw = {m.group(0) for m in RAW_ENUM.finditer(text)}
    assert not raw, raw
    return text


def _beside(html: str, field: str) -> str:
    match = re.search(rf'data-problem="{field}">([^<]+)</p>', html)
    assert match, visible(html)
    return match.group(1)


@pytest.fixture
def owing(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> dict[str, Any]:
    """Store a_full holds 1,500.00 USD and owes a penalty charged for a late confirmation (its
    order cancelled since); console users for seller a and an operator."""
    m = market
    create_console_user(m.db_url, "op@example.com", Role.operator)
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    create_console_user(m.db_url, "b@example.com", Role.seller, m.sellers["b"])
    rate(m, 150_000)
    bind(m)
    m.ok(fund(m, 150_000, "TT-1"), 201)
    m.ok(m.post("/penalty-policies", m.operator, {"kind": "confirm_late", "tiers": FLAT}), 201)
    order = m.place("a_full")
    clock.current = datetime.fromisoformat(order["confirm_by"]) + timedelta(seconds=1)
    sweep_once(client, clock, settings)
    (penalty,) = m.ok(m.get("/penalties", m.operator))
    m.ok(m.post(f"/orders/{order['id']}/cancel", m.operator, {"reason": "never confirmed"}))
    clock.current = datetime.fromisoformat(penalty["appeal_by"]) + timedelta(seconds=1)
    sweep_once(client, clock, settings)
    return {"order": order, "penalty": penalty}


def test_the_seller_reads_its_deposit_and_applies_with_refusals_beside_the_field(
    client: TestClient, market: Market, owing: dict[str, Any]
) -> None:  # S3 G7
    m = market
    order = owing["order"]
    assert _login(client, "a@example.com") == 303
    assert 'href="/console/deposit"' in _page(client, "/console/money")
    for lang in LANGS:
        page = _page(client, DEPOSIT, lang)
        text = _words(page)
        assert 'data-state="funded"' in page
        assert re.search(r'data-figure="owed" data-minor="200"', page)
        assert re.search(r'data-figure="refundable" data-minor="149800"', page)
        # the penalty, line by line, linked to its order and to the penalties
        assert re.findall(r'data-debt="([^"]+)"', page) == ["penalty_charged"]
        assert f'href="/console/orders/{order["id"]}"' in page
        assert f'href="/console/penalties?store={m.stores["a_full"]}"' in page
        if lang == "en":
            assert "$1,500.00" in text and "$1,498.00" in text and "Paid in full" in text
            assert "Penalty" in text
        else:
            assert "US$1,500.00" in text and "已缴足" in text and "欠款明细" in text

    # refused beside the field, in the page's language, and nothing written
    page = _page(client, DEPOSIT, "zh-CN")
    form = {"csrf": _csrf(page), "store": m.stores["a_full"], "reason": "退出全托管"}
    posted = entry_count(m.db_url)
    over = client.post(f"{DEPOSIT}/refunds", data={**form, "amount": "1498.01"})
    assert over.status_code == 422
    assert _beside(over.text, "amount") == "超过可退金额：最多 US$1,498.00。"
    client.cookies.set("tg_lang", "en")
    bad = client.post(f"{DEPOSIT}/refunds", data={**form, "amount": "lots"})
    assert bad.status_code == 422 and "Type an amount" in _beside(bad.text, "amount")
    blank = client.post(f"{DEPOSIT}/refunds", data={**form, "amount": "10", "reason": " "})
    assert blank.status_code == 422 and "Say why" in _beside(blank.text, "reason")
    assert entry_count(m.db_url) == posted

    done = client.post(
        f"{DEPOSIT}/refunds", data={**form, "amount": "1000"}, follow_redirects=False
    )
    assert done.status_code == 303 and "done=applied" in done.headers["location"]
    for lang in LANGS:
        page = _page(client, f"{DEPOSIT}?store={m.stores['a_full']}&done=applied", lang)
        _words(page)
        assert re.findall(r'data-application="([^"]+)"', page) == ["applied"]
        assert 'data-state="refund_applied"' in page
    again = client.post(f"{DEPOSIT}/refunds", data={**form, "amount": "10"})
    assert again.status_code == 409
    assert _beside(again.text, "form") == "已有一份申请在审核中。"
    # another seller's store reads as not found; the operators' queue is not the seller's
    assert client.get(QUEUE, follow_redirects=False).headers["location"] == DEPOSIT
    assert _login(client, "b@example.com") == 303
    assert client.get(f"{DEPOSIT}?store={m.stores['a_full']}").status_code == 200  # its own
    assert m.stores["a_full"] not in client.get(DEPOSIT).text


def test_the_operator_reviews_the_queue_and_approves_with_the_deductions_shown(
    client: TestClient, market: Market, clock: FrozenClock, owing: dict[str, Any]
) -> None:  # S3 G7
    m = market
    applied = m.ok(apply(m, 100_000), 201)
    # reviewed on Thursday 31 December, 10:00 in Shanghai (New Year's Day and a weekend follow)
    clock.current = datetime.fromisoformat("2026-12-31T10:00:00+08:00")
    assert _login(client, "op@example.com") == 303
    assert f'href="{QUEUE}"' in _page(client, "/console/ledger")
    for lang in LANGS:
        page = _page(client, QUEUE, lang)
        text = _words(page)
        assert re.findall(r'data-refund="([^"]+)"', page) == ["applied"]
        assert f'href="{QUEUE}/{applied["id"]}"' in page
        assert "Seller a" in text
        assert ("Deposit rates" if lang == "en" else "保证金标准") in text
        refund = _page(client, f"{QUEUE}/{applied['id']}", lang)
        _words(refund)
        assert re.findall(r'data-deduction="([^"]+)"', refund) == ["penalty_charged"]
        assert 'data-testid="approve-form"' in refund and 'data-testid="reject-form"' in refund

    page = _page(client, f"{QUEUE}/{applied['id']}", "zh-CN")
    csrf = _csrf(page)
    # a rejection needs a reason, said beside it
    blank = client.post(f"{QUEUE}/{applied['id']}/reject", data={"csrf": csrf, "note": ""})
    assert blank.status_code == 422 and _beside(blank.text, "reject-note")
    done = client.post(
        f"{QUEUE}/{applied['id']}/approve",
        data={"csrf": csrf, "note": "核对无误"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    for lang in LANGS:
        page = _page(client, done.headers["location"], lang)
        text = _words(page)
        assert 'data-status="approved"' in page
        arrival = visible(page.split('data-testid="arrival"')[1].split("</dd>")[0])
        if lang == "en":
            assert "Jan 6, 2027 to Jan 8, 2027" in arrival and "$2.00" in text
        else:
            assert "2027年1月6日 至 2027年1月8日" in arrival
    # decided once
    twice = client.post(f"{QUEUE}/{applied['id']}/approve", data={"csrf": csrf})
    assert twice.status_code == 409 and _beside(twice.text, "approve-")
    # the seller reads its arrival as local dates
    assert _login(client, "a@example.com") == 303
    seller = _page(client, DEPOSIT, "zh-CN")
    assert "2027年1月6日 至 2027年1月8日" in _words(seller)


def test_the_operator_records_a_deposit_and_adds_a_rate_with_refusals_beside_the_field(
    client: TestClient, market: Market, owing: dict[str, Any]
) -> None:  # S3 G7
    m = market
    assert _login(client, "op@example.com") == 303
    page = _page(client, QUEUE, "en")
    csrf = _csrf(page)
    store = m.stores["b_full"]
    form = {"csrf": csrf, "store": store, "amount": "500.00", "reference": "TT-B-1"}
    done = client.post(f"{DEPOSIT}/fundings", data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith(
        f"{DEPOSIT}?store={store}"
    )
    shown = _page(client, done.headers["location"], "en")
    assert 'data-figure="held" data-minor="50000"' in shown and "Partly paid" in _words(shown)
    clash = client.post(f"{DEPOSIT}/fundings", data={**form, "amount": "1.00"})
    assert clash.status_code == 409 and "recorded already" in _beside(clash.text, "fund-reference")
    bad = client.post(f"{DEPOSIT}/fundings", data={**form, "amount": "1.001", "reference": "x"})
    assert bad.status_code == 422 and _beside(bad.text, "fund-amount")

    rate_form = {"csrf": csrf, "category": "electronics", "currency": "USD", "amount": "3000"}
    added = client.post("/console/deposit-rates", data=rate_form, follow_redirects=False)
    assert added.status_code == 303
    page = _page(client, added.headers["location"], "zh-CN")
    assert "US$3,000.00" in _words(page) and 'data-rate="electronics/USD"' in page
    client.cookies.set("tg_lang", "zh-CN")
    wrong = client.post("/console/deposit-rates", data={**rate_form, "currency": "dollars"})
    assert wrong.status_code == 422 and "3 位字母" in _beside(wrong.text, "rate-currency")
    past = client.post(
        "/console/deposit-rates", data={**rate_form, "effective_from": "2026-01-01T00:00"}
    )
    assert past.status_code == 422 and _beside(past.text, "rate-effective_from")
    assert status_required(m) == 300_000


def _section(html: str, testid: str) -> str:
    return html.split(f'data-testid="{testid}"')[1].split("</table>")[0]


def test_the_operator_lists_every_full_managed_stores_deposit_a_page_at_a_time(
    client: TestClient, market: Market, owing: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:  # S3 G7
    m = market
    a, b = m.stores["a_full"], m.stores["b_full"]
    assert _login(client, "op@example.com") == 303
    for lang in LANGS:
        page = _page(client, QUEUE, lang)
        listed = _section(page, "deposits-by-store")
        text = _words(listed)
        # every full-managed store, none of the others, each linked to its deposit page
        assert sorted(re.findall(r'href="/console/deposit\?store=([^"]+)"', listed)) == sorted(
            [a, b]
        )
        for key in ("a_self", "a_semi", "b_self", "b_semi"):
            assert m.stores[key] not in listed
        rows = dict(re.findall(r'<tr data-deposit="([^"]+)" data-held="(\d+)"', listed))
        assert rows == {"funded": "150000", "unfunded": "0"}
        assert "Seller a" in text and "Seller b" in text
        if lang == "en":
            assert "Deposits by store" in page
            assert text.count("$1,500.00") == 3  # a's required and held, b's required
            assert "$2.00" in text and "$1,498.00" in text and "$0.00" in text
            assert "Paid in full" in text and "Not paid" in text
        else:
            assert "保证金一览" in page
            assert text.count("US$1,500.00") == 3
            assert "US$2.00" in text and "US$1,498.00" in text and "US$0.00" in text
            assert "已缴足" in text and "未缴纳" in text
    assert 'data-figure="held" data-minor="150000"' in _page(client, f"{DEPOSIT}?store={a}")

    # one store a page: a next-page link to the other, and none after it
    monkeypatch.setattr("tuoguan.web.deposit_pages.STORES_PAGE", 1)
    first = _page(client, QUEUE)
    link = re.search(r'href="(/console/deposit-refunds\?store_cursor=[^"]+)"', first)
    assert link and len(re.findall(r"<tr data-deposit=", first)) == 1
    second = _page(client, link.group(1).replace("&amp;", "&"))
    assert len(re.findall(r"<tr data-deposit=", second)) == 1
    assert "store_cursor=" not in second
    shown = {re.findall(r'/console/deposit\?store=([^"]+)"', p)[0] for p in (first, second)}
    assert shown == {a, b}
    # a cursor that is not ours reads as the first page
    assert client.get(f"{QUEUE}?store_cursor=nonsense", follow_redirects=False).status_code == 303


def test_a_blocked_seller_reads_why_and_the_form_is_disabled(
    client: TestClient, market: Market, owing: dict[str, Any]
) -> None:  # S3 G7
    m = market
    store = m.stores["b_full"]
    m.place("b_full")  # an order not yet completed stands in the way of a refund
    assert _login(client, "b@example.com") == 303
    for lang in LANGS:
        page = _page(client, f"{DEPOSIT}?store={store}", lang)
        _words(page)
        assert re.findall(r'data-rule="([^"]+)"', page) == ["no_unfinished_orders"]
        form = page.split('data-testid="refund-form"')[1].split("</form>")[0]
        controls = re.findall(r"<(?:input(?! type=\"hidden\")|textarea|button)\b[^>]*>", form)
        assert len(controls) == 3 and all(" disabled" in c for c in controls), controls
        blocked = visible(form.split('data-testid="blocked"')[1].split("</p>")[0])
        if lang == "en":
            assert "Resolve the items above before applying" in blocked
        else:
            assert "先解决上面的问题再申请" in blocked
    # still refused on the server, and nothing written
    page = _page(client, f"{DEPOSIT}?store={store}", "en")
    posted = entry_count(m.db_url)
    form_data = {"csrf": _csrf(page), "store": store, "amount": "1", "reason": "leaving"}
    refused = client.post(f"{DEPOSIT}/refunds", data=form_data)
    assert refused.status_code == 409 and "stands in the way" in _beside(refused.text, "form")
    assert entry_count(m.db_url) == posted
    # a seller with nothing in the way gets the form enabled
    assert _login(client, "a@example.com") == 303
    page = _page(client, DEPOSIT, "en")
    form = page.split('data-testid="refund-form"')[1].split("</form>")[0]
    assert " disabled" not in form and 'data-testid="blocked"' not in form


def status_required(m: Market) -> int:
    found = m.ok(m.get(f"/stores/{m.stores['a_full']}/deposit", m.operator))
    return int(found["required_minor"])


CHROMIUM = os.environ.get("TUOGUAN_CHROMIUM", "/usr/bin/chromium")


@pytest.mark.browser
def test_the_deposit_pages_fit_a_390px_phone(live_server: str, live_market: Market) -> None:  # G7
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    m = live_market
    create_console_user(m.db_url, "op@example.com", Role.operator, locale="zh-CN")
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"], locale="en")
    rate(m, 150_000)
    m.ok(fund(m, 150_000, "TT-1"), 201)
    applied = m.ok(apply(m, 100_000), 201)
    pages = {
        "a@example.com": [DEPOSIT],
        "op@example.com": [
            QUEUE,
            f"{QUEUE}/{applied['id']}",
            f"{DEPOSIT}?store={m.stores['a_full']}",
        ],
    }
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        for email, paths in pages.items():
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"{live_server}/login")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/console/orders")
            for path in paths:
                page.goto(f"{live_server}{path}")
                page.wait_for_load_state()
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 390px"
                if shots := os.environ.get("TUOGUAN_SCREENSHOTS"):
                    name = path.strip("/").split("?")[0].replace("/", "-")[:40]
                    page.screenshot(path=f"{shots}/{email[:2]}-{name}.png", full_page=True)
            page.close()
        browser.close()

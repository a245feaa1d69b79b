"""Products in the console (C1, C2, F7, G7): a seller's products with their status words, the new
product form (full-managed: SKUs with supply prices), submitting, the reasons of a rejection
beside the fields, a change to an approved product proposed for review; the operators' queue
(stuck first), a submission's page with the proposed values beside the approved ones, approval
at a retail price typed as people type money, rejection with a reason per field, suspension and
its lifting, and the category rules. Both languages, no ids, raw names, ISO times or minor units,
and every page fits a 390 px phone."""

from __future__ import annotations

import os
import re
import shutil
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders.market import PASSWORD, Market, create_console_user
from tests.web.test_console_http import _csrf, _login
from tests.web.test_list_pages import RAW_ENUM, _clean, _page, visible
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role

LANGS = ("en", "zh-CN")
PRODUCTS = "/console/products"
LATIN = re.compile(r"[A-Za-z]{3,}")
# Latin words a Chinese product page may show: the marketplace's own data (names, attributes)
# and the words the console walk allows (tests/web/test_console_walk.py).
DATA = {"Ceramic", "mug", "Earbuds", "Seller", "full", "self", "semi", "Mug", "colour", "white"}
DATA |= {"black", "USD", "EUR", "English", "SKU", "raw", "material", "costs"}


def _words(html: str) -> str:
    text = _clean(html)
    raw = {m.group(0) for m in RAW_ENUM.finditer(text)}
    assert not raw, raw
    return text


def _chinese(html: str) -> str:
    """The words of a Chinese page: no English outside the data (a form's own text left out)."""
    text = _words(html)
    shown = _words(re.sub(r"<textarea\b[^>]*>.*?</textarea>", "", html, flags=re.S))
    english = set(LATIN.findall(shown)) - DATA
    assert not english, english
    return text


def _beside(html: str, field: str) -> str:
    match = re.search(rf'data-problem="{field}">([^<]+)</p>', html)
    assert match, visible(html)
    return match.group(1)


def _product(m: Market, name: str) -> dict[str, Any]:
    found = [p for p in m.ok(m.get("/products", m.operator)) if p["name"] == name]
    assert len(found) == 1, found
    return dict(found[0])


@pytest.fixture
def users(market: Market) -> Market:
    m = market
    create_console_user(m.db_url, "op@example.com", Role.operator)
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    create_console_user(m.db_url, "b@example.com", Role.seller, m.sellers["b"])
    return m


def _new_mug(client: TestClient, m: Market, **fields: str) -> Any:
    page = _page(client, f"{PRODUCTS}/new?store={m.stores['a_full']}", "zh-CN")
    form = {
        "csrf": _csrf(page),
        "store": m.stores["a_full"],
        "name": "Ceramic mug",
        "description": "350 ml",
        "images": "https://img.example.com/mug.png",
        "category": "home/kitchen",
        "declared_value": "12.50",
        "weight_g": "420",
        "length_mm": "120",
        "width_mm": "90",
        "height_mm": "100",
        "new-0-code": "MUG-W",
        "new-0-attrs": "colour=white",
        "new-0-supply": "6.50",
        "new-1-code": "MUG-B",
        "new-1-attrs": "colour=black",
        "new-1-supply": "7.20",
        **fields,
    }
    return client.post(f"{PRODUCTS}/new", data=form, follow_redirects=False)


def test_a_full_managed_seller_creates_submits_and_fixes_what_the_review_rejected(
    client: TestClient, users: Market
) -> None:  # C1 C2 G7
    m = users
    assert _login(client, "a@example.com") == 303
    for lang in LANGS:
        page = _page(client, PRODUCTS, lang)
        text = _chinese(page) if lang == "zh-CN" else _words(page)
        assert re.findall(r'<tr data-product="([^"]+)"', page) == ["active"] * 3
        assert ("On sale" if lang == "en" else "在售") in text
        form = _page(client, f"{PRODUCTS}/new?store={m.stores['a_full']}", lang)
        assert 'name="new-0-supply"' in form and 'name="price"' not in form
        _chinese(form) if lang == "zh-CN" else _words(form)

    # refused beside the field, in the page's language; nothing made
    bad = _new_mug(client, m, **{"new-0-supply": "lots", "category": "Home Kitchen"})
    assert bad.status_code == 422
    assert "例如 19.99" in _beside(bad.text, "skus")
    created = _new_mug(client, m, category="Home Kitchen")
    assert created.status_code == 422 and _beside(created.text, "category")
    assert len(m.ok(m.get("/products", m.operator))) == 6
    done = _new_mug(client, m)
    assert done.status_code == 303
    mug = _product(m, "Ceramic mug")
    assert [s["supply_price_minor"] for s in mug["skus"]] == [650, 720]
    assert mug["declared_value_minor"] == 1250 and mug["status"] == "draft"
    page = _page(client, done.headers["location"], "zh-CN")
    assert "已保存为草稿" in _chinese(page)
    assert re.findall(r'data-action="([^"]+)"', page) == ["submit"]
    posted = client.post(
        f"{PRODUCTS}/{mug['id']}/do/submit", data={"csrf": _csrf(page)}, follow_redirects=False
    )
    assert posted.status_code == 303
    page = _page(client, posted.headers["location"], "en")
    assert 'data-status="under_review"' in page and 'data-testid="no-edit"' in page
    assert "waiting for the platform" in _words(page)

    # the operator rejects it with a reason beside two fields
    assert _login(client, "op@example.com") == 303
    queue = _page(client, PRODUCTS, "zh-CN")
    revision = m.ok(m.get("/product-reviews", m.operator))[0]["id"]
    assert f"{PRODUCTS}/{mug['id']}/revisions/{revision}" in queue
    review = _page(client, f"{PRODUCTS}/{mug['id']}/revisions/{revision}", "zh-CN")
    _chinese(review)
    assert 'data-testid="approve-form"' in review and 'data-testid="reject-form"' in review
    assert "尚无已通过版本" in visible(review) and "US$6.50" in visible(review)
    csrf = _csrf(review)
    client.cookies.set("tg_lang", "zh-CN")
    path = f"{PRODUCTS}/{mug['id']}/revisions/{revision}"
    blank = client.post(f"{path}/reject", data={"csrf": csrf})
    assert blank.status_code == 422 and "至少" in _beside(blank.text, "reject-")
    no_price = client.post(f"{path}/approve", data={"csrf": csrf, "price": ""})
    assert no_price.status_code == 422 and _beside(no_price.text, "approve-price")
    reasons = {"reason-images": "图片模糊", "reason-supply_price_minor": "供货价偏高"}
    rejected = client.post(f"{path}/reject", data={"csrf": csrf, **reasons}, follow_redirects=False)
    assert rejected.status_code == 303

    # the seller reads the reasons beside the fields, fixes them and submits again
    assert _login(client, "a@example.com") == 303
    for lang in LANGS:
        page = _page(client, f"{PRODUCTS}/{mug['id']}", lang)
        text = _chinese(page) if lang == "zh-CN" else _words(page)
        assert re.findall(r'data-reason="([^"]+)"', page).count("images") == 2  # values, form
        assert "图片模糊" in text
    page = _page(client, f"{PRODUCTS}/{mug['id']}", "en")
    refused = client.post(
        f"{PRODUCTS}/{mug['id']}/do/list", data={"csrf": _csrf(page)}, follow_redirects=False
    )
    assert refused.status_code == 409 and "rejected" in _beside(refused.text, "action")
    fixed = {
        "csrf": _csrf(page),
        "name": "Ceramic mug",
        "description": "350 ml",
        "images": "https://img.example.com/mug-sharp.png",
        "category": "home/kitchen",
        "declared_value": "12.50",
        "weight_g": "420",
        "length_mm": "120",
        "width_mm": "90",
        "height_mm": "100",
        "sku-0-attrs": "colour=white",
        "sku-0-supply": "6.00",
        "sku-1-attrs": "colour=black",
        "sku-1-supply": "7.20",
    }
    saved = client.post(f"{PRODUCTS}/{mug['id']}/edit", data=fixed, follow_redirects=False)
    assert saved.status_code == 303
    assert m.ok(m.get(f"/products/{mug['id']}", m.operator))["skus"][0]["supply_price_minor"] == 600
    client.post(f"{PRODUCTS}/{mug['id']}/do/submit", data={"csrf": _csrf(page)})
    assert m.ok(m.get(f"/products/{mug['id']}", m.operator))["status"] == "under_review"

    # approved at a retail price typed as people type it
    assert _login(client, "op@example.com") == 303
    revision = m.ok(m.get("/product-reviews", m.operator))[0]["id"]
    review = _page(client, f"{PRODUCTS}/{mug['id']}/revisions/{revision}", "en")
    approved = client.post(
        f"{PRODUCTS}/{mug['id']}/revisions/{revision}/approve",
        data={"csrf": _csrf(review), "price": "19,99"},
        follow_redirects=False,
    )
    assert approved.status_code == 303
    shown = m.ok(m.get(f"/products/{mug['id']}", m.channel))
    assert shown["price_minor"] == 1999
    page = _page(client, f"{PRODUCTS}/{mug['id']}", "zh-CN")
    assert "US$19.99" in _chinese(page) and 'data-status="active"' in page


def test_a_change_to_an_approved_product_is_proposed_and_reviewed_side_by_side(
    client: TestClient, users: Market
) -> None:  # C1 C2 G7
    m = users
    product = m.products["a_full"]
    assert _login(client, "a@example.com") == 303
    page = _page(client, f"{PRODUCTS}/{product}", "en")
    assert 'data-editing="revise"' in page and "Propose a change" in page
    form = dict(re.findall(r'<input name="([^"]+)"[^>]*value="([^"]*)"', page))
    form.update(
        csrf=_csrf(page),
        description="",
        images="",
        supply_price="11.00",
        note="raw material costs",
    )
    proposed = client.post(f"{PRODUCTS}/{product}/edit", data=form, follow_redirects=False)
    assert proposed.status_code == 303 and "done=proposed" in proposed.headers["location"]
    page = _page(client, proposed.headers["location"], "zh-CN")
    assert 'data-testid="pending"' in page and "已通过的版本继续销售" in _chinese(page)
    assert m.ok(m.get(f"/products/{product}", m.operator))["supply_price_minor"] == 1200
    m.place("a_full")  # it keeps selling

    assert _login(client, "op@example.com") == 303
    revision = m.ok(m.get("/product-reviews", m.operator))[0]["id"]
    for lang in LANGS:
        review = _page(client, f"{PRODUCTS}/{product}/revisions/{revision}", lang)
        _chinese(review) if lang == "zh-CN" else _words(review)
        changed = re.findall(r'<tr data-field="([^"]+)" data-changed="yes"', review)
        assert changed == ["supply_price_minor"]
        row = review.split('data-field="supply_price_minor"')[1].split("</tr>")[0]
        assert "12.00" in visible(row) and "11.00" in visible(row)
        assert "raw material costs" in visible(review)
    review = _page(client, f"{PRODUCTS}/{product}/revisions/{revision}", "en")
    assert 'value="19.99"' in review  # the retail price in force, to keep or change
    client.post(
        f"{PRODUCTS}/{product}/revisions/{revision}/approve",
        data={"csrf": _csrf(review), "price": "19.99"},
    )
    after = m.ok(m.get(f"/products/{product}", m.operator))
    assert after["supply_price_minor"] == 1100 and after["price_minor"] == 1999


def test_the_operator_suspends_and_lifts_a_product_and_sets_category_rules(
    client: TestClient, users: Market, clock: FrozenClock
) -> None:  # C2 G7
    m = users
    product = m.products["a_self"]
    assert _login(client, "op@example.com") == 303
    page = _page(client, f"{PRODUCTS}/{product}", "zh-CN")
    _chinese(page)
    assert 'data-testid="suspend-form"' in page and 'data-testid="edit-form"' not in page
    csrf = _csrf(page)
    client.cookies.set("tg_lang", "zh-CN")
    blank = client.post(f"{PRODUCTS}/{product}/supervise/suspend", data={"csrf": csrf})
    assert blank.status_code == 422 and _beside(blank.text, "suspend-reason")
    done = client.post(
        f"{PRODUCTS}/{product}/supervise/suspend",
        data={"csrf": csrf, "reason": "外壳开裂投诉"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = _page(client, done.headers["location"], "zh-CN")
    assert "已暂停销售" in _chinese(page) and 'data-testid="unsuspend-form"' in page
    assert "外壳开裂投诉" in visible(page)
    lifted = client.post(
        f"{PRODUCTS}/{product}/supervise/unsuspend", data={"csrf": csrf}, follow_redirects=False
    )
    assert lifted.status_code == 303
    assert m.ok(m.get(f"/products/{product}", m.operator))["status"] == "active"

    # the category rules: a form beside the table, refusals beside the field
    queue = _page(client, PRODUCTS, "en")
    assert 'data-testid="rule-form"' in queue
    bad = client.post(
        "/console/category-rules",
        data={"csrf": csrf, "category": "Not One", "review_required": "1"},
    )
    assert bad.status_code == 422 and _beside(bad.text, "rule-category")
    saved = client.post(
        "/console/category-rules",
        data={"csrf": csrf, "category": "toys/drones", "review_required": "1"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    for lang in LANGS:
        page = _page(client, saved.headers["location"], lang)
        text = _chinese(page) if lang == "zh-CN" else _words(page)
        assert 'data-rule="toys/drones"' in page
        assert ("Yes" if lang == "en" else "是") in text
    found = m.ok(m.get("/category-rules/toys/drones/small", m.operator))
    assert found["review_required"] is True and found["source"] == "toys/drones"


def test_each_seller_reads_only_its_own_and_only_operators_decide(
    client: TestClient, users: Market
) -> None:  # C2
    m = users
    assert _login(client, "b@example.com") == 303
    page = _page(client, PRODUCTS, "en")
    assert m.products["a_full"] not in page and m.products["b_full"] in page
    assert client.get(f"{PRODUCTS}/{m.products['a_full']}").status_code == 404
    revision = m.ok(m.get(f"/products/{m.products['b_full']}/revisions", m.operator))[0]["id"]
    csrf = _csrf(page)
    for path, data in (
        (f"{PRODUCTS}/{m.products['b_full']}/revisions/{revision}/approve", {"price": "1"}),
        (f"{PRODUCTS}/{m.products['b_self']}/supervise/suspend", {"reason": "mine"}),
        ("/console/category-rules", {"category": "toys"}),
    ):
        assert client.post(path, data={"csrf": csrf, **data}).status_code == 403
    # its own submission reads without the decision forms
    mine = _page(client, f"{PRODUCTS}/{m.products['b_full']}/revisions/{revision}", "en")
    assert 'data-testid="approve-form"' not in mine and 'data-revision-status="approved"' in mine
    # the operators' queue is not the seller's
    assert 'data-testid="queue"' not in page


def test_an_overdue_review_is_marked_for_the_seller_and_first_in_the_queue(
    client: TestClient, users: Market, clock: FrozenClock
) -> None:  # S2 G7
    m = users
    body = {
        "store_id": m.stores["a_full"],
        "name": "Ceramic mug",
        "category": "home/kitchen",
        "declared_value_minor": 1250,
        "supply_price_minor": 700,
        "weight_g": 420,
        "length_mm": 120,
        "width_mm": 90,
        "height_mm": 100,
    }
    mug = m.ok(m.post("/products", m.seller_tokens["a"], body), 201)
    m.ok(m.post(f"/products/{mug['id']}/submit", m.seller_tokens["a"]))
    clock.current = datetime.fromisoformat("2026-11-23T10:00:00+08:00")  # the next Monday
    assert _login(client, "op@example.com") == 303
    for lang in LANGS:
        queue = _page(client, PRODUCTS, lang)
        text = _chinese(queue) if lang == "zh-CN" else _words(queue)
        assert re.findall(r'<tr data-waiting="([^"]+)"', queue) == ["stuck"]
        assert ("Overdue" if lang == "en" else "审核超时") in text
    assert _login(client, "a@example.com") == 303
    page = _page(client, f"{PRODUCTS}/{mug['id']}", "zh-CN")
    assert 'data-testid="stuck"' in page


CHROMIUM = os.environ.get("TUOGUAN_CHROMIUM", "/usr/bin/chromium")


@pytest.mark.browser
def test_the_product_pages_fit_a_390px_phone(live_server: str, live_market: Market) -> None:  # G7
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    m = live_market
    create_console_user(m.db_url, "op@example.com", Role.operator, locale="zh-CN")
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"], locale="en")
    body = {
        "store_id": m.stores["a_full"],
        "name": "Ceramic mug with a rather long name that has to wrap on a phone",
        "category": "home/kitchen",
        "declared_value_minor": 1250,
        "supply_price_minor": 700,
        "weight_g": 420,
        "length_mm": 120,
        "width_mm": 90,
        "height_mm": 100,
    }
    mug = m.ok(m.post("/products", m.seller_tokens["a"], body), 201)
    submitted = m.ok(m.post(f"/products/{mug['id']}/submit", m.seller_tokens["a"]))
    revision = submitted["pending_revision_id"]
    pages = {
        "a@example.com": [
            PRODUCTS,
            f"{PRODUCTS}/new?store={m.stores['a_full']}",
            f"{PRODUCTS}/{m.products['a_full']}",
            f"{PRODUCTS}/{mug['id']}/revisions/{revision}",
        ],
        "op@example.com": [
            PRODUCTS,
            f"{PRODUCTS}/{mug['id']}/revisions/{revision}",
            f"{PRODUCTS}/{m.products['a_self']}",
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
                    name = path.strip("/").split("?")[0].replace("/", "-")[:60]
                    page.screenshot(path=f"{shots}/{email[:2]}-{name}.png", full_page=True)
            page.close()
        browser.close()

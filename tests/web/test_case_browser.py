"""Playwright drives Debian's Chromium through a receiving exception on 390 px phones (R2, R3,
G7): warehouse staff raise it from the receiving screen, in Chinese; an operator asks the seller
for proof; the seller uploads a photo; the operator decides a compensation the platform bears;
the seller appeals; the operator who decided may not decide the appeal, another one does."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders.inbound import count, sent
from tests.builders.market import PASSWORD, Market, create_console_user, issue_token
from tests.builders.money import amounts, assert_books_balance, entries
from tests.builders.stock import make_warehouse, sku_of
from tuoguan.config import Settings
from tuoguan.principal import Role

CHROMIUM = os.environ.get("TUOGUAN_CHROMIUM", "/usr/bin/chromium")
pytestmark = pytest.mark.browser

if not shutil.which(CHROMIUM) and os.environ.get("CI", "").lower() != "true":
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

PHONE = {"width": 390, "height": 844}
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        environment="test",
        db_pool_size=5,
        outbound_allow="127.0.0.1",
        upload_dir=str(tmp_path / "uploads"),
        export_dir=str(tmp_path / "exports"),
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


def _signed_in(browser: Browser, base: str, email: str, home: str = "/console/orders") -> Page:
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}{home}")
    return page


def _fits(page: Page, name: str) -> None:
    """The page fits the phone's width (and, when asked, is kept as a screenshot)."""
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    if shots := os.environ.get("TUOGUAN_SCREENSHOTS"):
        page.screenshot(path=f"{shots}/case-{name}.png", full_page=True)


def test_a_receiving_exception_from_the_dock_to_the_appeal_on_phones(
    browser: Browser, live_server: str, live_market: Market
) -> None:  # R2 R3 G7
    m = live_market
    warehouse = make_warehouse(m)["id"]
    for email, role, locale in (
        ("op@example.com", Role.operator, "zh-CN"),
        ("op2@example.com", Role.operator, "en"),
    ):
        create_console_user(m.db_url, email, role, locale=locale)
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"], locale="en")
    create_console_user(
        m.db_url, "dock@example.com", Role.warehouse, locale="zh-CN", warehouse_ids=[warehouse]
    )
    # ten units announced, seven counted: the notice closes short (the dock's API, as scanned)
    dock_token = issue_token(m.db_url, Role.warehouse, warehouse_ids=[warehouse])
    sku = sku_of(m, "a_full")
    notice = sent(m, warehouse, [(sku, 10)])
    m.ok(m.post(f"/inbound-notices/{notice['id']}/arrive", dock_token))
    m.ok(count(m, dock_token, notice["id"], {"sku_id": sku, "good": 7}))
    m.ok(m.post(f"/inbound-notices/{notice['id']}/close", dock_token))

    # the dock raises the case from the receiving screen, in Chinese
    dock = _signed_in(browser, live_server, "dock@example.com", "/console/warehouse")
    dock.goto(f"{live_server}/console/warehouse/receiving/{notice['id']}")
    dock.click("[data-testid=raise-case]")
    dock.fill("[data-testid=raise-case-form] textarea[name=summary]", "2号箱少了3件")
    dock.click("[data-testid=raise-case-form] button")
    expect(dock.locator("[data-testid=done]")).to_be_visible()
    expect(dock.locator("[data-testid=case-state]")).to_have_text("核对信息")
    case_url = dock.url.split("?")[0]
    _fits(dock, "raised")

    # an operator asks the seller for proof
    op = _signed_in(browser, live_server, "op@example.com")
    op.goto(f"{live_server}/console/cases")
    _fits(op, "queue")
    op.locator("[data-testid=cases] a").first.click()
    op.select_option("[data-testid=move-form] select[name=to]", "awaiting_seller")
    op.click("[data-testid=move]")
    expect(op.locator("[data-testid=case-state]")).to_have_text("等待卖家举证")

    # the seller adds a photo with what it shows
    seller = _signed_in(browser, live_server, "a@example.com")
    seller.goto(f"{live_server}/console/cases")
    seller.locator("[data-testid=cases] a").first.click()
    evidence = seller.locator("[data-testid=evidence-form]")
    evidence.locator("input[type=file]").set_input_files(
        [{"name": "carton.png", "mimeType": "image/png", "buffer": PNG}]
    )
    evidence.locator("textarea[name=text]").fill("Packing list: 10 units in carton 2")
    evidence.locator("button").click()
    expect(seller.locator("[data-testid=evidence] figure")).to_have_count(1)
    expect(seller.locator("[data-testid=evidence]")).to_contain_text("Packing list")
    _fits(seller, "evidence")

    # the operator decides: the platform compensates 3 units' supply price
    op.goto(case_url)
    form = op.locator("[data-testid=decision-form]")
    form.locator("select[name=decision]").select_option("compensate")
    form.locator("select[name=bearer]").select_option("platform")
    form.locator("input[name=amount]").fill("36.00")
    form.locator("textarea[name=reason]").fill("仓库扫描记录显示少3件")
    form.locator("[data-testid=decide]").click()
    expect(op.locator("[data-testid=case-decision]")).to_contain_text("US$36.00")
    case_id = case_url.rsplit("/", 1)[1]
    assert amounts(entries(m.db_url, "case", case_id)) == [("case_compensation", 3600, False)]

    # the seller appeals; the deciding operator sees no appeal form, another one decides
    seller.goto(case_url)
    seller.fill("[data-testid=appeal-form] textarea[name=reason]", "All 10 units were shipped")
    seller.click("[data-testid=appeal]")
    expect(seller.locator("[data-testid=case-state]")).to_have_text("appealed")
    op.goto(case_url)
    expect(op.locator("[data-testid=appeal-decision-form]")).to_have_count(0)
    second = _signed_in(browser, live_server, "op2@example.com")
    second.goto(case_url)
    final = second.locator("[data-testid=appeal-decision-form]")
    final.locator("select[name=outcome]").select_option("upheld")
    final.locator("textarea[name=reason]").fill("The gate scan stands")
    final.locator("[data-testid=decide-appeal]").click()
    expect(second.locator("[data-testid=case-state]")).to_have_text("closed")
    expect(second.locator("[data-testid=case-appeal-outcome]")).to_contain_text("stands")
    _fits(second, "closed")
    types = second.locator("[data-testid=timeline] li").evaluate_all(
        "items => items.map(i => i.dataset.entry)"
    )
    assert types == ["opened", "moved", "evidence", "decided", "appealed", "appeal_decided"]
    assert_books_balance(m.db_url)

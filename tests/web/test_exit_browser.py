"""Playwright drives Debian's Chromium through leaving full-managed on a 390 px phone (S4, S5,
G7): the seller exports the store's data and downloads the zip, applies with a paper; the
operator approves; the seller unbinds returning its stock, then closes the store through the
confirm dialog, and its contact details are gone."""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders.exits import PDF, RETURN_TO, SENDER, ready
from tests.builders.market import PASSWORD, Market, create_console_user
from tests.builders.workers import sweep_database
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role

CHROMIUM = os.environ.get("TUOGUAN_CHROMIUM", "/usr/bin/chromium")
pytestmark = pytest.mark.browser

if not shutil.which(CHROMIUM) and os.environ.get("CI", "").lower() != "true":
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

PHONE = {"width": 390, "height": 844}


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


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/console/orders")


def _fits(page: Page, name: str) -> None:
    """The page fits the phone's width (and, when asked, is kept as a screenshot)."""
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    if shots := os.environ.get("TUOGUAN_SCREENSHOTS"):
        page.screenshot(path=f"{shots}/exit-{name}.png", full_page=True)


def test_a_seller_leaves_full_managed_and_closes_its_store_on_a_phone(
    browser: Browser,
    live_server: str,
    live_market: Market,
    clock: FrozenClock,
    settings: Settings,
    tmp_path: Path,
) -> None:  # S4 S5 G7
    m = live_market
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"], locale="en")
    create_console_user(m.db_url, "op@example.com", Role.operator, locale="zh-CN")
    ids = ready(m, clock)
    seller = browser.new_page(viewport=PHONE, accept_downloads=True)
    seller.on("dialog", lambda dialog: dialog.accept())
    _sign_in(seller, live_server, "a@example.com")
    seller.goto(f"{live_server}/console/exits")
    expect(seller.locator("[data-testid=exit-terms]")).to_contain_text("$50.00")
    expect(seller.locator("[data-testid=no-blockers]")).to_be_visible()
    _fits(seller, "page")

    # the one-click export, written by the worker, then downloaded
    seller.click("[data-testid=archive-form] button")
    expect(seller.locator("[data-testid=archive]")).to_have_attribute("data-status", "queued")
    sweep_database(m.db_url, clock, settings)
    seller.reload()
    with seller.expect_download() as downloading:
        seller.click("[data-testid=archive-download]")
    saved = tmp_path / "archive.zip"
    downloading.value.save_as(saved)
    bundle = zipfile.ZipFile(io.BytesIO(saved.read_bytes()))
    assert sorted(bundle.namelist()) == [
        "archive.xlsx",
        "orders.csv",
        "statements.csv",
        "store.csv",
    ]

    # the application, with a paper and the fees acknowledged
    form = seller.locator("[data-testid=apply-form]")
    form.locator("textarea[name=reason]").fill("Focusing on our own store")
    form.locator("input[type=file]").set_input_files(
        [{"name": "exit.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    form.locator("input[name=fees_acknowledged]").check()
    form.locator("button[type=submit]").click()
    expect(seller.locator("[data-testid=application]")).to_have_attribute("data-status", "applied")
    _fits(seller, "applied")

    # the operator approves, in Chinese, on a phone
    operator = browser.new_page(viewport=PHONE)
    _sign_in(operator, live_server, "op@example.com")
    operator.goto(f"{live_server}/console/exits")
    _fits(operator, "queue")
    operator.locator("[data-testid=exit-queue] a").first.click()
    operator.fill("textarea[name=reasons]", "订单均已完成")
    operator.click("[data-testid=approve]")
    expect(operator.locator("[data-testid=application]")).to_have_attribute(
        "data-status", "approved"
    )
    _fits(operator, "approved")
    operator.close()

    # the seller unbinds, its stock returned to its address
    seller.reload()
    unbind = seller.locator("[data-testid=unbind-form]")
    unbind.locator("input[value=return]").check()
    for field in ("name", "phone", "line1", "city", "postcode"):
        unbind.locator(f"input[name=address_{field}]").fill(RETURN_TO[field])
    unbind.locator("button[type=submit]").click()
    expect(seller.locator("[data-testid=application]")).to_have_attribute("data-status", "unbound")
    expect(seller.locator("[data-testid=stock-choice]")).to_contain_text("7 good")
    _fits(seller, "unbound")
    sweep_database(m.db_url, clock, settings)  # the payouts go out

    # closing asks for a confirmation, then clears the contact details
    seller.reload()
    close = seller.locator("[data-testid=close-form]")
    close.locator("input[name=confirm]").check()
    close.locator("button[type=submit]").click()
    expect(seller.locator("[data-testid=closed]")).to_be_visible()
    _fits(seller, "closed")
    seller.close()
    store = m.ok(m.get(f"/stores/{ids['store']}", ids["token"]))
    assert store["status"] == "closed" and store.get("sender_address") is None
    assert SENDER["phone"] not in str(store)

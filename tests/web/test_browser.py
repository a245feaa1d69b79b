"""Playwright drives Debian's Chromium: a seller signs in, confirms and ships an order (O2, F9, G7)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.builders.market import PASSWORD, Market, create_console_user
from tests.builders.shipping import SandboxHandle, connect_sandbox
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

from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
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


def _sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/console/orders")


def test_seller_confirms_and_ships_an_order_in_the_console(
    browser: Browser, live_server: str, live_market: Market, tmp_path: Path
) -> None:
    m = live_market
    create_console_user(m.db_url, "seller-a@example.com", Role.seller, m.sellers["a"], locale="en")
    order = m.place("a_full")  # no stock in the platform's warehouse: the seller confirms (O2)
    own = m.place("a_self")  # which the seller ships itself
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    _sign_in(page, live_server, "seller-a@example.com")

    row = page.locator(f"tr[data-order='{order['id']}']")
    expect(row).to_contain_text("Awaiting confirmation")
    # O2: 24 h to confirm, counted by the page from the server's (frozen) clock.
    expect(row.locator("[data-countdown]")).to_have_text(re.compile(r"^in (1 d 0 h|23 h 59 min)$"))
    row.locator("a").click()

    page.click("button[data-action=confirm]")
    expect(page.get_by_test_id("status")).to_have_text("Awaiting shipment")
    # F11: the platform's warehouse ships a full-managed order; the seller has no ship form
    expect(page.locator("input[name=carrier_code]")).to_have_count(0)
    assert m.ok(m.get("/supply-orders", m.seller_tokens["a"]))[0]["status"] == "confirmed"

    page.goto(f"{live_server}/console/orders/{own['id']}")
    page.fill("input[name=carrier_code]", "cainiao")
    page.fill("input[name=tracking_number]", "LP00123456789CN")
    page.click("button[data-action=ship]")
    expect(page.get_by_test_id("status")).to_have_text("Shipped")
    expect(page.get_by_test_id("tracking")).to_contain_text("LP00123456789CN")
    expect(page.get_by_test_id("timeline").locator("li")).to_have_count(2)
    page.screenshot(path=str(tmp_path / "order-desktop.png"), full_page=True)

    stored = m.ok(m.get(f"/orders/{own['id']}", m.operator))
    assert (stored["status"], stored["tracking_number"]) == ("shipped", "LP00123456789CN")
    page.close()


def test_console_fits_a_390px_phone(
    browser: Browser, live_server: str, live_market: Market, tmp_path: Path
) -> None:  # G7
    m = live_market
    create_console_user(m.db_url, "op@example.com", Role.operator, locale="zh-CN")
    for key in ("a_full", "a_semi", "b_self"):
        m.place(key)
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    _sign_in(page, live_server, "op@example.com")
    expect(page.locator("tr[data-order]")).to_have_count(3)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    wide = page.evaluate(
        """[...document.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > window.innerWidth).map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right).slice(0, 8)"""
    )
    assert overflow <= 0, f"page scrolls sideways by {overflow}px at 390px: {wide}"
    page.locator("tr[data-order] a").first.click()
    # the order page, loaded (evaluating mid-navigation reads no document)
    page.wait_for_url("**/console/orders/ord_*")
    page.wait_for_load_state()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.screenshot(path=str(tmp_path / "order-phone.png"), full_page=True)
    shots = os.environ.get("TUOGUAN_SCREENSHOTS")
    if shots:
        shutil.copy(tmp_path / "order-phone.png", Path(shots) / "order-phone.png")
    page.close()


def test_a_seller_on_a_phone_sees_the_risk_then_appeals_the_penalty(
    browser: Browser,
    live_server: str,
    live_market: Market,
    clock: FrozenClock,
    settings: Settings,
    tmp_path: Path,
) -> None:  # G5 F6 G7
    m = live_market
    create_console_user(m.db_url, "seller-a@example.com", Role.seller, m.sellers["a"], locale="en")
    tiers = [{"from_hours": 0, "to_hours": None, "rate_bp": 500, "rating_points": 2}]
    m.ok(m.post("/penalty-policies", m.operator, {"kind": "ship_late", "tiers": tiers}), 201)
    order = m.place("a_semi")
    placed, ship_by = (datetime.fromisoformat(order[k]) for k in ("placed_at", "ship_by"))
    clock.current = placed + (ship_by - placed) * 0.8
    sweep_database(m.db_url, clock, settings)  # the at-risk page shows the scores stored
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    _sign_in(page, live_server, "seller-a@example.com")
    page.click("a[href='/console/at-risk']")
    row = page.locator(f"tr[data-order='{order['id']}']")
    expect(row).to_contain_text("deadline is gone and the work is not done")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.screenshot(path=str(tmp_path / "at-risk-phone.png"), full_page=True)

    clock.current = ship_by + timedelta(minutes=5)
    sweep_database(m.db_url, clock, settings)
    page.goto(f"{live_server}/console/penalties")
    card = page.locator("[data-penalty]").first
    expect(card).to_contain_text(order["id"])
    card.locator("textarea[name=reason]").fill("the carrier missed the pickup")
    card.locator("button[type=submit]").click()
    expect(page.locator(".ok")).to_be_visible()
    expect(page.locator("[data-penalty]").first).to_contain_text("Appealed")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.screenshot(path=str(tmp_path / "penalties-phone.png"), full_page=True)
    shots = os.environ.get("TUOGUAN_SCREENSHOTS")
    if shots:
        for name in ("at-risk-phone.png", "penalties-phone.png"):
            shutil.copy(tmp_path / name, Path(shots) / name)
    (penalty,) = m.ok(m.get("/penalties", m.operator, params={"status": "appealed"}))
    assert penalty["appeal_reason"] == "the carrier missed the pickup"
    page.close()


def test_a_seller_on_a_phone_ships_online_and_cancels_through_the_confirm_dialog(
    browser: Browser,
    live_server: str,
    live_market: Market,
    sandbox_carrier: SandboxHandle,
    clock: FrozenClock,
) -> None:  # F8 F10 G7
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    order = m.place("a_self")
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    _sign_in(page, live_server, "a@example.com")
    page.goto(f"{live_server}/console/orders/{order['id']}")
    page.click("[data-testid=ship-online]")
    expect(page.locator('[data-option="TG-EXPRESS"][data-allowed="yes"]')).to_be_visible()
    page.click('[data-ship="TG-POST-REG"]')
    expect(page.locator("[data-shipment]")).to_have_attribute("data-status", "created")
    page.click("[data-step=submit]")
    expect(page.locator("[data-shipment]")).to_have_attribute("data-status", "submitted")
    # dismissing the confirm dialog sends nothing
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("[data-step=cancel]")
    page.wait_for_timeout(300)
    listed = m.ok(m.get(f"/orders/{order['id']}/shipments", m.seller_tokens["a"]))
    assert [s["status"] for s in listed] == ["submitted"]
    # accepting it asks the carrier, and the page says it waits for the answer
    page.select_option("select[name=reason]", "wrong_product_info")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-step=cancel]")
    expect(page.locator("[data-shipment]")).to_have_attribute("data-status", "cancel_requested")
    clock.advance(timedelta(minutes=11))
    sandbox_carrier.tick(m.client)
    page.reload()
    expect(page.locator("[data-shipment]")).to_have_attribute("data-status", "cancelled")
    expect(page.locator("[data-testid=ship-online]")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.close()


def test_the_console_runs_under_its_csp_without_a_violation(
    browser: Browser, live_server: str, live_market: Market
) -> None:  # O5 G7
    m = live_market
    create_console_user(m.db_url, "op@example.com", Role.operator, locale="en")
    order = m.place("a_full")
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    problems: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        url = msg.location.get("url", "")
        # The console has no favicon; Chromium asks for one anyway.
        if msg.type == "error" and not url.endswith("/favicon.ico"):
            problems.append(f"{msg.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    # Runs before the page's own scripts, outside its CSP: reports anything the policy blocks.
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))"
    )
    response = page.goto(f"{live_server}/login")
    assert response is not None
    assert "script-src 'self';" in response.headers["content-security-policy"]
    _sign_in(page, live_server, "op@example.com")

    row = page.locator(f"tr[data-order='{order['id']}']")
    expect(row.locator("[data-countdown]")).to_have_text(re.compile(r"^in (1 d 0 h|23 h 59 min)$"))
    # The filters apply on change, bound by console.js now that inline handlers are gone.
    page.select_option("select[name=status]", "awaiting_confirmation")
    expect(page).to_have_url(re.compile(r"status=awaiting_confirmation"))
    page.select_option("select[name=sort]", "newest")
    expect(page).to_have_url(re.compile(r"sort=newest"))
    page.locator(f"tr[data-order='{order['id']}'] a").click()

    # The confirm dialog still guards a cancellation; dismissing it sends nothing.
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.fill("form[action$='/cancel'] input[name=reason]", "buyer changed their mind")
    page.click("button[data-action=cancel]")
    page.wait_for_timeout(300)
    assert asked == ["Cancel this order?"]
    expect(page.get_by_test_id("status")).to_have_text("Awaiting confirmation")

    for path in ("at-risk", "breaches", "policies", "logistics", "notifications", "penalties"):
        assert page.goto(f"{live_server}/console/{path}") is not None
        expect(page.locator("h1")).to_be_visible()
    page.select_option("select[name=status]", "appealed")
    expect(page).to_have_url(re.compile(r"/console/penalties\?status=appealed"))
    assert problems == []
    page.close()

"""Playwright drives Debian's Chromium on a 390 px phone in Chinese through the whole full-managed
flow: the seller confirms a supply order and sends the goods under an inbound notice; warehouse
staff receive them with the scanner's input, pick, pack and ship online; the carrier delivers and
the order completes, and the seller never ships (O2 × M5, R1, F11, G7).

Screenshots go to var/screens/ (git-ignored) for a person to look at."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.builders.inbound import add_sku
from tests.builders.market import PASSWORD, Market, create_console_user
from tests.builders.shipping import SandboxHandle, connect_sandbox
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role

CHROMIUM = os.environ.get("TUOGUAN_CHROMIUM", "/usr/bin/chromium")
SCREENS = Path(__file__).resolve().parents[2] / "var" / "screens"
BARCODE = "6901234567892"
pytestmark = pytest.mark.browser

if not shutil.which(CHROMIUM) and os.environ.get("CI", "").lower() != "true":
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402


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


def _sign_in(page: Page, base: str, email: str, home: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}{home}")


def _fits(page: Page, name: str) -> None:
    """Nothing scrolls sideways at 390 px; the page is kept as a screenshot."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('*')]"
        ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)"
        ".map(e => e.tagName + '.' + e.className).slice(0, 8)"
    )
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at 390 px: {wide}"


def test_a_seller_confirms_and_the_warehouse_receives_and_ships_on_a_phone(
    browser: Browser,
    live_server: str,
    live_market: Market,
    sandbox_carrier: SandboxHandle,
    clock: FrozenClock,
) -> None:  # O2 × M5, R1, F11, G7
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    sku = add_sku(m, "a_full", "EB-BLK", barcode=BARCODE, colour="黑色")
    line = {"product_id": m.products["a_full"], "sku_id": sku, "quantity": 2}
    order = m.place("a_full", lines=[line])
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"], locale="zh-CN")
    create_console_user(
        m.db_url,
        "dock@example.com",
        Role.warehouse,
        locale="zh-CN",
        warehouse_ids=[m.platform_warehouse],
    )
    phone = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2}

    # the seller confirms the supply order within its 24 hours
    seller = browser.new_page(**phone)
    _sign_in(seller, live_server, "a@example.com", "/console/orders")
    seller.goto(f"{live_server}/console/supply-orders")
    card = seller.locator("[data-testid=to-confirm] article.supply")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Earbuds 耳机")
    expect(card.get_by_test_id("left")).to_have_text("还剩 1天0小时")
    _fits(seller, "supply-orders-390")
    card.locator("button[data-action=confirm-supply]").click()
    expect(seller.locator("p.ok")).to_contain_text("已确认备货单")
    expect(seller.locator("article.supply .badge")).to_have_text("已确认，待发货")
    _fits(seller, "supply-order-confirmed-390")
    seller.goto(f"{live_server}/console/orders/{order['id']}")
    expect(seller.get_by_test_id("fulfilment")).to_contain_text("等待备货")
    _fits(seller, "order-full-managed-390")

    # and sends the goods under an inbound notice filled in from the supply order
    seller.go_back()
    seller.get_by_test_id("send-goods").click()
    seller.fill("input[name=cartons]", "2")
    _fits(seller, "inbound-new-390")
    seller.click("button[data-action=create-notice]")
    expect(seller.get_by_test_id("status")).to_have_text("草稿")
    seller.fill("[data-testid=send-form] input[name=carrier_name]", "顺丰速运")
    seller.fill("[data-testid=send-form] input[name=tracking_number]", "SF1234567890")
    seller.click("button[data-action=send]")
    expect(seller.get_by_test_id("status")).to_have_text("在途")
    _fits(seller, "inbound-sent-390")
    asn = seller.get_by_test_id("asn").inner_text()

    # warehouse staff scan the ASN, then each unit's barcode, and finish
    dock = browser.new_page(**phone)
    _sign_in(dock, live_server, "dock@example.com", "/console/warehouse")
    dock.click("a[href='/console/warehouse/receiving']")
    scan = dock.locator("[data-scan-input]")
    expect(scan).to_be_focused()
    _fits(dock, "receiving-home-390")
    dock.keyboard.type(asn.lower())
    dock.keyboard.press("Enter")
    expect(dock.get_by_test_id("asn")).to_have_text(asn)
    expect(dock.locator("[data-scan-input]")).to_be_focused()
    for n in (1, 2):
        dock.keyboard.type(BARCODE)
        dock.keyboard.press("Enter")
        expect(dock.get_by_test_id("message")).to_contain_text("已计数")
        expect(dock.get_by_test_id("units")).to_contain_text(f"{n}/2")
    expect(dock.locator("li.recv-line.done")).to_have_count(1)
    _fits(dock, "receiving-counted-390")
    dock.once("dialog", lambda dialog: dialog.accept())
    dock.click("button[data-action=finish]")
    expect(dock.get_by_test_id("status")).to_have_text("已收货")
    _fits(dock, "receiving-done-390")

    # the goods now wait on the pick list; staff scan them at the packing bench and ship online
    dock.goto(f"{live_server}/console/warehouse/pick-list")
    expect(dock.locator("article[data-pick]")).to_have_count(1)
    _fits(dock, "pick-list-390")
    dock.click("a[data-action=pack]")
    for _ in (1, 2):
        dock.fill("#pack-code", BARCODE)
        dock.keyboard.press("Enter")
    expect(dock.get_by_test_id("scanned")).to_contain_text("2 / 2")
    dock.click("button[data-action=pick]")
    expect(dock.get_by_test_id("ship-form")).to_be_visible()
    _fits(dock, "pack-options-390")
    dock.click("button[data-action=ship]")
    tracking = dock.get_by_test_id("tracking")
    expect(tracking).not_to_be_empty()
    _fits(dock, "pack-shipped-390")
    number = tracking.inner_text().strip()
    dock.close()

    # the seller sees the warehouse's stock of the SKU (shipped: none left) and its notice received
    seller.goto(f"{live_server}/console/stock")
    row = seller.locator(f"tr[data-sku='{sku}']")
    expect(row.get_by_test_id("available")).to_have_text("0")
    expect(row).to_contain_text("优选仓 Dongguan hub")
    _fits(seller, "stock-390")
    seller.goto(f"{live_server}/console/inbound")
    expect(seller.locator(f"tr[data-notice='{asn}']")).to_contain_text("已收货")
    _fits(seller, "inbound-list-390")
    seller.close()
    # the carrier takes the parcel in and delivers it; the buyer confirms receipt
    sandbox_carrier.fate(m.client, number, "normal")
    clock.advance(timedelta(hours=7))
    sandbox_carrier.tick(m.client)
    clock.advance(timedelta(days=12))
    sandbox_carrier.tick(m.client)
    assert m.ok(m.post(f"/orders/{order['id']}/complete", m.channel))["status"] == "completed"

    supply = m.ok(m.get("/supply-orders", m.operator))[0]
    assert (supply["order_id"], supply["status"]) == (order["id"], "received")
    # the seller's timeline has every step, and not one of them is the seller shipping
    timeline = m.ok(m.get(f"/orders/{order['id']}/events", m.seller_tokens["a"]))
    steps = [e["action"] for e in timeline]
    for step in ("supply_confirmed", "fulfilment_reserved", "fulfilment_picked", "ship", "deliver"):
        assert step in steps, steps
    assert steps[-1] == "complete"
    assert not [e for e in timeline if e["action"] == "ship" and e["actor_role"] == "seller"]

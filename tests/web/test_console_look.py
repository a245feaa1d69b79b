"""The console's general look (G7): one palette of status badges, text at WCAG AA contrast,
list tables labelled for their phone cards, and a header that fits a 390 px phone (the pages
after the first group fold into a "More" menu) and lays its links flat on a desk."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.builders.market import PASSWORD, Market, create_console_user
from tuoguan.exports.states import ExportStatus
from tuoguan.finance.states import PenaltyStatus
from tuoguan.fulfilment.models import FulfilmentStatus, InboundStatus, SupplyStatus
from tuoguan.ops.models import FailureStatus
from tuoguan.orders.states import OrderStatus
from tuoguan.principal import Role
from tuoguan.shipping.models import ClaimStatus, ShipmentStatus

WEB = Path(__file__).resolve().parents[2] / "src" / "tuoguan" / "web"
CSS = (WEB / "static" / "console.css").read_text()
TONES = ("neutral", "info", "attention", "success", "critical")
STATES: list[type[StrEnum]] = [
    OrderStatus,
    FulfilmentStatus,
    SupplyStatus,
    InboundStatus,
    ShipmentStatus,
    ClaimStatus,
    PenaltyStatus,
    ExportStatus,
    FailureStatus,
]


def _tone_of() -> dict[str, list[str]]:
    """Each badge class the stylesheet names, with the tones it is given."""
    tones: dict[str, list[str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", CSS):
        tone = re.search(r"background:var\(--(\w+)-bg\)", body)
        if not tone or tone.group(1) not in TONES:
            continue
        for name in re.findall(r"\.badge\.([\w-]+)", selectors):
            tones.setdefault(name, []).append(tone.group(1))
    return tones


def test_every_state_has_exactly_one_badge_tone() -> None:  # G7
    tones = _tone_of()
    for tone in TONES:
        assert tones.get(f"tone-{tone}") == [tone]
    for family in STATES:
        for state in family:
            assert len(tones.get(state.value, [])) == 1, (
                f"{family.__name__}.{state.value}: {tones.get(state.value)}"
            )
    # the same meaning, the same colour on every page
    assert (
        tones["delivered"] == tones["received"] == tones["done"] == tones["resolved"] == ["success"]
    )
    assert tones["missed"] == tones["failed"] == tones["exception"] == ["critical"]
    assert tones["cancelled"] == ["neutral"]


def _colour(name: str) -> tuple[float, float, float]:
    value = re.search(rf"--{name}:(#[0-9a-fA-F]{{6}})", CSS)
    assert value, name
    return tuple(int(value.group(1)[i : i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


def _contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    def lum(c: tuple[float, float, float]) -> float:
        r, g, b_ = (x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b_

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_text_colours_meet_wcag_aa() -> None:  # G7
    white = (1.0, 1.0, 1.0)
    for tone in TONES:
        assert _contrast(_colour(f"{tone}-fg"), _colour(f"{tone}-bg")) >= 4.5, tone
    for text in ("fg", "muted", "link", "accent", "critical-fg", "ok"):
        for ground in ("surface", "bg", "subtle"):
            assert _contrast(_colour(text), _colour(ground)) >= 4.5, (text, ground)
    assert _contrast(white, _colour("accent")) >= 4.5  # a primary button's label
    assert _contrast(white, _colour("accent-hover")) >= 4.5
    # form fields' edges are seen (WCAG 1.4.11: 3:1 for what a person must find)
    assert _contrast(_colour("control"), _colour("surface")) >= 3


def test_list_tables_label_every_cell_for_the_phone() -> None:  # G7
    tables = 0
    for template in sorted((WEB / "templates").glob("*.html")):
        html = template.read_text()
        for opening, body in re.findall(r"(<table[^>]*>)(.*?)</table>", html, re.S):
            named = re.search(r'class="([^"]*)"', opening)
            classes = named.group(1).split() if named else []
            if {"orders", "stack"} & set(classes):
                assert "list" in classes, f"{template.name}: {opening}"
            if "list" not in classes:
                continue
            tables += 1
            rows = body.split("<tbody>", 1)[1]
            cells = re.findall(r"<td\b[^>]*>", rows)
            assert cells, template.name
            for cell in cells:
                assert "data-label=" in cell, f"{template.name}: {cell}"
    assert tables >= 9


CHROMIUM = os.environ.get("TUOGUAN_CHROMIUM", "/usr/bin/chromium")
needs_browser = pytest.mark.skipif(
    not shutil.which(CHROMIUM) and os.environ.get("CI", "").lower() != "true",
    reason="Debian's chromium is not installed (apt-get install chromium)",
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
    page.wait_for_load_state()


def _overflow(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


@needs_browser
@pytest.mark.browser
def test_the_header_fits_a_phone_and_lies_flat_on_a_desk(
    browser: Browser, live_server: str, live_market: Market
) -> None:  # G7
    m = live_market
    create_console_user(m.db_url, "op@example.com", Role.operator, locale="en")
    create_console_user(m.db_url, "seller@example.com", Role.seller, m.sellers["a"], locale="zh-CN")
    create_console_user(
        m.db_url,
        "dock@example.com",
        Role.warehouse,
        locale="zh-CN",
        warehouse_ids=[m.platform_warehouse],
    )
    m.place("a_semi")

    desk = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(desk, live_server, "op@example.com")
    header = desk.locator("header.top")
    expect(header.get_by_test_id("who")).to_contain_text("operator")
    expect(header.get_by_test_id("lang")).to_have_text("中文")
    expect(header.get_by_role("button", name="Sign out")).to_be_visible()
    # every page is one click away, the menu's summary is not shown, the page read is marked
    for name in (
        "Orders",
        "At risk",
        "Stock",
        "Stale inbound",
        "Logistics",
        "Set aside",
        "Notifications",
    ):
        expect(header.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(header.locator("details.more > summary")).to_be_hidden()
    expect(header.locator("a[aria-current=page]")).to_have_text("Orders")
    rows = {
        round(box["y"]) for box in (a.bounding_box() for a in header.locator("nav a").all()) if box
    }
    assert len(rows) <= 2, "the pages' links (eighteen, for an operator) fit two lines at 1280 px"
    desk.close()

    phone = browser.new_page(viewport={"width": 390, "height": 844})
    _sign_in(phone, live_server, "seller@example.com")
    header = phone.locator("header.top")
    assert _overflow(phone) <= 0
    expect(header.get_by_role("link", name="风险预警")).to_be_visible()  # the first group stays
    stock = header.get_by_role("link", name="库存")
    expect(stock).to_be_hidden()
    expect(header.get_by_test_id("who")).to_contain_text("卖家")
    expect(header.get_by_test_id("lang")).to_be_visible()
    expect(header.get_by_role("button", name="退出")).to_be_visible()
    header.locator("details.more > summary").click()
    expect(stock).to_be_visible()
    assert _overflow(phone) <= 0
    phone.keyboard.press("Escape")
    expect(stock).to_be_hidden()
    header.locator("details.more > summary").click()
    stock.click()
    phone.wait_for_url("**/console/stock")
    expect(phone.locator("details.more > summary")).to_have_class(re.compile(r"\bhere\b"))
    # a list is a stack of cards, each value beside its label
    phone.goto(f"{live_server}/console/orders")
    expect(phone.locator("table.list thead")).to_be_hidden()
    label = (
        phone.locator("table.list tbody td")
        .nth(1)
        .evaluate("td => getComputedStyle(td, '::before').content")
    )
    assert label.strip('"') == "店铺"
    assert _overflow(phone) <= 0
    phone.close()

    dock = browser.new_page(viewport={"width": 390, "height": 844})
    _sign_in(dock, live_server, "dock@example.com")
    header = dock.locator("header.top")
    expect(header.locator("details.more")).to_have_count(0)
    expect(header.get_by_role("link", name="收货", exact=True)).to_be_visible()
    expect(header.get_by_role("link", name="拣货单")).to_be_visible()
    assert _overflow(dock) <= 0
    dock.close()

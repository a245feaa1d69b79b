"""Console: the order page reads as words for a person (G7): who did what by name, the carrier's
tracking history with the delivery commitment and its slack (F9, G2), fee lines that add up to
the total, deadlines only where one runs (O5), and no second shipment offered while a parcel is
live (F10)."""

from __future__ import annotations

import os
import re
import shutil
from datetime import datetime, timedelta
from html.parser import HTMLParser

import httpx
import pytest

from tests.builders.market import PASSWORD, Market, create_console_user
from tests.builders.shipping import SandboxHandle, connect_sandbox
from tests.builders.workers import sweep_database
from tests.web.test_console_http import _csrf, _login
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.kit.money import format_minor
from tuoguan.principal import Role

CHROMIUM = os.environ.get("TUOGUAN_CHROMIUM", "/usr/bin/chromium")
ID = re.compile(r"\b[a-z]{2,12}_[0-9A-HJKMNP-TV-Z]{26}\b")
ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
RAW = re.compile(r"\b(shipment_\w+|scan_\w+|deadline_missed|awaiting_\w+|system system)\b")


class _Visible(HTMLParser):
    """The text a person sees: no scripts, no title, no copyable refs (order and tracking
    numbers), no attribute values."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        hidden = self.skipping or tag in ("script", "style", "title") or "ref" in classes
        if hidden and tag not in ("br", "input", "img", "meta", "link"):
            self.skipping.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def part(html: str, testid: str, end: str = "</ol>") -> str:
    """The markup from the element with this test id to the end of its list (or section)."""
    return between(html, f'data-testid="{testid}"', end)


def between(html: str, marker: str, end: str) -> str:
    start = html.index(marker)
    return html[start : html.index(end, start)]


def _page(browser: httpx.Client, order_id: str, lang: str = "en") -> str:
    browser.get(f"/lang/{lang}")
    answer = browser.get(f"/console/orders/{order_id}")
    assert answer.status_code == 200, answer.text
    return answer.text


def _words_only(html: str) -> None:
    """No internal id, ISO time or raw state name a person would see."""
    text = visible(html)
    hit = ID.search(text)
    assert not hit, text[max(0, hit.start() - 200) : hit.end() + 50]
    assert not ISO.search(text), ISO.search(text)
    assert not RAW.search(text), RAW.search(text)
    assert "minor unit" not in text


def test_a_parcel_shows_its_tracking_history_and_the_slack_to_its_commitment(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock, live_server: str
) -> None:  # F9 G2 G7
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    order = m.place("a_self")
    create_console_user(m.db_url, "li.wei@example.com", Role.seller, m.sellers["a"])
    with httpx.Client(base_url=live_server, timeout=30) as browser:
        assert _login(browser, "li.wei@example.com") == 303
        page = _page(browser, order["id"])
        assert 'data-testid="ship-online"' in page
        made = browser.post(
            f"/console/ship/{order['id']}",
            data={
                "csrf": _csrf(page),
                "service_code": "TG-POST-REG",
                "expected_total_minor": "300",
            },
        )
        assert made.status_code == 303
        page = _page(browser, order["id"])
        shipment_id = page.split('data-shipment="')[1].split('"')[0]
        tracking = page.split('data-testid="parcel-tracking">')[1].split("<")[0]
        sandbox_carrier.fate(m.client, tracking, "normal")
        # F10: the parcel is live: no second shipment, online or typed, and the page says why
        assert 'data-testid="ship-online"' not in page
        assert 'name="tracking_number"' not in page
        assert "A parcel is under way with Sandbox carrier (label created)" in visible(page)
        # the carrier and service by name, the order number and tracking number as copyable refs
        assert 'data-testid="parcel-carrier">Sandbox carrier<' in page
        assert "挂号小包 Registered small parcel" in page
        assert f'<code class="ref" data-testid="order-ref">{order["id"]}</code>' in page
        assert "Counted from the pickup scan" in page
        submitted = browser.post(
            f"/console/shipments/{shipment_id}/submit", data={"csrf": _csrf(page)}
        )
        assert submitted.status_code == 303
        clock.advance(timedelta(hours=7))  # the sandbox scans a self-dropped parcel in
        sandbox_carrier.tick(m.client)
        clock.advance(timedelta(hours=9))  # it leaves the origin's hub; nothing is pushed:
        sandbox_carrier.sandbox.due(clock.now())  # the page asks the carrier
        assert _login(browser, "li.wei@example.com") == 303  # a day later: a new session
        page = _page(browser, order["id"])
        refreshed = browser.post(
            f"/console/shipments/{shipment_id}/refresh", data={"csrf": _csrf(page)}
        )
        assert refreshed.status_code == 303
        page = browser.get(refreshed.headers["location"]).text
        assert "Tracking refreshed: 1 new events." in page

        history = part(page, "tracking-history")
        codes = re.findall(r'data-code="(\w+)"', history)
        assert codes == ["in_transit", "picked_up", "label_created"]  # newest on top
        shown = visible(history)
        assert "In transit" in shown and "Picked up" in shown and "Label created" in shown
        assert "Shenzhen hub" in shown and "China time" in shown
        commit = part(page, "commit", "</dd>")
        assert 'data-standing="left"' in commit and re.search(r"in \d+ (days|weeks)", commit)
        assert "Spain time" in commit

        timeline = visible(part(page, "timeline"))
        assert "Order placed" in timeline and "Storefront (buyer)" in timeline
        assert "Shipped online: label created" in timeline and "li.wei" in timeline
        assert "Parcel: Picked up" in timeline and "Sandbox carrier" in timeline
        _words_only(page)

        zh = _page(browser, order["id"], "zh-CN")
        history = visible(part(zh, "tracking-history"))
        assert "运输中" in history and "已揽收" in history and "中国时间" in history
        timeline = visible(part(zh, "timeline"))
        assert "买家下单" in timeline and "包裹状态：已揽收" in timeline
        for english in ("Order placed", "Picked up", "Carrier", "Items", "Total", "late"):
            assert english not in visible(zh)
        _words_only(zh)

        # G2: the commitment passes with no word from the carrier: the page says how late
        commit_at = datetime.fromisoformat(
            part(page, "commit", "</dd>").split('datetime="')[1].split('"')[0]
        )
        clock.current = commit_at + timedelta(hours=5, minutes=10)
        assert _login(browser, "li.wei@example.com") == 303
        page = _page(browser, order["id"])
        commit = part(page, "commit", "</dd>")
        assert 'data-standing="late"' in commit and "5 hours late" in visible(commit)
        assert "已超时 5小时" in visible(
            part(_page(browser, order["id"], "zh-CN"), "commit", "</dd>")
        )
        # the carrier's scans then arrive, each at the time it happened: in time after all
        sandbox_carrier.tick(m.client)
        page = _page(browser, order["id"])
        commit = part(page, "commit", "</dd>")
        assert 'data-standing="met"' in commit and "Delivered in time" in visible(commit)
        assert re.findall(r'data-code="(\w+)"', part(page, "tracking-history"))[0] == "delivered"
        assert "Spain time" in visible(part(page, "tracking-history"))
        # a delivered order: its deliver-by says it was met, nothing counts down
        assert 'data-testid="next-deadline"' in page  # auto-complete runs now
        assert "Done in time" in visible(part(page, "summary", "</section>"))
        _words_only(page)


def test_fee_lines_add_up_to_the_total_and_items_show_once(
    live_market: Market, live_server: str
) -> None:  # G7
    m = live_market
    order = m.place("a_self", quantity=2, shipping_minor=650)
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    with httpx.Client(base_url=live_server, timeout=30) as browser:
        assert _login(browser, "a@example.com") == 303
        page = _page(browser, order["id"])
        fees = part(page, "fees", "</tfoot>")
        amounts = dict(re.findall(r'data-fee="(\w+)" data-minor="(-?\d+)"', fees))
        assert amounts == {
            "fee_subtotal": str(2 * 1999),
            "fee_shipping": "650",
            "total": str(2 * 1999 + 650),
        }
        for minor in (2 * 1999, 650, 2 * 1999 + 650):
            assert format_minor(minor, "USD", "en") in fees
        text = visible(page)
        assert "Subtotal" in text and "Shipping" in text
        assert text.count("Items") == 1
        zh_page = _page(browser, order["id"], "zh-CN")
        zh = visible(zh_page)
        assert "商品小计" in zh and "运费" in zh and "订单总额" in zh
        assert format_minor(2 * 1999 + 650, "USD", "zh-CN") in zh
        # the items' heading once (the header's menu has a 商品 page of its own)
        assert visible(between(zh_page, "<main", "</main>")).split().count("商品") == 1


def test_a_cancelled_or_completed_order_shows_no_running_deadline(
    live_market: Market, live_server: str
) -> None:  # O5 G7
    m = live_market
    cancelled = m.place("a_self")
    completed = m.place("a_self")
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    create_console_user(m.db_url, "op@example.com", Role.operator)
    m.ok(
        m.post(
            f"/orders/{completed['id']}/ship",
            m.seller_tokens["a"],
            {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"},
        )
    )
    m.ok(m.post(f"/orders/{completed['id']}/deliver", m.carrier, {}))
    m.ok(m.post(f"/orders/{completed['id']}/complete", m.channel, {}))
    with httpx.Client(base_url=live_server, timeout=30) as browser:
        assert _login(browser, "op@example.com") == 303
        page = _page(browser, cancelled["id"])
        assert "data-countdown" in page and 'data-testid="next-deadline"' in page
        form = {"csrf": _csrf(page), "reason": "the buyer asked by phone"}
        done = browser.post(f"/console/orders/{cancelled['id']}/cancel", data=form)
        assert done.status_code == 303
        assert _login(browser, "a@example.com") == 303
        for order_id, stamp in (
            (cancelled["id"], "cancelled-at"),
            (completed["id"], "completed-at"),
        ):
            page = _page(browser, order_id)
            assert "data-countdown" not in page and "data-deadline" not in page
            assert 'data-testid="next-deadline"' not in page and "Ship by" not in page
            assert f'data-testid="{stamp}"' in page
            _words_only(page)
        page = _page(browser, cancelled["id"])
        timeline = visible(part(page, "timeline"))
        # the seller sees the platform acted, with the reason it gave, not the operator's name
        assert "Order cancelled" in timeline and "Platform" in timeline
        assert "the buyer asked by phone" in timeline and "op" not in timeline.split()
        assert "the buyer asked by phone" in visible(part(page, "summary", "</section>"))
        assert _login(browser, "op@example.com") == 303
        page = _page(browser, cancelled["id"])
        assert "· op" in visible(part(page, "timeline"))  # the operator sees who it was
        assert 'data-testid="seller">Seller a<' in page  # and whose order it is


def test_an_unconfirmed_order_reads_not_confirmed_in_time_never_confirmed_late(
    live_market: Market, live_server: str, clock: FrozenClock, settings: Settings
) -> None:  # O2 G7
    m = live_market
    order = m.place("a_full")  # no stock at the platform's warehouse: the seller confirms
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    with httpx.Client(base_url=live_server, timeout=30) as browser:
        assert _login(browser, "a@example.com") == 303
        page = _page(browser, order["id"])
        countdown = part(page, "next-deadline", "</p>")
        assert re.search(r">in 23 h 59 min<|>in 1 d 0 h<", countdown)
        assert 'data-days="{d} d {h} h"' in countdown  # the script counts on in these words
        assert re.search(r">还剩 (23小时59分钟|1天0小时)<", _page(browser, order["id"], "zh-CN"))
        clock.advance(timedelta(hours=26))
        sweep_database(m.db_url, clock, settings)  # records the missed confirm-by (O2)
        assert _login(browser, "a@example.com") == 303
        page = _page(browser, order["id"])
        assert 'data-testid="missed">Not confirmed in time<' in page
        assert "Confirmed late" not in page
        assert "Missed the confirm-by deadline" in visible(part(page, "timeline"))
        assert re.search(r">已超时 2小时\d+分钟<", _page(browser, order["id"], "zh-CN"))
        page = _page(browser, order["id"], "en")
        confirmed = browser.post(
            f"/console/orders/{order['id']}/confirm", data={"csrf": _csrf(page)}
        )
        assert confirmed.status_code == 303
        page = browser.get(confirmed.headers["location"]).text
        assert "Order confirmed." in page and 'data-testid="missed"' not in page
        confirm_by = between(page, 'data-deadline="confirm_by"', "</dd>")
        assert 'data-standing="late"' in confirm_by and "Done 2 hours late" in confirm_by
        _words_only(page)


def test_a_refused_action_says_what_to_fix_beside_the_field(
    live_market: Market, live_server: str
) -> None:  # G7
    m = live_market
    order = m.place("a_self")
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"], locale="zh-CN")
    with httpx.Client(base_url=live_server, timeout=30) as browser:
        assert _login(browser, "a@example.com") == 303
        page = _page(browser, order["id"], "zh-CN")
        bad = browser.post(
            f"/console/orders/{order['id']}/ship",
            data={"csrf": _csrf(page), "carrier_code": "cainiao", "tracking_number": "x1"},
        )
        assert bad.status_code == 422
        beside = part(bad.text, "actions", "</section>")
        assert 'data-field="tracking_number">运单号为 8–30 位字母或数字。<' in beside
        assert "String should match" not in bad.text and "pattern" not in visible(bad.text)
        nothing = browser.post(f"/console/orders/{order['id']}/launch", data={"csrf": _csrf(page)})
        assert nothing.status_code == 404 and "找不到" in nothing.text
        missing = browser.get("/console/orders/ord_01JZZZZZZZZZZZZZZZZZZZZZZZ")
        assert missing.status_code == 404 and "找不到" in missing.text


@pytest.mark.browser
@pytest.mark.skipif(
    not shutil.which(CHROMIUM) and os.environ.get("CI", "").lower() != "true",
    reason="Debian's chromium is not installed (apt-get install chromium)",
)
def test_the_countdown_keeps_counting_in_the_pages_language_on_a_phone(
    live_market: Market, live_server: str
) -> None:  # O5 G7
    from playwright.sync_api import expect, sync_playwright

    m = live_market
    order = m.place("a_full")
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"], locale="zh-CN")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", "a@example.com")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.clock.install()  # the page's own clock, to let two hours pass in a moment
        page.goto(f"{live_server}/console/orders/{order['id']}")
        countdown = page.get_by_test_id("next-deadline").locator("[data-countdown]")
        expect(countdown).to_have_text(re.compile(r"^还剩 (23小时59分钟|1天0小时)$"))
        page.clock.fast_forward("02:00:00")
        # console.js counted on, in the page's words (the server wrote none of these)
        expect(countdown).to_have_text(re.compile(r"^还剩 (21小时59分钟|22小时0分钟)$"))
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        browser.close()

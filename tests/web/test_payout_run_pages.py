"""The operator's payout runs in the console (M3, G7): a preview form per cycle, a preview that
shows each store's opening, movements, closing, netted, payout and carried forward in words and
money, an execute button asked to confirm, the executed run with each payout's standing; in
Chinese and English, on a 390 px phone; sellers are refused and nothing is posted."""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.ledger import START
from tests.builders.market import Market, as_system, create_console_user
from tests.builders.money import entry_count
from tests.web.test_console_http import _csrf, _login
from tests.web.test_list_pages import RAW_ENUM, _clean, _page
from tuoguan.context import Ctx
from tuoguan.kit.clock import FrozenClock
from tuoguan.ledger import service as ledger
from tuoguan.ledger.kinds import EntryKind
from tuoguan.principal import Role

HOME = "/console/payout-runs"
MON_23 = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)  # Monday 23 Nov, 00:00 in Shanghai
ACCOUNT = {
    "holder_name": "Shenzhen A Trading",
    "bank_name": "ICBC",
    "account_number": "622202123456",
}


def _post(m: Market, kind: EntryKind, store: str, amount: int) -> None:
    async def work(session: AsyncSession, ctx: Ctx) -> None:
        at = Ctx(principal=ctx.principal, clock=FrozenClock(START + timedelta(hours=1)))
        parts = {"amount": amount}
        await ledger.post(session, at, kind, currency="USD", parts=parts, store_id=m.stores[store])

    as_system(m.db_url, work)


def _seed(m: Market, clock: FrozenClock) -> None:
    """a_full: due 100, owes 30, an account bound; b_full: due 40.01, no account; a_self: owes
    15 (fortnightly, settled by another run). The clock after Monday the 23rd's boundary."""
    bound = m.client.put(
        f"/api/v1/stores/{m.stores['a_full']}/payout-account",
        json=ACCOUNT,
        headers={"Authorization": f"Bearer {m.operator}"},
    )
    assert bound.status_code == 200, bound.text
    _post(m, EntryKind.insurance_claim_paid, "a_full", 10_000)
    _post(m, EntryKind.penalty_charged, "a_full", 3_000)
    _post(m, EntryKind.insurance_claim_paid, "b_full", 4_000)
    _post(m, EntryKind.insurance_claim_paid, "b_full", 1)
    _post(m, EntryKind.shipping_fee_charged, "a_self", 1_500)
    clock.current = MON_23 + timedelta(hours=2)


def _words(html: str) -> str:
    text = _clean(html)
    raw = {m.group(0) for m in RAW_ENUM.finditer(text)}
    assert not raw, raw
    return text


def _row(html: str, store_id: str) -> dict[str, str]:
    match = re.search(rf'<tr data-statement="{store_id}"([^>]*)>', html)
    assert match, html
    return dict(re.findall(r'data-(\w+)="([^"]*)"', match.group(1)))


@pytest.fixture
def seeded(client: TestClient, market: Market, clock: FrozenClock) -> Market:
    create_console_user(market.db_url, "op@example.com", Role.operator)
    create_console_user(market.db_url, "a@example.com", Role.seller, market.sellers["a"])
    _seed(market, clock)
    return market


def test_an_operator_previews_then_executes_a_run_in_both_languages(
    client: TestClient, seeded: Market
) -> None:  # M3 F6 G7
    m = seeded
    assert _login(client, "op@example.com") == 303
    ledger_page = _page(client, "/console/ledger", "en")
    assert f'href="{HOME}"' in ledger_page and "Payout runs" in ledger_page
    for lang, words in (
        ("en", ("Full-managed", "every 7 days", "every 14 days", "No payout runs yet")),
        ("zh-CN", ("全托管", "每 7 天结算一次", "每 14 天结算一次", "还没有结算批次")),
    ):
        text = _words(_page(client, HOME, lang))
        assert all(w in text for w in words), text
    home = _page(client, HOME, "en")
    assert len(re.findall(r'<form method="post" action="/console/payout-runs"', home)) == 3

    # preview the full-managed cycle: nothing posted, the figures in words and money
    posted = entry_count(m.db_url)
    answer = client.post(
        HOME, data={"csrf": _csrf(home), "cycle": "full_managed"}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    run_url = answer.headers["location"].split("?")[0]
    assert re.fullmatch(rf"{HOME}/prn_[0-9A-Z]{{26}}", run_url)
    assert entry_count(m.db_url) == posted
    page = _page(client, answer.headers["location"], "en")
    text = _words(page)
    assert "Previewed: nothing is posted until you execute the run." in text
    a = _row(page, m.stores["a_full"])
    assert (a["opening"], a["movements"], a["closing"]) == ("0", "7000", "7000")
    assert (a["netted"], a["payout"], a["carried"], a["status"]) == ("3000", "7000", "0", "paid")
    assert _row(page, m.stores["b_full"])["status"] == "held_no_account"
    assert m.stores["a_self"] not in page  # fortnightly: not this cycle's store
    for phrase in (
        "Full-managed payout run",
        "To be paid",
        "To be held: no payout account",
        "$40.01 kept until a payout account is bound",
        "Bind a payout account",
        "$70.00",
        "$30.00",
        "Seller a",
        "a full",
    ):
        assert phrase in text, phrase
    assert 'data-confirm="Net the debts and pay the stores of this run (2 statements) now?' in page
    zh = _words(_page(client, run_url, "zh-CN"))
    for phrase in (
        "全托管结算批次",
        "将打款",
        "将暂留：未绑定收款账户",
        "期初应结",
        "抵扣欠款",
        "US$70.00",
    ):
        assert phrase in zh, phrase

    # execute, confirmed: paid, held, and the payout waiting for the rail
    run_page = _page(client, run_url, "en")
    done = client.post(f"{run_url}/execute", data={"csrf": _csrf(run_page)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("?done=executed")
    executed = _page(client, done.headers["location"], "en")
    text = _words(executed)
    assert "The run was executed" in text and "Executed" in text
    assert "Paid" in text and "Held: no payout account" in text
    assert re.search(r'data-testid="payout-status">[^<]+<', executed)
    assert 'data-action="execute"' not in executed
    assert entry_count(m.db_url) > posted
    posted = entry_count(m.db_url)
    # a second execution (another tab) is refused in words, nothing posted
    again = client.post(f"{run_url}/execute", data={"csrf": _csrf(run_page)})
    assert again.status_code == 409
    assert "This run was executed already" in _words(again.text)
    assert entry_count(m.db_url) == posted
    # the list: newest first, what it paid
    listed = _words(_page(client, HOME, "en"))
    assert "Executed" in listed and "$70.00" in listed
    # and the cycle is settled up to its boundary: the next preview says when it is due
    refused = client.post(HOME, data={"csrf": _csrf(run_page), "cycle": "full_managed"})
    assert refused.status_code == 409
    assert "Nothing to settle yet: this cycle next ends" in _words(refused.text)
    client.cookies.set("tg_lang", "zh-CN")
    zh = client.post(HOME, data={"csrf": _csrf(run_page), "cycle": "full_managed"})
    assert "暂无可结算的款项" in _words(zh.text)


def test_sellers_are_refused_and_nothing_is_posted(
    client: TestClient, seeded: Market
) -> None:  # M3 G7
    m = seeded
    assert _login(client, "op@example.com") == 303
    home = _page(client, HOME, "en")
    previewed = client.post(
        HOME, data={"csrf": _csrf(home), "cycle": "full_managed"}, follow_redirects=False
    )
    run_url = previewed.headers["location"].split("?")[0]
    client.post("/logout", data={"csrf": _csrf(home)})
    client.cookies.clear()
    assert _login(client, "a@example.com") == 303
    seller_page = _page(client, "/console/money", "en")
    posted = entry_count(m.db_url)
    for method, url, data in (
        ("get", HOME, None),
        ("get", run_url, None),
        ("post", HOME, {"cycle": "full_managed"}),
        ("post", f"{run_url}/execute", {}),
    ):
        if method == "get":
            answer = client.get(url, follow_redirects=False)
        else:
            answer = client.post(url, data={**data, "csrf": _csrf(seller_page)})
        assert answer.status_code == 403, (url, answer.status_code)
        assert m.stores["b_full"] not in answer.text
    assert entry_count(m.db_url) == posted
    client.cookies.clear()
    assert client.get(HOME, follow_redirects=False).headers["location"] == "/login"


CHROMIUM = os.environ.get("TUOGUAN_CHROMIUM", "/usr/bin/chromium")


@pytest.mark.browser
@pytest.mark.skipif(
    not shutil.which(CHROMIUM) and os.environ.get("CI", "").lower() != "true",
    reason="Debian's chromium is not installed (apt-get install chromium)",
)
def test_a_run_fits_a_390px_phone_and_asks_before_it_executes(
    live_server: str, live_market: Market, clock: FrozenClock, tmp_path: Path
) -> None:  # M3 G7
    from playwright.sync_api import expect, sync_playwright

    from tests.builders.market import PASSWORD

    m = live_market
    create_console_user(m.db_url, "op@example.com", Role.operator, locale="zh-CN")
    _seed(m, clock)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", "op@example.com")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{live_server}{HOME}")

        def overflow() -> Any:
            return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")

        assert overflow() <= 0
        page.locator('form[data-cycle="full_managed"] button').click()
        page.wait_for_url(re.compile(r".*/console/payout-runs/prn_.*"))
        expect(page.locator("tr[data-statement]")).to_have_count(2)
        assert overflow() <= 0
        # the confirmation is asked; dismissed, nothing happens
        page.once("dialog", lambda dialog: dialog.dismiss())
        page.locator('button[data-action="execute"]').click()
        expect(page.get_by_test_id("run-status")).to_have_text("已预览")
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator('button[data-action="execute"]').click()
        expect(page.get_by_test_id("run-status")).to_have_text("已执行")
        assert overflow() <= 0
        page.screenshot(path=str(tmp_path / "payout-run-phone.png"), full_page=True)
        shots = os.environ.get("TUOGUAN_SCREENSHOTS")
        if shots:
            shutil.copy(tmp_path / "payout-run-phone.png", Path(shots) / "payout-run-phone.png")
        browser.close()

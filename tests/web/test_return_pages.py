"""A return in the console (G6, G7): the operator authorizes it from the case page (the label
booked with the carrier and printable there), the warehouse records what came back, the pages
read as words in both languages, and a full-managed seller is not offered the platform's step."""

from __future__ import annotations

import httpx
import pytest

from tests.builders.market import Market, create_console_user
from tests.builders.shipping import SandboxHandle, connect_sandbox
from tests.builders.stock import stocked
from tests.web.test_console_http import _csrf, _login
from tests.web.test_list_pages import _clean
from tuoguan.principal import Role

SHIP = {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"}


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_a_return_is_authorized_printed_and_received_from_the_case_page(
    live_market: Market, sandbox_carrier: SandboxHandle, live_server: str, lang: str
) -> None:  # G6 G7
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    warehouse, _ = stocked(m, "a_full", 5)
    order = m.place("a_full")
    m.ok(m.post(f"/orders/{order['id']}/ship", m.operator, SHIP))
    m.ok(m.post(f"/orders/{order['id']}/deliver", m.carrier))
    asked = m.ok(
        m.post(
            "/returns",
            m.channel,
            {"order_id": order["id"], "cause": "not_wanted", "summary": "too small, unopened"},
        ),
        201,
    )
    url = f"/console/cases/{asked['id']}"
    create_console_user(m.db_url, "op@example.com", Role.operator)
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    create_console_user(m.db_url, "dock@example.com", Role.warehouse, warehouse_ids=[warehouse])
    with httpx.Client(base_url=live_server, timeout=30) as browser:
        # the full-managed seller reads the return but is not offered its authorization
        assert _login(browser, "a@example.com") == 303
        browser.cookies.set("tg_lang", lang)
        seen = browser.get(url).text
        assert 'data-testid="return-parcel"' in seen and 'data-testid="authorize-form"' not in seen
        # and its order's page links to the return
        on_order = browser.get(f"/console/orders/{order['id']}").text
        assert f'href="/console/cases/{asked["id"]}"' in on_order
        browser.post("/logout", data={"csrf": _csrf(seen)})
        # the operator authorizes it with the service the platform names
        assert _login(browser, "op@example.com") == 303
        browser.cookies.set("tg_lang", lang)
        page = browser.get(url).text
        words = _clean(page)
        assert ("return requested" if lang == "en" else "退货申请待审核") in words
        # shipped by hand: the order's own service is not offered, and one is asked for
        assert 'name="service_code" required' in page
        # a refund's form says what is left to refund, and asks no bearer or units
        assert 'data-testid="refundable"' in page and 'name="units"' not in page
        assert 'name="bearer"' not in page
        refused = browser.post(
            f"{url}/return/authorize", data={"csrf": _csrf(page), "service_code": ""}
        )
        assert refused.status_code == 422
        assert ("choose the return" if lang == "en" else "请选择退货物流服务") in _clean(
            refused.text
        )
        done = browser.post(
            f"{url}/return/authorize",
            data={"csrf": _csrf(page), "service_code": "TG-POST-REG", "note": "send it back"},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        page = browser.get(url).text
        words = _clean(page)
        assert 'data-testid="return-tracking"' in page and "SB" in words
        assert ("Goes back to the platform" if lang == "en" else "退回平台仓库") in words
        label = browser.get(f"{url}/return/label")
        assert label.status_code == 200 and label.content.startswith(b"%PDF")
        browser.post("/logout", data={"csrf": _csrf(page)})
        # the dock records it as received, resellable
        assert _login(browser, "dock@example.com") == 303
        browser.cookies.set("tg_lang", lang)
        page = browser.get(url).text
        assert 'data-testid="receipt-form"' in page
        got = browser.post(
            f"{url}/return/receipt",
            data={"csrf": _csrf(page), "condition": "resellable"},
            follow_redirects=False,
        )
        assert got.status_code == 303, got.text
        words = _clean(browser.get(url).text)
        assert ("as sold, back on sale" if lang == "en" else "完好，可再次销售") in words
        # inside the exemption the platform keeps the unit, and the page says so
        assert ("Kept by the platform" if lang == "en" else "由平台留存") in words
    # the platform refunds part; the order's timeline says how much went back to the buyer
    part = {"decision": "refund_partial", "amount_minor": 250, "reason": "scuffed box"}
    m.ok(m.post(f"/cases/{asked['id']}/decision", m.operator, part))
    with httpx.Client(base_url=live_server, timeout=30) as browser:
        assert _login(browser, "op@example.com") == 303
        browser.cookies.set("tg_lang", lang)
        on_order = browser.get(f"/console/orders/{order['id']}").text
        refund = on_order.split('data-action="refund"')[1].split("</li>")[0]
        assert "2.50" in refund and "250" not in refund.replace("2.50", "")

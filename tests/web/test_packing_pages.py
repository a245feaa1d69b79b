"""The packing bench over plain HTTP: staff scan an order's units, a wrong item or a short count
is refused in their language, the right scan picks, the services from the warehouse are shown
with their prices, Ship books with the sandbox carrier and the label prints (F11, F8, C3)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.builders.inbound import edit_sku
from tests.builders.market import Market, create_console_user
from tests.builders.shipping import SandboxHandle, connect_sandbox
from tests.builders.stock import make_warehouse, stocked
from tests.web.test_console_http import _csrf, _login
from tests.web.test_fulfilment_pages import _problem, _reads_as_words, _visible
from tuoguan.principal import Role

BARCODE = "6901234567892"


@pytest.fixture
def console(live_server: str) -> Iterator[httpx.Client]:
    """A browser of the console: its own cookies, on the live server the carrier calls back."""
    with httpx.Client(base_url=live_server, timeout=30) as http:
        yield http


def _tally(html: str) -> str:
    match = re.search(r'name="tally" value="([^"]*)"', html)
    assert match, html
    return match.group(1).replace("&#34;", '"').replace("&quot;", '"')


def _scan(console: httpx.Client, base: str, page: str, code: str) -> httpx.Response:
    return console.post(
        f"{base}/scan", data={"csrf": _csrf(page), "tally": _tally(page), "code": code}
    )


def _order(m: Market, sandbox: SandboxHandle) -> tuple[str, str, dict[str, Any]]:
    """A platform warehouse holding seller a's full-managed SKU (with a barcode), an order of two
    units it ships, and the sandbox carrier connected: (warehouse, SKU code, fulfilment order)."""
    connect_sandbox(m, sandbox)
    warehouse, sku = stocked(m, "a_full", 5)
    found = edit_sku(m, "a_full", sku, {"barcode": BARCODE, "attributes": {"colour": "black"}})
    order = m.place("a_full", quantity=2)
    (fo,) = m.ok(m.get(f"/orders/{order['id']}/fulfilment-orders", m.operator))
    return warehouse, found["code"], fo


def test_staff_scan_pick_ship_and_print_at_the_packing_bench(
    live_market: Market, sandbox_carrier: SandboxHandle, console: httpx.Client
) -> None:  # F11 F8 C3
    m = live_market
    warehouse, code, fo = _order(m, sandbox_carrier)
    create_console_user(m.db_url, "packer@example.com", Role.warehouse, warehouse_ids=[warehouse])
    assert _login(console, "packer@example.com") == 303

    # the pick list leads to the bench
    listed = console.get("/console/warehouse/pick-list")
    assert listed.status_code == 200
    base = f"/console/warehouse/pack/{fo['id']}"
    assert f'href="{base}"' in listed.text

    page = console.get(base)
    assert page.status_code == 200
    text = _reads_as_words(page.text, "en")
    assert "Earbuds 耳机" in text and "black" in text and BARCODE in text and "× 2" in text
    # the order number a person may copy; the ship-by in the warehouse's time
    assert f'<code class="ref" data-testid="order-number">{fo["order_id"]}</code>' in page.text
    assert "Ship by Nov 20, 23:59" in text
    assert "autofocus" in page.text and "Scanned: 0 / 2 units" in text

    # C3: a wrong item is refused at once, in the reader's language, and not counted
    wrong = _scan(console, base, page.text, "NOT-OURS")
    assert wrong.status_code == 422
    assert _problem(wrong.text, "scan") == "NOT-OURS is not on this order: keep it apart."
    assert "Scanned: 0 / 2 units" in _visible(wrong.text)

    # one unit scanned, then Picked: the short count is refused, naming the line
    one = _scan(console, base, wrong.text, BARCODE)
    assert one.status_code == 200 and "Scanned: 1 / 2 units" in _visible(one.text)
    short = console.post(f"{base}/pick", data={"csrf": _csrf(one.text), "tally": _tally(one.text)})
    assert short.status_code == 422
    assert _problem(short.text, "scan") == f"Line 1 ({code}): 1 scanned, 2 to pick."
    (still,) = m.ok(m.get(f"/orders/{fo['order_id']}/fulfilment-orders", m.operator))
    assert still["status"] == "reserved"

    # the second unit by its code typed in lower case: Picked
    two = _scan(console, base, short.text, code.lower())
    assert "Scanned: 2 / 2 units" in _visible(two.text)
    done = console.post(f"{base}/pick", data={"csrf": _csrf(two.text), "tally": _tally(two.text)})
    assert done.status_code == 303 and done.headers["location"] == f"{base}?picked=1"

    # F8 step 2 from the warehouse: the services, each price in its currency, dates to deliver
    packing = console.get(done.headers["location"])
    assert packing.status_code == 200
    text = _reads_as_words(packing.text, "en")
    assert "Picked: on to packing." in text and "To pack" in text
    assert "Shipping options from the warehouse" in text
    quoted = m.ok(m.post(f"/fulfilment-orders/{fo['id']}/quotes", m.operator))
    (post,) = [o for o in quoted["options"] if o["service_code"] == "TG-POST-REG"]
    total = post["quote"]["total_minor"]
    assert f"${total // 100}.{total % 100:02d}" in text
    # the delivery window as days, by the carrier's name
    assert re.search(
        r"Sandbox carrier · Delivery \w{3}, \w{3} \d{1,2} – \w{3}, \w{3} \d{1,2}", text
    )
    # choosing no service is refused beside the options
    unchosen = console.post(f"{base}/ship", data={"csrf": _csrf(packing.text)})
    assert unchosen.status_code == 422 and _problem(unchosen.text, "ship") == "Choose a service."

    # Ship: booked with the carrier, the page shows the tracking number and the label link
    shipped = console.post(
        f"{base}/ship",
        data={
            "csrf": _csrf(packing.text),
            "service_code": "TG-POST-REG",
            "total_TG-POST-REG": str(total),
        },
    )
    assert shipped.status_code == 303 and shipped.headers["location"] == f"{base}?shipped=1"
    after = console.get(shipped.headers["location"])
    text = _reads_as_words(after.text, "en")
    seen = m.ok(m.get(f"/orders/{fo['order_id']}", m.operator))
    assert seen["status"] == "shipped"
    assert (
        f'<code class="ref" data-testid="tracking">{seen["tracking_number"]}</code>' in after.text
    )
    # the carrier and the service by their names, not their codes; no deadline once shipped
    (booked,) = [o for o in quoted["options"] if o["service_code"] == "TG-POST-REG"]
    carrier = re.search(r'data-testid="carrier">([^<]+)<', after.text)
    assert carrier and carrier.group(1) == f"Sandbox carrier · {booked['name']}"
    assert "TG-POST-REG" not in text and "Ship by" not in text
    assert "Shipped: print the label" in text
    assert f'href="{base}/label.pdf"' in after.text

    label = console.get(f"{base}/label.pdf")
    assert label.status_code == 200 and label.content.startswith(b"%PDF")
    assert label.headers["content-type"] == "application/pdf"

    # a second Ship is refused, said plainly
    again = console.post(
        f"{base}/ship", data={"csrf": _csrf(after.text), "service_code": "TG-POST-REG"}
    )
    assert again.status_code == 409 and "already shipped" in _visible(again.text)


def test_a_price_that_moved_and_an_unpicked_order_are_refused_in_chinese(
    live_market: Market, sandbox_carrier: SandboxHandle, console: httpx.Client
) -> None:  # F11 F8
    m = live_market
    warehouse, _, fo = _order(m, sandbox_carrier)
    create_console_user(
        m.db_url, "zh@example.com", Role.warehouse, locale="zh-CN", warehouse_ids=[warehouse]
    )
    assert _login(console, "zh@example.com") == 303
    console.cookies.set("tg_lang", "zh-CN")
    base = f"/console/warehouse/pack/{fo['id']}"
    page = console.get(base)
    assert "扫描每件商品的条码" in page.text and "发货截止 11月20日 23:59" in _visible(page.text)
    _reads_as_words(page.text, "zh-CN")
    wrong = console.post(
        f"{base}/scan", data={"csrf": _csrf(page.text), "tally": "[]", "code": "NOT-OURS"}
    )
    assert _problem(wrong.text, "scan") == "NOT-OURS 不属于此订单：请将该商品放到一边。"
    unpicked = console.post(
        f"{base}/ship",
        data={"csrf": _csrf(page.text), "service_code": "TG-POST-REG"},
    )
    assert unpicked.status_code == 409 and "此订单尚未拣货" in _visible(unpicked.text)
    nothing = console.post(f"{base}/pick", data={"csrf": _csrf(page.text), "tally": "[]"})
    assert nothing.status_code == 422 and _problem(nothing.text, "scan") == "请先扫描商品。"
    m.ok(m.post(f"/fulfilment-orders/{fo['id']}/pick", m.operator))
    moved = console.post(
        f"{base}/ship",
        data={"csrf": _csrf(page.text), "service_code": "TG-POST-REG", "total_TG-POST-REG": "1"},
    )
    assert moved.status_code == 409 and "运费已变化" in _problem(moved.text, "ship")
    assert 'data-option="TG-POST-REG"' in moved.text  # the options again, to choose afresh
    _reads_as_words(moved.text, "zh-CN", *_service_words(moved.text))


def test_sellers_and_other_warehouses_are_kept_away_from_the_bench(
    live_market: Market, sandbox_carrier: SandboxHandle, console: httpx.Client
) -> None:  # F11
    m = live_market
    _, _, fo = _order(m, sandbox_carrier)
    base = f"/console/warehouse/pack/{fo['id']}"
    assert console.get(base, follow_redirects=False).headers["location"] == "/login"

    create_console_user(m.db_url, "seller@example.com", Role.seller, m.sellers["a"])
    assert _login(console, "seller@example.com") == 303
    for path in (base, f"{base}/label.pdf"):
        kept = console.get(path, follow_redirects=False)
        assert kept.status_code == 303 and "/console/warehouse" not in kept.headers["location"]
    home = console.get("/console/orders")
    posted = console.post(f"{base}/pick", data={"csrf": _csrf(home.text), "tally": "[]"})
    assert posted.status_code == 303 and "/console/warehouse" not in posted.headers["location"]
    console.post("/logout", data={"csrf": _csrf(home.text)})

    other = make_warehouse(m)["id"]
    create_console_user(m.db_url, "far@example.com", Role.warehouse, warehouse_ids=[other])
    assert _login(console, "far@example.com") == 303
    assert console.get(base).status_code == 404
    assert console.get(f"{base}/label.pdf").status_code == 404


def _service_words(html: str) -> list[str]:
    """The Latin words of the services' and carriers' names on the page (their data)."""
    names = re.findall(r'data-option="[^"]+">.*?<strong>([^<]+)</strong>', html, re.S)
    words = [word for name in names for word in re.findall(r"[A-Za-z][A-Za-z0-9'-]*", name)]
    return [*words, "sandbox", "carrier"]

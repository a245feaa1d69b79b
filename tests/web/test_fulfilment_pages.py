"""The full-managed console over plain HTTP: stock, supply orders, inbound notices, the warehouse's
receiving screen and whose breach it is; each page for its role, names not ids, both languages."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from typing import Any

from fastapi.testclient import TestClient

from tests.builders.inbound import JPEG, add_sku, sent
from tests.builders.inbound import stock as stock_of
from tests.builders.market import Market, create_console_user
from tests.builders.stock import make_warehouse, stocked
from tests.web.test_console_http import _csrf, _login
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role
from tuoguan.worker.loop import run_once

# Ids people never need to read (an ASN number, asn_…, is one they copy: it may show).
INTERNAL_ID = re.compile(r"\b(sup|sku|whs|sto|sel|ful|usr|dsc|spl|fln)_[0-9A-Za-z]{10,}")
BARCODE = "6901234567892"


def _visible(html: str) -> str:
    """The page's text as a person reads it: no tags, no attributes."""
    body = html.split("<main>", 1)[-1]
    body = re.sub(r"<(script|datalist)\b.*?</\1>", " ", body, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def _names_not_ids(html: str) -> str:
    text = _visible(html)
    found = INTERNAL_ID.search(text)
    assert found is None, f"an internal id shows: {found.group(0)} in {text[:400]}"
    return text


def _black_sku(m: Market) -> str:
    """A SKU of seller a's full-managed product with a code, a barcode and a colour (C3)."""
    return add_sku(m, "a_full", "EB-BLK", barcode=BARCODE, colour="黑色")


def _supplied_order(m: Market, sku: str, quantity: int = 2) -> dict[str, Any]:
    """A full-managed order the platform's empty hub cannot serve: it gets a supply order."""
    line = {"product_id": m.products["a_full"], "sku_id": sku, "quantity": quantity}
    return m.place("a_full", lines=[line])


def _supply_of(m: Market, order_id: str) -> dict[str, Any]:
    rows = m.ok(m.get("/supply-orders", m.operator))
    return next(row for row in rows if row["order_id"] == order_id)


def _seller(client: TestClient, m: Market, name: str = "a", locale: str = "en") -> None:
    email = f"seller-{name}@example.com"
    create_console_user(m.db_url, email, Role.seller, m.sellers[name], locale=locale)
    assert _login(client, email) == 303


def test_a_seller_confirms_a_supply_order_with_its_24_hours_shown_locally(
    client: TestClient, market: Market
) -> None:  # O2 × M5
    # given a full-managed order that the platform's warehouse cannot serve
    m = market
    order = _supplied_order(m, _black_sku(m))
    supply = _supply_of(m, order["id"])
    _seller(client, m)

    # when the seller opens the supply orders
    page = client.get("/console/supply-orders")
    assert page.status_code == 200
    text = _names_not_ids(page.text)
    # then it is to confirm, named by its product, with its deadline in the store's time
    # (Shanghai) and the time left, and a CSRF form to confirm it
    assert "To confirm (1)" in text and "Earbuds 耳机 黑色" in text and "× 2" in text
    assert "2026-11-19 09:00 (UTC+8)" in text and "in 1 d 0 h" in text
    assert "Dongguan hub" in text and "24.00" in text  # 2 units at the supply price, 12.00
    form = f'action="/console/supply-orders/{supply["id"]}/confirm"'
    assert form in page.text

    # a forged form changes nothing
    forged = client.post(f"/console/supply-orders/{supply['id']}/confirm", data={"csrf": "x"})
    assert forged.status_code == 403
    assert _supply_of(m, order["id"])["status"] == "awaiting_confirmation"

    # when the seller confirms it with the page's token
    done = client.post(
        f"/console/supply-orders/{supply['id']}/confirm",
        data={"csrf": _csrf(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    shown = client.get(done.headers["location"])
    # then the supply order and its buyer order are confirmed, and the next step is offered
    text = _names_not_ids(shown.text)
    assert "Supply order confirmed" in text and "Confirmed, to send" in text
    assert 'data-testid="send-goods"' in shown.text
    assert _supply_of(m, order["id"])["status"] == "confirmed"
    assert m.ok(m.get(f"/orders/{order['id']}", m.operator))["status"] == "awaiting_shipment"
    # confirming again is refused in words, not with a state name
    again = client.post(
        f"/console/supply-orders/{supply['id']}/confirm", data={"csrf": _csrf(shown.text)}
    )
    assert again.status_code == 409 and "reload the page" in again.text

    # and in Chinese
    client.get("/lang/zh-CN")
    zh = client.get("/console/supply-orders").text
    assert "备货单" in zh and "已确认，待发货" in zh


def test_another_seller_and_warehouse_staff_cannot_open_a_sellers_supply(
    client: TestClient, market: Market
) -> None:  # O2, M5: scoping
    m = market
    order = _supplied_order(m, _black_sku(m))
    supply = _supply_of(m, order["id"])
    _seller(client, m, "b")
    theirs = client.get("/console/supply-orders")
    assert theirs.status_code == 200 and "Earbuds" not in theirs.text
    hidden = client.get(f"/console/supply-orders/{supply['id']}")
    assert hidden.status_code == 404 and "Not found, or not your account's" in _visible(hidden.text)
    refused = client.post(
        f"/console/supply-orders/{supply['id']}/confirm", data={"csrf": _csrf(theirs.text)}
    )
    assert refused.status_code == 404
    assert _supply_of(m, order["id"])["status"] == "awaiting_confirmation"
    # a seller is no operator, nor warehouse staff
    page = client.get("/console/orders").text
    assert client.get("/console/stale-inbound").status_code == 403
    gone = client.get("/console/warehouse/receiving", follow_redirects=False)
    assert (gone.status_code, gone.headers["location"]) == (303, "/console/orders")
    client.post("/logout", data={"csrf": _csrf(page)})

    # warehouse staff are sent to their own pages
    create_console_user(
        m.db_url, "dock@example.com", Role.warehouse, warehouse_ids=[m.platform_warehouse]
    )
    assert _login(client, "dock@example.com") == 303
    for path in (
        "/console/stock",
        "/console/supply-orders",
        f"/console/supply-orders/{supply['id']}",
        "/console/inbound",
        "/console/inbound/new",
    ):
        r = client.get(path, follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/console/warehouse"), path


def test_stock_shows_each_warehouse_and_sku_by_name(client: TestClient, market: Market) -> None:
    # M5: on hand, reserved, available, defective and inbound, per warehouse and SKU
    m = market
    black = _black_sku(m)
    warehouse, sku = stocked(m, "a_full", 7)
    sent(m, warehouse, [(black, 4)])  # announced: inbound
    m.place("a_full", lines=[{"product_id": m.products["a_full"], "sku_id": sku, "quantity": 2}])
    theirs, _ = stocked(m, "b_full", 3)
    _seller(client, m, "a", locale="zh-CN")

    page = client.get("/console/stock")
    assert page.status_code == 200
    text = _names_not_ids(page.text)
    assert "Dongguan consolidation" in text and "Earbuds 耳机" in text and "黑色" in text
    row = re.search(rf'<tr data-sku="{sku}">(.*?)</tr>', page.text, re.S)
    assert row
    cells = [c for c in re.findall(r'class="num"><div>(?:<strong[^>]*>)?(\d+)', row.group(1))]
    assert cells == ["7", "2", "5", "0", "0"]  # on hand, reserved, available, defective, inbound
    assert "在库" in text and "可用" in text
    # another seller's stock is not there, even asked for by its warehouse
    assert "b full" not in text
    assert 'data-sku="' not in client.get(f"/console/stock?warehouse={theirs}").text


def test_operators_see_all_stock_stale_inbound_and_whose_breach_it_is(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # M5, R4, F11
    m = market
    supplied = m.place("b_full")  # the hub has nothing of b's: a supply order, 24 h to confirm
    warehouse, sku = stocked(m, "a_full", 5)
    other, _ = stocked(m, "b_full", 2)
    # a notice shipped ten days ago and still not arrived (R4)
    notice = sent(m, make_warehouse(m)["id"], [(_black_sku(m), 3)], carrier="Cainiao")
    served = m.place(
        "a_full", lines=[{"product_id": m.products["a_full"], "sku_id": sku, "quantity": 1}]
    )
    clock.advance(timedelta(days=10))
    assert client.portal is not None
    client.portal.call(run_once, client.app.state.db, clock, settings)  # type: ignore[attr-defined]
    create_console_user(m.db_url, "op@example.com", Role.operator)
    assert _login(client, "op@example.com") == 303

    everything = _names_not_ids(client.get("/console/stock").text)
    assert "a full" in everything and "b full" in everything
    only = client.get(f"/console/stock?warehouse={other}").text
    assert "b full" in _visible(only) and "a full" not in _visible(only)

    stale = client.get("/console/stale-inbound?days=7")
    assert stale.status_code == 200
    text = _visible(stale.text)
    assert "Stale notices: 1" in text and "Seller a" in text and "Cainiao" in text
    assert notice["id"] in text and notice["tracking_number"] in text and "10 days" in text
    assert "Stale notices: 0" in _visible(client.get("/console/stale-inbound?days=30").text)

    breaches = client.get("/console/breaches").text
    rows = {
        order_id: whose
        for order_id, whose in re.findall(
            r'href="/console/orders/([^"]+)">.*?data-responsible="(\w+)">', breaches, re.S
        )
    }
    # the warehouse missed its own ship deadline; the seller its confirmation
    assert rows == {served["id"]: "platform", supplied["id"]: "seller"}
    assert "Platform warehouse's" in _visible(breaches) and "Seller's" in _visible(breaches)


def test_a_full_managed_order_shows_its_progress_not_the_buyers_address(
    client: TestClient, market: Market
) -> None:  # F11
    m = market
    order = _supplied_order(m, _black_sku(m))
    _seller(client, m)
    page = client.get(f"/console/orders/{order['id']}").text
    text = _visible(page)
    assert "Maria Lopez" not in text and "Madrid" not in text
    assert 'data-testid="fulfilment" data-status="awaiting_stock"' in page
    assert "Awaiting stock" in text and "Supply order created" in text
    # once confirmed it awaits shipment, which the warehouse does: the seller has no ship form
    supply = _supply_of(m, order["id"])
    m.ok(m.post(f"/supply-orders/{supply['id']}/confirm", m.seller_tokens["a"]))
    page = client.get(f"/console/orders/{order['id']}").text
    assert "Awaiting shipment" in page and "Maria Lopez" not in page
    assert "ship-online" not in page and 'name="tracking_number"' not in page
    # semi-managed orders are the seller's to ship: the address stays
    semi = m.place("a_semi")
    assert "Maria Lopez" in client.get(f"/console/orders/{semi['id']}").text


def test_a_seller_sends_an_inbound_notice_and_staff_receive_it_by_typing_codes(
    client: TestClient, market: Market
) -> None:  # R1, R2, M5, O2 × M5
    m = market
    black = _black_sku(m)
    order = _supplied_order(m, black, quantity=2)
    supply = _supply_of(m, order["id"])
    m.ok(m.post(f"/supply-orders/{supply['id']}/confirm", m.seller_tokens["a"]))
    _seller(client, m)

    # given the seller fills the notice in from the supply order
    form = client.get(f"/console/inbound/new?supply_order={supply['id']}")
    assert form.status_code == 200 and "Dongguan hub" in _names_not_ids(form.text)
    assert f'<option value="{black}" selected>' in form.text
    bad = client.post(
        "/console/inbound",
        data={
            "csrf": _csrf(form.text),
            "supply_order_id": supply["id"],
            "warehouse_id": supply["warehouse_id"],
            "line-0-sku": black,
            "line-0-qty": "-2",
        },
    )
    assert bad.status_code == 422 and "whole number of 1 or more" in bad.text
    made = client.post(
        "/console/inbound",
        data={
            "csrf": _csrf(form.text),
            "supply_order_id": supply["id"],
            "warehouse_id": supply["warehouse_id"],
            "line-0-sku": black,
            "line-0-qty": "2",
            "cartons": "2",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    draft = client.get(made.headers["location"])
    asn = re.search(r'data-testid="asn">([^<]+)<', draft.text)
    assert asn and "Draft" in _names_not_ids(draft.text)
    notice_id = asn.group(1)
    labels = client.get(f"/console/inbound/{notice_id}/labels.pdf")
    assert labels.status_code == 200 and labels.content.startswith(b"%PDF")
    # sending needs the carrier and the tracking number
    send = f"/console/inbound/{notice_id}/send"
    refused = client.post(send, data={"csrf": _csrf(draft.text), "carrier_name": "SF"})
    assert refused.status_code == 422 and "carrier and the tracking number" in refused.text
    sent_ = client.post(
        send,
        data={
            "csrf": _csrf(draft.text),
            "carrier_name": "SF Express",
            "tracking_number": "sf1234567890",
        },
        follow_redirects=False,
    )
    assert sent_.status_code == 303
    assert "In transit" in client.get(sent_.headers["location"]).text
    client.post("/logout", data={"csrf": _csrf(draft.text)})

    # when staff of another warehouse type its tracking number, they find nothing
    elsewhere = make_warehouse(m)["id"]
    create_console_user(m.db_url, "far@example.com", Role.warehouse, warehouse_ids=[elsewhere])
    assert _login(client, "far@example.com") == 303
    assert client.get("/console/warehouse/receiving?code=SF1234567890").status_code == 404
    assert client.get(f"/console/warehouse/receiving/{notice_id}").status_code == 404
    home = client.get("/console/warehouse").text
    client.post("/logout", data={"csrf": _csrf(home)})

    # when the hub's staff type the tracking number as a scanner would, in lower case
    create_console_user(
        m.db_url,
        "dock@example.com",
        Role.warehouse,
        locale="zh-CN",
        warehouse_ids=[m.platform_warehouse],
    )
    assert _login(client, "dock@example.com") == 303
    landing = client.get("/console/warehouse/receiving")
    assert notice_id in landing.text and "autofocus" in landing.text
    found = client.get("/console/warehouse/receiving?code=sf1234567890", follow_redirects=False)
    assert found.headers["location"] == f"/console/warehouse/receiving/{notice_id}"
    screen = client.get(found.headers["location"])
    text = _names_not_ids(screen.text)
    assert "Earbuds 耳机" in text and "0 / 2" in text and "扫描商品条码" in text
    token = _csrf(screen.text)
    count = f"/console/warehouse/receiving/{notice_id}/count"

    # then a SKU that is not on the notice is refused in words, and nothing is counted
    wrong = client.post(count, data={"csrf": token, "code": "NOPE-1"})
    assert wrong.status_code == 422 and "“NOPE-1”不在这张入库单上" in wrong.text
    # each scan of the barcode counts one good unit
    first = client.post(count, data={"csrf": token, "code": BARCODE}, follow_redirects=False)
    assert first.status_code == 303
    assert "已计数：Earbuds 耳机 · 黑色 +1（良品）" in client.get(first.headers["location"]).text
    client.post(count, data={"csrf": token, "code": "eb-blk"})  # the code, any case
    over = client.post(count, data={"csrf": token, "code": BARCODE})
    assert over.status_code == 422 and "多出的请登记为“多货”" in over.text
    # a wrong SKU found in the cartons is recorded with its photo
    recorded = client.post(
        f"/console/warehouse/receiving/{notice_id}/discrepancy",
        data={
            "csrf": token,
            "kind": "wrong_sku",
            "code": "STRAY-9",
            "quantity": "1",
            "note": "蓝色",
        },
        files={"photo": ("stray.jpg", JPEG, "image/jpeg")},
        follow_redirects=False,
    )
    assert recorded.status_code == 303, recorded.text
    screen = client.get(recorded.headers["location"]).text
    assert "错货" in screen and "STRAY-9" in screen
    photo = re.search(r'<img src="([^"]+)"', screen)
    assert photo and client.get(photo.group(1)).content == JPEG
    # finishing closes the notice; its units are stock and the buyer order is served
    finished = client.post(
        f"/console/warehouse/receiving/{notice_id}/close",
        data={"csrf": token},
        follow_redirects=False,
    )
    assert finished.status_code == 303
    assert "已收货（有差异）" in client.get(finished.headers["location"]).text
    assert stock_of(m, m.platform_warehouse, black) == {
        "on_hand": 2,
        "reserved": 2,
        "available": 0,
        "defective": 0,
        "inbound": 0,
    }
    assert _supply_of(m, order["id"])["status"] == "received"
    # a phone's photo, larger than other forms may be, is still taken after the close
    big = JPEG[:-2] + b"\x00" * 1_500_000 + b"\xff\xd9"
    stray = re.search(r'action="([^"]+/discrepancies/[^"]+/photo)"', screen)
    assert stray
    added = client.post(
        stray.group(1),
        data={"csrf": token},
        files={"photo": ("big.jpg", big, "image/jpeg")},
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    assert len(re.findall(r"<img ", client.get(added.headers["location"]).text)) == 2


def test_warehouse_staff_pick_what_the_platform_ships(client: TestClient, market: Market) -> None:
    # F11: the pick list, the soonest ship deadline first, for the warehouse's own staff
    m = market
    warehouse, sku = stocked(m, "a_full", 5)
    line = {"product_id": m.products["a_full"], "sku_id": sku, "quantity": 2}
    order = m.place("a_full", lines=[line])
    elsewhere = make_warehouse(m)["id"]
    create_console_user(m.db_url, "far@example.com", Role.warehouse, warehouse_ids=[elsewhere])
    create_console_user(m.db_url, "picker@example.com", Role.warehouse, warehouse_ids=[warehouse])

    assert _login(client, "picker@example.com") == 303
    page = client.get("/console/warehouse/pick-list")
    assert page.status_code == 200
    text = _names_not_ids(page.text)
    assert "Earbuds 耳机" in text and "× 2" in text and "To pick" in text
    # F11: two business days from Wednesday 09:00 in Dongguan, in the warehouse's time
    assert "Ship by 2026-11-20 23:59 (UTC+8)" in text
    action = re.search(r'action="(/console/warehouse/pick-list/[^"]+/pick)"', page.text)
    assert action
    done = client.post(
        action.group(1),
        data={"csrf": _csrf(page.text), "warehouse": warehouse},
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = _visible(client.get(done.headers["location"]).text)
    assert "Picked: on to packing." in after and "To pack" in after
    (fo,) = m.ok(m.get(f"/orders/{order['id']}/fulfilment-orders", m.operator))
    assert fo["status"] == "picked"
    client.post("/logout", data={"csrf": _csrf(page.text)})

    # staff of another warehouse neither see its list nor pick its orders
    assert _login(client, "far@example.com") == 303
    mine = client.get("/console/warehouse/pick-list")
    assert mine.status_code == 200 and "Earbuds" not in mine.text
    assert client.get(f"/console/warehouse/pick-list?warehouse={warehouse}").status_code == 404
    again = client.post(action.group(1), data={"csrf": _csrf(mine.text)})
    assert again.status_code == 404

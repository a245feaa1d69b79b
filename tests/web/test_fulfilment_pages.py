"""The full-managed console over plain HTTP: stock, supply orders, inbound notices, the warehouse's
receiving screen and whose breach it is; each page for its role, names not ids, both languages."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.builders.inbound import JPEG, add_sku, count, sent, staff
from tests.builders.inbound import stock as stock_of
from tests.builders.market import Market, create_console_user
from tests.builders.stock import adjust, make_warehouse
from tests.integration.test_fulfilment import receive
from tests.web.test_console_http import _csrf, _login
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role
from tuoguan.worker.loop import run_once

# Ids people never need to read (an ASN, order or tracking number is one they copy: it shows
# as a copyable ref, <code class="ref">, which these checks leave out). A product's id is the
# code of the SKU the catalogue gives a product listed without any (the test market's are):
# there it is the seller's code, shown as such.
INTERNAL_ID = re.compile(r"\b(?!prd_)[a-z]{2,12}_[0-9A-HJKMNP-TV-Z]{26}\b")
DEFAULT_SKU_CODE = re.compile(r"\bprd_[0-9A-HJKMNP-TV-Z]{26}\b")
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
RAW_NAME = re.compile(r"\b[a-z]+_[a-z]+(?:_[a-z]+)*\b")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’-]*")
REF = re.compile(r'<code class="ref"[^>]*>.*?</code>', re.S)
# Latin words a Chinese page may show: brand and code words, and the test market's own data
# (its names, codes and the carriers typed into notices).
CODE_WORDS = {"sku", "asn", "pdf", "csv", "utc", "us", "sf", "tuoguan", "english"}
DATA_WORDS = {
    "earbuds", "seller", "a", "b", "full", "self", "semi", "dongguan", "hub", "consolidation",
    "express", "cainiao", "eb-blk", "eb-wht", "eb-red", "b-1", "stray-9", "nope-1", "black", "dg-hub",
}  # fmt: skip
BARCODE = "6901234567892"


def _visible(html: str) -> str:
    """The page's text as a person reads it: no tags, no attributes."""
    body = re.split(r"<main\b[^>]*>", html, maxsplit=1)[-1]
    body = re.sub(r"<(script|datalist)\b.*?</\1>", " ", body, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def _names_not_ids(html: str) -> str:
    """The page's text, checked for ids outside the copyable refs."""
    found = INTERNAL_ID.search(_visible(REF.sub(" ", html)))
    assert found is None, f"an internal id shows: {found.group(0)} in {_visible(html)[:400]}"
    return _visible(html)


def _reads_as_words(html: str, lang: str, *data: str) -> str:
    """G7: what a person reads on the page, outside the copyable refs: no internal id, no ISO
    time, no raw state or rule name, no "minor units", and on a Chinese page no English words
    but brand and code words and the market's own data (``data``: more of it)."""
    text = DEFAULT_SKU_CODE.sub(" ", _visible(REF.sub(" ", html)))
    for pattern in (INTERNAL_ID, ISO_TIME, RAW_NAME):
        found = pattern.search(text)
        assert found is None, f"{found.group(0)!r} shows in: {text[:600]}"
    assert "minor unit" not in text.lower()
    if lang == "zh-CN":
        allowed = CODE_WORDS | DATA_WORDS | {w.lower() for w in data}
        english = {w for w in LATIN_WORD.findall(text) if w.lower() not in allowed}
        assert not english, f"English on a Chinese page: {sorted(english)} in {text[:600]}"
    return _visible(html)


def _black_sku(m: Market) -> str:
    """A SKU of seller a's full-managed product with a code, a barcode and a colour (C3)."""
    return add_sku(m, "a_full", "EB-BLK", barcode=BARCODE, colour="黑色")


def _stocked(
    m: Market, store_key: str, on_hand: int, code: str = "EB-WHT", colour: str = "白色"
) -> tuple[str, str]:
    """A platform warehouse holding ``on_hand`` units of a SKU of the store's product with a
    code of its seller's (the seeded SKU's code is its product's id): (warehouse, SKU)."""
    warehouse = make_warehouse(m)["id"]
    sku = add_sku(m, store_key, code, colour=colour)
    m.ok(adjust(m, warehouse, sku, reason="opening stock", on_hand=on_hand), 201)
    return warehouse, sku


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
    text = _reads_as_words(page.text, "en")
    # then it is to confirm, named by its product, with its deadline in the store's time
    # (Shanghai) and the time left, and a CSRF form to confirm it
    assert "To confirm (1)" in text and "Earbuds 耳机 黑色" in text and "× 2" in text
    assert "Nov 19, 09:00 · in 24 hours" in text and "in 1 d 0 h" in text
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
    warehouse, sku = _stocked(m, "a_full", 7)
    sent(m, warehouse, [(black, 4)])  # announced: inbound
    m.place("a_full", lines=[{"product_id": m.products["a_full"], "sku_id": sku, "quantity": 2}])
    theirs, _ = _stocked(m, "b_full", 3, "B-1")
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
    warehouse, sku = _stocked(m, "a_full", 5)
    other, _ = _stocked(m, "b_full", 2, "B-1")
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
    photo = re.search(r'<img src="([^"]+/photos/[^"]+)"', screen)
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
    assert (
        len(re.findall(r'<img src="[^"]+/photos/', client.get(added.headers["location"]).text)) == 2
    )


def test_warehouse_staff_pick_what_the_platform_ships(client: TestClient, market: Market) -> None:
    # F11: the pick list, the soonest ship deadline first, for the warehouse's own staff
    m = market
    warehouse, sku = _stocked(m, "a_full", 5)
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
    assert "Ship by Nov 20, 23:59" in text
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


def _as(client: TestClient, m: Market, email: str, role: Role, lang: str, **who: Any) -> None:
    """Sign in as a new console user reading ``lang``."""
    client.cookies.clear()
    create_console_user(m.db_url, email, role, locale=lang, **who)
    assert _login(client, email) == 303


def _walk(client: TestClient, lang: str, paths: list[str], *data: str) -> dict[str, str]:
    """Each page, opened and read as words (G7); their texts by path."""
    texts = {}
    for path in paths:
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        texts[path] = _reads_as_words(page.text, lang, *data)
    return texts


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_fulfilment_page_reads_as_words_for_each_role(
    client: TestClient, market: Market, clock: FrozenClock, lang: str
) -> None:  # G7, O2 × M5, R1, R2, R4, M5, F11
    # given supply orders awaiting confirmation, confirmed, and cancelled by the system because
    # stock came first; a notice being received with a wrong SKU found; a notice stuck in
    # transit; stock and an order to pick in another warehouse
    m = market
    black = _black_sku(m)
    waiting = _supply_of(m, _supplied_order(m, black)["id"])
    answered = _supply_of(m, _supplied_order(m, black, quantity=1)["id"])
    m.ok(m.post(f"/supply-orders/{answered['id']}/confirm", m.seller_tokens["a"]))
    white = add_sku(m, "a_full", "EB-WHT", colour="白色")
    line = {"product_id": m.products["a_full"], "sku_id": white, "quantity": 1}
    overtaken = _supply_of(m, m.place("a_full", lines=[line])["id"])
    assert receive(m, clock, m.platform_warehouse, white, 1)  # before the seller confirmed
    notice = sent(
        m, m.platform_warehouse, [(black, 1)], supply_order_id=answered["id"], carrier="Cainiao"
    )
    dock = staff(m, m.platform_warehouse)
    stray = {"code": "STRAY-9", "good": 1, "discrepancy": {"kind": "wrong_sku", "note": "蓝色"}}
    m.ok(m.post(f"/inbound-notices/{notice['id']}/arrive", dock))
    m.ok(count(m, dock, notice["id"], stray))
    far = make_warehouse(m)["id"]
    stale = sent(m, far, [(black, 3)], carrier="Cainiao")
    shelf, sku = _stocked(m, "a_full", 5, "EB-RED", "红色")
    shipped = m.place(
        "a_full", lines=[{"product_id": m.products["a_full"], "sku_id": sku, "quantity": 2}]
    )
    (fo,) = m.ok(m.get(f"/orders/{shipped['id']}/fulfilment-orders", m.operator))
    clock.advance(timedelta(days=10))

    # when the seller reads every page of its supply
    _as(client, m, f"seller-{lang}@example.com", Role.seller, lang, seller_id=m.sellers["a"])
    client.post(
        "/console/exports",
        data={"csrf": _csrf(client.get("/console/exports").text), "rows": "1000"},
    )
    seller = _walk(
        client,
        lang,
        [
            "/console/stock",
            "/console/supply-orders",
            f"/console/supply-orders/{waiting['id']}",
            f"/console/supply-orders/{overtaken['id']}",
            f"/console/supply-orders/{answered['id']}",
            "/console/inbound",
            "/console/inbound/new",
            f"/console/inbound/new?supply_order={answered['id']}",
            f"/console/inbound/{notice['id']}",
            "/console/restock",
            "/console/exports",
        ],
    )
    # then names, local times and words, the ASN a copyable ref, the system's reason in words
    zh = lang == "zh-CN"
    detail = seller[f"/console/supply-orders/{overtaken['id']}"]
    reason = "确认前已有库存到仓" if zh else "Stock reached the warehouse before it was confirmed"
    assert reason in detail and "before it was confirmed" not in detail.replace(reason, "")
    assert ("已超时" if zh else "late") in seller[f"/console/supply-orders/{waiting['id']}"]
    shown = client.get(f"/console/inbound/{notice['id']}").text
    assert f'<code class="ref" data-testid="asn">{notice["id"]}</code>' in shown
    assert re.search(r'<time datetime="[^"]+">', shown)  # the instant, for machines only
    assert ("错货" if zh else "Wrong SKU") in seller[f"/console/inbound/{notice['id']}"]

    # when an operator reads them, and the stale-inbound report
    _as(client, m, f"op-{lang}@example.com", Role.operator, lang)
    operator = _walk(
        client,
        lang,
        [
            "/console/stock",
            "/console/supply-orders",
            f"/console/supply-orders/{overtaken['id']}",
            "/console/inbound",
            f"/console/inbound/{stale['id']}",
            "/console/stale-inbound?days=7",
            "/console/exports",
        ],
    )
    report = client.get("/console/stale-inbound?days=7").text
    assert f'<code class="ref">{stale["id"]}</code>' in report
    assert ("10天前" if zh else "10 days ago") in operator["/console/stale-inbound?days=7"]

    # and warehouse staff read theirs, in their warehouse's time
    _as(client, m, f"dock-{lang}@example.com", Role.warehouse, lang, warehouse_ids=[
        m.platform_warehouse, shelf,
    ])  # fmt: skip
    code = m.ok(m.get(f"/warehouses/{shelf}", m.operator))["code"]
    staff_pages = _walk(
        client,
        lang,
        [
            "/console/warehouse",
            "/console/warehouse/receiving",
            f"/console/warehouse/receiving/{notice['id']}",
            f"/console/warehouse/pick-list?warehouse={shelf}",
            f"/console/warehouse/pack/{fo['id']}",
        ],
        code,
    )
    assert ("拣货单" if zh else "Pick list") in staff_pages["/console/warehouse"]
    picking = client.get(f"/console/warehouse/pick-list?warehouse={shelf}").text
    assert f'<code class="ref" data-testid="order-number">{fo["order_id"]}</code>' in picking
    # the login page too, signed out
    client.cookies.clear()
    client.cookies.set("tg_lang", lang)
    _walk(client, lang, ["/login"])


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_refused_form_says_why_beside_the_field_in_the_readers_language(
    client: TestClient, market: Market, lang: str
) -> None:  # G7, R1, R2
    m = market
    black = _black_sku(m)
    notice = sent(m, m.platform_warehouse, [(black, 2)])
    zh = lang == "zh-CN"

    # a new notice with a quantity that is no number: beside that row's quantity
    _as(client, m, f"seller-{lang}@example.com", Role.seller, lang, seller_id=m.sellers["a"])
    form = client.get("/console/inbound/new").text
    bad = client.post(
        "/console/inbound",
        data={
            "csrf": _csrf(form),
            "warehouse_id": m.platform_warehouse,
            "line-2-sku": black,
            "line-2-qty": "two",
        },
    )
    assert bad.status_code == 422
    said = _problem(bad.text, "line-2-qty")
    assert said == (
        "数量须为 1 以上的整数。" if zh else "A quantity is a whole number of 1 or more."
    )
    assert f'<option value="{black}" selected>' in bad.text  # what was chosen stays
    # no warehouse chosen: beside the warehouse
    none = client.post(
        "/console/inbound",
        data={"csrf": _csrf(form), "warehouse_id": "", "line-0-sku": black, "line-0-qty": "1"},
    )
    assert none.status_code == 422 and _problem(none.text, "warehouse_id")
    # sending without a tracking number: beside the tracking number, the carrier kept
    draft_page = client.get(f"/console/inbound/{_draft(m, black)}")
    send = re.search(r'action="(/console/inbound/[^"]+/send)"', draft_page.text)
    assert send
    unsent = client.post(
        send.group(1), data={"csrf": _csrf(draft_page.text), "carrier_name": "顺丰速运"}
    )
    assert unsent.status_code == 422 and _problem(unsent.text, "tracking_number")
    assert 'value="顺丰速运"' in unsent.text
    _reads_as_words(unsent.text, lang, "sf")

    # staff scanning a code that is not on the notice: beside the scanner's input
    _as(client, m, f"dock-{lang}@example.com", Role.warehouse, lang, warehouse_ids=[
        m.platform_warehouse,
    ])  # fmt: skip
    screen = client.get(f"/console/warehouse/receiving/{notice['id']}").text
    base = f"/console/warehouse/receiving/{notice['id']}"
    wrong = client.post(f"{base}/count", data={"csrf": _csrf(screen), "code": "NOPE-1"})
    assert wrong.status_code == 422
    assert "NOPE-1" in _problem(wrong.text, "count.code")
    _reads_as_words(wrong.text, lang)
    many = client.post(
        f"{base}/count", data={"csrf": _csrf(screen), "code": "EB-BLK", "quantity": "0"}
    )
    assert many.status_code == 422 and _problem(many.text, "count.quantity")
    # a discrepancy with no kind chosen: beside the kind, the note kept
    kindless = client.post(
        f"{base}/discrepancy", data={"csrf": _csrf(screen), "code": "EB-BLK", "note": "压坏"}
    )
    assert kindless.status_code == 422 and _problem(kindless.text, "discrepancy.kind")
    assert ">压坏</textarea>" in kindless.text
    # an ASN nobody sent: beside the ASN input
    missing = client.get("/console/warehouse/receiving?code=NO-SUCH-ASN")
    assert missing.status_code == 404 and "NO-SUCH-ASN" in _problem(missing.text, "code")

    # an export of a row count the page does not offer: beside the row count
    _as(client, m, f"op-{lang}@example.com", Role.operator, lang)
    exports = client.get("/console/exports").text
    odd = client.post("/console/exports", data={"csrf": _csrf(exports), "rows": "7"})
    assert odd.status_code == 422 and _problem(odd.text, "rows")
    _reads_as_words(odd.text, lang)

    # a sign-in from a page that expired says so, in words
    client.cookies.clear()
    client.cookies.set("tg_lang", lang)
    client.get("/login")
    stale = client.post("/login", data={"email": "x@example.com", "password": "y", "csrf": "old"})
    assert stale.status_code == 403
    said = _reads_as_words(stale.text, lang)
    assert ("页面已过期" if zh else "The page expired") in said and "CSRF" not in said


def _problem(html: str, field: str) -> str:
    """The words shown beside a form's field."""
    found = re.search(rf'<p class="error"[^>]*data-problem="{re.escape(field)}">([^<]*)</p>', html)
    assert found, f"no problem beside {field}: {_visible(html)[:600]}"
    return unescape(found.group(1))


def _draft(m: Market, sku: str) -> str:
    """A draft notice of seller a with no carrier yet; its id."""
    body = {
        "store_id": m.stores["a_full"],
        "warehouse_id": m.platform_warehouse,
        "lines": [{"sku_id": sku, "quantity": 1}],
    }
    return str(m.ok(m.post("/inbound-notices", m.seller_tokens["a"], body), 201)["id"])

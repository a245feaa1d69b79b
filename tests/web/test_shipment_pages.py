"""Console: ship an order online, print its label, submit, cancel and see the carrier's answer
(F8, F9, F10)."""

from __future__ import annotations

import io
from datetime import timedelta

import httpx
from pypdf import PdfReader

from tests.builders.market import Market, create_console_user
from tests.builders.shipping import SandboxHandle, add_product, connect_sandbox, place_with, ship
from tests.web.test_console_http import _csrf, _login
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role


def _shipment_id(page: str) -> str:
    return page.split('data-shipment="')[1].split('"')[0]


def test_a_seller_ships_online_prints_submits_and_cancels_from_the_order_page(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock, live_server: str
) -> None:  # F8 F9 F10
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    order = m.place("a_self")
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    create_console_user(m.db_url, "b@example.com", Role.seller, m.sellers["b"])
    with httpx.Client(base_url=live_server, timeout=30) as browser:
        assert _login(browser, "a@example.com") == 303
        ship_page = browser.get(f"/console/orders/{order['id']}/ship").text
        assert 'data-ship="TG-POST-REG"' in ship_page
        stale = browser.post(
            f"/console/ship/{order['id']}",
            data={
                "csrf": _csrf(ship_page),
                "service_code": "TG-POST-REG",
                "expected_total_minor": "1",
            },
        )
        assert stale.status_code == 409 and "The price has changed" in stale.text
        made = browser.post(
            f"/console/ship/{order['id']}",
            data={
                "csrf": _csrf(ship_page),
                "service_code": "TG-POST-REG",
                "expected_total_minor": "300",
            },
        )
        assert made.status_code == 303
        page = browser.get(f"/console/orders/{order['id']}").text
        shipment_id = _shipment_id(page)
        assert 'data-status="created"' in page and "SB07" in page
        label = browser.get(f"/console/shipments/{shipment_id}/label.pdf")
        assert label.status_code == 200 and label.content.startswith(b"%PDF")
        submitted = browser.post(
            f"/console/shipments/{shipment_id}/submit", data={"csrf": _csrf(page)}
        )
        assert submitted.status_code == 303
        page = browser.get(f"/console/orders/{order['id']}").text
        assert 'data-status="submitted"' in page
        assert 'class="badge shipped" data-testid="status"' in page
        bad = browser.post(
            f"/console/shipments/{shipment_id}/cancel", data={"csrf": _csrf(page), "reason": "whim"}
        )
        assert bad.status_code == 422 and "reason" in bad.text
        asked = browser.post(
            f"/console/shipments/{shipment_id}/cancel",
            data={"csrf": _csrf(page), "reason": "wrong_product_info", "note": "wrong colour"},
        )
        assert asked.status_code == 303
        page = browser.get(f"/console/orders/{order['id']}").text
        assert 'data-status="cancel_requested"' in page
        assert "until it confirms, this order cannot be shipped again" in page
        assert f"/console/shipments/{shipment_id}/cancel" not in page  # no second request
        clock.advance(timedelta(minutes=11))
        sandbox_carrier.tick(m.client)
        page = browser.get(f"/console/orders/{order['id']}").text
        assert 'data-status="cancelled"' in page
        assert browser.get(f"/console/shipments/{shipment_id}/label.pdf").status_code == 409
        assert _login(browser, "b@example.com") == 303
        assert browser.get(f"/console/shipments/{shipment_id}/label.pdf").status_code == 404
        forged = browser.post(f"/console/shipments/{shipment_id}/submit", data={"csrf": "nope"})
        assert forged.status_code == 403


def test_a_seller_files_a_claim_and_an_operator_approves_it_in_the_console(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock, live_server: str
) -> None:  # G3
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    camera = add_product(
        m,
        "a_self",
        name="Camera 相机",
        category="electronics/camera",
        declared_value_minor=45_000,
        price_minor=45_000,
    )
    order = place_with(m, "a_self", camera)
    seller = m.seller_tokens["a"]
    shipment = ship(m, order["id"], seller, service="TG-EXPRESS", insure=True)
    sandbox_carrier.fate(m.client, shipment["tracking_number"], "lost")
    m.ok(m.post(f"/shipments/{shipment['id']}/submit", seller))
    clock.advance(timedelta(hours=7))
    sandbox_carrier.tick(m.client)
    clock.advance(timedelta(days=7))
    sandbox_carrier.tick(m.client)
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    create_console_user(m.db_url, "op@example.com", Role.operator)
    with httpx.Client(base_url=live_server, timeout=30) as browser:
        assert _login(browser, "a@example.com") == 303
        page = browser.get(f"/console/orders/{order['id']}").text
        assert 'data-status="lost"' in page and 'data-testid="claim-form"' in page
        form = {
            "csrf": _csrf(page),
            "kind": "loss",
            "amount": "450.00",  # typed in dollars, as the form asks
            "description": "declared lost by the carrier",
            "evidence": "https://evidence.example/a.png\nhttps://evidence.example/b.pdf",
        }
        junk = browser.post(
            f"/console/shipments/{shipment['id']}/claim", data={**form, "evidence": "not-a-url"}
        )
        assert junk.status_code == 422
        assert (
            browser.post(f"/console/shipments/{shipment['id']}/claim", data=form).status_code == 303
        )
        page = browser.get(f"/console/orders/{order['id']}").text
        assert 'data-claim-status="filed"' in page and 'data-testid="claim-form"' not in page
        claim_id = page.split('data-claim="')[1].split('"')[0]
        seller_try = browser.post(
            f"/console/claims/{claim_id}/approve",
            data={"csrf": _csrf(page), "amount": "0.01", "reason": "me"},
        )
        assert seller_try.status_code == 403
        assert _login(browser, "op@example.com") == 303
        page = browser.get(f"/console/orders/{order['id']}").text
        approved = browser.post(
            f"/console/claims/{claim_id}/approve",
            data={"csrf": _csrf(page), "amount": "400", "reason": "lost; depreciated"},
        )
        assert approved.status_code == 303
        assert 'data-claim-status="approved"' in browser.get(f"/console/orders/{order['id']}").text
    claim = m.ok(m.get(f"/claims/{claim_id}", m.operator))
    assert (claim["claimed_minor"], claim["approved_minor"]) == (45000, 40000)


def test_a_seller_ticks_orders_on_the_list_and_prints_their_labels_as_one_pdf(
    live_market: Market, sandbox_carrier: SandboxHandle, live_server: str
) -> None:  # F8 step 3: batch printing from the order list
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    seller = m.seller_tokens["a"]
    first, second, unshipped = m.place("a_self"), m.place("a_self"), m.place("a_self")
    made = [ship(m, first["id"], seller), ship(m, second["id"], seller)]
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    create_console_user(m.db_url, "b@example.com", Role.seller, m.sellers["b"])
    with httpx.Client(base_url=live_server, timeout=30) as browser:
        assert _login(browser, "a@example.com") == 303
        listing = browser.get("/console/orders").text
        # each order with a shipment has a box carrying its shipment; the others have none
        ticks = listing.count('form="labels" name="ids"')
        assert ticks == 2 and 'data-testid="print-selected"' in listing
        for shipment in made:
            assert f'name="ids" value="{shipment["id"]}"' in listing
        row = listing.split(f'data-order="{unshipped["id"]}"')[1].split("</tr>")[0]
        assert 'name="ids"' not in row
        # the ticked labels come back as one PDF, a page each
        pdf = browser.get("/console/labels.pdf", params={"ids": [s["id"] for s in made]})
        assert pdf.status_code == 200
        assert len(PdfReader(io.BytesIO(pdf.content)).pages) == 2
        # and nothing ticked is a clear refusal, not an empty PDF
        assert browser.get("/console/labels.pdf").status_code == 422
    with httpx.Client(base_url=live_server, timeout=30) as other:
        assert _login(other, "b@example.com") == 303
        # another seller sees no boxes for these and cannot print them
        assert 'name="ids"' not in other.get("/console/orders").text
        denied = other.get("/console/labels.pdf", params={"ids": [made[0]["id"]]})
        assert denied.status_code == 404


def test_cancelling_a_booked_order_in_the_console_waits_for_the_carrier(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock, live_server: str
) -> None:  # O4 F10
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    order = m.place("a_self")
    ship(m, order["id"], m.seller_tokens["a"])
    create_console_user(m.db_url, "a@example.com", Role.seller, m.sellers["a"])
    with httpx.Client(base_url=live_server, timeout=30) as browser:
        assert _login(browser, "a@example.com") == 303
        browser.cookies.set("tg_lang", "en")
        page = browser.get(f"/console/orders/{order['id']}").text
        done = browser.post(
            f"/console/orders/{order['id']}/cancel",
            data={"csrf": _csrf(page), "reason": "buyer asked by phone"},
        )
        assert done.status_code == 303
        page = browser.get(f"/console/orders/{order['id']}").text
        assert 'class="badge cancel_requested" data-testid="status"' in page
        assert "the carrier has been asked to void it" in page
        assert f"/console/orders/{order['id']}/cancel" not in page  # nothing to ask twice
        browser.cookies.set("tg_lang", "zh-CN")
        assert "已请物流商作废运单" in browser.get(f"/console/orders/{order['id']}").text
        clock.advance(timedelta(minutes=11))
        sandbox_carrier.tick(m.client)
        page = browser.get(f"/console/orders/{order['id']}").text
        assert 'class="badge cancelled" data-testid="status"' in page

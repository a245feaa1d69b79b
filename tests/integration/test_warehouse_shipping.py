"""The platform ships from its warehouse: the pick list, picking checked by the scanner, quotes
from the warehouse's origin, pack and ship with the sandbox carrier, the label printed at the
warehouse, the platform paying (F11, F8, F9, C3, M5)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.builders.inbound import edit_sku
from tests.builders.market import Market, issue_token
from tests.builders.shipping import (
    SandboxHandle,
    connect_sandbox,
    install_catalog,
    option,
    options,
)
from tests.builders.stock import DONGGUAN, stocked
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role

BARCODE = "6901234567892"


def _stocked(m: Market, sandbox: SandboxHandle, on_hand: int = 5) -> tuple[str, str, str]:
    """The sandbox carrier connected, a platform warehouse holding the full-managed store's SKU
    (given a barcode and a colour), and a token for its staff: (warehouse, SKU, staff)."""
    connect_sandbox(m, sandbox)
    warehouse, sku = stocked(m, "a_full", on_hand)
    edit_sku(m, "a_full", sku, {"barcode": BARCODE, "attributes": {"colour": "black"}})
    staff = issue_token(m.db_url, Role.warehouse, warehouse_ids=[warehouse])
    return warehouse, sku, staff


def _fo(m: Market, order_id: str) -> dict[str, Any]:
    (fo,) = m.ok(m.get(f"/orders/{order_id}/fulfilment-orders", m.operator))
    return dict(fo)


def _stock(m: Market, warehouse: str, sku: str) -> tuple[int, int]:
    (row,) = m.ok(m.get("/stock", m.operator, params={"warehouse_id": warehouse, "sku_id": sku}))
    return row["on_hand"], row["reserved"]


def _pick(m: Market, fo_id: str, token: str, *items: tuple[str, int]) -> Any:
    body = {"items": [{"code": code, "quantity": n} for code, n in items]} if items else None
    return m.post(f"/fulfilment-orders/{fo_id}/pick", token, body)


def test_the_warehouse_picks_packs_and_ships_and_the_carrier_delivers(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock
) -> None:  # F11 F8 F9 C3 M5
    m = live_market
    warehouse, sku, staff = _stocked(m, sandbox_carrier)
    order = m.place("a_full", quantity=2)
    later = m.place("a_full")
    fo, other = _fo(m, order["id"]), _fo(m, later["id"])
    assert (fo["status"], fo["shipper"], fo["warehouse_id"]) == ("reserved", "platform", warehouse)
    assert _stock(m, warehouse, sku) == (5, 3)

    # the pick list: both, soonest ship deadline first, a page at a time, as a picker reads them
    first = m.get(f"/warehouses/{warehouse}/pick-list", staff, params={"limit": 1})
    assert first.status_code == 200, first.text
    (entry,) = first.json()
    assert entry["id"] == fo["id"] and entry["ship_by"] == order["ship_by"]
    (line,) = entry["lines"]
    assert line == {
        "sku_id": sku,
        "sku_code": line["sku_code"],
        "barcode": BARCODE,
        "attributes": {"colour": "black"},
        "product_id": m.products["a_full"],
        "product_name": "Earbuds 耳机",
        "quantity": 2,
    }
    assert (entry["status"], entry["units"]) == ("reserved", 2)
    link = first.headers["Link"]
    assert link.endswith('>; rel="next"')
    target = link[1 : link.index(">")].removeprefix("/api/v1")
    (second,) = m.ok(m.get(target, staff))
    assert second["id"] == other["id"]
    assert m.ok(m.get(f"/warehouses/{warehouse}/pick-list", m.operator)) == [entry, second]

    # C3: what is scanned at packing must be exactly the lines: one unit short is refused
    short = _pick(m, fo["id"], staff, (BARCODE, 1))
    assert short.status_code == 422, short.text
    problem = short.json()
    assert (problem["rule"], problem["field"], problem["line"]) == (
        "pick_mismatch",
        "items.0.quantity",
        1,
    )
    assert (problem["expected"], problem["scanned"]) == (2, 1)
    wrong = _pick(m, fo["id"], staff, (BARCODE, 2), ("NOT-OURS", 1))
    assert wrong.status_code == 422 and wrong.json()["field"] == "items.1.code"
    assert _fo(m, order["id"])["status"] == "reserved"  # nothing moved

    # scanned right (the barcode, then the code typed in lower case): picked
    picked = m.ok(_pick(m, fo["id"], staff, (BARCODE, 1), (line["sku_code"].lower(), 1)))
    assert picked["status"] == "picked" and picked["picked_at"] is not None
    moves = m.ok(m.get("/stock/moves", m.operator, params={"sku_id": sku}))
    assert (moves[0]["kind"], moves[0]["quantity"], moves[0]["actor_role"]) == (
        "pick",
        2,
        "warehouse",
    )
    assert _stock(m, warehouse, sku) == (5, 3)  # a pick moves nothing until the parcel leaves
    again = _pick(m, fo["id"], staff)
    assert again.status_code == 409  # picked already

    # F8 step 2 from the warehouse's origin, its address the sender
    quoted = m.ok(m.post(f"/fulfilment-orders/{fo['id']}/quotes", staff))
    assert (quoted["origin_country"], quoted["warehouse_id"]) == ("CN", warehouse)
    assert quoted["sender"]["line1"] == DONGGUAN["line1"]
    quote = option(quoted, "TG-POST-REG")["quote"]
    assert quote["total_minor"] > 0

    # an order not picked yet does not ship (F11)
    unpicked = m.post(
        f"/fulfilment-orders/{other['id']}/ship", staff, {"service_code": "TG-POST-REG"}
    )
    assert unpicked.status_code == 409 and unpicked.json()["rule"] == "not_picked"

    # pack and ship: booked from the warehouse, paid by the platform, submitted: the order ships
    shipped = m.ok(
        m.post(
            f"/fulfilment-orders/{fo['id']}/ship",
            staff,
            {"service_code": "TG-POST-REG", "expected_total_minor": quote["total_minor"]},
        )
    )
    parcel = shipped["shipment"]
    assert shipped["fulfilment_order"]["status"] == "shipped"
    assert (parcel["payer"], parcel["warehouse_id"], parcel["status"]) == (
        "platform",
        warehouse,
        "submitted",
    )
    assert parcel["sender"] == {"line2": None, **DONGGUAN}
    assert parcel["quote_total_minor"] == quote["total_minor"]
    assert parcel["tracking_number"].startswith("SB")
    seen = m.ok(m.get(f"/orders/{order['id']}", m.operator))
    assert (seen["status"], seen["carrier_code"], seen["tracking_number"]) == (
        "shipped",
        "sandbox",
        parcel["tracking_number"],
    )
    assert _fo(m, order["id"])["status"] == "shipped"
    assert _stock(m, warehouse, sku) == (3, 1)  # the two units left on hand and reserved
    by_id = m.ok(m.get(f"/shipments/{parcel['id']}", m.operator))
    assert (by_id["payer"], by_id["warehouse_id"]) == ("platform", warehouse)
    (gone,) = m.ok(m.get(f"/warehouses/{warehouse}/pick-list", staff))
    assert gone["id"] == other["id"]

    # the label prints at the warehouse (F8 step 3)
    pdf = m.get(parcel["label_pdf"].removeprefix("/api/v1"), staff)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    zpl = m.get(f"/fulfilment-orders/{fo['id']}/label.zpl", staff)
    assert zpl.status_code == 200 and parcel["tracking_number"] in zpl.text

    # F9: the buyer tracks it; the seller sees the order's progress, never the parcel's price
    seller = m.seller_tokens["a"]
    (tracked,) = m.ok(m.get(f"/orders/{order['id']}/shipments", m.channel))
    assert tracked["tracking_number"] == parcel["tracking_number"]
    assert m.ok(m.get(f"/orders/{order['id']}/shipments", seller)) == []
    assert m.get(f"/shipments/{parcel['id']}", seller).status_code == 404
    assert m.get(f"/shipments/{parcel['id']}/label.pdf", seller).status_code == 404
    own = m.ok(m.get(f"/orders/{order['id']}", seller))
    assert (own["status"], own["tracking_number"]) == ("shipped", parcel["tracking_number"])
    timeline = m.ok(m.get(f"/orders/{order['id']}/events", seller))
    steps = [(e["action"], e["actor_role"]) for e in timeline]
    assert steps[steps.index(("fulfilment_picked", "warehouse")) :] == [
        ("fulfilment_picked", "warehouse"),
        ("fulfilment_packed", "warehouse"),
        # the platform's steps, taken for the staff member (its actor id) as an operator
        ("shipment_create", "operator"),
        ("ship", "operator"),
        ("shipment_submit", "operator"),
    ]
    assert {e["actor_id"] for e in timeline[-5:]} == {timeline[-1]["actor_id"]}
    assert not [e for e in timeline if "quote_total_minor" in e["data"]]

    # then the carrier takes it in, delivers it, and the buyer's order completes as any other
    sandbox_carrier.fate(m.client, parcel["tracking_number"], "normal")
    clock.advance(timedelta(hours=7))
    sandbox_carrier.tick(m.client)
    assert m.ok(m.get(f"/shipments/{parcel['id']}", m.operator))["status"] == "picked_up"
    clock.advance(timedelta(days=12))
    sandbox_carrier.tick(m.client)
    assert m.ok(m.get(f"/orders/{order['id']}", m.operator))["status"] == "delivered"
    done = m.ok(m.post(f"/orders/{order['id']}/complete", m.channel))
    assert done["status"] == "completed"


def test_quotes_are_from_the_warehouse_country_not_the_store(
    market: Market,
) -> None:  # F11 F8 F5
    m = market
    hub = m.platform_warehouse  # the store's own country's warehouse stops: Berlin ships
    m.ok(m.client.patch(f"/api/v1/warehouses/{hub}", json={"active": False}, headers=_auth(m)))
    berlin = {**DONGGUAN, "city": "Berlin", "region": None, "postcode": "10115", "country": "DE"}
    warehouse, _ = stocked(m, "a_full", 2, address=berlin, country="DE")
    install_catalog(m)  # quotes need no carrier
    order = m.place("a_full")
    fo = _fo(m, order["id"])
    assert fo["warehouse_id"] == warehouse
    quoted = m.ok(m.post(f"/fulfilment-orders/{fo['id']}/quotes", m.operator, {"insure": False}))
    assert quoted["origin_country"] == "DE" and quoted["sender"]["city"] == "Berlin"
    # the postal services ship from China only: refused from Berlin, for the origin
    postal = option(quoted, "TG-POST-REG")
    assert not postal["allowed"] and postal["refusals"][0]["rule"] == "origin"
    assert "this parcel ships from DE" in postal["refusals"][0]["detail"]
    assert option(quoted, "TG-STANDARD")["allowed"]
    # while the store's own (seller's) view still quotes from China
    assert option(options(m, order["id"], m.operator), "TG-POST-REG")["allowed"]


def test_who_may_pick_and_ship(market: Market) -> None:  # F11
    m = market
    install_catalog(m)  # quotes need no carrier
    warehouse, _ = stocked(m, "a_full", 2)
    order = m.place("a_full")
    fo = _fo(m, order["id"])
    elsewhere = issue_token(m.db_url, Role.warehouse, warehouse_ids=[m.platform_warehouse])
    calls = [
        ("get", f"/warehouses/{warehouse}/pick-list", None),
        ("post", f"/fulfilment-orders/{fo['id']}/pick", None),
        ("post", f"/fulfilment-orders/{fo['id']}/quotes", None),
        ("post", f"/fulfilment-orders/{fo['id']}/ship", {"service_code": "TG-POST-REG"}),
        ("get", f"/fulfilment-orders/{fo['id']}/label.pdf", None),
    ]
    for method, path, body in calls:
        for token in (m.seller_tokens["a"], m.channel, m.carrier):  # never the seller's to do
            answer = m.client.request(
                method.upper(),
                f"/api/v1{path}",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 403, (path, answer.text)
        # staff of another warehouse: not found, as for its inbound notices
        answer = m.client.request(
            method.upper(),
            f"/api/v1{path}",
            json=body,
            headers={"Authorization": f"Bearer {elsewhere}"},
        )
        assert answer.status_code == 404, (path, answer.text)
    # the seller does not book a parcel for the platform's order either, nor ship it by hand
    booked = m.post(
        f"/orders/{order['id']}/shipments", m.seller_tokens["a"], {"service_code": "TG-POST-REG"}
    )
    assert booked.status_code == 403 and booked.json()["rule"] == "platform_ships"
    by_hand = m.post(
        f"/orders/{order['id']}/shipments", m.operator, {"service_code": "TG-POST-REG"}
    )
    assert by_hand.status_code == 409 and by_hand.json()["rule"] == "platform_ships"
    assert _fo(m, order["id"])["status"] == "reserved"


def _auth(m: Market) -> dict[str, str]:
    return {"Authorization": f"Bearer {m.operator}"}

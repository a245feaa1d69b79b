"""After-sales returns through the API (issue 16): a buyer's return of a delivered order,
authorized with a return label booked from the sandbox carrier, received where the order came
from (the platform's warehouse for full-managed goods, which go back on its books; the seller
otherwise), then refunded by whoever bears it inside and outside the 3-month exemption; a
dispute decided ``return_and_refund`` opens one; and bad input refused with nothing changed
(G6, M3, G4, O4)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from tests.builders.inbound import staff
from tests.builders.market import Market, issue_token
from tests.builders.money import amounts, assert_books_balance, entries, entry_count, push
from tests.builders.shipping import SandboxHandle, connect_sandbox, ship
from tests.builders.stock import stocked
from tests.builders.webhooks import Receiver
from tests.builders.workers import sweep_database
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.principal import Role

SHIP = {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"}
WHY = {"cause": "damaged", "summary": "The handle snapped in the box."}


def _problem(response: Any, status: int, rule: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body.get("rule") == rule, body
    return dict(body)


def _delivered_by_hand(m: Market, store_key: str) -> dict[str, Any]:
    order = m.place(store_key)
    m.ok(m.post(f"/orders/{order['id']}/ship", m.operator, SHIP))
    m.ok(m.post(f"/orders/{order['id']}/deliver", m.carrier))
    return dict(m.ok(m.get(f"/orders/{order['id']}", m.operator)))


def _delivered_by_sandbox(
    m: Market, store_key: str, **extra: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An order shipped through the sandbox carrier (booked and submitted), then delivered."""
    seller = m.seller_tokens[store_key.split("_")[0]]
    order = m.place(store_key, **extra)
    parcel = ship(m, order["id"], seller)
    m.ok(m.post(f"/shipments/{parcel['id']}/submit", seller))
    m.ok(m.post(f"/orders/{order['id']}/deliver", m.operator))
    return dict(m.ok(m.get(f"/orders/{order['id']}", m.operator))), parcel


def _on_hand(m: Market, warehouse: str, sku: str) -> tuple[int, int]:
    (row,) = m.ok(m.get("/stock", m.operator, params={"warehouse_id": warehouse, "sku_id": sku}))
    return int(row["on_hand"]), int(row["defective"])


def test_a_full_managed_return_goes_back_to_the_platform_and_the_platform_refunds(
    live_market: Market, sandbox_carrier: SandboxHandle
) -> None:  # G6 M3
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    warehouse, sku = stocked(m, "a_full", 5)
    order = _delivered_by_hand(m, "a_full")
    before = _on_hand(m, warehouse, sku)
    # the storefront asks for the buyer's return of the delivered order
    asked = m.ok(m.post("/returns", m.channel, {"order_id": order["id"], **WHY}), 201)
    assert (asked["kind"], asked["state"], asked["your_party"]) == (
        "after_sale",
        "return_requested",
        "buyer",
    )
    case_id = asked["id"]
    # full-managed: the platform authorizes, not the seller
    seller = m.seller_tokens["a"]
    _problem(m.post(f"/cases/{case_id}/return/authorize", seller, {}), 403, "authorizer")
    # the order was shipped by hand: the platform names the return's service, and the carrier
    # books the label from the buyer to the warehouse that fulfilled it
    _problem(m.post(f"/cases/{case_id}/return/authorize", m.operator, {}), 422, "service_required")
    done = m.ok(
        m.post(f"/cases/{case_id}/return/authorize", m.operator, {"service_code": "TG-POST-REG"})
    )
    parcel = done["return_parcel"]
    assert done["state"] == "return_shipping" and done["step_owner"] == "buyer"
    assert parcel["destination"] == "warehouse" and parcel["tracking_number"].startswith("SB")
    assert sandbox_carrier.sandbox.parcel(parcel["tracking_number"]) is not None
    again = m.post(f"/cases/{case_id}/return/authorize", m.operator, {"service_code": "TG-EXPRESS"})
    _problem(again, 409, "illegal_transition")
    # the buyer reads it with its label through the storefront's own routes
    shown = m.ok(m.get(f"/returns/{case_id}", m.channel))
    assert shown["return_parcel"]["label_url"] == f"/api/v1/returns/{case_id}/label"
    label = m.get(f"/returns/{case_id}/label", m.channel)
    assert label.status_code == 200 and label.content.startswith(b"%PDF")
    assert m.get(f"/disputes/{case_id}", m.channel).status_code == 404
    # staff of the warehouse receive it: resellable; inside the exemption the platform bears the
    # refund and keeps the unit, which goes on no seller's books (the seller is paid the sale)
    dock = staff(m, warehouse)
    stranger = staff(m, m.platform_warehouse)
    assert (
        m.post(
            f"/cases/{case_id}/return/receipt", stranger, {"condition": "resellable"}
        ).status_code
        == 404
    )
    received = m.ok(
        m.post(f"/cases/{case_id}/return/receipt", dock, {"condition": "resellable", "note": "ok"})
    )
    assert received["state"] == "return_received"
    assert received["return_parcel"]["condition"] == "resellable"
    assert _on_hand(m, warehouse, sku) == before
    (got,) = [e for e in received["entries"] if e["type"] == "return_received"]
    assert got["data"]["kept_by_platform"] is True and got["data"]["restocked"] == {}
    # the refund: inside the exemption, the platform bears it
    refunded = m.ok(
        m.post(
            f"/cases/{case_id}/decision",
            m.operator,
            {"decision": "refund_full", "reason": "returned unused"},
        )
    )
    assert refunded["amount_minor"] == order["total_minor"]
    assert amounts(entries(m.db_url, "order", order["id"]))[-1] == (
        "refund_borne_by_platform",
        order["total_minor"],
        False,
    )
    assert_books_balance(m.db_url)


def test_a_self_run_return_goes_to_the_seller_who_bears_the_refund(
    live_market: Market,
    sandbox_carrier: SandboxHandle,
    clock: FrozenClock,
    settings: Settings,
) -> None:  # G6 M3 O6
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    seller = m.seller_tokens["a"]
    shop = Receiver()
    m.ok(m.post("/webhooks", m.channel, {"url": shop.url}), 201)
    order, outbound = _delivered_by_sandbox(m, "a_self", buyer_locale="zh-CN")
    asked = m.ok(m.post("/returns", m.channel, {"order_id": order["id"], **WHY}), 201)
    case_id = asked["id"]
    # another seller sees nothing of it
    assert m.get(f"/cases/{case_id}", m.seller_tokens["b"]).status_code == 404
    # outside full-managed the seller authorizes; the outbound parcel's service is used
    done = m.ok(m.post(f"/cases/{case_id}/return/authorize", seller, {"note": "send it back"}))
    parcel = done["return_parcel"]
    assert parcel["destination"] == "seller" and parcel["service_code"] == outbound["service_code"]
    assert parcel["ship_to"]["city"] == "深圳"
    assert m.get(f"/cases/{case_id}/return/label", seller).content.startswith(b"%PDF")
    # the seller answers the buyer on the case; the storefront hears it
    m.ok(m.post(f"/cases/{case_id}/messages", seller, {"text": "please use the label"}), 201)
    # the seller receives it damaged; the platform refunds part, charged to the seller
    m.ok(m.post(f"/cases/{case_id}/return/receipt", seller, {"condition": "damaged"}))
    part = {"decision": "refund_partial", "amount_minor": 500, "reason": "returned scratched"}
    m.ok(m.post(f"/cases/{case_id}/decision", m.operator, part))
    assert amounts(entries(m.db_url, "order", order["id"]))[-1] == (
        "refund_charged_to_seller",
        500,
        False,
    )
    assert_books_balance(m.db_url)
    # the storefront was told each step in the buyer's language, through its webhook
    sweep_database(m.db_url, clock, settings)
    told = {b["kind"]: b for b in (json.loads(body) for _, body in shop.received)}
    shop.close()
    assert {"return_authorized", "return_received", "case_decided"} <= set(told)
    authorized = told["return_authorized"]["data"]
    assert authorized["case_id"] == case_id and authorized["locale"] == "zh-CN"
    assert (
        parcel["tracking_number"] in authorized["message"] and "退货面单" in authorized["message"]
    )
    assert "部分退款" in told["case_decided"]["data"]["message"]
    heard = told["case_message"]["data"]
    assert heard["case_id"] == case_id and "卖家" in heard["message"]


def test_a_dispute_decided_return_and_refund_opens_the_return(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock
) -> None:  # G4 G6 M3
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    warehouse, sku = stocked(m, "a_full", 5)
    order = _delivered_by_hand(m, "a_full")
    clock.advance(relativedelta(months=3, days=1))  # outside the exemption: the seller bears it
    dispute = m.ok(
        m.post(
            "/disputes",
            m.channel,
            {"order_id": order["id"], "cause": "wrong_item", "summary": "A blue one came."},
        ),
        201,
    )
    decided = m.ok(
        m.post(
            f"/cases/{dispute['id']}/decision",
            m.operator,
            {"decision": "return_and_refund", "reason": "send it back for a refund"},
        )
    )
    assert decided["amount_minor"] is None
    linked = [e for e in decided["entries"] if e["type"] == "return_opened"]
    return_id = linked[0]["data"]["case_id"]
    opened = m.ok(m.get(f"/returns/{return_id}", m.channel))
    assert (opened["cause"], opened["state"]) == ("wrong_item", "return_requested")
    assert m.ok(m.get(f"/cases/{return_id}", m.operator))["origin_case_id"] == dispute["id"]
    # the buyer may not ask for a second return of the same order
    again = m.post("/returns", m.channel, {"order_id": order["id"], **WHY})
    _problem(again, 409, "one_open_return")
    # the parcel comes back to the warehouse: outside the exemption the seller bears the refund,
    # so the unit goes back on the seller's books
    authorize = {"service_code": "TG-POST-REG"}
    m.ok(m.post(f"/cases/{return_id}/return/authorize", m.operator, authorize))
    before = _on_hand(m, warehouse, sku)
    dock = staff(m, warehouse)
    m.ok(m.post(f"/cases/{return_id}/return/receipt", dock, {"condition": "damaged"}))
    assert _on_hand(m, warehouse, sku) == (before[0], before[1] + 1)
    m.ok(
        m.post(
            f"/cases/{return_id}/decision",
            m.operator,
            {"decision": "refund_full", "reason": "damaged in the box"},
        )
    )
    assert amounts(entries(m.db_url, "order", order["id"]))[-1][0] == "refund_charged_to_seller"
    assert_books_balance(m.db_url)
    # the return's carrier may not spend the one appeal; the buyer may, and only once
    sandbox = issue_token(m.db_url, Role.carrier, carrier_code="sandbox")
    carrier = m.post(f"/cases/{return_id}/appeal", sandbox, {"reason": "not ours to pay"})
    _problem(carrier, 403, "appellant")
    m.ok(m.post(f"/returns/{return_id}/appeal", m.channel, {"reason": "the postage too"}))
    again = m.post(f"/cases/{return_id}/appeal", m.seller_tokens["a"], {"reason": "me too"})
    _problem(again, 409, "appeal_once")
    # and the order's goods went back once: no second return after this one closes
    assert m.get(f"/disputes/{return_id}", m.channel).status_code == 404


def test_a_return_decided_on_its_way_is_still_received_and_the_carriers_scans_are_kept(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock, settings: Settings
) -> None:  # G6 F9
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    seller = m.seller_tokens["a"]
    order, _ = _delivered_by_sandbox(m, "a_self")
    case_id = m.ok(m.post("/returns", m.channel, {"order_id": order["id"], **WHY}), 201)["id"]
    parcel = m.ok(m.post(f"/cases/{case_id}/return/authorize", seller, {}))["return_parcel"]
    # the carrier's events for the return parcel land on its case, and a repeat counts once
    now = clock.now()
    pushed = push(
        m,
        parcel["tracking_number"],
        ("ret-1", "PICKUP", now),
        ("ret-1", "PICKUP", now),
        at=now,
    )
    assert pushed == {"accepted": 1, "duplicates": 1}
    timeline = m.ok(m.get(f"/cases/{case_id}", m.operator))["entries"]
    picked = [e for e in timeline if e["type"] == "return_scan"]
    assert [e["data"]["code"] for e in picked] == ["picked_up"] and picked[0]["party"] == "carrier"
    # refunded while the parcel is on its way: its arrival is still recorded
    part = {"decision": "refund_partial", "amount_minor": 300, "reason": "goodwill"}
    m.ok(m.post(f"/cases/{case_id}/decision", m.operator, part))
    late = m.ok(m.post(f"/cases/{case_id}/return/receipt", seller, {"condition": "resellable"}))
    assert late["state"] == "decided" and late["return_parcel"]["received_at"] is not None
    twice = m.post(f"/cases/{case_id}/return/receipt", seller, {"condition": "resellable"})
    _problem(twice, 409, "illegal_transition")
    # once closed, the order's goods do not go back a second time
    clock.advance(timedelta(days=8))
    sweep_database(m.db_url, clock, settings)
    assert m.ok(m.get(f"/returns/{case_id}", m.channel))["state"] == "closed"
    again = m.post("/returns", m.channel, {"order_id": order["id"], **WHY})
    _problem(again, 409, "returned_already")


def test_bad_return_input_is_refused_and_changes_nothing(
    market: Market, clock: FrozenClock
) -> None:  # G6 O4
    m = market
    placed = m.place("a_self")
    before = entry_count(m.db_url)
    # not delivered yet: the buyer cancels instead
    early = m.post("/returns", m.channel, {"order_id": placed["id"], **WHY})
    _problem(early, 409, "return_after_delivery")
    # only the storefront asks; a seller may not
    order = _delivered_by_hand(m, "a_self")
    denied = m.post("/returns", m.seller_tokens["a"], {"order_id": order["id"], **WHY})
    assert denied.status_code == 403
    # an unknown cause names the field
    odd = m.post("/returns", m.channel, {"order_id": order["id"], "cause": "bored", "summary": "x"})
    assert odd.status_code == 422 and "cause" in odd.text
    # too late: the window closes 15 days after delivery
    clock.advance(timedelta(days=16))
    _problem(m.post("/returns", m.channel, {"order_id": order["id"], **WHY}), 409, "return_window")
    fresh = _delivered_by_hand(m, "a_self")
    case = m.ok(m.post("/returns", m.channel, {"order_id": fresh["id"], **WHY}), 201)
    # a return is not moved to its parcel's steps by hand, nor received before its label
    moved = m.post(f"/cases/{case['id']}/move", m.operator, {"to": "return_shipping"})
    _problem(moved, 409, "illegal_transition")
    early_receipt = m.post(
        f"/cases/{case['id']}/return/receipt", m.operator, {"condition": "resellable"}
    )
    _problem(early_receipt, 409, "illegal_transition")
    _problem(m.get(f"/returns/{case['id']}/label", m.channel), 404, "return_label")
    # a service the platform does not run books nothing
    unknown = m.post(
        f"/cases/{case['id']}/return/authorize", m.operator, {"service_code": "NO-SUCH"}
    )
    _problem(unknown, 422, "active")
    assert entry_count(m.db_url) == before
    shown = m.ok(m.get(f"/cases/{case['id']}", m.operator))
    assert shown["state"] == "return_requested" and shown["return_parcel"] is None
    # refused outright before any parcel: a rejection moves no money
    rejected = m.ok(
        m.post(
            f"/cases/{case['id']}/decision",
            m.operator,
            {"decision": "reject", "reason": "used and worn"},
        )
    )
    assert (rejected["decision"], rejected["amount_minor"]) == ("reject", None)
    assert entry_count(m.db_url) == before

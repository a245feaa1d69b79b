"""What parcels post to the ledger, in the transaction of the event that causes it: the quoted
shipping fee charged to whoever ships (the seller's parcel, the platform's warehouse parcel) and
given back when the carrier voids the booking before pickup; an approved insurance claim paid
to the seller (F5, F8, F10, F11, G1, G3)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.builders.market import Market, issue_token
from tests.builders.money import (
    amounts,
    assert_books_balance,
    balance,
    entries,
    entry_count,
)
from tests.builders.shipping import SandboxHandle, add_product, connect_sandbox, place_with, ship
from tests.builders.stock import stocked
from tuoguan.kit.clock import FrozenClock
from tuoguan.ledger.accounts import AccountKind
from tuoguan.principal import Role

FEE, COST = "shipping_fee_charged", "shipping_cost_incurred"


def _book(m: Market, order_id: str, token: str, key: str, service: str = "TG-POST-REG") -> Any:
    return m.post(
        f"/orders/{order_id}/shipments",
        token,
        {"service_code": service},
        headers={"Idempotency-Key": key},
    )


def test_a_sellers_parcel_is_charged_its_quote_once_and_gets_it_back_when_voided(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock
) -> None:  # F8 G1 F10
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    order, seller, store = m.place("a_self"), m.seller_tokens["a"], m.stores["a_self"]
    key = m.new_key()
    # when the seller books the parcel under its quote
    first = m.ok(_book(m, order["id"], seller, key), 201)
    fee = first["quote_total_minor"]
    assert fee > 0
    # then the quote is charged to the seller's payable, about the order, in the same request
    assert amounts(entries(m.db_url, "order", order["id"])) == [(FEE, fee, False)]
    assert balance(m.db_url, AccountKind.payable, "USD", store) == fee
    assert balance(m.db_url, AccountKind.shipping_income, "USD") == fee
    assert_books_balance(m.db_url)
    # a retry of the same request replays it, and a second booking is refused: nothing more
    posted = entry_count(m.db_url)
    replay = _book(m, order["id"], seller, key)
    assert replay.status_code == 201 and replay.json()["id"] == first["id"]
    assert replay.headers["Idempotent-Replayed"] == "true"
    second = _book(m, order["id"], seller, m.new_key(), service="TG-EXPRESS")
    assert second.status_code == 409 and second.json()["rule"] == "one_live_shipment"
    assert entry_count(m.db_url) == posted

    # F10: asking to cancel reverses nothing; the carrier's confirmation reverses the fee
    m.ok(m.post(f"/shipments/{first['id']}/submit", seller))
    m.ok(m.post(f"/shipments/{first['id']}/cancel", seller, {"reason": "wrong_product_info"}))
    assert entry_count(m.db_url) == posted
    clock.advance(timedelta(minutes=11))  # the sandbox answers ten minutes later
    sandbox_carrier.tick(m.client)
    assert m.ok(m.get(f"/shipments/{first['id']}", seller))["status"] == "cancelled"
    assert amounts(entries(m.db_url, "order", order["id"])) == [
        (FEE, fee, False),
        (FEE, fee, True),
    ]
    assert balance(m.db_url, AccountKind.payable, "USD", store) == 0
    assert balance(m.db_url, AccountKind.shipping_income, "USD") == 0
    assert_books_balance(m.db_url)

    # the order ships again in another parcel: its own quote is charged, once
    again = ship(m, order["id"], seller, service="TG-STANDARD")
    assert amounts(entries(m.db_url, "order", order["id"]))[2:] == [
        (FEE, again["quote_total_minor"], False)
    ]
    assert balance(m.db_url, AccountKind.payable, "USD", store) == again["quote_total_minor"]
    assert_books_balance(m.db_url)


def test_the_platforms_warehouse_parcel_is_the_platforms_cost_never_the_sellers(
    live_market: Market, sandbox_carrier: SandboxHandle
) -> None:  # F11 F8 G1
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    warehouse, _ = stocked(m, "a_full", 3)
    staff = issue_token(m.db_url, Role.warehouse, warehouse_ids=[warehouse])
    order = m.place("a_full")
    (fo,) = m.ok(m.get(f"/orders/{order['id']}/fulfilment-orders", m.operator))
    m.ok(m.post(f"/fulfilment-orders/{fo['id']}/pick", staff))
    shipped = m.ok(
        m.post(f"/fulfilment-orders/{fo['id']}/ship", staff, {"service_code": "TG-POST-REG"})
    )
    parcel = shipped["shipment"]
    cost = parcel["quote_total_minor"]
    # the carrier's price is the platform's cost, about the shipment, with no store
    (posted,) = entries(m.db_url, "shipment", parcel["id"])
    assert (posted.kind.value, posted.parts["amount"], posted.store_id) == (COST, cost, None)
    assert posted.idem_key == f"shipping:{parcel['id']}"
    assert balance(m.db_url, AccountKind.shipping_cost, "USD") == cost
    # the seller is charged nothing, and its order's entries say nothing of the freight
    assert balance(m.db_url, AccountKind.payable, "USD", m.stores["a_full"]) == 0
    assert entries(m.db_url, "order", order["id"]) == []
    again = m.post(f"/fulfilment-orders/{fo['id']}/ship", staff, {"service_code": "TG-POST-REG"})
    assert again.status_code == 409
    assert len(entries(m.db_url, "shipment", parcel["id"])) == 1
    assert_books_balance(m.db_url)


CLAIM = {
    "kind": "loss",
    "amount_minor": 45_000,
    "description": "the carrier declared the parcel lost",
    "evidence": ["https://evidence.example/tracking-lost.png"],
}


def test_an_approved_claim_pays_the_seller_once_and_the_insurer_owes_it(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock
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
        weight_g=900,
    )
    seller, store = m.seller_tokens["a"], m.stores["a_self"]

    def lost() -> dict[str, Any]:
        order = place_with(m, "a_self", camera)
        shipment = ship(m, order["id"], seller, service="TG-EXPRESS", insure=True)
        sandbox_carrier.fate(m.client, shipment["tracking_number"], "lost")
        m.ok(m.post(f"/shipments/{shipment['id']}/submit", seller))
        m.ok(m.post(f"/shipments/{shipment['id']}/self-drop", seller))
        clock.advance(timedelta(hours=7))
        sandbox_carrier.tick(m.client)
        clock.advance(timedelta(days=7))
        sandbox_carrier.tick(m.client)
        return dict(m.ok(m.get(f"/shipments/{shipment['id']}", seller)))

    parcel = lost()
    claim = m.ok(m.post(f"/shipments/{parcel['id']}/claims", seller, CLAIM), 201)
    assert entries(m.db_url, "claim", claim["id"]) == []  # filed is not paid
    decision = {"amount_minor": 44_000, "reason": "lost in transit; resale value"}
    m.ok(m.post(f"/claims/{claim['id']}/approve", m.operator, decision))
    (paid,) = entries(m.db_url, "claim", claim["id"])
    assert (paid.kind.value, paid.parts["amount"], paid.store_id) == (
        "insurance_claim_paid",
        44_000,
        store,
    )
    assert paid.idem_key == f"claim:{claim['id']}"
    assert balance(m.db_url, AccountKind.receivable, "USD", store) == 44_000
    assert balance(m.db_url, AccountKind.insurance_recoverable, "USD") == 44_000
    # deciding again is refused and posts nothing; a rejected claim is never paid
    posted = entry_count(m.db_url)
    again = m.post(f"/claims/{claim['id']}/approve", m.operator, decision)
    assert again.status_code == 409
    other = lost()
    rejected = m.ok(m.post(f"/shipments/{other['id']}/claims", seller, CLAIM), 201)
    m.ok(m.post(f"/claims/{rejected['id']}/reject", m.operator, {"reason": "no evidence"}))
    assert entries(m.db_url, "claim", rejected["id"]) == []
    assert entry_count(m.db_url) == posted + 1  # only the second parcel's shipping fee
    assert balance(m.db_url, AccountKind.receivable, "USD", store) == 44_000
    assert_books_balance(m.db_url)

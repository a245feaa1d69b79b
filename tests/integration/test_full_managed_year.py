"""A full-managed store's year of money, as issue 14's "done when" reads it, with the clock
moving: the deposit; sales through the platform's warehouse; a late confirmation penalised and
waived on appeal; a late delivery compensated; a lost insured parcel paid; a refund inside the
after-sales exemption borne by the platform and one after it charged to the seller; four
settlement runs whose statements reconcile to the cent; a deposit refund net of an unpaid
penalty. ``finance check`` passes after every step (M3, S3, F6, O2, G2, G3, G6)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.builders.inbound import notice_body, staff
from tests.builders.market import Market
from tests.builders.money import (
    amounts,
    assert_books_balance,
    balance,
    entries,
    seed_default_policy,
)
from tests.builders.shipping import SandboxHandle, connect_sandbox, option
from tests.builders.stock import adjust, sku_of
from tests.builders.workers import sweep_database
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.ledger.accounts import AccountKind

STORE = "a_full"
USD = "USD"
SUPPLY, RETAIL = 1200, 1999  # the builders' full-managed earbuds: supply and retail price
TIERS = [{"from_hours": 0, "to_hours": None, "rate_bp": 1000, "rating_points": 1}]


def refund(amount: int) -> dict[str, Any]:
    return {"amount_minor": amount, "currency": USD, "reason": "arrived broken"}


def kinds_of(m: Market, subject_type: str, subject_id: str) -> list[str]:
    """The kinds of the entries about a subject, oldest first."""
    return [e.kind.value for e in entries(m.db_url, subject_type, subject_id)]


def kinds(m: Market, order: dict[str, Any]) -> list[str]:
    return kinds_of(m, "order", order["id"])


class Year:
    """The store's year: the market, the carrier, the clock and the books after each step."""

    def __init__(
        self, m: Market, carrier: SandboxHandle, clock: FrozenClock, settings: Settings
    ) -> None:
        self.m, self.carrier, self.clock, self.settings = m, carrier, clock, settings
        self.seller = m.seller_tokens["a"]
        self.store = m.stores[STORE]
        self.hub = m.platform_warehouse
        self.sku = sku_of(m, STORE)
        self.picker = staff(m, self.hub)
        self.auth = {"Authorization": f"Bearer {self.seller}"}
        self.runs: list[dict[str, Any]] = []

    def settle(self) -> dict[str, Any]:
        """A weekly full-managed run, previewed then executed, its payouts sent; its statement
        for the store reconciles line by line with the run's figures and the run before."""
        m = self.m
        self.clock.advance(timedelta(days=7))  # a cycle boundary has passed
        run = m.ok(m.post("/payout-runs", m.operator, {"cycle": "full_managed"}), 201)
        run = m.ok(m.post(f"/payout-runs/{run['id']}/execute", m.operator))
        again = m.post(f"/payout-runs/{run['id']}/execute", m.operator)
        assert again.status_code == 409 and again.json()["rule"] == "run_once"
        self.sweep()  # the payouts go out on the rail
        (row,) = [r for r in run["statements"] if r["store_id"] == self.store]
        period = {"start": run["period_start"], "end": run["period_end"], "currency": USD}
        stated = m.ok(m.get(f"/stores/{self.store}/statement", self.seller, params=period))
        balance = stated["opening_minor"]
        for line in stated["lines"]:
            balance += line["amount_minor"]
            assert line["balance_minor"] == balance
        assert balance == stated["closing_minor"] == row["closing_due_minor"]
        assert stated["opening_minor"] == row["opening_due_minor"]
        if self.runs:
            assert row["opening_due_minor"] == self.runs[-1]["closing_due_minor"]
        self.runs.append(row)
        self.books()
        return row

    def books(self) -> None:
        """``tuoguan finance check``: every balance equals its postings, every entry balances."""
        assert_books_balance(self.m.db_url)

    def sweep(self) -> Any:
        return sweep_database(self.m.db_url, self.clock, self.settings)

    def due(self) -> int:
        """What the platform owes the store now: receivable + clearing - payable."""
        owed = balance(self.m.db_url, AccountKind.receivable, USD, self.store)
        clearing = balance(self.m.db_url, AccountKind.payout_clearing, USD, self.store)
        return owed + clearing - balance(self.m.db_url, AccountKind.payable, USD, self.store)

    def stock(self, units: int) -> None:
        self.m.ok(adjust(self.m, self.hub, self.sku, reason="supplied", on_hand=units), 201)

    def shipped(
        self,
        order: dict[str, Any] | None = None,
        *,
        fate: str = "normal",
        insure: bool = False,
        quantity: int = 1,
    ) -> tuple[dict[str, Any], Any]:
        """An order from stock (a new one by default), picked and shipped online by the
        warehouse: (order, parcel)."""
        m = self.m
        order = order or m.place(STORE, quantity=quantity)
        (fo,) = m.ok(m.get(f"/orders/{order['id']}/fulfilment-orders", m.operator))
        assert fo["status"] == "reserved", fo
        items = {"items": [{"code": self.sku, "quantity": quantity}]}
        m.ok(m.post(f"/fulfilment-orders/{fo['id']}/pick", self.picker, items))
        quoted = m.ok(m.post(f"/fulfilment-orders/{fo['id']}/quotes", self.picker))
        service = "TG-EXPRESS" if insure else "TG-POST-REG"
        quote = option(quoted, service)["quote"]
        body: dict[str, Any] = {"service_code": service}
        if insure:
            body["insure"] = True  # the premium is added to the quote
        else:
            body["expected_total_minor"] = quote["total_minor"]
        parcel = m.ok(m.post(f"/fulfilment-orders/{fo['id']}/ship", self.picker, body))["shipment"]
        self.carrier.fate(m.client, parcel["tracking_number"], fate)
        return order, parcel

    def run_carrier(self, days: float) -> None:
        """The carrier's days pass, its news pushed as it comes."""
        for _ in range(int(days * 2)):
            self.clock.advance(timedelta(hours=12))
            self.carrier.tick(self.m.client)

    def complete(self, order: dict[str, Any]) -> None:
        m = self.m
        assert m.ok(m.get(f"/orders/{order['id']}", m.operator))["status"] == "delivered"
        assert m.ok(m.post(f"/orders/{order['id']}/complete", m.channel))["status"] == "completed"


def test_a_full_managed_store_s_year_of_money(
    live_market: Market, sandbox_carrier: SandboxHandle, clock: FrozenClock, settings: Settings
) -> None:  # M3 S3 F6 O2 G2 G3 G6
    m = live_market
    connect_sandbox(m, sandbox_carrier)
    seed_default_policy(m.db_url)  # G2: the quoted fee back for a late parcel
    y = Year(m, sandbox_carrier, clock, settings)
    y.books()

    # -- joining: the deposit is funded, the payout account bound (S3) -------------------------
    rate = {"category": "electronics", "currency": USD, "amount_minor": 80_000}
    m.ok(m.post("/deposit-rates", m.operator, rate), 201)  # the earbuds are electronics/audio
    status = m.ok(m.get(f"/stores/{y.store}/deposit", y.seller))
    required = status["required_minor"]
    assert (required, status["held_minor"]) == (80_000, 0)
    funding = {"amount_minor": required, "currency": USD, "reference": "BANK-2026-0001"}
    m.ok(m.post(f"/stores/{y.store}/deposit/fundings", m.operator, funding), 201)
    assert m.ok(m.get(f"/stores/{y.store}/deposit", y.seller))["held_minor"] == required
    account = {
        "holder_name": "Seller A Ltd",
        "bank_name": "ICBC",
        "account_number": "6222020200112233",
    }
    m.ok(m.client.put(f"/api/v1/stores/{y.store}/payout-account", json=account, headers=y.auth))
    y.books()

    # -- January: a late confirmation is penalised, then waived on appeal (O2, F6) -------------
    m.ok(m.post("/penalty-policies", m.operator, {"kind": "confirm_late", "tiers": TIERS}), 201)
    late = m.place(STORE)  # the hub holds none yet: a supply order, 24 h to confirm
    (supply,) = m.ok(m.get("/supply-orders", y.seller, params={"status": "awaiting_confirmation"}))
    clock.current = datetime.fromisoformat(supply["confirm_by"]) + timedelta(hours=1)
    y.sweep()
    m.ok(m.post(f"/supply-orders/{supply['id']}/confirm", y.seller))
    y.sweep()
    (penalty,) = m.ok(m.get("/penalties", y.seller))
    assert (penalty["kind"], penalty["order_id"]) == ("confirm_late", late["id"])
    m.ok(m.post(f"/penalties/{penalty['id']}/appeal", y.seller, {"reason": "holiday backlog"}))
    m.ok(m.post(f"/penalties/{penalty['id']}/waive", m.operator, {"reason": "first offence"}))
    clock.current = datetime.fromisoformat(penalty["appeal_by"]) + timedelta(hours=1)
    y.sweep()
    assert entries(m.db_url, "penalty", penalty["id"]) == []  # waived: never charged
    y.books()

    # -- sales through the warehouse: the seller is due the supply price, no commission (M3) ----
    # the seller sends what the supply order asks under an inbound notice; receiving it reserves
    # it for the waiting order (R1); more stock is put away for the orders to come
    body = notice_body(m, y.hub, [(y.sku, 1)], cartons=1, supply_order_id=supply["id"])
    notice = m.ok(m.post("/inbound-notices", y.seller, body), 201)
    m.ok(m.post(f"/inbound-notices/{notice['id']}/send", y.seller))
    m.ok(m.post(f"/inbound-notices/{notice['id']}/arrive", y.picker))
    counted = {"counts": [{"code": y.sku, "good": 1}]}
    m.ok(m.post(f"/inbound-notices/{notice['id']}/counts", y.picker, counted))
    m.ok(m.post(f"/inbound-notices/{notice['id']}/close", y.picker))
    y.stock(10)
    sold = [y.shipped(late)] + [y.shipped() for _ in range(2)]
    y.run_carrier(12)
    for order, _ in sold:
        y.complete(order)
        assert kinds(m, order) == ["sale_supplied"]
    assert y.due() == 3 * SUPPLY
    y.books()

    # -- a late delivery: the platform shipped it, so its own accounts bear it (G2, F11) --------
    slow_order, slow = y.shipped(fate="delayed")
    y.run_carrier(0.5)  # picked up: the commitment is set
    slow = m.ok(m.get(f"/shipments/{slow['id']}", m.operator))
    clock.current = datetime.fromisoformat(slow["commit_by"]) + timedelta(hours=1)
    assert y.sweep()["compensate_late"] == 1
    compensated = amounts(entries(m.db_url, "shipment", slow["id"]))
    assert ("delivery_compensation_platform", slow["quote_total_minor"], False) in compensated
    y.run_carrier(4)
    y.complete(slow_order)
    assert y.due() == 4 * SUPPLY
    y.books()

    # -- a lost insured parcel: the claim pays the seller, the insurer owes the platform (G3) ---
    _, lost = y.shipped(fate="lost", insure=True, quantity=3)  # insured above 50.00
    y.run_carrier(30)
    lost = m.ok(m.get(f"/shipments/{lost['id']}", m.operator))
    assert lost["status"] == "lost"
    claim_body = {
        "kind": "loss",
        "amount_minor": 3 * SUPPLY,
        "description": "the carrier declared the parcel lost",
        "evidence": ["https://evidence.example/lost.png"],
    }
    claim = m.ok(m.post(f"/shipments/{lost['id']}/claims", m.operator, claim_body), 201)
    approve = {"amount_minor": 3 * SUPPLY, "reason": "lost in transit: the supply price"}
    m.ok(m.post(f"/claims/{claim['id']}/approve", m.operator, approve))
    assert y.due() == 7 * SUPPLY
    y.books()

    # -- run 1: everything due is paid out (M3: weekly for full-managed) ------------------------
    first = y.settle()
    assert (first["payout_minor"], first["netted_minor"]) == (7 * SUPPLY, 0)
    assert y.due() == 0

    # -- a refund inside the exemption: the platform bears it (M3, G6) -------------------------
    clock.advance(timedelta(days=20))
    inside = m.ok(m.post(f"/orders/{sold[1][0]['id']}/refunds", m.operator, refund(RETAIL)), 201)
    assert inside["bearer"] == "platform"
    assert y.due() == 0  # the seller is not charged
    y.books()

    # -- run 2: two more sales, paid -----------------------------------------------------------
    more = [y.shipped() for _ in range(2)]
    y.run_carrier(12)
    for order, _ in more:
        y.complete(order)
    second = y.settle()
    assert (second["payout_minor"], second["closing_due_minor"]) == (2 * SUPPLY, 2 * SUPPLY)
    assert y.due() == 0

    # -- a refund after the exemption: charged to the seller, netted in run 3 (M3, G6) ---------
    clock.advance(timedelta(days=100))  # more than three months since the December deliveries
    after = m.ok(m.post(f"/orders/{sold[2][0]['id']}/refunds", m.operator, refund(500)), 201)
    assert after["bearer"] == "seller"
    assert y.due() == -500
    (one,) = [y.shipped()]
    y.run_carrier(12)
    y.complete(one[0])
    third = y.settle()
    assert (third["netted_minor"], third["payout_minor"]) == (500, SUPPLY - 500)
    assert y.due() == 0

    # -- run 4: a quiet week; a debt larger than what is due is carried, never paid -----------
    (two,) = [y.shipped()]
    y.run_carrier(12)
    y.complete(two[0])
    fourth = y.settle()
    assert fourth["payout_minor"] == SUPPLY and y.due() == 0
    assert len(y.runs) == 4

    # -- a penalty nobody appeals: charged when its window closes, and left unpaid (F6) --------
    late2 = m.place(STORE, quantity=5)  # more than the hub holds: a supply order
    (supply2,) = m.ok(m.get("/supply-orders", y.seller, params={"status": "awaiting_confirmation"}))
    clock.current = datetime.fromisoformat(supply2["confirm_by"]) + timedelta(hours=2)
    y.sweep()
    m.ok(m.post(f"/supply-orders/{supply2['id']}/cancel", m.operator, {"reason": "seller out"}))
    y.sweep()
    fined = [p for p in m.ok(m.get("/penalties", y.seller)) if p["order_id"] == late2["id"]]
    (penalty2,) = fined
    clock.current = datetime.fromisoformat(penalty2["appeal_by"]) + timedelta(hours=1)
    y.sweep()
    assert kinds_of(m, "penalty", penalty2["id"]) == ["penalty_charged"]
    unpaid = penalty2["amount_minor"]
    assert y.due() == -unpaid
    y.books()

    # -- the deposit back, net of the unpaid penalty (S3) --------------------------------------
    body = {"amount_minor": required - unpaid, "reason": "leaving the program"}
    refused = m.post(f"/stores/{y.store}/deposit/refunds", y.seller, body)
    assert refused.status_code == 409, refused.text  # the lost parcel's order is not finished
    assert "no_unfinished_orders" in refused.text
    # the platform refunds the lost parcel's buyer in full: the order is settled
    lost_order = m.ok(m.get(f"/orders/{lost['order_id']}", m.operator))
    whole = refund(lost_order["total_minor"])
    assert m.ok(m.post(f"/orders/{lost['order_id']}/refunds", m.operator, whole), 201)[
        "bearer"
    ] == ("platform")
    too_much = m.post(
        f"/stores/{y.store}/deposit/refunds", y.seller, {**body, "amount_minor": required}
    )
    assert too_much.status_code == 422 and too_much.json()["rule"] == "within_refundable"
    applied = m.ok(m.post(f"/stores/{y.store}/deposit/refunds", y.seller, body), 201)
    approved = m.ok(m.post(f"/deposit-refunds/{applied['id']}/approve", m.operator, {}))
    assert [d["amount_minor"] for d in approved["deductions"]] == [unpaid]
    y.sweep()  # the refund goes out on the rail
    status = m.ok(m.get(f"/stores/{y.store}/deposit", y.seller))
    assert (status["held_minor"], status["owed_minor"]) == (0, 0)
    assert y.due() == 0
    paid = m.ok(m.get(f"/stores/{y.store}/payouts", y.seller))
    assert [p["status"] for p in paid] == ["sent"] * 5
    assert paid[0]["amount_minor"] == required - unpaid
    y.books()

"""The deposit of a full-managed store and its refund (S3, seed 003): the required amount by
product category, deposits received, what is refundable net of what the store owes, every
failing precondition named at once, and an approval that takes the debts from the deposit
(penalties first, line by line) and pays the rest to the bound account through a payout that
arrives in 3-5 business days; the books always check clean."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.market import Market, as_system, auth
from tests.builders.money import assert_books_balance, balance, entries, entry_count
from tests.builders.workers import sweep_once
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.kit.clock import FrozenClock
from tuoguan.ledger import service as ledger
from tuoguan.ledger.accounts import AccountKind
from tuoguan.ledger.kinds import EntryKind
from tuoguan.principal import SYSTEM, Principal, Role
from tuoguan.settlement import payouts
from tuoguan.settlement.deposit_checks import Move, deduction_order, outstanding
from tuoguan.settlement.rail import SandboxRail

K = EntryKind
FLAT = [{"from_hours": 0, "to_hours": None, "rate_bp": 1000, "rating_points": 2}]
T0 = datetime(2026, 11, 18, 1, 0, tzinfo=UTC)


# -- builders -------------------------------------------------------------------------------------


def rate(m: Market, amount: int, category: str = "*", currency: str = "USD") -> dict[str, Any]:
    body = {"category": category, "currency": currency, "amount_minor": amount}
    return dict(m.ok(m.post("/deposit-rates", m.operator, body), 201))


def status(m: Market, key: str = "a_full", token: str | None = None) -> dict[str, Any]:
    token = token or m.seller_tokens[key.split("_")[0]]
    return dict(m.ok(m.get(f"/stores/{m.stores[key]}/deposit", token)))


def fund(m: Market, amount: Any, reference: str, key: str = "a_full", **extra: Any) -> Any:
    body = {"amount_minor": amount, "currency": "USD", "reference": reference, **extra}
    return m.post(f"/stores/{m.stores[key]}/deposit/fundings", m.operator, body)


def apply(m: Market, amount: Any, key: str = "a_full", reason: str = "leaving full-managed") -> Any:
    token = m.seller_tokens[key.split("_")[0]]
    body = {"amount_minor": amount, "reason": reason}
    return m.post(f"/stores/{m.stores[key]}/deposit/refunds", token, body)


def refunds(m: Market, key: str = "a_full") -> list[dict[str, Any]]:
    token = m.seller_tokens[key.split("_")[0]]
    return list(m.ok(m.get(f"/stores/{m.stores[key]}/deposit/refunds", token)))


def owe(
    m: Market,
    clock: FrozenClock,
    kind: EntryKind,
    amount: int,
    subject: tuple[str, str],
    key: str = "a_full",
) -> None:
    """Post an entry about the store at the test clock's time (then a second passes)."""

    async def work(session: AsyncSession, _: Ctx) -> None:
        ctx = Ctx(principal=Principal(role=Role.operator, actor_id="usr_books"), clock=clock)
        await ledger.post(
            session,
            ctx,
            kind,
            currency="USD",
            parts={"amount": amount},
            store_id=m.stores[key],
            subject=subject,
        )

    as_system(m.db_url, work)
    clock.advance(timedelta(seconds=1))


def bind(m: Market, key: str = "a_full") -> None:
    """The store's payout account (收款账户), bound by its seller."""
    body = {
        "holder_name": "Seller a Ltd",
        "bank_name": "ICBC Shenzhen",
        "account_number": "6222 0202 0011",
    }
    answer = m.client.put(
        f"/api/v1/stores/{m.stores[key]}/payout-account",
        json=body,
        headers=auth(m.seller_tokens[key.split("_")[0]]),
    )
    assert answer.status_code == 200, answer.text


def send(client: TestClient, clock: FrozenClock, mode: str = "ok") -> int:
    """The payout sweep, on a sandbox rail that pays (or refuses)."""
    db = client.app.state.db  # type: ignore[attr-defined]

    async def run() -> int:
        rail = SandboxRail(db, mode=mode, clock=clock)  # type: ignore[arg-type]
        return await payouts.send_due(db, Ctx(principal=SYSTEM, clock=clock), rail)

    assert client.portal is not None
    return client.portal.call(run)


def kinds_of(m: Market, refund: dict[str, Any]) -> list[tuple[str, int, bool]]:
    """The entries of an approval: the debts taken from the deposit, the payout set aside."""
    found = entries(m.db_url, "deposit_refund", refund["id"])
    found += entries(m.db_url, "payout", refund["payout_id"]) if refund["payout_id"] else []
    return sorted((e.kind.value, int(e.parts["amount"]), e.reverses_id is not None) for e in found)


# -- the debts, line by line (pure) -------------------------------------------------------------


def _move(
    entry: str, kind: EntryKind, amount: int, minute: int, reverses: str | None = None
) -> Move:
    at = T0 + timedelta(minutes=minute)
    return Move(entry, kind, "order", "ord_x", at, amount, reverses)


def test_credits_pay_off_the_oldest_debts_first_and_a_reversal_its_own_entry() -> None:  # S3
    lines = outstanding(
        [
            _move("e1", K.shipping_fee_charged, 300, 1),
            _move("e2", K.penalty_charged, 200, 2),
            _move("e3", K.refund_charged_to_seller, 500, 3),
            _move("e4", K.debt_netted, -350, 4),  # pays e1 whole, 50 of e2
            _move("e5", K.refund_charged_to_seller, -500, 5, reverses="e3"),  # undoes e3 itself
        ]
    )
    assert [(line.entry_id, line.amount_minor, line.left_minor) for line in lines] == [
        ("e2", 200, 150)
    ]
    # paid ahead: a credit with nothing to pay off waits for the next debit
    ahead = outstanding([_move("c", K.debt_netted, -100, 1), _move("d", K.penalty_charged, 250, 2)])
    assert [(line.entry_id, line.left_minor) for line in ahead] == [("d", 150)]
    # penalties are deducted first, then the oldest
    mixed = outstanding(
        [_move("f", K.shipping_fee_charged, 10, 1), _move("p", K.penalty_charged, 20, 2)]
    )
    assert [line.entry_id for line in deduction_order(mixed)] == ["p", "f"]


# -- through the API ------------------------------------------------------------------------------


def test_the_required_deposit_is_the_highest_rate_among_the_store_categories(
    market: Market,
) -> None:  # S3
    m = market
    rate(m, 150_000)
    first = status(m)
    assert (first["required_minor"], first["required_category"]) == (150_000, "*")
    assert (first["held_minor"], first["state"]) == (0, "unfunded")
    # its earbuds are electronics/audio: a rate of electronics covers them
    rate(m, 300_000, "electronics")
    rate(m, 900_000, "electronics", "CNY")  # another currency: not the store's
    assert (status(m)["required_minor"], status(m)["required_category"]) == (300_000, "electronics")
    # a second category of products: the highest of the two
    body = {
        "store_id": m.stores["a_full"],
        "name": "Drone 无人机",
        "category": "toys/drones",
        "declared_value_minor": 5000,
        "supply_price_minor": 4000,
        "weight_g": 900,
        "length_mm": 300,
        "width_mm": 300,
        "height_mm": 100,
    }
    m.ok(m.post("/products", m.seller_tokens["a"], body), 201)
    rate(m, 500_000, "toys")
    assert (status(m)["required_minor"], status(m)["required_category"]) == (500_000, "toys")
    # a version is never edited: a new one starts later, never in the past
    past = m.post(
        "/deposit-rates",
        m.operator,
        {
            "category": "toys",
            "currency": "USD",
            "amount_minor": 1,
            "effective_from": "2026-01-01T00:00:00Z",
        },
    )
    assert (past.status_code, past.json()["rule"]) == (422, "not_past")
    listed = m.ok(m.get("/deposit-rates", m.seller_tokens["a"], params={"category": "toys"}))
    assert [(r["amount_minor"], r["standing"]) for r in listed] == [(500_000, "in_force")]
    # a store that is not full-managed holds no deposit
    self_run = m.get(f"/stores/{m.stores['a_self']}/deposit", m.seller_tokens["a"])
    assert (self_run.status_code, self_run.json()["rule"]) == (409, "full_managed_only")


def test_an_operator_records_each_deposit_received_once(market: Market) -> None:  # S3
    m = market
    rate(m, 150_000)
    first = m.ok(fund(m, 100_000, "TT20261118-001"), 201)
    assert (first["held_minor"], first["amount_minor"]) == (100_000, 100_000)
    assert status(m)["state"] == "partly_funded"
    # the same transfer recorded twice is recorded once
    posted = entry_count(m.db_url)
    again = m.ok(fund(m, 100_000, "TT20261118-001"), 201)
    assert again["entry_id"] == first["entry_id"] and entry_count(m.db_url) == posted
    clash = fund(m, 5_000, "TT20261118-001")
    assert (clash.status_code, clash.json()["rule"]) == (409, "reference_used")
    m.ok(fund(m, 50_000, "TT20261118-002"), 201)
    now = status(m)
    assert (now["held_minor"], now["refundable_minor"], now["state"]) == (
        150_000,
        150_000,
        "funded",
    )
    assert balance(m.db_url, AccountKind.deposit_held, "USD", m.stores["a_full"]) == 150_000
    # the seller is told of each deposit received, once
    notes = m.ok(m.get("/notifications", m.seller_tokens["a"]))
    assert [n["kind"] for n in notes].count("deposit_received") == 2

    # refused, with nothing posted: another currency, a fraction, nothing, a store not full-managed
    posted = entry_count(m.db_url)
    euro = fund(m, 100, "TT-3", currency="EUR")
    assert (euro.status_code, euro.json()["field"], euro.json()["rule"]) == (
        422,
        "currency",
        "store_currency",
    )
    fraction = fund(m, 100.5, "TT-4")
    assert fraction.status_code == 422 and fraction.json()["rule"] == "no_fractions"
    assert fund(m, 0, "TT-5").status_code == 422
    semi = fund(m, 100, "TT-6", key="a_semi")
    assert (semi.status_code, semi.json()["rule"]) == (409, "full_managed_only")
    assert entry_count(m.db_url) == posted
    assert_books_balance(m.db_url)


def test_every_failing_precondition_is_named_at_once_and_nothing_is_written(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # S3
    m = market
    rate(m, 150_000)
    m.ok(fund(m, 100_000, "TT-1"), 201)
    # an order not confirmed in 24 hours: still unfinished, and fined (O2) within its appeal window
    m.ok(m.post("/penalty-policies", m.operator, {"kind": "confirm_late", "tiers": FLAT}), 201)
    order = m.place("a_full")
    clock.current = datetime.fromisoformat(order["confirm_by"]) + timedelta(seconds=1)
    assert sweep_once(client, clock, settings)["assess_penalties"] == 1
    (penalty,) = m.ok(m.get("/penalties", m.operator))
    # and a debt the deposit cannot cover
    owe(m, clock, K.refund_charged_to_seller, 150_000, ("order", order["id"]))

    posted = entry_count(m.db_url)
    refused = apply(m, 1_000)
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["rule"] == "refund_preconditions"
    assert [(f["rule"], f["count"]) for f in problem["failed"]] == [
        ("no_unfinished_orders", 1),
        ("no_open_cases", 1),
        ("no_unpaid_debt", 1),
    ]
    assert problem["failed"][1]["cases"] == {"penalty": 1} and all(
        f["what"] for f in problem["failed"]
    )
    assert refunds(m) == [] and entry_count(m.db_url) == posted
    shown = status(m)
    assert [b["rule"] for b in shown["blockers"]] == [f["rule"] for f in problem["failed"]]
    assert (shown["owed_minor"], shown["refundable_minor"]) == (150_000, 0)

    # each put right: the order cancelled, the penalty's window closed (charged), more deposit
    m.ok(m.post(f"/orders/{order['id']}/cancel", m.operator, {"reason": "never confirmed"}))
    clock.current = datetime.fromisoformat(penalty["appeal_by"]) + timedelta(seconds=1)
    assert sweep_once(client, clock, settings)["charge_penalties"] == 1
    m.ok(fund(m, 60_000, "TT-2"), 201)
    ready = status(m)
    assert ready["blockers"] == [] and ready["owed_minor"] == 150_000 + penalty["amount_minor"]
    assert ready["refundable_minor"] == 160_000 - ready["owed_minor"]
    assert [(d["kind"], d["left_minor"]) for d in ready["debts"]] == [
        ("refund_charged_to_seller", 150_000),
        ("penalty_charged", penalty["amount_minor"]),
    ]
    m.ok(apply(m, ready["refundable_minor"]), 201)


def test_a_refund_above_the_refundable_amount_is_refused_and_nothing_is_posted(
    market: Market, clock: FrozenClock
) -> None:  # S3
    m = market
    rate(m, 150_000)
    m.ok(fund(m, 150_000, "TT-1"), 201)
    owe(m, clock, K.shipping_fee_charged, 2_500, ("order", "ord_01KB0000000000000000000000"))
    assert status(m)["refundable_minor"] == 147_500
    posted = entry_count(m.db_url)
    over = apply(m, 147_501)
    assert over.status_code == 422
    assert (over.json()["field"], over.json()["rule"], over.json()["refundable_minor"]) == (
        "amount_minor",
        "within_refundable",
        147_500,
    )
    fraction = apply(m, 100.5)
    assert fraction.status_code == 422 and fraction.json()["rule"] == "no_fractions"
    for bad in (0, -5, "100"):
        assert apply(m, bad).status_code == 422, bad
    assert apply(m, 100, reason="").status_code == 422
    assert refunds(m) == [] and entry_count(m.db_url) == posted
    assert status(m)["state"] == "funded"


def test_approval_takes_the_debts_from_the_deposit_then_pays_the_refund(
    client: TestClient, market: Market, clock: FrozenClock
) -> None:  # S3
    m = market
    rate(m, 150_000)
    bind(m)
    m.ok(fund(m, 150_000, "TT-1"), 201)
    order_id = "ord_01KB0000000000000000000001"
    owe(m, clock, K.shipping_fee_charged, 3_000, ("order", order_id))
    owe(m, clock, K.penalty_charged, 2_000, ("penalty", "pen_01KB0000000000000000000001"))
    # a compensation due, netted against the debts: it pays off the oldest (the fee) first
    owe(m, clock, K.delivery_compensation, 1_000, ("order", order_id))
    owe(m, clock, K.debt_netted, 1_000, ("order", order_id))
    before = status(m)
    assert [(d["kind"], d["amount_minor"], d["left_minor"]) for d in before["debts"]] == [
        ("shipping_fee_charged", 3_000, 2_000),
        ("penalty_charged", 2_000, 2_000),
    ]
    assert (before["owed_minor"], before["refundable_minor"]) == (4_000, 146_000)

    applied = m.ok(apply(m, 100_000), 201)
    assert applied["status"] == "applied" and applied["deductions"] == []
    assert status(m)["state"] == "refund_applied"
    assert status(m)["open_refund"]["id"] == applied["id"]
    second = apply(m, 1_000)
    assert (second.status_code, second.json()["rule"]) == (409, "one_open_application")
    queue = m.ok(m.get("/deposit-refunds", m.operator))
    assert [r["id"] for r in queue] == [applied["id"]]
    inbox = m.ok(m.get("/notifications", m.operator))
    assert "deposit_refund_applied" in [n["kind"] for n in inbox]

    clock.advance(timedelta(hours=2))
    path = f"/deposit-refunds/{applied['id']}/approve"
    approved = m.ok(m.post(path, m.operator, {"note": "checked with finance"}))
    assert approved["status"] == "approved" and approved["payout_status"] == "prepared"
    assert approved["decision_note"] == "checked with finance"
    # penalties first, then the rest, each line kept
    assert [(d["kind"], d["amount_minor"]) for d in approved["deductions"]] == [
        ("penalty_charged", 2_000),
        ("shipping_fee_charged", 2_000),
    ]
    assert (approved["deducted_minor"], approved["payout_minor"]) == (4_000, 100_000)
    # Wednesday 18 November (Shanghai): the 3rd and 5th business days after
    assert (approved["arrives_earliest"], approved["arrives_latest"]) == (
        "2026-11-23",
        "2026-11-25",
    )
    assert kinds_of(m, approved) == [
        ("deposit_applied_to_debt", 4_000, False),
        ("deposit_refunded", 100_000, False),
    ]
    store = m.stores["a_full"]
    assert balance(m.db_url, AccountKind.deposit_held, "USD", store) == 46_000
    assert balance(m.db_url, AccountKind.payable, "USD", store) == 0
    assert balance(m.db_url, AccountKind.payout_clearing, "USD", store) == 100_000
    after = status(m)
    assert (after["owed_minor"], after["debts"], after["open_refund"]) == (0, [], None)
    assert after["state"] == "partly_funded"
    assert_books_balance(m.db_url)
    notes = m.ok(m.get("/notifications", m.seller_tokens["a"]))
    assert "deposit_refund_approved" in [n["kind"] for n in notes]

    # decided once: a second approval, or a rejection now, changes nothing
    posted = entry_count(m.db_url)
    for action, body in (("approve", {}), ("reject", {"reason": "changed my mind"})):
        again = m.post(f"/deposit-refunds/{applied['id']}/{action}", m.operator, body)
        assert again.status_code == 409 and again.json()["current_state"] == "approved", action
    assert entry_count(m.db_url) == posted

    # the rail pays it: the application reads as paid, the record stays visible
    assert send(client, clock) == 1
    (shown,) = refunds(m)
    assert (shown["status"], shown["payout_status"]) == ("paid", "sent") and shown["sent_at"]
    assert balance(m.db_url, AccountKind.payout_clearing, "USD", store) == 0
    assert_books_balance(m.db_url)
    queue = m.ok(m.get("/deposit-refunds", m.operator))
    assert [r["status"] for r in queue] == ["paid"]


def test_a_failed_payout_puts_the_money_back_in_the_deposit(
    client: TestClient, market: Market, clock: FrozenClock
) -> None:  # S3
    m = market
    rate(m, 150_000)
    bind(m)
    m.ok(fund(m, 150_000, "TT-1"), 201)
    applied = m.ok(apply(m, 150_000), 201)
    m.ok(m.post(f"/deposit-refunds/{applied['id']}/approve", m.operator))
    assert status(m)["state"] == "refunded"
    assert send(client, clock, mode="fail") == 1
    (shown,) = refunds(m)
    assert (shown["status"], shown["payout_status"]) == ("failed", "failed")
    assert shown["payout_failure"]
    again = status(m)
    assert (again["held_minor"], again["state"]) == (150_000, "funded")
    assert_books_balance(m.db_url)
    # the seller may apply again
    m.ok(apply(m, 150_000), 201)


def test_approval_needs_a_bound_payout_account_and_writes_nothing_without_one(
    market: Market, clock: FrozenClock
) -> None:  # S3
    m = market
    rate(m, 150_000)
    m.ok(fund(m, 150_000, "TT-1"), 201)
    owe(m, clock, K.penalty_charged, 2_000, ("penalty", "pen_01KB0000000000000000000002"))
    applied = m.ok(apply(m, 10_000), 201)
    posted = entry_count(m.db_url)
    refused = m.post(f"/deposit-refunds/{applied['id']}/approve", m.operator)
    assert (refused.status_code, refused.json()["rule"]) == (409, "payout_account_bound")
    assert entry_count(m.db_url) == posted
    assert refunds(m)[0]["status"] == "applied"
    # a precondition broken since the application is caught at approval
    owe(m, clock, K.refund_charged_to_seller, 200_000, ("order", "ord_01KB0000000000000000000003"))
    bind(m)
    posted = entry_count(m.db_url)
    late = m.post(f"/deposit-refunds/{applied['id']}/approve", m.operator)
    assert late.status_code == 409 and late.json()["rule"] == "refund_preconditions"
    assert [f["rule"] for f in late.json()["failed"]] == ["no_unpaid_debt"]
    assert entry_count(m.db_url) == posted


def test_a_rejected_application_says_why_and_the_seller_may_apply_again(
    market: Market,
) -> None:  # S3
    m = market
    rate(m, 150_000)
    m.ok(fund(m, 150_000, "TT-1"), 201)
    applied = m.ok(apply(m, 150_000), 201)
    path = f"/deposit-refunds/{applied['id']}/reject"
    blank = m.post(path, m.operator, {"reason": "  "})
    assert blank.status_code == 422
    rejected = m.ok(m.post(path, m.operator, {"reason": "the store still trades"}))
    assert (rejected["status"], rejected["decision_note"]) == ("rejected", "the store still trades")
    notes = m.ok(m.get("/notifications", m.seller_tokens["a"]))
    assert "deposit_refund_rejected" in [n["kind"] for n in notes]
    assert status(m)["state"] == "funded"
    again = m.ok(apply(m, 10_000), 201)
    # the queue: the waiting one first, then the decided ones
    queue = m.ok(m.get("/deposit-refunds", m.operator))
    assert [r["id"] for r in queue] == [again["id"], applied["id"]]
    paged = m.get("/deposit-refunds", m.operator, params={"limit": 1})
    assert 'rel="next"' in paged.headers["link"] and len(paged.json()) == 1
    assert_books_balance(m.db_url)


def test_the_expected_arrival_skips_weekends_and_public_holidays(
    market: Market, clock: FrozenClock
) -> None:  # S3
    m = market
    rate(m, 150_000)
    bind(m)
    m.ok(fund(m, 150_000, "TT-1"), 201)
    applied = m.ok(apply(m, 150_000), 201)
    # approved on Thursday 31 December, 10:00 in Shanghai: New Year's Day and the weekend do
    # not count, so the 3rd business day is Wednesday 6 January and the 5th Friday 8 January
    clock.current = datetime.fromisoformat("2026-12-31T10:00:00+08:00")
    done = m.ok(m.post(f"/deposit-refunds/{applied['id']}/approve", m.operator))
    assert (done["arrives_earliest"], done["arrives_latest"]) == ("2027-01-06", "2027-01-08")

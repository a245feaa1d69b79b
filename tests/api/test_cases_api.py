"""Cases through the API (issue 16): a receiving exception walked from the warehouse's count
through the carrier's and the seller's proof to each decision and one appeal; a buyer's dispute
to each decision, with the bearer inside and outside the 3-month exemption; the deadlines
warned and missed as the clock moves; the ledger balanced throughout; and the issue's bad
input refused with nothing posted (R2, R3, G4, G6, M3)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from fastapi.testclient import TestClient

from tests.builders.inbound import count, draft, receiving_setup, sent, staff, stock
from tests.builders.market import Market, auth, issue_token
from tests.builders.money import amounts, assert_books_balance, balance, entries, entry_count
from tests.builders.stock import stocked
from tests.builders.workers import sweep_once
from tuoguan.config import Settings
from tuoguan.kit.clock import FrozenClock
from tuoguan.ledger.accounts import AccountKind
from tuoguan.principal import Role

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SHIP = {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"}


def _short(m: Market) -> tuple[dict[str, Any], str, str]:
    """A notice of 10 closed with 7 counted: (its short discrepancy, the notice's id, staff)."""
    warehouse, dock, sku = receiving_setup(m)
    notice = sent(m, warehouse, [(sku, 10)])
    m.ok(m.post(f"/inbound-notices/{notice['id']}/arrive", dock))
    m.ok(count(m, dock, notice["id"], {"sku_id": sku, "good": 7}))
    closed = m.ok(m.post(f"/inbound-notices/{notice['id']}/close", dock))
    (short,) = closed["discrepancies"]
    return short, notice["id"], dock


def _raise(m: Market, token: str, notice_id: str, discrepancy_id: str | None, **extra: Any) -> Any:
    body = {"notice_id": notice_id, "summary": "3 units missing from carton 2", **extra}
    if discrepancy_id:
        body["discrepancy_id"] = discrepancy_id
    return m.post("/cases/receiving", token, body)


def _evidence(
    m: Market, token: str, case_id: str, text: str, data: bytes | None = PNG, on: str = "cases"
) -> Any:
    files = {"file": ("proof.png", data, "image/png")} if data is not None else None
    return m.client.post(
        f"/api/v1/{on}/{case_id}/evidence",
        headers=auth(token),
        data={"text": text},
        files=files,
    )


def _problem(response: Any, status: int, rule: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body.get("rule") == rule, body
    return dict(body)


def _delivered(m: Market, store_key: str) -> dict[str, Any]:
    order = m.place(store_key)
    full = store_key.endswith("full")
    shipper = m.operator if full else m.seller_tokens[store_key.split("_")[0]]
    m.ok(m.post(f"/orders/{order['id']}/ship", shipper, SHIP))
    m.ok(m.post(f"/orders/{order['id']}/deliver", m.carrier))
    return dict(m.ok(m.get(f"/orders/{order['id']}", m.operator)))


def test_a_receiving_exception_walks_the_steps_to_compensation_and_an_appeal(
    market: Market, client: TestClient, clock: FrozenClock, settings: Settings
) -> None:  # R2 R3
    m = market
    seller = m.seller_tokens["a"]
    short, notice_id, dock = _short(m)
    # the warehouse raises it from its discrepancy: the cause follows the discrepancy
    case = m.ok(_raise(m, dock, notice_id, short["id"], carrier_code="sf"), 201)
    assert (case["kind"], case["cause"], case["state"]) == (
        "receiving_exception",
        "short",
        "checking",
    )
    assert case["step_owner"] == "platform" and case["your_party"] == "warehouse"
    assert case["decisions"] == [
        "accept_counts",
        "return_to_seller",
        "reship",
        "adjust_quantities",
        "compensate",
    ]
    # the seller sees it and is told; another seller does not
    assert m.ok(m.get(f"/cases/{case['id']}", seller))["your_party"] == "seller"
    assert [n["kind"] for n in m.news(seller)] == ["case_opened"]
    assert m.get(f"/cases/{case['id']}", m.seller_tokens["b"]).status_code == 404
    # R3: ask the carrier for proof, then the seller, each step with its owner and deadline
    asked = m.ok(m.post(f"/cases/{case['id']}/move", m.operator, {"to": "awaiting_carrier"}))
    assert asked["step_owner"] == "carrier" and asked["step_due_at"]
    carrier = issue_token(m.db_url, Role.carrier, carrier_code="sf")
    proof = m.ok(_evidence(m, carrier, case["id"], "scan at the gate: 7 units"), 201)
    assert proof["party"] == "carrier" and len(proof["sha256"]) == 64 and proof["link"]
    m.ok(m.post(f"/cases/{case['id']}/move", m.operator, {"to": "awaiting_seller"}))
    text_only = m.ok(_evidence(m, seller, case["id"], "packing list: 10 units", data=None), 201)
    assert text_only["party"] == "seller" and len(text_only["sha256"]) == 64
    m.ok(m.post(f"/cases/{case['id']}/messages", seller, {"text": "Photos of carton 2 sent."}), 201)
    m.ok(m.post(f"/cases/{case['id']}/move", m.operator, {"to": "escalated"}))
    # decided: compensation the carrier bears, posted with the decision
    decided = m.ok(
        m.post(
            f"/cases/{case['id']}/decision",
            m.operator,
            {
                "decision": "compensate",
                "bearer": "carrier",
                "amount_minor": 3600,
                "reason": "lost in transit",
            },
        )
    )
    assert (decided["state"], decided["bearer"], decided["amount_minor"]) == (
        "decided",
        "carrier",
        3600,
    )
    assert decided["appeal_by"]
    posted = amounts(entries(m.db_url, "case", case["id"]))
    assert posted == [("case_compensation", 3600, False), ("carrier_charged", 3600, False)]
    assert balance(m.db_url, AccountKind.receivable, "USD", m.stores["a_full"]) == 3600
    assert balance(m.db_url, AccountKind.carrier_recoverable, "USD") == 3600
    assert_books_balance(m.db_url)
    # the carrier appeals, once; the operator who decided may not decide it
    m.ok(m.post(f"/cases/{case['id']}/appeal", carrier, {"reason": "the seller packed 7"}))
    _problem(m.post(f"/cases/{case['id']}/appeal", seller, {"reason": "again"}), 409, "appeal_once")
    overturn = {
        "outcome": "overturned",
        "decision": "compensate",
        "bearer": "platform",
        "amount_minor": 3600,
        "reason": "the gate scan shows 7: the platform's receiving bears it",
    }
    before = entry_count(m.db_url)
    same = m.post(f"/cases/{case['id']}/appeal/decision", m.operator, overturn)
    _problem(same, 403, "different_operator")
    assert entry_count(m.db_url) == before
    second = issue_token(m.db_url, Role.operator)
    final = m.ok(m.post(f"/cases/{case['id']}/appeal/decision", second, overturn))
    assert (final["state"], final["appeal_outcome"], final["bearer"]) == (
        "closed",
        "overturned",
        "platform",
    )
    # the carrier's charge and the first compensation reversed, the platform's posted
    assert amounts(entries(m.db_url, "case", case["id"]))[2:] == [
        ("case_compensation", 3600, True),
        ("carrier_charged", 3600, True),
        ("case_compensation", 3600, False),
    ]
    assert balance(m.db_url, AccountKind.carrier_recoverable, "USD") == 0
    assert balance(m.db_url, AccountKind.receivable, "USD", m.stores["a_full"]) == 3600
    assert_books_balance(m.db_url)
    # the history is whole and final: a closed case takes nothing more
    timeline = m.ok(m.get(f"/cases/{case['id']}", m.operator))["entries"]
    assert [e["type"] for e in timeline] == [
        "opened",
        "moved",
        "evidence",
        "moved",
        "evidence",
        "message",
        "moved",
        "decided",
        "appealed",
        "appeal_decided",
    ]
    _problem(m.post(f"/cases/{case['id']}/messages", seller, {"text": "ok"}), 409, "case_open")


@pytest.mark.parametrize(
    ("decision", "bearer", "amount", "posted"),
    [
        ("accept_counts", None, None, []),
        ("reship", None, None, []),
        ("return_to_seller", "seller", 800, [("shipping_fee_charged", 800, False)]),
        ("return_to_seller", "platform", None, []),
        ("compensate", "platform", 1200, [("case_compensation", 1200, False)]),
    ],
)
def test_each_receiving_decision_posts_its_money(
    market: Market, decision: str, bearer: str | None, amount: int | None, posted: list[Any]
) -> None:  # R3
    m = market
    short, notice_id, _ = _short(m)
    case = m.ok(_raise(m, m.seller_tokens["a"], notice_id, short["id"]), 201)
    body: dict[str, Any] = {"decision": decision, "reason": "checked the gate scan"}
    if bearer:
        body["bearer"] = bearer
    if amount:
        body["amount_minor"] = amount
    decided = m.ok(m.post(f"/cases/{case['id']}/decision", m.operator, body))
    assert (decided["decision"], decided["state"]) == (decision, "decided")
    assert amounts(entries(m.db_url, "case", case["id"])) == posted
    assert_books_balance(m.db_url)


def test_a_dispute_is_refunded_by_who_bears_it_inside_and_outside_the_exemption(
    market: Market, clock: FrozenClock
) -> None:  # G4 G6 M3
    m = market
    stocked(m, "a_full", 5)
    inside = _delivered(m, "a_full")
    # full-managed: the platform handles it alone, within 3 natural days (G4)
    dispute = m.ok(
        m.post(
            "/disputes",
            m.channel,
            {"order_id": inside["id"], "cause": "damaged", "summary": "The case arrived cracked."},
        ),
        201,
    )
    assert (dispute["state"], dispute["step_owner"], dispute["your_party"]) == (
        "investigating",
        "platform",
        "buyer",
    )
    m.ok(_evidence(m, m.channel, dispute["id"], "photo of the crack", on="disputes"), 201)
    refunded = m.ok(
        m.post(
            f"/cases/{dispute['id']}/decision",
            m.operator,
            {"decision": "refund_full", "reason": "damaged"},
        )
    )
    assert refunded["amount_minor"] == inside["total_minor"]
    assert amounts(entries(m.db_url, "order", inside["id"]))[-1] == (
        "refund_borne_by_platform",
        inside["total_minor"],
        False,
    )
    # outside the exemption the seller bears a partial refund; above what was paid is refused
    later = _delivered(m, "a_full")
    clock.advance(relativedelta(months=3, days=1))
    second = m.ok(
        m.post(
            "/disputes",
            m.channel,
            {"order_id": later["id"], "cause": "not_as_described", "summary": "Wrong colour."},
        ),
        201,
    )
    before = entry_count(m.db_url)
    too_much = {
        "decision": "refund_partial",
        "amount_minor": later["total_minor"] + 1,
        "reason": "colour",
    }
    _problem(
        m.post(f"/cases/{second['id']}/decision", m.operator, too_much), 422, "within_refundable"
    )
    assert entry_count(m.db_url) == before
    part = {"decision": "refund_partial", "amount_minor": 500, "reason": "colour differs"}
    m.ok(m.post(f"/cases/{second['id']}/decision", m.operator, part))
    assert amounts(entries(m.db_url, "order", later["id"]))[-1] == (
        "refund_charged_to_seller",
        500,
        False,
    )
    # the seller appeals; another operator overturns to reject: the buyer keeps the 500, the
    # platform bears it instead of the seller
    m.ok(
        m.post(
            f"/cases/{second['id']}/appeal",
            m.seller_tokens["a"],
            {"reason": "the photo shows the right colour"},
        )
    )
    other = issue_token(m.db_url, Role.operator)
    m.ok(
        m.post(
            f"/cases/{second['id']}/appeal/decision",
            other,
            {
                "outcome": "overturned",
                "decision": "reject",
                "reason": "the colour matches the listing",
            },
        )
    )
    assert balance(m.db_url, AccountKind.payable, "USD", m.stores["a_full"]) == 0
    assert_books_balance(m.db_url)


def test_a_self_run_dispute_waits_for_the_seller_and_a_rejection_moves_no_money(
    market: Market, client: TestClient, clock: FrozenClock, settings: Settings
) -> None:  # G4
    m = market
    order = _delivered(m, "a_self")
    dispute = m.ok(
        m.post(
            "/disputes",
            m.channel,
            {"order_id": order["id"], "cause": "not_received", "summary": "Never came."},
        ),
        201,
    )
    assert (dispute["state"], dispute["step_owner"]) == ("awaiting_seller", "seller")
    _problem(
        m.post(
            "/disputes",
            m.channel,
            {"order_id": order["id"], "cause": "damaged", "summary": "again"},
        ),
        409,
        "one_open_dispute",
    )
    # the seller's 2 days run out: warned 12 hours before, then flagged, each once
    clock.advance(timedelta(hours=37))
    assert sweep_once(client, clock, settings)["watch_case_deadlines"] == 1
    clock.advance(timedelta(hours=12))
    assert sweep_once(client, clock, settings)["watch_case_deadlines"] == 1
    assert sweep_once(client, clock, settings)["watch_case_deadlines"] == 0
    kinds = [n["kind"] for n in m.news(m.seller_tokens["a"])]
    assert {"case_deadline_warned", "case_deadline_missed"} <= set(kinds)
    assert m.ok(m.get(f"/cases/{dispute['id']}", m.operator))["overdue"] is True
    m.ok(m.post(f"/cases/{dispute['id']}/move", m.operator, {"to": "investigating"}))
    m.ok(
        m.post(
            f"/cases/{dispute['id']}/decision",
            m.operator,
            {"decision": "reject", "reason": "tracking shows delivery"},
        )
    )
    assert amounts(entries(m.db_url, "case", dispute["id"])) == []
    # nobody appeals: the window passes and the case closes
    clock.advance(timedelta(days=8))
    sweep_once(client, clock, settings)
    assert m.ok(m.get(f"/disputes/{dispute['id']}", m.channel))["state"] == "closed"


def test_bad_case_input_is_refused_and_changes_nothing(market: Market) -> None:  # R3 G4
    m = market
    short, notice_id, dock = _short(m)
    # a case on another seller's notice
    assert _raise(m, m.seller_tokens["b"], notice_id, short["id"]).status_code == 404
    case = m.ok(_raise(m, dock, notice_id, short["id"]), 201)
    _problem(_raise(m, dock, notice_id, short["id"]), 409, "one_case_per_discrepancy")
    before = entry_count(m.db_url)
    # evidence from a party that is not on the case (no carrier named; another warehouse)
    carrier = issue_token(m.db_url, Role.carrier, carrier_code="sf")
    assert _evidence(m, carrier, case["id"], "proof").status_code == 404
    other_dock = staff(m, receiving_setup(m)[0])
    assert _evidence(m, other_dock, case["id"], "proof").status_code == 404
    # a file of the wrong type
    bad = _evidence(m, dock, case["id"], "proof", data=b"MZ\x90\x00not an image")
    assert bad.status_code == 422 and bad.json()["field"] == "file"
    # a decision not in the kind's list; a bearer the decision does not allow; by a seller
    refund = {"decision": "refund_full", "reason": "x"}
    _problem(m.post(f"/cases/{case['id']}/decision", m.operator, refund), 422, "decision_in_kind")
    seller_pays = {"decision": "compensate", "bearer": "seller", "amount_minor": 1, "reason": "x"}
    _problem(
        m.post(f"/cases/{case['id']}/decision", m.operator, seller_pays), 422, "bearer_allowed"
    )
    accept = {"decision": "accept_counts", "reason": "x"}
    assert m.post(f"/cases/{case['id']}/decision", m.seller_tokens["a"], accept).status_code == 403
    # an appeal before any decision
    _problem(
        m.post(f"/cases/{case['id']}/appeal", m.seller_tokens["a"], {"reason": "x"}),
        409,
        "appeal_window",
    )
    assert entry_count(m.db_url) == before
    shown = m.ok(m.get(f"/cases/{case['id']}", m.operator))
    assert shown["state"] == "checking" and [e["type"] for e in shown["entries"]] == ["opened"]


def test_an_open_case_holds_back_the_stores_exit_until_it_closes(market: Market) -> None:
    # S4 R3: an open case is listed among the exit's blockers, linked to its subject's page
    m = market
    seller = m.seller_tokens["a"]
    short, notice_id, _ = _short(m)
    case = m.ok(_raise(m, seller, notice_id, short["id"]), 201)
    page = m.ok(m.get(f"/stores/{m.stores['a_full']}/exit", seller))
    (blocker,) = [b for b in page["blockers"] if b["rule"] == "no_open_cases"]
    assert [(i["kind"], i["id"], i["link"]) for i in blocker["items"]] == [
        ("receiving_exception", case["id"], f"/console/inbound/{notice_id}")
    ]
    assert page["can_apply"] is False


def test_the_reports_show_exception_rates_repeat_offenders_and_dispute_times(
    market: Market, clock: FrozenClock
) -> None:  # R4 G4
    m = market
    # four notices of seller a arrive this week, three of them short with a case each
    for _ in range(3):
        short, notice_id, _dock = _short(m)
        m.ok(_raise(m, m.seller_tokens["a"], notice_id, short["id"]), 201)
    warehouse, dock, sku = receiving_setup(m)
    whole = sent(m, warehouse, [(sku, 2)])
    m.ok(m.post(f"/inbound-notices/{whole['id']}/arrive", dock))
    report = m.ok(m.get("/cases/reports/receiving", m.operator, params={"weeks": 4}))
    assert len(report["weeks"]) == 4
    this_week = report["weeks"][-1]
    assert (this_week["notices"], this_week["exceptions"]) == (4, 3)
    (seller,) = report["sellers"]
    assert (seller["label"], seller["rate"], seller["repeat"]) == ("Seller a", 0.75, True)
    assert [c["cause"] for c in report["causes"]] == ["short"]
    assert m.get("/cases/reports/receiving", m.seller_tokens["a"]).status_code == 403
    # two disputes: one decided in a day, one after four; the target is three days
    stocked(m, "a_full", 5)
    first, second = _delivered(m, "a_full"), _delivered(m, "a_full")
    opened = [
        m.ok(
            m.post(
                "/disputes",
                m.channel,
                {"order_id": o["id"], "cause": "damaged", "summary": "dented"},
            ),
            201,
        )["id"]
        for o in (first, second)
    ]
    reject = {"decision": "reject", "reason": "the photos show no damage"}
    clock.advance(timedelta(days=1))
    m.ok(m.post(f"/cases/{opened[0]}/decision", m.operator, reject))
    clock.advance(timedelta(days=3))
    m.ok(m.post(f"/cases/{opened[1]}/decision", m.operator, reject))
    weeks = m.ok(m.get("/cases/reports/disputes", m.operator, params={"weeks": 2}))
    week = next(w for w in weeks if w["opened"])
    assert (week["decided"], week["within_target"], week["late"]) == (2, 1, 1)
    assert (week["p50_hours"], week["p95_hours"], week["share_within"]) == (24.0, 96.0, 0.5)


def test_a_notice_is_checked_before_it_is_sent(market: Market) -> None:  # R4
    m = market
    seller = m.seller_tokens["a"]
    short, notice_id, _ = _short(m)
    m.ok(_raise(m, seller, notice_id, short["id"]), 201)
    warehouse, _dock, sku = receiving_setup(m)
    notice = draft(m, warehouse, [(sku, 2)], cartons=5)
    checks = m.ok(m.get(f"/inbound-notices/{notice['id']}/pre-send-check", seller))
    found = {c["check"]: c for c in checks}
    assert found["cartons"]["data"] == {"cartons": 5, "units": 2}
    assert found["history"]["data"] == {"cause": "short", "count": 1}
    assert found["labels"]["level"] == "info" and found["labels"]["data"]["warehouse"]
    assert "supply_counts" not in found  # it answers no supply order
    # another seller's notice is not found; nothing here refuses the send
    other = m.get(f"/inbound-notices/{notice['id']}/pre-send-check", m.seller_tokens["b"])
    assert other.status_code == 404
    m.ok(m.post(f"/inbound-notices/{notice['id']}/send", seller))


def test_adjusting_the_quantities_corrects_the_stock_and_an_overturn_takes_it_back(
    market: Market,
) -> None:  # R3 M5
    m = market
    warehouse, dock, sku = receiving_setup(m)
    notice = sent(m, warehouse, [(sku, 10)])
    m.ok(m.post(f"/inbound-notices/{notice['id']}/arrive", dock))
    m.ok(count(m, dock, notice["id"], {"sku_id": sku, "good": 7}))
    (short,) = m.ok(m.post(f"/inbound-notices/{notice['id']}/close", dock))["discrepancies"]
    case = m.ok(_raise(m, dock, notice["id"], short["id"]), 201)
    assert stock(m, warehouse, sku)["on_hand"] == 7
    no_units = {"decision": "adjust_quantities", "reason": "recounted"}
    _problem(m.post(f"/cases/{case['id']}/decision", m.operator, no_units), 422, "required")
    found = {"decision": "adjust_quantities", "units": 3, "reason": "3 found behind the pallet"}
    decided = m.ok(m.post(f"/cases/{case['id']}/decision", m.operator, found))
    assert decided["units"] == 3 and stock(m, warehouse, sku)["on_hand"] == 10
    m.ok(m.post(f"/cases/{case['id']}/appeal", m.seller_tokens["a"], {"reason": "13 sent"}))
    other = issue_token(m.db_url, Role.operator)
    back = {"outcome": "overturned", "decision": "accept_counts", "reason": "the 3 were b's"}
    m.ok(m.post(f"/cases/{case['id']}/appeal/decision", other, back))
    assert stock(m, warehouse, sku)["on_hand"] == 7
    assert amounts(entries(m.db_url, "case", case["id"])) == []


def test_a_cause_agrees_with_its_discrepancy_and_sellers_see_the_platform_not_operators(
    market: Market,
) -> None:  # R2 R3
    m = market
    seller = m.seller_tokens["a"]
    short, notice_id, dock = _short(m)
    over = _raise(m, dock, notice_id, short["id"], cause="over")
    _problem(over, 422, "cause_matches_discrepancy")
    # why a count differs goes with any discrepancy
    case = m.ok(_raise(m, dock, notice_id, short["id"], cause="label_or_address"), 201)
    assert case["cause"] == "label_or_address"
    m.ok(m.post(f"/cases/{case['id']}/decision", m.operator, {"decision": "reship", "reason": "x"}))
    shown = m.ok(m.get(f"/cases/{case['id']}", seller))
    assert shown["decided_by"] is None
    decided = next(e for e in shown["entries"] if e["type"] == "decided")
    assert decided["actor_id"] == "platform" and decided["party"] == "platform"
    assert m.ok(m.get(f"/cases/{case['id']}", m.operator))["decided_by"] not in (None, "platform")

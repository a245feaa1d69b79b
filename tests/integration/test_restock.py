"""Restock suggestions (根据平台提示备货, M5) through the API, on both engines: the arithmetic,
a full-managed seller's suggestion from its sales and stock, scoping, and accepting lines as a
draft inbound notice (R1)."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction
from typing import Any

import pytest

from tests.builders.market import Market
from tests.builders.stock import adjust, sku_of
from tuoguan.fulfilment.restock import compute
from tuoguan.kit.clock import FrozenClock

# -- the arithmetic (M5) ----------------------------------------------------------------------


def test_the_suggestion_covers_the_target_days_and_no_more() -> None:  # M5
    # 8 sold in 30 days, 2 available and 0 inbound: 8/30 a day, 7.5 days of cover;
    # 14 days need ceil(3.73) = 4 units, 2 are there: send 2
    n = compute(sold=8, days=30, on_hand=10, reserved=8, inbound=0, cover_days=14)
    assert (n.daily_rate, n.cover_days, n.suggested) == (Fraction(8, 30), Fraction(15, 2), 2)
    # exact: 30 in 30 days for 14 days is 14 units, never 15 by a float's rounding
    assert (
        compute(sold=30, days=30, on_hand=0, reserved=0, inbound=0, cover_days=14).suggested == 14
    )
    # inbound units count as cover
    covered = compute(sold=30, days=30, on_hand=0, reserved=0, inbound=14, cover_days=14)
    assert (covered.cover_days, covered.suggested) == (14, 0)
    # more than enough: nothing, never a negative quantity
    assert (
        compute(sold=1, days=30, on_hand=100, reserved=0, inbound=0, cover_days=60).suggested == 0
    )
    # nothing sold: no rate, no cover figure, nothing to send
    idle = compute(sold=0, days=7, on_hand=0, reserved=0, inbound=0, cover_days=14)
    assert (idle.cover_days, idle.suggested) == (None, 0)
    with pytest.raises(ValueError):
        compute(sold=1, days=0, on_hand=0, reserved=0, inbound=0, cover_days=14)


@pytest.mark.parametrize(
    ("sold", "days", "available", "inbound", "cover"),
    [(1, 7, 0, 0, 1), (90, 90, 3, 4, 60), (7, 30, 0, 2, 30), (500, 7, 40, 0, 14)],
)
def test_sending_the_suggestion_reaches_the_target_cover(
    sold: int, days: int, available: int, inbound: int, cover: int
) -> None:  # M5
    n = compute(
        sold=sold, days=days, on_hand=available, reserved=0, inbound=inbound, cover_days=cover
    )
    after = compute(
        sold=sold,
        days=days,
        on_hand=available + n.suggested,
        reserved=0,
        inbound=inbound,
        cover_days=cover,
    )
    assert after.suggested == 0 and after.cover_days is not None and after.cover_days >= cover
    if n.suggested > 1:  # and one unit less would fall short
        short = available + inbound + n.suggested - 1
        assert Fraction(short) / n.daily_rate < cover


# -- through the API --------------------------------------------------------------------------


def _sold(m: Market, on_hand: int, *quantities: int) -> str:
    """The hub holds ``on_hand`` units of seller a's full-managed SKU; the buyers order
    ``quantities``, which the platform reserves there. The SKU."""
    sku = sku_of(m, "a_full")
    m.ok(adjust(m, m.platform_warehouse, sku, reason="opening stock", on_hand=on_hand), 201)
    for quantity in quantities:
        m.place("a_full", quantity=quantity)
    return sku


def _suggestions(m: Market, token: str, **params: Any) -> list[dict[str, Any]]:
    return list(m.ok(m.get("/restock-suggestions", token, params=params)))


def test_a_full_managed_seller_is_told_what_to_send(market: Market) -> None:  # M5
    m = market
    seller = m.seller_tokens["a"]
    # given 10 units in the hub and 8 sold: 2 available, 8/30 a day, 7.5 days of cover
    sku = _sold(m, 10, 5, 3)

    # then 14 days of cover need 2 more units
    (row,) = _suggestions(m, seller)
    assert (row["sku_id"], row["warehouse_id"], row["store_id"]) == (
        sku,
        m.platform_warehouse,
        m.stores["a_full"],
    )
    assert (row["product_name"], row["warehouse_name"], row["store_name"]) == (
        "Earbuds 耳机",
        "优选仓 Dongguan hub",
        "a full",
    )
    assert (row["sold"], row["daily_rate"], row["available"], row["inbound"]) == (8, 0.27, 2, 0)
    assert (row["cover_days"], row["suggested"], row["days"]) == (7.5, 2, 30)
    # a shorter window, a longer target: 8/7 a day, 1.8 days; 30 days need 35, 2 are there
    (week,) = _suggestions(m, seller, days=7, cover_days=30)
    assert (week["daily_rate"], week["cover_days"], week["suggested"]) == (1.14, 1.8, 33)
    # the operator sees it too, and filters by store and warehouse
    assert [r["sku_id"] for r in _suggestions(m, m.operator, store_id=m.stores["a_full"])] == [sku]
    assert _suggestions(m, m.operator, warehouse_id="whs_elsewhere") == []
    # stock enough for the target: nothing to suggest
    assert _suggestions(m, seller, cover_days=7) == []


def test_old_sales_and_other_sellers_do_not_count(market: Market, clock: FrozenClock) -> None:
    # M5: the window, and a seller sees only its own stores (another's filter: an empty list)
    m = market
    _sold(m, 10, 5, 3)
    assert _suggestions(m, m.seller_tokens["b"]) == []
    assert _suggestions(m, m.seller_tokens["b"], store_id=m.stores["a_full"]) == []
    clock.advance(timedelta(days=31))
    assert _suggestions(m, m.seller_tokens["a"]) == []
    (row,) = _suggestions(m, m.seller_tokens["a"], days=60, cover_days=30)
    assert (row["sold"], row["suggested"]) == (8, 2)  # 8/60 a day, 30 days: 4, 2 there


def test_the_window_and_target_are_bounded(market: Market) -> None:  # M5
    m = market
    for params, field in (
        ({"days": 6}, "days"),
        ({"days": 91}, "days"),
        ({"cover_days": 0}, "cover_days"),
        ({"cover_days": 61}, "cover_days"),
    ):
        answer = m.get("/restock-suggestions", m.seller_tokens["a"], params=params)
        assert answer.status_code == 422 and answer.json()["field"] == field, answer.text
    # warehouse staff and the storefront have no suggestions to read
    assert m.get("/restock-suggestions", m.channel).status_code == 403


def test_accepting_suggestions_creates_a_draft_notice(market: Market) -> None:  # M5, R1
    m = market
    seller = m.seller_tokens["a"]
    sku = _sold(m, 10, 5, 3)
    (row,) = _suggestions(m, seller)
    body = {
        "store_id": row["store_id"],
        "warehouse_id": row["warehouse_id"],
        "lines": [{"sku_id": sku, "quantity": row["suggested"] + 3}],
        "cartons": 2,
    }
    notice = m.ok(m.post("/restock-suggestions/accept", seller, body), 201)
    assert (notice["status"], notice["cartons"], notice["store_id"]) == (
        "draft",
        2,
        m.stores["a_full"],
    )
    assert [(li["sku_id"], li["expected"]) for li in notice["lines"]] == [(sku, 5)]
    assert m.ok(m.get(f"/inbound-notices/{notice['id']}", seller))["status"] == "draft"
    # a draft announces nothing yet: the suggestion stands until the notice is sent
    assert _suggestions(m, seller)[0]["suggested"] == 2
    # the operator reads suggestions, the seller accepts them
    assert m.post("/restock-suggestions/accept", m.operator, body).status_code == 403


def test_bad_lines_are_refused_naming_the_field(market: Market) -> None:  # M5, R1, C3
    m = market
    seller = m.seller_tokens["a"]
    sku = _sold(m, 10, 5, 3)
    base = {"store_id": m.stores["a_full"], "warehouse_id": m.platform_warehouse, "cartons": 1}

    zero = m.post(
        "/restock-suggestions/accept", seller, {**base, "lines": [{"sku_id": sku, "quantity": 0}]}
    )
    assert zero.status_code == 422 and zero.json()["field"] == "lines.0.quantity", zero.text

    theirs = sku_of(m, "b_full")
    other = m.post(
        "/restock-suggestions/accept",
        seller,
        {**base, "lines": [{"sku_id": theirs, "quantity": 1}]},
    )
    assert other.status_code == 422, other.text
    assert (other.json()["field"], other.json()["rule"]) == ("lines.0.sku_id", "store_sku")

    empty = m.post("/restock-suggestions/accept", seller, {**base, "lines": []})
    assert empty.status_code == 422 and empty.json()["field"] == "lines"
    # another seller's store is not found
    hidden = m.post(
        "/restock-suggestions/accept",
        m.seller_tokens["b"],
        {**base, "lines": [{"sku_id": sku, "quantity": 1}]},
    )
    assert hidden.status_code == 404
    assert m.ok(m.get("/inbound-notices", seller)) == []

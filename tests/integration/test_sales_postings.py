"""A sale posts real money when its order completes, by mode, once: the seller's receivable is
the sale less commission (self-run, semi-managed: the rate of the line's category in force at
placement) or the supply price (full-managed, the platform keeps the margin); a cancelled order
posts nothing; the books always add up (M3, O3)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders.market import ADDRESS, Market, as_system
from tests.builders.stock import stocked
from tests.builders.workers import sweep_once
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.kit.clock import FrozenClock
from tuoguan.ledger import check, reads
from tuoguan.ledger.accounts import AccountKind
from tuoguan.ledger.kinds import EntryKind

SHIP = {"carrier_code": "cainiao", "tracking_number": "LP00123456789CN"}


def rate(m: Market, category: str, rate_bp: Any, **extra: Any) -> Any:
    return m.post(
        "/commission-rates", m.operator, {"category": category, "rate_bp": rate_bp, **extra}
    )


def sale(m: Market, order_id: str) -> list[tuple[EntryKind, dict[str, int], str | None]]:
    """The order's entries: kind, parts, idempotency key."""

    async def work(session: AsyncSession, _: Ctx) -> list[Any]:
        found = await reads.entries_of(session, subject_type="order", subject_id=order_id)
        return [(entry.kind, dict(entry.parts), entry.idem_key) for entry in found]

    return as_system(m.db_url, work)


def balance(m: Market, kind: AccountKind, currency: str, store_key: str | None = None) -> int:
    store_id = m.stores[store_key] if store_key else None

    async def work(session: AsyncSession, _: Ctx) -> int:
        return await reads.balance(session, kind=kind, currency=currency, store_id=store_id)

    return as_system(m.db_url, work)


def books_add_up(m: Market) -> None:
    """``tuoguan finance check`` finds no difference."""

    async def work(session: AsyncSession, _: Ctx) -> check.CheckReport:
        return await check.check(session)

    report = as_system(m.db_url, work)
    assert report.clean, report


def deliver(m: Market, order: dict[str, Any], shipper: str | None = None) -> None:
    m.ok(m.post(f"/orders/{order['id']}/ship", shipper or m.seller_tokens["a"], SHIP))
    m.ok(m.post(f"/orders/{order['id']}/deliver", m.carrier))


def complete(m: Market, order: dict[str, Any]) -> Any:
    return m.post(f"/orders/{order['id']}/complete", m.channel, {})


def other_product(m: Market, store_key: str, category: str, price_minor: int) -> str:
    body = {
        "store_id": m.stores[store_key],
        "name": "Kettle 水壶",
        "category": category,
        "price_minor": price_minor,
        "declared_value_minor": price_minor,
        "weight_g": 900,
        "length_mm": 200,
        "width_mm": 150,
        "height_mm": 250,
    }
    product = m.ok(m.post("/products", m.seller_tokens["a"], body), 201)
    m.list_product(product["id"], m.seller_tokens["a"])
    return str(product["id"])


def test_a_self_run_sale_posts_the_total_less_its_categorys_commission_once(
    market: Market, clock: FrozenClock
) -> None:  # M3 O3
    m = market
    m.ok(rate(m, "electronics", 500), 201)  # the earbuds are electronics/audio: its parent's
    order = m.place("a_self", quantity=3, shipping_minor=500)
    deliver(m, order)
    assert sale(m, order["id"]) == []  # delivered is not completed (O3)

    # A later version for the category itself does not touch a sale made before it.
    clock.advance(timedelta(hours=1))
    newer = m.ok(rate(m, "electronics/audio", 1000), 201)
    assert (newer["version"], newer["standing"]) == (1, "in_force")
    m.ok(complete(m, order))
    # 5% of 3 x 19.99 = 299.85 → 300; none on the 5.00 shipping, which the seller pays for.
    assert sale(m, order["id"]) == [
        (EntryKind.sale_commissioned, {"net": 6497 - 300, "commission": 300}, f"sale:{order['id']}")
    ]
    again = complete(m, order)
    assert again.status_code == 409 and again.json()["current_state"] == "completed"
    assert len(sale(m, order["id"])) == 1
    assert balance(m, AccountKind.receivable, "USD", "a_self") == 6197
    assert balance(m, AccountKind.commission, "USD") == 300

    later = m.place("a_self")  # placed under the newer version: 10%
    deliver(m, later)
    m.ok(complete(m, later))
    ((_, parts, _),) = sale(m, later["id"])
    assert parts == {"net": 1999 - 200, "commission": 200}
    books_add_up(m)


def test_a_semi_managed_sale_takes_commission_line_by_line_at_each_lines_rate(
    market: Market, clock: FrozenClock
) -> None:  # M3 O3
    m = market
    m.ok(rate(m, "*", 1000), 201)
    m.ok(rate(m, "home/kitchen", 250), 201)
    kettle = other_product(m, "a_semi", "home/kitchen", 1350)
    body = {
        "store_id": m.stores["a_semi"],
        "currency": "EUR",
        "address": ADDRESS,
        "lines": [
            {"product_id": m.products["a_semi"], "quantity": 1},
            {"product_id": kettle, "quantity": 2},
        ],
    }
    order = m.ok(m.post("/orders", m.channel, body), 201)
    # A rate scheduled after placement is not the order's.
    m.ok(rate(m, "*", 2000, effective_from=(clock.now() + timedelta(minutes=5)).isoformat()), 201)
    clock.advance(timedelta(hours=1))
    deliver(m, order)
    m.ok(complete(m, order))
    # 10% of 19.99 = 199.9 → 200; 2.5% of 27.00 = 67.5 → the even 68.
    assert sale(m, order["id"]) == [
        (EntryKind.sale_commissioned, {"net": 4699 - 268, "commission": 268}, f"sale:{order['id']}")
    ]
    assert balance(m, AccountKind.receivable, "EUR", "a_semi") == 4431
    versions = m.ok(m.get("/commission-rates", m.seller_tokens["a"], params={"category": "*"}))
    assert [v["rate_bp"] for v in versions][-2:] == [1000, 2000]
    books_add_up(m)


def test_a_full_managed_sale_owes_the_seller_its_supply_price_and_the_platform_the_margin(
    market: Market,
) -> None:  # M3 O3
    m = market
    stocked(m, "a_full", 3)
    order = m.place("a_full", quantity=2, shipping_minor=300)
    assert order["status"] == "awaiting_shipment"
    # The seller reports a new supply price after the sale (a new review, C2, approved): the sale
    # keeps the one it was made at.
    product = m.products["a_full"]
    body = {"supply_price_minor": 1500}
    revision = m.ok(m.post(f"/products/{product}/revisions", m.seller_tokens["a"], body), 201)
    decision = {"decision": "approve"}
    m.ok(m.post(f"/products/{product}/revisions/{revision['id']}/decision", m.operator, decision))
    assert m.ok(m.get(f"/products/{product}", m.operator))["supply_price_minor"] == 1500
    deliver(m, order, shipper=m.operator)
    m.ok(complete(m, order))
    # No commission (M3): 2 x 12.00 supplied; the platform keeps 2 x 19.99 - 24.00 and the
    # 3.00 shipping the buyer paid it (its warehouse ships).
    assert sale(m, order["id"]) == [
        (EntryKind.sale_supplied, {"supply": 2400, "margin": 1598 + 300}, f"sale:{order['id']}")
    ]
    assert balance(m, AccountKind.receivable, "USD", "a_full") == 2400
    assert balance(m, AccountKind.revenue, "USD") == 1898
    assert balance(m, AccountKind.commission, "USD") == 0
    books_add_up(m)


def test_sold_below_its_supply_price_the_seller_is_owed_it_and_the_platform_bears_the_rest(
    market: Market,
) -> None:  # M3
    m = market
    stocked(m, "a_full", 1)
    m.ok(
        m.client.patch(
            f"/api/v1/products/{m.products['a_full']}",
            json={"price_minor": 1000},
            headers={"Authorization": f"Bearer {m.operator}"},
        )
    )
    order = m.place("a_full")
    deliver(m, order, shipper=m.operator)
    m.ok(complete(m, order))
    assert sale(m, order["id"]) == [
        (EntryKind.sale_below_supply, {"paid": 1000, "shortfall": 200}, f"sale:{order['id']}"),
    ]
    assert balance(m, AccountKind.receivable, "USD", "a_full") == 1200
    assert balance(m, AccountKind.cash, "USD") == 1000  # what the buyer paid
    books_add_up(m)


def test_the_auto_complete_sweep_posts_each_sale_once_however_often_it_runs(
    client: TestClient, market: Market, clock: FrozenClock, settings: Settings
) -> None:  # O3
    m = market
    m.ok(rate(m, "*", 800), 201)
    order = m.place("b_self")
    m.ok(m.post(f"/orders/{order['id']}/ship", m.seller_tokens["b"], SHIP))
    m.ok(m.post(f"/orders/{order['id']}/deliver", m.carrier))
    clock.advance(timedelta(days=settings.auto_confirm_days, seconds=1))
    assert sweep_once(client, clock, settings)["auto_complete"] == 1
    assert sweep_once(client, clock, settings)["auto_complete"] == 0
    assert sale(m, order["id"]) == [
        (EntryKind.sale_commissioned, {"net": 1999 - 160, "commission": 160}, f"sale:{order['id']}")
    ]
    books_add_up(m)


def test_a_cancelled_order_posts_nothing(market: Market) -> None:  # O3
    m = market
    order = m.place("a_self")
    m.ok(m.post(f"/orders/{order['id']}/cancel", m.channel, {"reason": "changed my mind"}))
    assert sale(m, order["id"]) == []
    assert balance(m, AccountKind.receivable, "USD", "a_self") == 0
    books_add_up(m)


def test_bad_commission_rates_are_refused_naming_the_field_and_the_rule(
    market: Market, clock: FrozenClock
) -> None:  # M3
    m = market
    too_high = rate(m, "electronics", 10_001)
    assert too_high.status_code == 422
    assert (too_high.json()["field"], too_high.json()["rule"]) == ("rate_bp", "less_than_equal")
    fraction = rate(m, "electronics", 2.5)
    assert fraction.status_code == 422 and fraction.json()["field"] == "rate_bp"
    bad_category = rate(m, "Electronics!", 500)
    assert bad_category.status_code == 422 and bad_category.json()["field"] == "category"
    past = rate(m, "electronics", 500, effective_from="2020-01-01T00:00:00+00:00")
    assert (past.status_code, past.json()["field"], past.json()["rule"]) == (
        422,
        "effective_from",
        "not_past",
    )
    first = m.ok(rate(m, "electronics", 500), 201)
    same_start = rate(m, "electronics", 600, effective_from=first["effective_from"])
    assert (same_start.status_code, same_start.json()["rule"]) == (422, "after_previous")
    assert rate(m, "electronics", 600).status_code == 422  # same instant: the clock is frozen
    assert (
        m.post(
            "/commission-rates", m.seller_tokens["a"], {"category": "*", "rate_bp": 1}
        ).status_code
        == 403
    )
    assert m.get("/commission-rates", m.carrier).status_code == 403
    clock.advance(timedelta(seconds=1))
    second = m.ok(rate(m, "electronics", 600), 201)
    assert second["version"] == 2
    standings = [
        (v["version"], v["standing"])
        for v in m.ok(
            m.get("/commission-rates", m.seller_tokens["b"], params={"category": "electronics"})
        )
    ]
    assert standings == [(1, "superseded"), (2, "in_force")]

"""What a completed sale posts, as pure arithmetic: commission per line rounded half to even,
the supply price against the margin, and a sale below the supply price (M3, O3)."""

from __future__ import annotations

from datetime import UTC, datetime

from tuoguan.finance.commission import commission, in_force, lineage
from tuoguan.finance.models import CommissionRate
from tuoguan.finance.sales import SoldLine, plan
from tuoguan.ledger.accounts import AccountKind
from tuoguan.ledger.kinds import EntryKind, spec_of


def test_commission_rounds_half_to_even_in_minor_units() -> None:  # M3
    assert commission(1999, 800) == 160  # 159.92
    assert commission(1250, 500) == 62  # 62.5 → the even 62
    assert commission(1350, 500) == 68  # 67.5 → the even 68
    assert commission(1999, 0) == 0
    assert commission(1999, 10_000) == 1999


def test_a_category_takes_its_own_rate_then_its_parents_then_every_categorys() -> None:  # M3
    assert lineage("electronics/audio/earbuds") == [
        "electronics/audio/earbuds",
        "electronics/audio",
        "electronics",
        "*",
    ]

    def rate(category: str, bp: int, year: int) -> CommissionRate:
        return CommissionRate(
            id=f"cmr_{category}_{year}",
            category=category,
            rate_bp=bp,
            effective_from=datetime(year, 1, 1, tzinfo=UTC),
        )

    versions = [
        rate("*", 800, 2000),
        rate("electronics", 500, 2026),
        rate("electronics", 300, 2027),
    ]

    def bp(found: CommissionRate | None) -> int | None:
        return found.rate_bp if found else None

    at = datetime(2026, 6, 1, tzinfo=UTC)
    assert bp(in_force(versions, "electronics/audio", at)) == 500
    assert bp(in_force(versions, "home", at)) == 800
    later = datetime(2027, 6, 1, tzinfo=UTC)
    assert bp(in_force(versions, "electronics/audio", later)) == 300
    assert bp(in_force(versions[1:], "home", at)) is None


def test_a_commissioned_sale_sums_each_lines_commission_and_leaves_shipping_to_the_seller() -> (
    None
):  # M3 O3
    lines = [SoldLine(2, 2500, commission_bp=500), SoldLine(1, 1350, commission_bp=500)]
    (entry,) = plan(order_id="ord_1", supplied=False, total_minor=4350, lines=lines)
    # 125 + 67.5 → 68, not 192.5 → 192 on the sum: rounding is per line.
    assert entry.kind is EntryKind.sale_commissioned
    assert entry.parts == {"net": 4350 - 193, "commission": 193}
    assert entry.idem_key == "sale:ord_1"


def test_a_supplied_sale_owes_the_supply_price_and_the_platform_keeps_the_margin() -> None:  # M3
    lines = [SoldLine(2, 3998, supply_price_minor=1200)]
    (entry,) = plan(order_id="ord_2", supplied=True, total_minor=4298, lines=lines)
    assert (entry.kind, entry.parts) == (EntryKind.sale_supplied, {"supply": 2400, "margin": 1898})


def test_below_the_supply_price_the_seller_is_owed_it_all_and_the_platform_bears_the_rest() -> (
    None
):  # M3
    lines = [SoldLine(1, 1000, supply_price_minor=1200)]
    (sale,) = plan(order_id="ord_3", supplied=True, total_minor=1000, lines=lines)
    assert (sale.kind, sale.parts) == (
        EntryKind.sale_below_supply,
        {"paid": 1000, "shortfall": 200},
    )
    assert sale.idem_key == "sale:ord_3"
    postings = dict(spec_of(sale.kind).postings(sale.parts))
    assert postings[AccountKind.receivable] == -1200  # the seller is due the supply price
    cash = postings[AccountKind.cash]
    assert cash == 1000  # what the buyer paid


def test_a_sale_of_nothing_posts_nothing() -> None:  # O3
    assert plan(order_id="ord_4", supplied=False, total_minor=0, lines=[SoldLine(1, 0)]) == []

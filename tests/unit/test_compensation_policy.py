"""Which compensation policy version judges a late parcel, and what it is worth (G2): pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tuoguan.shipping.compensation import amount_of, pick
from tuoguan.shipping.money_models import CompensationPolicy

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _policy(
    region: str, currency: str, version: int, days: int, **money: int
) -> CompensationPolicy:
    return CompensationPolicy(
        id=f"cpo_{region}_{currency}_{version}",
        region=region,
        currency=currency,
        version=version,
        amount_minor=money.get("amount_minor", 0),
        rate_bp=money.get("rate_bp", 0),
        effective_from=T0 + timedelta(days=days),
    )


ANY_FEE = _policy("*", "*", 1, 0, rate_bp=10_000)
EUROPE_USD = _policy("Europe", "USD", 1, 10, amount_minor=200, rate_bp=5_000)
EUROPE_USD_2 = _policy("Europe", "USD", 2, 40, amount_minor=300)
EUROPE_ANY = _policy("Europe", "*", 1, 5, rate_bp=2_500)
POLICIES = [ANY_FEE, EUROPE_USD, EUROPE_USD_2, EUROPE_ANY]


def test_the_region_and_currency_of_the_parcel_before_any_then_the_latest_in_force() -> None:  # G2
    def at(days: int, region: str = "Europe", currency: str = "USD") -> str | None:
        found = pick(POLICIES, region=region, currency=currency, at=T0 + timedelta(days=days))
        return found.id if found else None

    assert at(1) == ANY_FEE.id  # nothing of Europe's in force yet
    assert at(6) == EUROPE_ANY.id  # the region's own, in any currency
    assert at(10) == EUROPE_USD.id  # the region's own in the parcel's currency, from its instant
    assert at(39) == EUROPE_USD.id and at(40) == EUROPE_USD_2.id  # the version in force at due
    assert at(50, currency="EUR") == EUROPE_ANY.id
    assert at(50, region="North America") == ANY_FEE.id
    assert pick(POLICIES, region="Europe", currency="USD", at=T0 - timedelta(days=1)) is None


def test_a_policy_is_a_fixed_amount_plus_a_share_of_the_quoted_fee_rounded_half_up() -> None:  # G2
    assert amount_of(EUROPE_USD, 1_235) == 200 + 618  # 617.5 rounds up
    assert amount_of(ANY_FEE, 1_235) == 1_235
    assert amount_of(EUROPE_USD_2, 1_235) == 300

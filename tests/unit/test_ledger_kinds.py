"""The ledger's kinds and accounts are data that balance, and docs/finance.md shows them (M3 S3)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuoguan.errors import InvalidInput
from tuoguan.ledger import amounts
from tuoguan.ledger.accounts import ACCOUNTS, AccountKind, Owner, Side, accounts_markdown
from tuoguan.ledger.kinds import KINDS, EntryKind, kinds_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "finance.md"
FIXED = [spec for spec in KINDS.values() if not spec.free]


def test_every_kind_and_account_kind_is_in_its_table() -> None:  # M3 S3
    assert set(KINDS) == set(EntryKind)
    assert set(ACCOUNTS) == set(AccountKind)
    assert [spec.kind for spec in KINDS.values() if spec.free] == [EntryKind.adjustment]


@pytest.mark.parametrize("spec", FIXED, ids=lambda spec: spec.kind.value)
def test_each_kind_balances_part_by_part_and_names_real_accounts(spec: Any) -> None:  # M3 S3
    assert spec.parts and len(spec.legs) >= 2
    for leg in spec.legs:
        assert leg.account in ACCOUNTS
        assert set(leg.coefficients) <= set(spec.parts)
        # one side per leg, so the docs' debit and credit columns show every leg
        assert all(c > 0 for c in leg.coefficients.values()) or all(
            c < 0 for c in leg.coefficients.values()
        )
    for part in spec.parts:
        assert sum(leg.coefficients.get(part, 0) for leg in spec.legs) == 0, part


@given(data=st.data())
def test_every_kind_sums_to_zero_for_any_values(data: st.DataObject) -> None:  # M3 S3
    spec = data.draw(st.sampled_from(FIXED))
    parts = {name: data.draw(st.integers(0, 10**14), label=name) for name in spec.parts}
    postings = spec.postings(parts)
    assert sum(amount for _, amount in postings) == 0
    assert all(amount != 0 for _, amount in postings)


def test_the_floors_are_the_five_accounts_that_must_not_go_negative() -> None:  # S3 G3 R3
    floors = {kind for kind, spec in ACCOUNTS.items() if not spec.may_go_negative}
    assert floors == {
        AccountKind.deposit_held,
        AccountKind.receivable,
        AccountKind.payout_clearing,
        AccountKind.insurance_recoverable,
        AccountKind.carrier_recoverable,
    }
    receivable = ACCOUNTS[AccountKind.receivable]
    assert (receivable.owner, receivable.normal) == (Owner.store, Side.credit)
    assert receivable.shown(-10_000) == 10_000 and receivable.breaks_floor(1)
    assert not ACCOUNTS[AccountKind.cash].breaks_floor(-1)


def test_a_sale_on_commission_posts_cash_receivable_and_commission() -> None:  # M3
    postings = KINDS[EntryKind.sale_commissioned].postings({"net": 9000, "commission": 1000})
    assert postings == [
        (AccountKind.cash, 10_000),
        (AccountKind.receivable, -9000),
        (AccountKind.commission, -1000),
    ]
    # full-managed: no commission, the platform keeps its margin (M3)
    supplied = KINDS[EntryKind.sale_supplied].postings({"supply": 7000, "margin": 0})
    assert supplied == [(AccountKind.cash, 7000), (AccountKind.receivable, -7000)]


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (12.5, "no_fractions"),
        (Decimal("0.01"), "no_fractions"),
        (5.0, "integer_minor_units"),
        (Decimal("5"), "integer_minor_units"),
        (True, "integer_minor_units"),
        ("5", "integer_minor_units"),
        (-1, "not_negative"),
        (10**15, "amount_range"),
    ],
)
def test_amounts_are_whole_minor_units(value: Any, rule: str) -> None:  # M3
    with pytest.raises(InvalidInput) as refused:
        amounts.minor_units(value, field="parts.amount")
    assert (refused.value.field, refused.value.extra["rule"]) == ("parts.amount", rule)
    if rule == "no_fractions":
        assert "fractions of a minor unit" in refused.value.detail


def test_parts_are_the_kinds_and_currencies_are_iso_4217() -> None:  # M3
    spec = KINDS[EntryKind.sale_supplied]
    assert amounts.parts_of(spec, {"supply": 1, "margin": 2}) == {"supply": 1, "margin": 2}
    for parts in ({"supply": 1}, {"supply": 1, "margin": 2, "tip": 3}):
        with pytest.raises(InvalidInput) as refused:
            amounts.parts_of(spec, parts)
        assert refused.value.extra["rule"] == "parts_match_kind"
    assert amounts.currency("usd") == "USD"
    for code in ("US", "XXX", "ABC", 840):
        with pytest.raises(InvalidInput) as refused:
            amounts.currency(code)
        assert (refused.value.field, refused.value.extra["rule"]) == ("currency", "iso_4217")
    with pytest.raises(InvalidInput) as refused:
        amounts.entry_kind("gift")
    assert refused.value.extra["rule"] == "known_kind"


def test_hand_made_legs_balance_per_currency() -> None:  # M3
    amounts.legs_balanced([("a", 5, "USD"), ("b", -5, "USD"), ("c", 3, "EUR"), ("d", -3, "EUR")])
    with pytest.raises(InvalidInput) as refused:
        amounts.legs_balanced([("a", 5, "USD"), ("b", -5, "EUR")])
    assert (refused.value.field, refused.value.extra["rule"]) == ("postings", "balanced")


def _between(name: str) -> str:
    text = DOC.read_text()
    return text.split(f"<!-- {name}:begin -->\n", 1)[1].split(f"<!-- {name}:end -->", 1)[0]


def test_finance_doc_shows_the_accounts_and_kinds_the_code_posts() -> None:  # M3 S3
    assert _between("accounts").strip() == accounts_markdown().strip(), (
        "docs/finance.md is stale: paste tuoguan.ledger.accounts.accounts_markdown()"
    )
    assert _between("kinds").strip() == kinds_markdown().strip(), (
        "docs/finance.md is stale: paste tuoguan.ledger.kinds.kinds_markdown()"
    )

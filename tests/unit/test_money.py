"""Money is integer minor units with an ISO 4217 currency that a buyer can pay with."""

from __future__ import annotations

import pytest

from tuoguan.errors import InvalidInput
from tuoguan.kit.money import check_currency, format_minor, minor_digits


def test_known_currencies_are_normalised_and_others_refused() -> None:
    assert check_currency("usd") == "USD"
    for code in ("ZZZ", "XAU", "XTS", "X" * 3, "US", "EURO"):
        with pytest.raises(InvalidInput) as info:
            check_currency(code)
        assert info.value.field == "currency"


def test_minor_units_follow_the_currency() -> None:
    assert (minor_digits("JPY"), minor_digits("EUR"), minor_digits("KWD")) == (0, 2, 3)
    assert format_minor(1999, "USD") == "$19.99"
    assert format_minor(1999, "JPY") == "¥1,999"


def test_formatting_is_exact_for_amounts_a_float_would_round() -> None:
    assert format_minor(123456789012345678, "USD") == "$1,234,567,890,123,456.78"

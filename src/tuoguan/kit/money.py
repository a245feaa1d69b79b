"""Money as integer minor units with an ISO 4217 currency; never floats."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision, list_currencies

from tuoguan.errors import InvalidInput

# ISO 4217 codes that are not money a buyer pays with: test, metals, fund units, and
# the "no currency" code, three X's.
_NO_CURRENCY = "X" * 3
_NOT_TENDER = frozenset(
    ["XTS", "XAU", "XAG", "XPD", "XPT", "XDR", "XSU", "XUA", "XBA", "XBB", "XBC", "XBD"]
) | {_NO_CURRENCY}


@lru_cache
def _active_currencies() -> frozenset[str]:
    return frozenset(list_currencies()) - _NOT_TENDER


def check_currency(code: str, *, field: str = "currency") -> str:
    """Return an ISO 4217 code, upper-cased, or refuse it."""
    upper = code.upper()
    if len(upper) != 3 or upper not in _active_currencies():
        raise InvalidInput(f"{code!r} is not an ISO 4217 currency code", field=field)
    return upper


def minor_digits(currency: str) -> int:
    """How many minor-unit digits a currency has (JPY 0, EUR 2, KWD 3)."""
    return int(get_currency_precision(currency))


def format_minor(amount_minor: int, currency: str, locale: str = "en") -> str:
    """Format an amount in minor units for people, e.g. 1999 USD -> $19.99."""
    units = Decimal(amount_minor).scaleb(-minor_digits(currency))
    loc = "zh_Hans_CN" if locale.startswith("zh") else "en_US"
    return str(format_currency(units, currency, locale=loc))


def major_text(amount_minor: int, currency: str) -> str:
    """An amount as a person types it into a form: 1999 USD -> "19.99" (no symbol, no grouping)."""
    return str(Decimal(amount_minor).scaleb(-minor_digits(currency)))


def parse_major(text: str, currency: str, *, field: str = "amount") -> int:
    """What a person typed ("19.99", "19,99", "20") as minor units of ``currency``, or refuse it."""
    cleaned = text.strip().replace(" ", "").replace(",", ".")
    # Digits with one decimal point, as people type money: "1e3" is not 1 000.00 to anyone.
    typed = len(cleaned) <= 30 and re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", cleaned)
    try:
        amount = Decimal(cleaned) if typed else Decimal("NaN")
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or abs(amount) >= 10**15:
        raise InvalidInput(f"{text[:40]!r} is not an amount of money", field=field, rule="money")
    digits = minor_digits(currency)
    if amount.as_tuple().exponent < -digits:  # type: ignore[operator]
        raise InvalidInput(
            f"{currency} amounts have at most {digits} decimals", field=field, rule="decimals"
        )
    return int(amount.scaleb(digits))

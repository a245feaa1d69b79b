"""What an entry is given, checked before anything is read or written: pure, no database.

Amounts are integers of minor units: a bool, a float or a Decimal is refused, and one with a
fraction is named as such ("fractions of a minor unit"). Each refusal names the field and the
rule (422).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from tuoguan.errors import InvalidInput
from tuoguan.kit.money import check_currency
from tuoguan.ledger.kinds import KINDS, EntryKind, EntrySpec

# Far beyond any real amount, well inside a BIGINT once summed.
LIMIT = 10**15


def minor_units(value: Any, *, field: str, allow_negative: bool = False) -> int:
    """``value`` as a whole number of minor units, or a refusal naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InvalidInput(
            f"{field} must be a whole number of minor units, not {type(value).__name__}",
            field=field,
            rule="integer_minor_units",
        )
    if not isinstance(value, int):
        whole = value.is_integer() if isinstance(value, float) else value == value.to_integral()
        why = "an integer" if whole else "fractions of a minor unit are refused"
        raise InvalidInput(
            f"{field} must be an integer of minor units ({value!r}: {why})",
            field=field,
            rule="integer_minor_units" if whole else "no_fractions",
        )
    if value < 0 and not allow_negative:
        raise InvalidInput(
            f"{field} cannot be negative ({value})", field=field, rule="not_negative"
        )
    if abs(value) >= LIMIT:
        raise InvalidInput(f"{field} is out of range ({value})", field=field, rule="amount_range")
    return value


def currency(code: Any, *, field: str = "currency") -> str:
    """An ISO 4217 code, upper-cased, or a refusal naming the rule."""
    if not isinstance(code, str):
        raise InvalidInput("a currency is a 3-letter ISO 4217 code", field=field, rule="iso_4217")
    try:
        return check_currency(code, field=field)
    except InvalidInput as refused:
        raise InvalidInput(refused.detail, field=field, rule="iso_4217") from refused


def entry_kind(kind: Any) -> EntrySpec:
    """The spec of a kind named by value, or a refusal listing the kinds."""
    try:
        return KINDS[EntryKind(kind)]
    except ValueError:
        known = ", ".join(k.value for k in EntryKind)
        raise InvalidInput(
            f"{kind!r} is not a kind of entry ({known})", field="kind", rule="known_kind"
        ) from None


def parts_of(spec: EntrySpec, parts: Mapping[str, Any]) -> dict[str, int]:
    """The parts a kind takes, each a non-negative integer, none missing, none extra."""
    if not isinstance(parts, Mapping):
        raise InvalidInput("parts are named amounts", field="parts", rule="parts_match_kind")
    missing = [name for name in spec.parts if name not in parts]
    extra = sorted(str(name) for name in parts if name not in spec.parts)
    if missing or extra:
        said = "; ".join(
            text
            for text in (
                f"missing {', '.join(missing)}" if missing else "",
                f"not taken: {', '.join(extra)}" if extra else "",
            )
            if text
        )
        raise InvalidInput(
            f"a {spec.kind.value} entry takes {', '.join(spec.parts)} ({said})",
            field="parts",
            rule="parts_match_kind",
            expected=list(spec.parts),
        )
    return {name: minor_units(parts[name], field=f"parts.{name}") for name in spec.parts}


def legs_balanced(legs: Sequence[tuple[str, int, str]]) -> None:
    """Refuse hand-made legs that do not sum to zero in each currency."""
    totals: dict[str, int] = defaultdict(int)
    for _, amount, code in legs:
        totals[code] += amount
    off = {code: total for code, total in sorted(totals.items()) if total}
    if off:
        said = ", ".join(f"{code} {total:+d}" for code, total in off.items())
        raise InvalidInput(
            f"the postings do not balance: they sum to {said} (minor units); "
            "debits (+) and credits (-) must sum to zero in each currency",
            field="postings",
            rule="balanced",
            totals=off,
        )


# The widths of the text columns an entry keeps.
WIDTHS = {"idem_key": 200, "memo": 500, "reason": 500, "subject_type": 30, "subject_id": 40}


def fits(**values: str | None) -> None:
    """Refuse a text longer than its column (idem_key, memo, reason, subject_type, subject_id)."""
    for field, value in values.items():
        if value is not None and len(value) > WIDTHS[field]:
            raise InvalidInput(
                f"{field} is longer than {WIDTHS[field]} characters",
                field=field,
                rule="too_long",
            )

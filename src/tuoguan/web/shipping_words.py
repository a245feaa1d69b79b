"""What the shipping pages say: refusals, quote notes, route-rule conditions and form errors in
the reader's language, from the catalog keys and parameters the shipping domain gives (never its
English ``detail`` or Pydantic's text)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from babel import Locale
from pydantic import ValidationError

from tuoguan.errors import DomainError
from tuoguan.kit import i18n
from tuoguan.kit.i18n import N_
from tuoguan.kit.money import minor_digits
from tuoguan.web.i18n import translator

# Parameters that hold country codes ("ES", or "CN, HK"): said as the reader's country names.
_COUNTRY_PARAMS = frozenset({"country", "origin", "ships_from"})


class _Parts(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


@cache
def _territories(lang: str) -> dict[str, str]:
    locale = Locale.parse("zh_Hans_CN" if i18n.language(lang) == "zh-CN" else "en_US")
    return dict(locale.territories)


def country(code: str, lang: str) -> str:
    """A country as the reader calls it ("西班牙", "Spain"); an unknown code as itself."""
    return _territories(lang).get(code.strip().upper(), code.strip().upper())


def joined(items: Iterable[str], lang: str) -> str:
    """Items as one list in the reader's language ("甲、乙", "a, b")."""
    return ("、" if i18n.language(lang) == "zh-CN" else ", ").join(items)


def countries(codes: Iterable[str], lang: str) -> str:
    return joined((country(code, lang) for code in codes), lang)


def _value(name: str, value: Any, lang: str) -> Any:
    if isinstance(value, Mapping) and "money" in value:
        minor, currency = value["money"]
        return i18n.money_text(int(minor), str(currency), lang)
    if name in _COUNTRY_PARAMS and isinstance(value, str):
        return countries(value.split(","), lang)
    return value


def say(lang: str, key: str, params: Mapping[str, Any] | None = None) -> str:
    """The message ``key`` in ``lang`` with its parameters (money formatted, countries named)."""
    template = translator(lang)(key)
    values = _Parts({name: _value(name, v, lang) for name, v in (params or {}).items()})
    try:
        return template.format_map(values)
    except (ValueError, IndexError, AttributeError):
        return template


# -- refusals of shipping actions ----------------------------------------------------------

# A refusal's rule (or, failing that, its error code) as the words that say what to do.
REFUSALS = {
    "one_live_shipment": N_("ship_err_live_shipment"),
    "awaiting_shipment": N_("ship_err_not_awaiting"),
    "quote_changed": N_("ship_err_quote_changed"),
    "platform_ships": N_("ship_err_platform_ships"),
    "tracking_number_taken": N_("ship_err_tracking_taken"),
    "sender_address_required": N_("ship_err_sender_address"),
    "stock_not_reserved": N_("ship_err_stock_not_reserved"),
    "pickup_window": N_("ship_err_pickup_window"),
    "carrier_unavailable": N_("ship_err_carrier_unavailable"),
    "illegal_transition": N_("ship_err_state"),
    "concurrent_update": N_("err_concurrent"),
    "not_found": N_("err_not_found"),
    "insured": N_("claim_err_not_insured"),
    "claimable_status": N_("claim_err_status"),
    "claim_window": N_("claim_err_window"),
    "within_cover": N_("claim_err_cover"),
    "one_open_claim": N_("claim_err_open"),
    "within_claim": N_("claim_err_within_claim"),
    "money": N_("claim_err_amount"),
    "decimals": N_("claim_err_amount"),
}
_CLAIM_RULES = frozenset(
    {"insured", "claimable_status", "claim_window", "within_cover", "one_open_claim"}
)
# A refused field (of a shipment step's or a claim's form) without a rule of its own.
_FIELDS = {
    "window_until": N_("ship_err_pickup_order"),
    "window_from": N_("ship_err_pickup_time"),
    "place": N_("ship_err_pickup_place"),
    "reason": N_("ship_err_cancel_reason"),
    "note": N_("ship_err_cancel_reason"),
    "service_code": N_("ship_err_no_service"),
    "amount_minor": N_("claim_err_amount"),
    "amount": N_("claim_err_amount"),
    "evidence": N_("claim_err_evidence"),
    "description": N_("claim_err_description"),
    "kind": N_("claim_err_description"),
}


def refusal_text(lang: str, exc: Exception, *, claim_reason: bool = False) -> str:
    """Why a shipping action (ship, a shipment's step, a claim) did not happen, in words."""
    if isinstance(exc, ValidationError):
        for error in exc.errors():
            name = str(error["loc"][-1]) if error["loc"] else ""
            if name in {"weight_g", "length_mm", "width_mm", "height_mm"}:
                return say(lang, parcel_errors(exc)[name])
            if claim_reason and name == "reason":
                return say(lang, N_("claim_err_reason"))
            if name in _FIELDS:
                return say(lang, _FIELDS[name])
        return say(lang, N_("err_form"))
    if not isinstance(exc, DomainError):
        # datetime.fromisoformat on a pickup window that is not a date and time
        return say(lang, N_("ship_err_pickup_time"))
    rule = str(exc.extra.get("rule") or "")
    refusals = exc.extra.get("refusals")
    if isinstance(refusals, list) and refusals:
        reasons = joined((say(lang, r.get("code", ""), r.get("params")) for r in refusals), lang)
        return say(lang, N_("ship_err_service_refused"), {"reasons": reasons})
    key = REFUSALS.get(rule) or _FIELDS.get(exc.field or "") or REFUSALS.get(exc.code)
    if claim_reason and exc.field == "reason":
        key = N_("claim_err_reason")
    if rule in _CLAIM_RULES:
        return say(lang, N_("claim_err_refused"), {"why": say(lang, REFUSALS[rule])})
    return say(lang, key or N_("ship_err_refused"))


# -- the parcel form of ship online ----------------------------------------------------------


def parcel_errors(exc: ValidationError) -> dict[str, str]:
    """Each parcel field that is wrong, and the key of the words that say what to type."""
    found: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][-1]) if error["loc"] else ""
        if name not in {"weight_g", "length_mm", "width_mm", "height_mm"} or name in found:
            continue
        if error.get("input") in ("", None):
            found[name] = N_("ship_err_parcel_incomplete")
        elif name == "weight_g":
            found[name] = N_("ship_err_parcel_weight")
        else:
            found[name] = N_("ship_err_parcel_side")
    return found


# -- the route-rule form ---------------------------------------------------------------------

# A rule's field as the form names it, by where Pydantic found it wrong.
_RULE_FIELDS = {
    "position": ("position", N_("err_rule_position")),
    "name": ("name", N_("err_rule_name")),
    "effect": ("effect", N_("err_rule_effect")),
    "services": ("services", N_("err_rule_service_unknown")),
    "store_ids": ("store_ids", N_("err_rule_store_unknown")),
    "countries": ("countries", N_("err_rule_country")),
    "categories": ("categories", N_("err_rule_category")),
    "min_weight_g": ("min_weight_g", N_("err_rule_weight")),
    "max_weight_g": ("max_weight_g", N_("err_rule_weight")),
    "value_currency": ("value_currency", N_("err_rule_currency")),
    "min_value_minor": ("min_value", N_("err_rule_value_range")),
    "max_value_minor": ("max_value", N_("err_rule_value_range")),
}
# Refusals of the whole conditions (their type names the band), by the field to fix.
_BANDS = {
    "weight_band": ("max_weight_g", N_("err_rule_weight_band")),
    "value_currency_needed": ("value_currency", N_("err_rule_value_currency")),
    "value_band": ("max_value", N_("err_rule_value_band")),
}


def rule_errors(exc: Exception, lang: str, form: Mapping[str, str]) -> dict[str, str]:
    """What is wrong with a route rule typed into the form, in words, by the form's field."""
    found: dict[str, str] = {}
    params: dict[str, Any]
    if isinstance(exc, ValidationError):
        for error in exc.errors():
            loc = [str(part) for part in error["loc"]]
            named = next((part for part in reversed(loc) if part in _RULE_FIELDS), None)
            if named is not None:
                field, key = _RULE_FIELDS[named]
                params = {"codes": form.get("services", "")}
            elif str(error.get("type")) in _BANDS:
                field, key = _BANDS[str(error["type"])]
                params = {}
            else:
                field, key, params = "", N_("err_form"), {}
            found.setdefault(field, say(lang, key, params))
        return found
    if not isinstance(exc, DomainError):
        return {"": say(lang, N_("err_form"))}
    rule = str(exc.extra.get("rule") or "")
    field = exc.field or ""
    if rule == "position_taken":
        params = {"position": form.get("position", ""), "name": exc.extra.get("taken_by_name")}
        return {"position": say(lang, N_("err_rule_position_taken"), params)}
    if rule == "known_service":
        codes = joined((str(code) for code in exc.extra.get("unknown", [])), lang)
        return {"services": say(lang, N_("err_rule_service_unknown"), {"codes": codes})}
    if rule == "known_store":
        return {"store_ids": say(lang, N_("err_rule_store_unknown"))}
    if rule == "currency":
        return {"value_currency": say(lang, N_("err_rule_value_currency"))}
    if field == "value_currency":
        return {"value_currency": say(lang, N_("err_rule_currency"))}
    if rule == "money":
        return {field: say(lang, N_("err_rule_money"))}
    if rule == "decimals":
        currency = form.get("value_currency", "").strip().upper()
        params = {"currency": currency, "digits": minor_digits(currency)}
        return {field: say(lang, N_("err_rule_decimals"), params)}
    if exc.http_status == 403:
        return {"": say(lang, N_("err_rule_operators_only"))}
    if exc.code == "not_found":
        return {"": say(lang, N_("err_rule_gone"))}
    return {"": say(lang, REFUSALS.get(exc.code, N_("ship_err_refused")))}


def split(text: str, *, spaces: bool = False) -> list[str]:
    """A comma-separated form value as its items (Chinese commas too; spaces if ``spaces``)."""
    pattern = r"[,，、;；\s]+" if spaces else r"[,，、;；]+"
    return [part.strip() for part in re.split(pattern, text) if part.strip()]


def conditions_text(
    conditions: Mapping[str, Any],
    lang: str,
    *,
    services: Mapping[str, str],
    stores: Mapping[str, str],
) -> list[str]:
    """What a route rule looks at, each condition in words (names, not codes or ids)."""
    c = conditions
    said: list[str] = []
    if c.get("services"):
        names = (services.get(code, code) for code in c["services"])
        said.append(say(lang, N_("rule_cond_services"), {"list": joined(names, lang)}))
    if c.get("store_ids"):
        unknown = say(lang, N_("store_unknown"))
        names = (stores.get(store_id, unknown) for store_id in c["store_ids"])
        said.append(say(lang, N_("rule_cond_stores"), {"list": joined(names, lang)}))
    if c.get("countries"):
        said.append(say(lang, N_("rule_cond_countries"), {"list": countries(c["countries"], lang)}))
    if c.get("categories"):
        said.append(say(lang, N_("rule_cond_categories"), {"list": joined(c["categories"], lang)}))
    if c.get("min_weight_g") is not None:
        said.append(say(lang, N_("rule_cond_weight_from"), {"grams": c["min_weight_g"]}))
    if c.get("max_weight_g") is not None:
        said.append(say(lang, N_("rule_cond_weight_below"), {"grams": c["max_weight_g"]}))
    currency = c.get("value_currency")
    for bound, key in (
        ("min_value_minor", N_("rule_cond_value_from")),
        ("max_value_minor", N_("rule_cond_value_below")),
    ):
        if currency and c.get(bound) is not None:
            said.append(say(lang, key, {"money": i18n.money(c[bound], currency)}))
    return said or [say(lang, N_("rule_cond_any"))]

"""Route rules (物流线路规则, F5), pure: which services a store may use for a parcel.

Rules are data an operator orders like a firewall's: the first rule whose
conditions all hold for a (store, service, parcel) decides, allow or deny;
when none holds, the service is allowed. A refusal names the rule that made it.
A condition left empty holds for everything. Weight and value bounds are
half-open, [min, max), and a value bound applies only to parcels declared in
its currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from tuoguan.kit.i18n import N_
from tuoguan.shipping.rates import MAX_GRAMS, MAX_MINOR, Code, CountryCode, Parcel, Refusal
from tuoguan.stores.schemas import Storable

Category = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=60),
    Storable,
]


class Effect(StrEnum):
    allow = "allow"
    deny = "deny"


class Conditions(BaseModel):
    """What a rule looks at; every condition given must hold for the rule to apply."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    services: list[Code] = Field(default_factory=list, max_length=100)
    store_ids: list[Annotated[str, StringConstraints(max_length=40), Storable]] = Field(
        default_factory=list, max_length=500
    )
    countries: list[CountryCode] = Field(default_factory=list, max_length=250)
    categories: list[Category] = Field(
        default_factory=list,
        max_length=100,
        description="A category matches itself and what lies under it: battery matches battery/li-ion.",
    )
    min_weight_g: int | None = Field(default=None, ge=0, le=MAX_GRAMS, strict=True)
    max_weight_g: int | None = Field(default=None, ge=1, le=MAX_GRAMS, strict=True)
    value_currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None
    min_value_minor: int | None = Field(default=None, ge=0, le=MAX_MINOR, strict=True)
    max_value_minor: int | None = Field(default=None, ge=1, le=MAX_MINOR, strict=True)

    @model_validator(mode="after")
    def _bounds(self) -> Conditions:
        # Each refusal has its own type (the problem's rule), so a form can say it by its field.
        if (
            self.min_weight_g is not None
            and self.max_weight_g is not None
            and self.max_weight_g <= self.min_weight_g
        ):
            raise PydanticCustomError("weight_band", "max_weight_g must be above min_weight_g")
        valued = self.min_value_minor is not None or self.max_value_minor is not None
        if valued and self.value_currency is None:
            raise PydanticCustomError("value_currency_needed", "value bounds need value_currency")
        if (
            self.min_value_minor is not None
            and self.max_value_minor is not None
            and self.max_value_minor <= self.min_value_minor
        ):
            raise PydanticCustomError("value_band", "max_value_minor must be above min_value_minor")
        return self


@dataclass(frozen=True)
class Rule:
    """One ordered rule as the evaluator sees it."""

    id: str
    position: int
    name: str
    effect: Effect
    conditions: Conditions


def _in_category(categories: frozenset[str], wanted: list[str]) -> bool:
    return any(c == w or c.startswith(w + "/") for c in categories for w in wanted)


def applies(rule: Rule, *, store_id: str, service: str, parcel: Parcel) -> bool:
    """Whether every condition of the rule holds."""
    c = rule.conditions
    checks = (
        not c.services or service in c.services,
        not c.store_ids or store_id in c.store_ids,
        not c.countries or parcel.country in c.countries,
        not c.categories or _in_category(parcel.categories, c.categories),
        c.min_weight_g is None or parcel.weight_g >= c.min_weight_g,
        c.max_weight_g is None or parcel.weight_g < c.max_weight_g,
        c.value_currency is None or c.value_currency == parcel.currency,
        c.min_value_minor is None or parcel.declared_value_minor >= c.min_value_minor,
        c.max_value_minor is None or parcel.declared_value_minor < c.max_value_minor,
    )
    return all(checks)


def decide(
    rules: list[Rule], *, store_id: str, service: str, parcel: Parcel
) -> tuple[Rule | None, Refusal | None]:
    """The rule that decides (None: no rule applies) and its refusal, if it denies."""
    for rule in sorted(rules, key=lambda r: (r.position, r.id)):
        if applies(rule, store_id=store_id, service=service, parcel=parcel):
            if rule.effect is Effect.deny:
                return rule, Refusal(
                    "route_rule",
                    f"route rule {rule.position} '{rule.name}' denies {service} for this parcel",
                    rule_id=rule.id,
                    code=N_("refusal_route_rule"),
                    params={"position": rule.position, "name": rule.name, "service": service},
                )
            return rule, None
    return None, None

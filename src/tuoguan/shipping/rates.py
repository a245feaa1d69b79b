"""Rate cards and quotes, pure (G1, G2, G3).

A rate card is data an operator writes for one logistics service in one
currency, versioned: zones by destination (country, and postcode prefix where
it matters), each with a first-weight price and a price per further weight
step, its transit days and the region whose delivery commitment it carries
(G2). A quote prices one parcel on one card and lists every line in integer
minor units, so the same card and parcel always give the same quote and a
reweigh shows its difference line by line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints, model_validator

from tuoguan.errors import InvalidInput
from tuoguan.kit import i18n
from tuoguan.kit.i18n import N_
from tuoguan.stores.schemas import Storable, Strict
from tuoguan.timing.places import check_country

MAX_MINOR = 10**12
MAX_GRAMS = 1_000_000
BP = 10_000  # basis points in one whole


def _country(code: str) -> str:
    try:
        return check_country(code)
    except InvalidInput as exc:
        raise ValueError(exc.detail) from exc


CountryCode = Annotated[str, AfterValidator(_country)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
Postcode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=20),
    Storable,
]
Label = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Storable
]
Minor = Annotated[int, Field(ge=0, le=MAX_MINOR, strict=True)]


class _Frozen(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Zone(_Frozen):
    """Destinations priced alike, with their transit time and delivery commitment."""

    code: Code
    name: Label
    region: Label = Field(description="G2: the region whose delivery commitment this zone carries.")
    countries: list[CountryCode] = Field(min_length=1, max_length=250)
    postcodes: dict[CountryCode, list[Postcode]] = Field(
        default_factory=dict,
        description="Limit the zone, for these countries, to postcodes starting so.",
    )
    remote_postcodes: dict[CountryCode, list[Postcode]] = Field(
        default_factory=dict, description="Postcode prefixes that pay the remote-area surcharge."
    )
    transit_min_days: int = Field(ge=0, le=90, strict=True)
    transit_max_days: int = Field(
        ge=1,
        le=90,
        strict=True,
        description="G2: business days the carrier commits to deliver within.",
    )
    first_weight_g: int = Field(ge=1, le=MAX_GRAMS, strict=True)
    first_minor: Minor
    step_g: int = Field(ge=1, le=MAX_GRAMS, strict=True)
    step_minor: Minor

    @model_validator(mode="after")
    def _consistent(self) -> Zone:
        if self.transit_max_days < self.transit_min_days:
            raise ValueError("transit_max_days must not be below transit_min_days")
        stray = set(self.postcodes) - set(self.countries)
        if stray:
            raise ValueError(f"postcodes given for countries outside the zone: {sorted(stray)}")
        return self


class Insurance(_Frozen):
    """G3: cover offered for declared values above a threshold, priced as a share of the value."""

    threshold_minor: Minor
    rate_bp: int = Field(ge=1, le=BP, strict=True)
    min_premium_minor: Minor = 0
    max_cover_minor: int = Field(ge=1, le=MAX_MINOR, strict=True)


class RateCard(_Frozen):
    """What one service charges, in one currency."""

    zones: list[Zone] = Field(min_length=1, max_length=200)
    fuel_bp: int = Field(
        default=0, ge=0, le=BP, strict=True, description="Fuel surcharge on the freight."
    )
    remote_area_minor: Minor = 0
    registration_minor: Minor = Field(default=0, description="Per parcel, registered services.")
    insurance: Insurance | None = None

    @model_validator(mode="after")
    def _one_zone_per_destination(self) -> RateCard:
        codes = [zone.code for zone in self.zones]
        if len(set(codes)) != len(codes):
            raise ValueError("zone codes must be unique")
        seen: dict[tuple[str, str], str] = {}
        for zone in self.zones:
            for country in zone.countries:
                for prefix in zone.postcodes.get(country, [""]):
                    key = (country, prefix)
                    if key in seen:
                        where = f"{country} {prefix}".strip()
                        raise ValueError(f"{where} is in zones {seen[key]} and {zone.code}")
                    seen[key] = zone.code
        return self


@dataclass(frozen=True)
class Limits:
    """What a service accepts: weight, size and how it counts volume."""

    max_weight_g: int
    max_sum_sides_mm: int
    max_longest_side_mm: int
    volumetric_divisor: int | None  # cm³ per kg; None: priced on actual weight only


@dataclass(frozen=True)
class Parcel:
    """One parcel as a quote sees it."""

    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    country: str
    postcode: str | None
    declared_value_minor: int
    currency: str
    categories: frozenset[str]

    @property
    def sides(self) -> tuple[int, int, int]:
        """Sides, longest first."""
        a, b, c = sorted((self.length_mm, self.width_mm, self.height_mm), reverse=True)
        return a, b, c


@dataclass(frozen=True)
class Refusal:
    """Why a service cannot carry a parcel: the rule and what broke it.

    ``detail`` is the English sentence the API has always given; ``code`` is the same reason
    as a catalog key, with ``params`` (typed as in ``tuoguan.kit.i18n``), for the console to
    say it in the reader's language."""

    rule: str
    detail: str
    rule_id: str | None = None
    code: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Line:
    """One item of a quote, in minor units, with a note on how it was reached: ``detail`` in
    English, ``note`` (a catalog key) and its ``params`` for the reader's language."""

    code: str
    amount_minor: int
    detail: str
    note: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)


LINE_CODES = (
    "base",
    "additional_weight",
    "volumetric_uplift",
    "fuel_surcharge",
    "remote_area_surcharge",
    "registration",
    "insurance_premium",
)


def check_fits(limits: Limits, parcel: Parcel) -> list[Refusal]:
    """Every service limit the parcel breaks (overweight, oversize)."""
    found: list[Refusal] = []
    if parcel.weight_g > limits.max_weight_g:
        found.append(
            Refusal(
                "max_weight",
                f"parcel weighs {parcel.weight_g} g; the service takes up to {limits.max_weight_g} g",
                code=N_("refusal_max_weight"),
                params={"weight": parcel.weight_g, "limit": limits.max_weight_g},
            )
        )
    longest = parcel.sides[0]
    if longest > limits.max_longest_side_mm:
        found.append(
            Refusal(
                "max_longest_side",
                f"longest side {longest} mm; the service takes up to "
                f"{limits.max_longest_side_mm} mm",
                code=N_("refusal_max_longest_side"),
                params={"side": longest, "limit": limits.max_longest_side_mm},
            )
        )
    total = sum(parcel.sides)
    if total > limits.max_sum_sides_mm:
        found.append(
            Refusal(
                "max_sum_of_sides",
                f"sides add up to {total} mm; the service takes up to {limits.max_sum_sides_mm} mm",
                code=N_("refusal_max_sum_of_sides"),
                params={"total": total, "limit": limits.max_sum_sides_mm},
            )
        )
    return found


def zone_for(card: RateCard, country: str, postcode: str | None) -> Zone | None:
    """The zone a destination falls in: a postcode match first, then the whole country."""
    code = (postcode or "").replace(" ", "").upper()
    whole: Zone | None = None
    for zone in card.zones:
        if country not in zone.countries:
            continue
        prefixes = zone.postcodes.get(country)
        if prefixes is None:
            whole = zone
        elif code and any(code.startswith(p.replace(" ", "")) for p in prefixes):
            return zone
    return whole


def volumetric_g(limits: Limits, parcel: Parcel) -> int:
    """Volumetric weight: length x width x height over the divisor (mm³ / (cm³/kg) = g)."""
    if limits.volumetric_divisor is None:
        return 0
    volume = parcel.length_mm * parcel.width_mm * parcel.height_mm
    return -(-volume // limits.volumetric_divisor)


def _steps(zone: Zone, weight_g: int) -> int:
    return -(-max(0, weight_g - zone.first_weight_g) // zone.step_g)


def _share(amount: int, bp: int) -> int:
    """amount x bp / 10 000, rounded half up, in integers."""
    return (amount * bp + BP // 2) // BP


def insurance_premium(card: RateCard, declared_minor: int) -> int | None:
    """G3: the premium for insuring a parcel of this value, or None when not offered."""
    cover = card.insurance
    if cover is None or declared_minor <= cover.threshold_minor:
        return None
    insured = min(declared_minor, cover.max_cover_minor)
    return max(cover.min_premium_minor, -(-insured * cover.rate_bp // BP))


def price(
    card: RateCard, zone: Zone, limits: Limits, parcel: Parcel, *, insure: bool
) -> list[Line]:
    """Itemize what carrying the parcel costs (G1); the lines add up to the total."""
    money = parcel.currency
    actual = _steps(zone, parcel.weight_g)
    chargeable = max(parcel.weight_g, volumetric_g(limits, parcel))
    charged = _steps(zone, chargeable)
    lines = [
        Line(
            "base",
            zone.first_minor,
            f"first {zone.first_weight_g} g to zone {zone.code}",
            N_("quote_note_base"),
            {"weight": zone.first_weight_g, "zone": zone.code},
        )
    ]
    if actual:
        lines.append(
            Line(
                "additional_weight",
                actual * zone.step_minor,
                f"{actual} x {zone.step_g} g at {zone.step_minor} {money} minor units",
                N_("quote_note_additional_weight"),
                {"steps": actual, "step": zone.step_g, "price": i18n.money(zone.step_minor, money)},
            )
        )
    if charged > actual:
        lines.append(
            Line(
                "volumetric_uplift",
                (charged - actual) * zone.step_minor,
                f"volumetric {chargeable} g exceeds actual {parcel.weight_g} g "
                f"by {charged - actual} step(s)",
                N_("quote_note_volumetric_uplift"),
                {"volumetric": chargeable, "actual": parcel.weight_g, "steps": charged - actual},
            )
        )
    freight = sum(line.amount_minor for line in lines)
    if card.fuel_bp:
        lines.append(
            Line(
                "fuel_surcharge",
                _share(freight, card.fuel_bp),
                f"{card.fuel_bp} bp of freight",
                N_("quote_note_fuel_surcharge"),
                {"percent": percent(card.fuel_bp), "freight": i18n.money(freight, money)},
            )
        )
    if card.remote_area_minor and _is_remote(zone, parcel):
        lines.append(
            Line(
                "remote_area_surcharge",
                card.remote_area_minor,
                f"remote postcode {parcel.postcode}",
                N_("quote_note_remote_area_surcharge"),
                {"postcode": parcel.postcode or ""},
            )
        )
    if card.registration_minor:
        lines.append(
            Line(
                "registration",
                card.registration_minor,
                "registered, tracked parcel",
                N_("quote_note_registration"),
            )
        )
    if insure:
        premium = insurance_premium(card, parcel.declared_value_minor)
        if premium is None:
            refusal = no_cover(card, money)
            raise InvalidInput(refusal.detail, field="insure", rule="insurance_offered")
        lines.append(
            Line(
                "insurance_premium",
                premium,
                f"cover for {parcel.declared_value_minor} {money}",
                N_("quote_note_insurance_premium"),
                {"value": i18n.money(parcel.declared_value_minor, money)},
            )
        )
    return lines


def percent(bp: int) -> int | float:
    """Basis points as a percentage a person reads: 800 -> 8, 1250 -> 12.5."""
    whole, rest = divmod(bp, 100)
    return whole if not rest else bp / 100


def no_cover(card: RateCard, currency: str) -> Refusal:
    """Why a parcel cannot be insured on this card (priced in ``currency``)."""
    if card.insurance is None:
        return Refusal(
            "insurance_offered",
            "this service offers no insurance",
            code=N_("refusal_no_insurance"),
        )
    threshold = card.insurance.threshold_minor
    return Refusal(
        "insurance_offered",
        f"insurance is offered for declared values above {threshold} {currency} minor units",
        code=N_("refusal_insurance_threshold"),
        params={"threshold": i18n.money(threshold, currency)},
    )


def _is_remote(zone: Zone, parcel: Parcel) -> bool:
    code = (parcel.postcode or "").replace(" ", "").upper()
    prefixes = zone.remote_postcodes.get(parcel.country, [])
    return bool(code) and any(code.startswith(p.replace(" ", "")) for p in prefixes)


def chargeable_g(limits: Limits, parcel: Parcel) -> int:
    """The weight the price is computed on: actual or volumetric, whichever is more."""
    return max(parcel.weight_g, volumetric_g(limits, parcel))


def difference(quoted: list[Line], charged: list[Line], currency: str) -> list[Line]:
    """Line-by-line change from the quote to the charge (a carrier reweigh); zero lines dropped."""
    before = {line.code: line.amount_minor for line in quoted}
    after = {line.code: line.amount_minor for line in charged}
    changed: list[Line] = []
    for code in LINE_CODES:
        delta = after.get(code, 0) - before.get(code, 0)
        if delta:
            changed.append(
                Line(
                    code,
                    delta,
                    f"{before.get(code, 0)} -> {after.get(code, 0)} minor units",
                    N_("quote_note_changed"),
                    {
                        "before": i18n.money(before.get(code, 0), currency),
                        "after": i18n.money(after.get(code, 0), currency),
                    },
                )
            )
    return changed

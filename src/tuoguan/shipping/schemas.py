"""API shapes for logistics services, rate cards, route rules, quotes and carrier accounts; a
shipment's own are in ``shipment_schemas.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
)

from tuoguan.kit.clock import UTCInstant
from tuoguan.kit.outbound import well_formed
from tuoguan.shipping.models import ServiceKind
from tuoguan.shipping.rates import MAX_GRAMS, Code, CountryCode, RateCard
from tuoguan.shipping.routes import Conditions, Effect
from tuoguan.stores.schemas import Strict

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Millimetres = Annotated[int, Field(ge=1, le=10_000, strict=True)]
Grams = Annotated[int, Field(ge=1, le=MAX_GRAMS, strict=True)]


class ServiceCreate(Strict):
    """A logistics service one carrier sells."""

    code: Code
    name: Name
    carrier_code: Code
    kind: ServiceKind
    origin_countries: list[CountryCode] = Field(min_length=1, max_length=250)
    max_weight_g: Grams
    max_sum_sides_mm: Millimetres
    max_longest_side_mm: Millimetres
    volumetric_divisor: int | None = Field(
        default=None, ge=1000, le=20_000, strict=True, description="cm³ per kg, e.g. 5000 or 8000."
    )
    tracked: bool = Field(default=True, strict=True)


class ServiceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    carrier_code: str
    kind: ServiceKind
    origin_countries: list[str]
    max_weight_g: int
    max_sum_sides_mm: int
    max_longest_side_mm: int
    volumetric_divisor: int | None
    tracked: bool
    active: bool
    version: int


class RateCardCreate(Strict):
    """The next version of a service's prices in one currency."""

    currency: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$")]
    effective_from: UTCInstant | None = Field(
        default=None, description="When it takes over; now if omitted. Never in the past."
    )
    card: RateCard
    note: Note | None = None


class RateCardRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    service_code: str
    currency: str
    version: int
    effective_from: datetime
    card: RateCard
    note: str | None
    created_at: datetime
    created_by: str


class RouteRuleWrite(Strict):
    """A route rule (F5): where it sits in the order, what it looks at, and its effect."""

    position: int = Field(ge=0, le=1_000_000, strict=True)
    name: Name
    effect: Effect
    conditions: Conditions = Field(default_factory=Conditions)


class RouteRuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    position: int
    name: str
    effect: Effect
    conditions: Conditions
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int


class ParcelIn(Strict):
    """The packed parcel as measured; when omitted it is estimated from the order's products."""

    weight_g: Grams
    length_mm: Millimetres
    width_mm: Millimetres
    height_mm: Millimetres


class ParcelRead(BaseModel):
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    declared_value_minor: int
    currency: str
    categories: list[str]
    country: str = Field(description="Where it goes: the order's destination country.")
    estimated: bool = Field(description="True when computed from the products, not measured.")


_MESSAGE_PARAMS = (
    "The message's parameters: numbers and text as they are; money, times and labels as typed "
    'objects, e.g. {"money": [1999, "USD"]}.'
)


class QuoteLineRead(BaseModel):
    """One priced line of a quote or of a carrier's charge (freight, surcharge, duty...)."""

    code: str
    amount_minor: int
    detail: str = Field(description="How the line was reached, in English.")
    note: str | None = Field(
        default=None,
        description="The same note as a key of the gettext catalogs, for words in any language "
        "(null on a carrier's own lines).",
    )
    params: dict[str, Any] = Field(default_factory=dict, description=_MESSAGE_PARAMS)


class CarrierChargeRead(BaseModel):
    name: str
    amount_minor: int


class RateCheckRead(BaseModel):
    """G1: tuoguan's quote beside the carrier's own price for one service."""

    service_code: str
    carrier_code: str
    quote_minor: int
    currency: str
    transit_max_days: int
    carrier_minor: int | None = None
    carrier_currency: str | None = None
    carrier_transit_days: int | None = None
    carrier_lines: list[CarrierChargeRead] = Field(default_factory=list)
    difference_minor: int | None = Field(
        default=None, description="Carrier minus quote, when both are in the same currency."
    )
    error: str | None = Field(default=None, description="Why the carrier gave no price.")


class RefusalRead(BaseModel):
    rule: str = Field(description="The limit or route rule that refuses, e.g. max_weight.")
    detail: str = Field(description="Why, in English.")
    rule_id: str | None = None
    code: str = Field(
        description="Why, as a key of the gettext catalogs, e.g. refusal_max_weight: say it in "
        "the reader's language with params."
    )
    params: dict[str, Any] = Field(default_factory=dict, description=_MESSAGE_PARAMS)


class QuoteRead(BaseModel):
    """An itemized quote (G1), reproducible from the rate card it names."""

    rate_card_id: str
    rate_card_version: int
    currency: str
    zone: str
    region: str
    chargeable_weight_g: int
    volumetric_weight_g: int
    lines: list[QuoteLineRead]
    total_minor: int
    transit_min_days: int
    transit_max_days: int = Field(description="G2: the carrier's delivery commitment.")
    insurance_premium_minor: int | None = Field(
        description="G3: what insuring this parcel would add; null when not offered."
    )


class ServiceOption(BaseModel):
    """One service for one order: allowed with its quote, or refused with every reason."""

    service_code: str
    name: str
    carrier_code: str
    kind: ServiceKind
    tracked: bool
    allowed: bool
    refusals: list[RefusalRead]
    quote: QuoteRead | None


class ShippingOptions(BaseModel):
    order_id: str
    parcel: ParcelRead
    options: list[ServiceOption]


class SandboxAccountCreate(Strict):
    """Register the sandbox carrier, reached over HTTP, pushing signed events (operators)."""

    code: Code
    name: Name
    adapter: Literal["sandbox"]
    base_url: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
        AfterValidator(well_formed),
    ] = Field(description="The carrier's API: https in production, never an internal host.")
    api_key: Annotated[str, StringConstraints(min_length=8, max_length=200)]
    webhook_secret: Annotated[str, StringConstraints(min_length=16, max_length=200)]


SettingKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,59}$")]
SettingValue = Annotated[str, StringConstraints(max_length=2000)] | StrictBool | StrictInt
OptionKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,79}$")]
OptionValue = Annotated[str, StringConstraints(max_length=200)] | StrictBool | StrictInt


class KarrioAccountCreate(Strict):
    """Register a real carrier reached through the karrio SDK (operators).

    ``settings`` are the karrio carrier's connection settings (credentials,
    account number, ``test_mode``); ``services`` maps tuoguan's service codes
    to the carrier's karrio service names. Scan times are read in ``timezone``.
    """

    code: Code
    name: Name
    adapter: Literal["karrio"]
    carrier: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$")] = Field(
        description="The karrio carrier name, e.g. fedex, ups, dhl_express."
    )
    settings: dict[SettingKey, SettingValue] = Field(min_length=1, max_length=40)
    services: dict[Code, Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{1,80}$")]] = (
        Field(default_factory=dict, max_length=200)
    )
    timezone: Annotated[
        str, StringConstraints(pattern=r"^[A-Za-z_]{1,20}(/[A-Za-z0-9_+\-]{1,30}){0,2}$")
    ] = "UTC"
    label_type: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]{2,20}$")] | None = None
    duty_paid_by: Literal["sender", "recipient"] = "recipient"
    incoterm: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "DAP"
    shipment_options: dict[OptionKey, OptionValue] = Field(default_factory=dict, max_length=40)
    pickup_options: dict[OptionKey, OptionValue] = Field(default_factory=dict, max_length=40)

    def options(self) -> dict[str, object]:
        """What the adapter keeps in the account's options."""
        return self.model_dump(exclude={"code", "name", "adapter"})


CarrierAccountCreate = Annotated[
    SandboxAccountCreate | KarrioAccountCreate, Field(discriminator="adapter")
]


class CarrierAccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    adapter: str
    base_url: str
    carrier: str | None = Field(
        default=None, description="The karrio carrier, for karrio accounts."
    )
    active: bool
    created_at: datetime

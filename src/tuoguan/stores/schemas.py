"""API shapes for sellers and stores."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from tuoguan.stores.models import StoreMode, StoreStatus

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$")]
Text100 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 \-]{5,19}$")
]


def check_text(value: str) -> str:
    """Refuse text no database can store: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from exc
    return value


Storable = AfterValidator(check_text)


class Strict(BaseModel):
    """Input models refuse fields they do not know and text no database can store.

    Their numbers and booleans are strict (``Field(strict=True)``): JSON ``true``, ``"1"``
    and ``1.0`` are not the whole number 1, nor ``1`` or ``"yes"`` a boolean
    (tests/unit/test_strict_inputs.py checks every input model). Console forms, whose
    values are all text, validate with ``strict=False``.
    """

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            return check_text(value)
        if isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    check_text(item)
        return value


class Address(Strict):
    """A postal address with a contact: where a parcel goes, or where it comes from."""

    name: Text100
    phone: Phone
    line1: Text200
    line2: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    city: Text100
    region: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    postcode: (
        Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9 \-]{2,12}$")]
        | None
    ) = None
    country: CountryCode


class SellerCreate(Strict):
    name: Name
    country: CountryCode


class SellerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    country: str
    created_at: datetime


class StoreCreate(Strict):
    seller_id: str = Field(min_length=1, max_length=40)
    name: Name
    mode: StoreMode
    country: CountryCode
    timezone: str | None = Field(default=None, max_length=64)
    currency: CurrencyCode
    ship_promise_days: int = Field(default=2, ge=1, le=2, strict=True)
    linked_store_id: str | None = Field(default=None, max_length=40)
    sender_address: Address | None = Field(
        default=None, description="Printed as the sender on shipping labels (F8)."
    )
    on_behalf_reason: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
        | None
    ) = Field(
        default=None,
        description="Required for a full-managed store (M2): an operator opening one directly "
        "invites the seller and accepts on its behalf; the reason is recorded with the "
        "invitation (422 rule on_behalf_reason_required without it).",
    )


class StoreUpdate(Strict):
    name: Name | None = None
    ship_promise_days: int | None = Field(default=None, ge=1, le=2, strict=True)
    closed_days: list[date] | None = Field(
        default=None,
        max_length=366,
        description="The warehouse's own closed days, on top of its country's public holidays.",
    )
    sender_address: Address | None = Field(
        default=None, description="Printed as the sender on shipping labels (F8)."
    )


class StoreRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    seller_id: str
    name: str
    mode: StoreMode
    status: StoreStatus
    country: str
    timezone: str
    currency: str
    ship_promise_days: int
    closed_days: list[date]
    linked_store_id: str | None
    sender_address: Address | None = None
    created_at: datetime
    joined_at: datetime | None = Field(
        default=None,
        description="When the store joined (M2, M4); null while a full-managed store opened by "
        "invitation is still joining (no orders until then).",
    )
    version: int

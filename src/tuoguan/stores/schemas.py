"""API shapes for sellers and stores."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tuoguan.stores.models import StoreMode, StoreStatus

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$")]


class Strict(BaseModel):
    """Input models refuse fields they do not know."""

    model_config = ConfigDict(extra="forbid")


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
    ship_promise_days: Literal[1, 2] = 2
    linked_store_id: str | None = Field(default=None, max_length=40)


class StoreUpdate(Strict):
    name: Name | None = None
    ship_promise_days: Literal[1, 2] | None = None


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
    linked_store_id: str | None
    created_at: datetime
    version: int

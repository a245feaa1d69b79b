"""API shapes for refunds to buyers (G6, M3): the after-sales work asks for one, each party
reads them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from tuoguan.principal import Role
from tuoguan.stores.modes import Party
from tuoguan.stores.schemas import CurrencyCode, Strict


def _whole(value: Any) -> Any:
    """Name a fraction of a minor unit as such (the strict integer check names the rest)."""
    if isinstance(value, float) and not value.is_integer():
        raise PydanticCustomError(
            "no_fractions",
            "fractions of a minor unit are refused ({value}): send whole minor units",
            {"value": value},
        )
    return value


class RefundCreate(Strict):
    """Give the buyer money back on an order: at most what it paid less what was refunded."""

    amount_minor: Annotated[
        int,
        BeforeValidator(_whole),
        Field(
            ge=1,
            le=10**12,
            strict=True,
            description="Minor units, a whole positive number, in the order's currency.",
        ),
    ]
    currency: CurrencyCode = Field(description="The order's currency (422 otherwise).")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class BuyerRefundRead(BaseModel):
    """The storefront's view of a refund: what went back to the buyer, and why."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    order_id: str
    refunded_minor: int = Field(description="What this refund gave back, in minor units.")
    currency: str
    reason: str
    created_at: datetime


class RefundRead(BuyerRefundRead):
    """A refund as sellers (their own orders') and operators read it: who bore it (M3, G6)
    and its journal entry."""

    store_id: str
    bearer: Party = Field(
        description="seller: charged to the seller; platform: borne by the platform (M3 exemption)."
    )
    entry_id: str
    created_by: str


REFUND_VIEWS: dict[Role, type[BuyerRefundRead]] = {
    Role.operator: RefundRead,
    Role.seller: RefundRead,
    Role.system: RefundRead,
    Role.buyer_channel: BuyerRefundRead,
}
"""Each role's view of a refund; carriers and warehouse staff read none."""

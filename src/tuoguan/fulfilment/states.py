"""The fulfilment order's and the supply order's moves, as data (one table each).

Who may move them is decided by the use cases (a supply order is confirmed by its seller, cancelled
by an operator or with its buyer order); these tables say only what each state allows, and the one
error names the current state and what is allowed.
"""

from __future__ import annotations

from enum import StrEnum

from tuoguan.errors import IllegalTransition
from tuoguan.fulfilment.models import FulfilmentStatus, SupplyStatus


class FulfilmentAction(StrEnum):
    """What happens to a fulfilment order."""

    reserve = "reserve"  # the warehouse's stock is held for it (占用)
    pick = "pick"  # 拣货
    ship = "ship"  # 出库
    unship = "unship"  # the carrier voided the parcel after it left (F10): back on the shelf
    cancel = "cancel"


class SupplyAction(StrEnum):
    """What happens to a supply order (备货单)."""

    confirm = "confirm"  # the seller accepts it (O2)
    send = "send"  # its inbound notice left the seller (R1)
    receive = "receive"  # the warehouse holds the goods and the buyer order was served
    cancel = "cancel"


F, FA = FulfilmentStatus, FulfilmentAction
FULFILMENT: dict[tuple[FulfilmentStatus, FulfilmentAction], FulfilmentStatus] = {
    (F.awaiting_stock, FA.reserve): F.reserved,
    (F.reserved, FA.pick): F.picked,
    (F.reserved, FA.ship): F.shipped,
    (F.picked, FA.ship): F.shipped,
    (F.shipped, FA.unship): F.reserved,
    (F.awaiting_stock, FA.cancel): F.cancelled,
    (F.reserved, FA.cancel): F.cancelled,
    (F.picked, FA.cancel): F.cancelled,
}

S, SA = SupplyStatus, SupplyAction
SUPPLY: dict[tuple[SupplyStatus, SupplyAction], SupplyStatus] = {
    (S.awaiting_confirmation, SA.confirm): S.confirmed,
    (S.confirmed, SA.send): S.in_transit,
    (S.confirmed, SA.receive): S.received,
    (S.in_transit, SA.receive): S.received,
    (S.awaiting_confirmation, SA.cancel): S.cancelled,
    (S.confirmed, SA.cancel): S.cancelled,
    (S.in_transit, SA.cancel): S.cancelled,
}

# Stock is held for these (released when the order is cancelled).
HOLDS_STOCK = frozenset({F.reserved, F.picked})
# A supply order still to be served: the buyer order waits on it.
OPEN_SUPPLY = frozenset({S.awaiting_confirmation, S.confirmed, S.in_transit})


def fulfilment_next(status: FulfilmentStatus, action: FulfilmentAction) -> FulfilmentStatus:
    """The state a fulfilment order's action leads to, or the 409 naming what is allowed."""
    target = FULFILMENT.get((status, action))
    if target is None:
        allowed = [a.value for (s, a) in FULFILMENT if s is status]
        raise IllegalTransition(
            current=status.value, action=action.value, allowed=allowed, subject="fulfilment order"
        )
    return target


def supply_next(status: SupplyStatus, action: SupplyAction) -> SupplyStatus:
    """The state a supply order's action leads to, or the 409 naming what is allowed."""
    target = SUPPLY.get((status, action))
    if target is None:
        allowed = [a.value for (s, a) in SUPPLY if s is status]
        raise IllegalTransition(
            current=status.value, action=action.value, allowed=allowed, subject="supply order"
        )
    return target

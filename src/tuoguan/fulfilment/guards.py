"""What fulfilment says when a buyer order moves, in the same transaction (orders asks upwards
through ``orders.service.guard``; importing ``tuoguan.fulfilment`` registers this one).

- confirm: the order's confirmation is its supply order's (O2 × M5);
- cancel: the supply order is cancelled, the stock held is released, the fulfilment order ends;
- ship, for an order the platform ships: never by the seller (403 ``platform_ships``), and only
  with its stock held (409 ``stock_not_reserved``); the units then leave the ledger (F11);
- unship (F10, the carrier voided a parcel that had left): the units are held again;
- cancel by the seller once the platform holds the goods: refused (403 ``platform_holds_stock``).

Orders the seller ships (self-run, semi-managed) pass untouched, and so do orders placed before
fulfilment orders existed (they have none).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden
from tuoguan.fulfilment import moves, repository
from tuoguan.fulfilment.models import FulfilmentStatus, SupplyStatus
from tuoguan.fulfilment.states import HOLDS_STOCK, OPEN_SUPPLY
from tuoguan.orders import service as orders
from tuoguan.orders.models import Order
from tuoguan.orders.schemas import CancelBody
from tuoguan.orders.states import OrderAction, OrderStatus
from tuoguan.principal import Role
from tuoguan.stores.modes import Party, rules

_WATCHED = frozenset(
    {
        OrderAction.confirm,
        OrderAction.cancel,
        OrderAction.request_cancel,
        OrderAction.ship,
        OrderAction.unship,
    }
)


@orders.guard("fulfilment.order_actions")
async def _follow_the_order(
    session: AsyncSession, ctx: Ctx, order: Order, action: OrderAction, body: Any
) -> None:
    """Keep the fulfilment and supply orders in step with the buyer order's action."""
    if action not in _WATCHED or rules(order.mode).ships is Party.seller:
        return  # no query for the orders sellers ship
    fo = await repository.fulfilment_of(session, order.id, lock=True)
    if fo is None or fo.shipper is Party.seller:
        return
    if (
        action in (OrderAction.cancel, OrderAction.request_cancel)
        and ctx.principal.role is Role.seller
        and fo.status in HOLDS_STOCK
    ):
        raise Forbidden(
            f"the platform holds the goods of order {order.id} in its warehouse (F11); only the "
            "buyer or an operator may cancel it now",
            field="action",
            rule="platform_holds_stock",
        )
    if action is OrderAction.ship and ctx.principal.role is Role.seller:
        raise Forbidden(
            f"the platform ships order {order.id} from its warehouse (F11); the seller does not",
            field="action",
            rule="platform_ships",
        )
    if action is OrderAction.confirm:
        supply = await repository.supply_of(session, order.id, lock=True)
        if supply is not None and supply.status is SupplyStatus.awaiting_confirmation:
            moves.confirm_supply(session, ctx, order, supply)
    elif action is OrderAction.cancel and isinstance(body, CancelBody):
        supply = await repository.supply_of(session, order.id, lock=True)
        if supply is not None and supply.status in OPEN_SUPPLY:
            moves.cancel_supply(session, ctx, order, supply, body.reason)
        if fo.status is FulfilmentStatus.shipped and order.status is OrderStatus.cancel_requested:
            # O4 with F10 after shipment: the carrier stopped the parcel and brings it back to
            # the warehouse, as when it voids one that had left (``unship``); then released.
            await moves.back_on_shelf(session, ctx, fo)
        if fo.status not in (FulfilmentStatus.shipped, FulfilmentStatus.cancelled):
            await moves.release(session, ctx, order, fo)
    elif action is OrderAction.ship:
        if fo.status not in HOLDS_STOCK:
            raise Conflict(
                f"order {order.id} cannot ship: its warehouse holds no stock for it yet "
                f"(fulfilment order {fo.id} is {fo.status.value})",
                field="order_id",
                rule="stock_not_reserved",
            )
        await moves.ship_out(session, ctx, fo)
    elif action is OrderAction.unship and fo.status is FulfilmentStatus.shipped:
        await moves.back_on_shelf(session, ctx, fo)

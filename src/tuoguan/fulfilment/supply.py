"""Supply orders (备货单) as their seller and the operators see them: list, read, confirm, cancel.

A supply order is its buyer order's confirmation step (O2 × M5): confirming it confirms the
buyer order, so the 24 h clock, the breach and the penalty that hang on the order's
``confirm_by`` go on working; cancelling it cancels the buyer order, which cannot be served
without it. The moves of the supply order itself follow from the order's (``fulfilment.guards``).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, check_version
from tuoguan.fulfilment import repository, service
from tuoguan.fulfilment.models import SupplyOrder, SupplyStatus
from tuoguan.fulfilment.states import SupplyAction, supply_next
from tuoguan.orders import service as orders
from tuoguan.orders.schemas import CancelBody
from tuoguan.orders.states import OrderAction, OrderStatus
from tuoguan.principal import Principal, Role
from tuoguan.stores import repository as stores


async def list_supply_orders(
    session: AsyncSession,
    *,
    principal: Principal,
    statuses: Sequence[SupplyStatus] = (),
    store_id: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> tuple[list[SupplyOrder], str | None]:
    """Supply orders newest first: operators all, a seller its own; another seller's store is
    an empty page (found from the store row, without reading the list)."""
    seller_id = None
    if principal.role is Role.seller and principal.seller_id:
        seller_id = principal.seller_id
        if store_id is not None:
            store = await stores.get_store(session, store_id)
            if store is None or store.seller_id != seller_id:
                repository.SUPPLY_NEWEST.seek(cursor)  # a bad cursor is still a 400
                return [], None
    elif principal.role is not Role.operator:
        raise Forbidden("this role does not read supply orders")
    return await repository.supply_page(
        session,
        seller_id=seller_id,
        store_id=store_id,
        statuses=statuses,
        cursor=cursor,
        limit=limit,
    )


async def confirm_supply_order(
    session: AsyncSession, *, ctx: Ctx, supply_order_id: str, expected_version: int | None = None
) -> SupplyOrder:
    """O2: the seller confirms (确认接单) a supply order, which confirms its buyer order.

    409 ``order_cancelled`` when the buyer cancelled first; 409 with the allowed actions when
    the supply order is past confirmation. Nothing changes on a refusal.
    """
    if ctx.principal.role is not Role.seller:
        raise Forbidden("only the seller confirms its supply orders")
    found = await service.get_supply_order(
        session, principal=ctx.principal, supply_order_id=supply_order_id
    )
    check_version("supply order", found.id, found.version, expected_version)
    order = await orders.lock_order(session, principal=ctx.principal, order_id=found.order_id)
    supply = await repository.get_supply(session, supply_order_id, lock=True)
    assert supply is not None
    if order.status is OrderStatus.cancelled:
        raise Conflict(
            f"the buyer order {order.id} was cancelled: supply order {supply.id} is not needed",
            field="supply_order_id",
            rule="order_cancelled",
        )
    supply_next(supply.status, SupplyAction.confirm)  # refused unless awaiting confirmation
    await orders.act(session, ctx=ctx, order_id=order.id, action=OrderAction.confirm)
    return supply


async def cancel_supply_order(
    session: AsyncSession,
    *,
    ctx: Ctx,
    supply_order_id: str,
    reason: str,
    expected_version: int | None = None,
) -> SupplyOrder:
    """O2: an operator cancels a supply order (the seller will not or cannot supply it); its
    buyer order is cancelled with the same reason and any stock held for it released."""
    if ctx.principal.role is not Role.operator:
        raise Forbidden("only an operator cancels a supply order")
    found = await service.get_supply_order(
        session, principal=ctx.principal, supply_order_id=supply_order_id
    )
    check_version("supply order", found.id, found.version, expected_version)
    await orders.lock_order(session, principal=ctx.principal, order_id=found.order_id)
    supply = await repository.get_supply(session, supply_order_id, lock=True)
    assert supply is not None
    supply_next(supply.status, SupplyAction.cancel)  # refused once received or cancelled
    await orders.act(
        session,
        ctx=ctx,
        order_id=supply.order_id,
        action=OrderAction.cancel,
        body=CancelBody(reason=reason),
    )
    return supply

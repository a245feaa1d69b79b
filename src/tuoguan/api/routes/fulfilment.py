"""Fulfilment orders: which warehouse fulfils a buyer order, who ships it, how far it got (M1,
F11)."""

from __future__ import annotations

from fastapi import APIRouter

from tuoguan.api import access
from tuoguan.api.deps import PrincipalDep, ReadSession
from tuoguan.fulfilment import service
from tuoguan.fulfilment.schemas import FulfilmentOrderRead
from tuoguan.principal import Role

router = APIRouter(tags=["fulfilment"])


@router.get(
    "/orders/{order_id}/fulfilment-orders",
    response_model=list[FulfilmentOrderRead],
    **access.roles(Role.operator, Role.seller),
)
async def order_fulfilment(
    order_id: str, principal: PrincipalDep, session: ReadSession
) -> list[FulfilmentOrderRead]:
    """The order's fulfilment orders (today one): the warehouse, who ships (the seller, or the
    platform from its warehouse), the status and the platform's ship deadline. Another
    seller's order is a 404."""
    rows = await service.fulfilment_orders(session, principal=principal, order_id=order_id)
    return [FulfilmentOrderRead.model_validate(row) for row in rows]

"""Refunds to buyers: the after-sales work asks for one, each party reads them (G6, M3)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.principal import Role
from tuoguan.shipping import refunds
from tuoguan.shipping.money_models import Refund
from tuoguan.shipping.refund_schemas import REFUND_VIEWS, BuyerRefundRead, RefundCreate

router = APIRouter(tags=["refunds"])


@router.post(
    "/orders/{order_id}/refunds",
    status_code=201,
    **access.views(REFUND_VIEWS, only=(Role.operator, Role.buyer_channel)),
)
async def refund_order(
    order_id: str, request: Request, ctx: CtxDep, body: RefundCreate
) -> Response:
    """G6, M3: refund the order's buyer, at most what it paid less its refunds, in the order's
    currency. Borne by the platform for a full-managed order within the after-sales exemption
    (``TUOGUAN_REFUND_EXEMPTION_MONTHS`` calendar months after delivery), else charged to the
    seller; posted to the ledger at once. 422 ``order_currency``, ``within_refundable``,
    ``no_fractions``; 409 ``refundable_state`` for an order not shipped or cancelled."""

    async def render(_: AsyncSession, row: Refund) -> BuyerRefundRead:
        return refunds.present(row, ctx.principal)

    return await run_mutation(
        request,
        ctx,
        lambda s: refunds.refund(s, ctx=ctx, order_id=order_id, data=body),
        render,
        status_code=201,
    )


@router.get("/orders/{order_id}/refunds", **access.views(REFUND_VIEWS, array=True))
async def list_refunds(order_id: str, ctx: CtxDep, session: ReadSession) -> list[BuyerRefundRead]:
    """The order's refunds, oldest first: a seller its own orders', the storefront and
    operators any order's."""
    rows = await refunds.list_refunds(session, principal=ctx.principal, order_id=order_id)
    return [refunds.present(row, ctx.principal) for row in rows]

"""Supply orders (备货单): what the platform asks a full-managed seller to send to its warehouse
for a buyer order the warehouse cannot serve (O2 × M5)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import ClockDep, CtxDep, PrincipalDep, ReadSession, expected_version
from tuoguan.api.mutation import run_mutation
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.context import Ctx
from tuoguan.fulfilment import service, supply
from tuoguan.fulfilment.models import SupplyOrder, SupplyStatus
from tuoguan.fulfilment.schemas import SupplyCancelBody, SupplyLineRead, SupplyOrderRead
from tuoguan.kit.clock import Clock
from tuoguan.principal import Role

router = APIRouter(tags=["supply orders"])
STAFF = access.roles(Role.operator, Role.seller)
StatusQuery = Annotated[list[SupplyStatus] | None, Query(alias="status")]
IfMatch = Annotated[
    str | None, Header(description="The supply order version you saw; 409 if it moved.")
]


def present(row: SupplyOrder, clock: Clock) -> SupplyOrderRead:
    """A supply order with the time left to confirm it, counted now."""
    return SupplyOrderRead(
        id=row.id,
        order_id=row.order_id,
        fulfilment_order_id=row.fulfilment_order_id,
        store_id=row.store_id,
        seller_id=row.seller_id,
        warehouse_id=row.warehouse_id,
        status=row.status,
        currency=row.currency,
        confirm_by=row.confirm_by,
        confirm_seconds_left=service.confirm_seconds_left(row, clock.now()),
        confirmed_at=row.confirmed_at,
        cancelled_at=row.cancelled_at,
        cancel_reason=row.cancel_reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
        lines=[SupplyLineRead.model_validate(line) for line in row.lines],
    )


def _renderer(ctx: Ctx) -> Any:
    async def render(_: AsyncSession, row: SupplyOrder) -> SupplyOrderRead:
        return present(row, ctx.clock)

    return render


@router.get("/supply-orders", response_model=list[SupplyOrderRead], **STAFF)
async def list_supply_orders(
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: ReadSession,
    clock: ClockDep,
    status: StatusQuery = None,
    store_id: Annotated[str | None, Query(max_length=40)] = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SupplyOrderRead]:
    """Supply orders, newest first: operators all, a seller its own (another seller's store:
    an empty page). Filter by status (repeatable) and store. More pages: the ``Link`` header."""
    rows, next_cursor = await supply.list_supply_orders(
        session,
        principal=principal,
        statuses=tuple(status or ()),
        store_id=store_id,
        cursor=cursor,
        limit=limit,
    )
    next_link(request, response, next_cursor)
    return [present(row, clock) for row in rows]


@router.get("/supply-orders/{supply_order_id}", response_model=SupplyOrderRead, **STAFF)
async def get_supply_order(
    supply_order_id: str, principal: PrincipalDep, session: ReadSession, clock: ClockDep
) -> SupplyOrderRead:
    """One supply order; another seller's is a 404."""
    row = await service.get_supply_order(
        session, principal=principal, supply_order_id=supply_order_id
    )
    return present(row, clock)


@router.post(
    "/supply-orders/{supply_order_id}/confirm",
    response_model=SupplyOrderRead,
    **access.roles(Role.seller),  # O2: the seller's own confirmation (确认接单)
)
async def confirm_supply_order(
    supply_order_id: str, request: Request, ctx: CtxDep, if_match: IfMatch = None
) -> Response:
    """O2: confirm a supply order within 24 hours of its buyer order; this confirms the buyer
    order too. 409 ``order_cancelled`` when the buyer cancelled first."""
    expected = expected_version(if_match)
    return await run_mutation(
        request,
        ctx,
        lambda s: supply.confirm_supply_order(
            s, ctx=ctx, supply_order_id=supply_order_id, expected_version=expected
        ),
        _renderer(ctx),
    )


@router.post(
    "/supply-orders/{supply_order_id}/cancel",
    response_model=SupplyOrderRead,
    **access.roles(Role.operator),
)
async def cancel_supply_order(
    supply_order_id: str,
    request: Request,
    ctx: CtxDep,
    body: SupplyCancelBody,
    if_match: IfMatch = None,
) -> Response:
    """Cancel a supply order, with a reason; its buyer order, which cannot be served without
    it, is cancelled with it (O2: the operator may cancel an unconfirmed order)."""
    expected = expected_version(if_match)
    return await run_mutation(
        request,
        ctx,
        lambda s: supply.cancel_supply_order(
            s,
            ctx=ctx,
            supply_order_id=supply_order_id,
            reason=body.reason,
            expected_version=expected,
        ),
        _renderer(ctx),
    )

"""Orders: place, list, read, act on, export, timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import (
    ClockDep,
    CtxDep,
    PrincipalDep,
    ReadSession,
    expected_version,
    get_database,
)
from tuoguan.api.mutation import run_mutation
from tuoguan.api.openapi import CARRIER_CALL
from tuoguan.context import Ctx
from tuoguan.errors import InvalidInput
from tuoguan.fulfilment import service as fulfilment
from tuoguan.kit.clock import UTCInstant
from tuoguan.orders import service, views
from tuoguan.orders.models import Order
from tuoguan.orders.repository import OrderFilter
from tuoguan.orders.schemas import (
    ORDER_PAGES,
    ORDER_VIEWS,
    ActionBody,
    CancelBody,
    DeadlineExplanation,
    EventRead,
    OrderCreate,
    OrderPageView,
    OrderSort,
    OrderView,
    ShipBody,
)
from tuoguan.orders.states import TRANSITIONS, OrderAction, OrderStatus
from tuoguan.principal import Role
from tuoguan.shipping import cancellation

router = APIRouter(tags=["orders"])

StatusQuery = Annotated[list[OrderStatus] | None, Query(alias="status")]
IfMatch = Annotated[str | None, Header(description="The order version you saw; 409 if it moved.")]


def _renderer(ctx: Ctx) -> Any:
    async def render(session: AsyncSession, order: Order) -> OrderView:
        zones = await views.store_zones(session, {order.store_id})
        return views.present(
            order, principal=ctx.principal, store_tz=zones[order.store_id], now=ctx.clock.now()
        )

    return render


def _acting(action: OrderAction) -> dict[str, Any]:
    """Who may take an action (the transition tables), each answered through its order view."""
    actors = {
        r for table in TRANSITIONS.values() for t in table if t.action is action for r in t.roles
    }
    return access.views(ORDER_VIEWS, only=actors)


@router.post(
    "/orders",
    status_code=201,
    **access.views(ORDER_VIEWS, only=(Role.buyer_channel, Role.operator)),  # O1
)
async def place_order(request: Request, ctx: CtxDep, body: OrderCreate) -> Response:
    """Place an order (O1); its deadlines are computed as it enters its first state, and it
    is routed to the warehouse that fulfils it (M1, F11). A store whose orders the platform
    ships: served from the platform warehouse's stock at once (no confirmation needed), or a
    supply order goes to the seller (O2 × M5); 409 ``no_platform_warehouse`` without one."""
    return await run_mutation(
        request,
        ctx,
        lambda s: fulfilment.place_order(s, ctx=ctx, data=body),
        _renderer(ctx),
        status_code=201,
    )


def _filter(
    status: list[OrderStatus] | None,
    store_id: str | None,
    due_before: datetime | None,
    sort: OrderSort,
    cursor: str | None,
    limit: int,
    *,
    seller_id: str | None = None,
    q: str | None = None,
) -> OrderFilter:
    return OrderFilter(
        statuses=tuple(status or ()),
        store_id=store_id,
        seller_id=seller_id,
        due_before=due_before,
        q=q,
        sort=sort.value,
        cursor=cursor,
        limit=limit,
    )


@router.get("/orders", **access.views(ORDER_PAGES))
async def list_orders(
    principal: PrincipalDep,
    session: ReadSession,
    clock: ClockDep,
    status: StatusQuery = None,
    store_id: Annotated[str | None, Query(max_length=40)] = None,
    seller_id: Annotated[
        str | None,
        Query(
            max_length=40,
            description="One seller's orders (operators, the buyer channel); a seller's own, "
            "another seller's are none; a carrier may not filter by seller (403).",
        ),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Search, each an exact match: an order number (with or without "
            "``ord_``), a tracking number, the buyer's name or phone as on the order, a "
            "product's name or a SKU's code. Newest first; combines with store_id and "
            "seller_id, not with status, due_before or sort=deadline (422).",
        ),
    ] = None,
    due_before: Annotated[UTCInstant | None, Query()] = None,
    sort: OrderSort = OrderSort.newest,
    cursor: Annotated[
        str | None, Query(description="next_cursor of the previous page; anything else is a 400")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrderPageView:
    """Orders the caller may see; ``sort=deadline`` lists running deadlines soonest first (O5);
    ``q`` searches them (order number, tracking number, buyer, product)."""
    flt = _filter(status, store_id, due_before, sort, cursor, limit, seller_id=seller_id, q=q)
    rows, next_cursor = await service.list_orders(session, principal=principal, flt=flt)
    items = await views.present_many(session, rows, principal=principal, now=clock.now())
    return views.page(items, principal=principal, next_cursor=next_cursor)


@router.get(
    "/orders/export.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "Orders as CSV."}},
    **access.roles(Role.operator, Role.seller),  # O5: the seller's export
)
async def export_orders(
    request: Request,
    principal: PrincipalDep,
    status: StatusQuery = None,
    store_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[
        int | None,
        Query(
            ge=1,
            le=1_000_000,
            description="At most this many orders (default and maximum: the inline limit, "
            "TUOGUAN_EXPORT_INLINE_ROWS); more is a 422: start an export job (POST /exports).",
        ),
    ] = None,
) -> Response:
    """O5: export the caller's orders as CSV, streamed in chunks as they are read, newest first."""
    inline = request.app.state.settings.export_inline_rows
    if limit is not None and limit > inline:
        raise InvalidInput(
            f"an inline export has at most {inline} rows; for more, start an export job "
            "(POST /api/v1/exports)",
            field="limit",
            rule="export_inline_max",
        )
    flt = _filter(status, store_id, None, OrderSort.newest, None, limit or inline)
    chunks = await views.export_csv(get_database(request).read, principal=principal, flt=flt)
    return StreamingResponse(
        chunks,
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="orders.csv"'},
    )


@router.get("/orders/{order_id}", **access.views(ORDER_VIEWS))
async def get_order(
    order_id: str, principal: PrincipalDep, session: ReadSession, clock: ClockDep
) -> OrderView:
    """One order, with its running deadline and the actions the caller may take."""
    order = await service.get_order(session, principal=principal, order_id=order_id)
    (view,) = await views.present_many(session, [order], principal=principal, now=clock.now())
    return view


@router.get(
    "/orders/{order_id}/events",
    response_model=list[EventRead],
    **access.roles(Role.operator, Role.seller),  # the audit trail: actors, tokens, requests
)
async def order_events(
    order_id: str, principal: PrincipalDep, session: ReadSession
) -> list[EventRead]:
    """The order's timeline: every transition with who, when, from, to and why."""
    rows = await service.events(session, principal=principal, order_id=order_id)
    return [EventRead.model_validate(e) for e in rows]


@router.get(
    "/orders/{order_id}/deadlines/explain",
    response_model=list[DeadlineExplanation],
    **access.roles(Role.operator, Role.seller),  # the seller's calendar and deadlines
)
async def explain_deadlines(
    order_id: str, ctx: CtxDep, session: ReadSession
) -> list[DeadlineExplanation]:
    """How each deadline was computed: the rule, the zone, the days counted and skipped."""
    found = await service.explain_deadlines(session, ctx=ctx, order_id=order_id)
    return [DeadlineExplanation(kind=e.kind, rule=e.rule, at=e.at, steps=e.steps) for e in found]


async def _act(
    request: Request, ctx: Ctx, order_id: str, action: OrderAction, body: Any, if_match: str | None
) -> Response:
    expected = expected_version(if_match)
    return await run_mutation(
        request,
        ctx,
        lambda s: service.act(
            s, ctx=ctx, order_id=order_id, action=action, body=body, expected_version=expected
        ),
        _renderer(ctx),
    )


@router.post("/orders/{order_id}/confirm", **_acting(OrderAction.confirm))
async def confirm(
    order_id: str,
    request: Request,
    ctx: CtxDep,
    if_match: IfMatch = None,
    body: ActionBody | None = None,
) -> Response:
    """O2: the seller confirms a full-managed order (确认接单)."""
    return await _act(request, ctx, order_id, OrderAction.confirm, body, if_match)


@router.post("/orders/{order_id}/ship", **_acting(OrderAction.ship))
async def ship(
    order_id: str, request: Request, ctx: CtxDep, body: ShipBody, if_match: IfMatch = None
) -> Response:
    """Ship with a carrier and tracking number (F9)."""
    return await _act(request, ctx, order_id, OrderAction.ship, body, if_match)


@router.post("/orders/{order_id}/deliver", **_acting(OrderAction.deliver))
async def deliver(
    order_id: str,
    request: Request,
    ctx: CtxDep,
    if_match: IfMatch = None,
    body: ActionBody | None = None,
) -> Response:
    """The carrier reports delivery (妥投)."""
    return await _act(request, ctx, order_id, OrderAction.deliver, body, if_match)


@router.post("/orders/{order_id}/complete", **_acting(OrderAction.complete))
async def complete(
    order_id: str,
    request: Request,
    ctx: CtxDep,
    if_match: IfMatch = None,
    body: ActionBody | None = None,
) -> Response:
    """The buyer confirms receipt (确认收货)."""
    return await _act(request, ctx, order_id, OrderAction.complete, body, if_match)


@router.post(
    "/orders/{order_id}/cancel", responses=CARRIER_CALL, **_acting(OrderAction.request_cancel)
)
async def cancel(
    order_id: str, request: Request, ctx: CtxDep, body: CancelBody, if_match: IfMatch = None
) -> Response:
    """Cancel an order (O4), with a reason.

    If the seller already booked the parcel (the label exists), the carrier must void
    it first (F10): the order answers ``cancel_requested`` and is cancelled when the
    carrier confirms, or awaits shipment again if the carrier refuses.

    After shipment the buyer's channel or an operator asks the carrier to stop the
    parcel the same way: cancelled when it confirms; if it refuses, the order stays
    ``shipped`` and the cancel becomes a return. A parcel the carrier can no longer
    stop (out for delivery or done), or one shipped under a tracking number typed in
    by hand, is a 409 ``parcel_unstoppable``: the buyer asks for a return once it is
    delivered.
    """
    expected = expected_version(if_match)
    return await run_mutation(
        request,
        ctx,
        lambda s: cancellation.cancel_order(
            s, ctx=ctx, order_id=order_id, body=body, expected_version=expected
        ),
        _renderer(ctx),
    )

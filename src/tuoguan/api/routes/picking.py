"""The platform ships from its warehouse (F11): the pick list, picking with a scanner (C3), quotes
from the warehouse's origin, pack and ship, and the label printed at the warehouse (F8).

Warehouse staff of the warehouse and operators; staff of another warehouse are told it (or the
fulfilment order) is not found, as for inbound notices; every other role gets 403. A phone-sized
packing screen: take the list, scan each unit into ``/pick`` (send an ``Idempotency-Key``), ask
``/quotes``, ``/ship`` with the chosen service, then print ``/label.pdf`` (or ``.zpl``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, PrincipalDep, ReadSession, get_database
from tuoguan.api.mutation import run_mutation
from tuoguan.api.openapi import CARRIER_CALL, refusal
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.context import Ctx
from tuoguan.fulfilment import picking
from tuoguan.fulfilment.models import FulfilmentOrder, FulfilmentStatus
from tuoguan.fulfilment.picking_schemas import PickCreate, PickOrderRead
from tuoguan.principal import Role
from tuoguan.shipping import labels, printing, warehouse_shipping
from tuoguan.shipping.shipment_schemas import ShipmentCreate
from tuoguan.shipping.warehouse_schemas import (
    WarehouseOptions,
    WarehouseQuoteCreate,
    WarehouseShipped,
)

router = APIRouter(tags=["picking"])
PICKERS = access.roles(Role.operator, Role.warehouse)
StatusQuery = Annotated[
    list[FulfilmentStatus] | None,
    Query(alias="status", description="reserved (to pick) or picked (to pack); both if omitted."),
]
BINARY = {"schema": {"type": "string", "format": "binary"}}
PDF = {"content": {"application/pdf": BINARY}, "description": "The label, a 100 x 150 mm page."}
ZPL = {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "ZPL II."}
VOID = refusal(
    409,
    "The label is void (the carrier is voiding the parcel) or the carrier issued another format.",
)
BUSY = refusal(429, "Labels are being drawn for many requests at once: wait Retry-After seconds.")


async def _one(session: AsyncSession, fo: FulfilmentOrder) -> PickOrderRead:
    (shown,) = await picking.present(session, [fo])
    return shown


@router.get("/warehouses/{warehouse_id}/pick-list", response_model=list[PickOrderRead], **PICKERS)
async def pick_list(
    warehouse_id: str,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: ReadSession,
    status: StatusQuery = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[PickOrderRead]:
    """The warehouse's pick list (拣货单): the fulfilment orders it holds stock for and has not
    shipped, the soonest ship deadline first (F11), each with its lines (SKU code, variant,
    barcode, product, units). More pages: the ``Link`` header's rel=next."""
    rows, next_cursor = await picking.pick_list(
        session,
        principal=principal,
        warehouse_id=warehouse_id,
        statuses=status or (),
        cursor=cursor,
        limit=limit,
    )
    next_link(request, response, next_cursor)
    return await picking.present(session, rows)


@router.post(
    "/fulfilment-orders/{fulfilment_order_id}/pick", response_model=PickOrderRead, **PICKERS
)
async def pick_fulfilment_order(
    fulfilment_order_id: str, request: Request, ctx: CtxDep, body: PickCreate | None = None
) -> Response:
    """Picked (拣货): reserved → picked. Send what was scanned (``items``: SKU id, code or
    barcode, and units) to have it checked against the lines (C3): any difference is a 422
    ``pick_mismatch`` naming the line, and nothing moves."""
    return await run_mutation(
        request,
        ctx,
        lambda s: picking.pick(s, ctx=ctx, fulfilment_order_id=fulfilment_order_id, data=body),
        _one,
    )


@router.post(
    "/fulfilment-orders/{fulfilment_order_id}/quotes", response_model=WarehouseOptions, **PICKERS
)
async def quote_fulfilment_order(
    fulfilment_order_id: str,
    ctx: CtxDep,
    session: ReadSession,
    body: WarehouseQuoteCreate | None = None,
) -> WarehouseOptions:
    """F8 step 2 from the warehouse: the services for the parcel from the warehouse's country to
    the buyer, each itemized (G1), and why the others are refused (F5). Changes nothing."""
    return await warehouse_shipping.quote(
        session, ctx=ctx, fulfilment_order_id=fulfilment_order_id, data=body
    )


@router.post(
    "/fulfilment-orders/{fulfilment_order_id}/ship",
    response_model=WarehouseShipped,
    responses=CARRIER_CALL,
    **PICKERS,
)
async def ship_fulfilment_order(
    fulfilment_order_id: str, request: Request, ctx: CtxDep, body: ShipmentCreate
) -> Response:
    """Pack and ship (F8 steps 3-4, F11): book the picked order's parcel with the chosen service
    from the warehouse's address, paid by the platform, and submit it; the buyer order is
    shipped under the carrier's tracking number. 409 ``not_picked`` before picking."""

    async def render(session: AsyncSession, done: warehouse_shipping.Shipped) -> WarehouseShipped:
        return WarehouseShipped(
            fulfilment_order=await _one(session, done.fulfilment_order),
            shipment=warehouse_shipping.parcel_read(done.shipment, fulfilment_order_id),
        )

    return await run_mutation(
        request,
        ctx,
        lambda s: warehouse_shipping.ship(
            s, ctx=ctx, fulfilment_order_id=fulfilment_order_id, data=body
        ),
        render,
    )


async def _label(
    request: Request, ctx: Ctx, fulfilment_order_id: str, fmt: str
) -> list[labels.LabelData]:
    """What the label prints, read in a session closed before it is drawn."""
    async with get_database(request).read() as session:
        parcel = await warehouse_shipping.parcel_of(
            session, principal=ctx.principal, fulfilment_order_id=fulfilment_order_id
        )
        return await printing.label_batch(session, ctx=ctx, shipment_ids=[parcel.id], fmt=fmt)


@router.get(
    "/fulfilment-orders/{fulfilment_order_id}/label.pdf",
    response_class=Response,
    responses={200: PDF, **VOID, **BUSY},
    **PICKERS,
)
async def fulfilment_label_pdf(fulfilment_order_id: str, ctx: CtxDep, request: Request) -> Response:
    """F8 step 3 at the warehouse: the label (面单) of the parcel it shipped, a 100 x 150 mm PDF."""
    batch = await _label(request, ctx, fulfilment_order_id, "PDF")
    return Response(await labels.pdf(batch), media_type="application/pdf")


@router.get(
    "/fulfilment-orders/{fulfilment_order_id}/label.zpl",
    response_class=Response,
    responses={200: ZPL, **VOID, **BUSY},
    **PICKERS,
)
async def fulfilment_label_zpl(fulfilment_order_id: str, ctx: CtxDep, request: Request) -> Response:
    """The same label in ZPL II for the warehouse's 203 dpi thermal printers."""
    batch = await _label(request, ctx, fulfilment_order_id, "ZPL")
    return Response(await labels.zpl(batch[0]), media_type="text/plain; charset=utf-8")

"""Shipments: create with a label, submit, hand over, track, cancel; carrier pushes; insurance
claims (F8-F10, G3)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, ReadSession, expected_version, get_clock, get_database
from tuoguan.api.mutation import run_mutation
from tuoguan.api.openapi import CARRIER_CALL, refusal
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.context import Ctx
from tuoguan.principal import Role
from tuoguan.shipping import claims, labels, printing, shipments, tracking
from tuoguan.shipping import service as shipping
from tuoguan.shipping.carriers import carrier_for
from tuoguan.shipping.models import CarrierAccount, ClaimStatus, InsuranceClaim, Shipment
from tuoguan.shipping.schemas import CarrierAccountCreate, CarrierAccountRead
from tuoguan.shipping.shipment_schemas import (
    SHIPMENT_VIEWS,
    ClaimApprove,
    ClaimCreate,
    ClaimRead,
    ClaimReject,
    PickupCreate,
    PushResult,
    ShipmentCancel,
    ShipmentCreate,
    ShipmentView,
    TrackingEventRead,
)
from tuoguan.shipping.states import TRANSITIONS, ShipmentAction

router = APIRouter(tags=["shipments"])
OPERATORS = access.roles(Role.operator)
STAFF = access.roles(Role.operator, Role.seller)
# Labels and polls act on the parcel: those who ship it and the carrier that carries it.
HANDLERS = access.roles(Role.operator, Role.seller, Role.carrier)
IfMatch = Annotated[str | None, Header(description="The shipment version you saw; 409 if moved.")]
BINARY = {"schema": {"type": "string", "format": "binary"}}
PDF = {"content": {"application/pdf": BINARY}, "description": "The label(s), 100 x 150 mm pages."}
ZPL = {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "ZPL II."}
VOID = refusal(
    409, "A label is void (its shipment is cancelled) or the carrier issued another format."
)
BUSY = refusal(429, "Labels are being drawn for many requests at once: wait Retry-After seconds.")
UNSIGNED = refusal(401, "The push is not signed with the carrier's webhook secret, or is too old.")


def _render(ctx: Ctx):  # type: ignore[no-untyped-def]
    async def render(_: AsyncSession, shipment: Shipment) -> ShipmentView:
        return shipments.present(shipment, ctx.principal)

    return render


def _acting(action: ShipmentAction) -> dict[str, Any]:
    """Who may take a step (the transition table), each answered through its shipment view."""
    actors = {role for t in TRANSITIONS if t.action is action for role in t.roles}
    return access.views(SHIPMENT_VIEWS, only=actors)


@router.post("/carrier-accounts", status_code=201, response_model=CarrierAccountRead, **OPERATORS)
async def create_carrier_account(
    request: Request, ctx: CtxDep, body: CarrierAccountCreate
) -> Response:
    """Register a carrier's endpoint and credentials (operators)."""

    async def render(_: AsyncSession, account: CarrierAccount) -> CarrierAccountRead:
        return CarrierAccountRead.model_validate(account)

    return await run_mutation(
        request,
        ctx,
        lambda s: shipping.create_carrier_account(s, ctx=ctx, data=body),
        render,
        status_code=201,
    )


@router.get("/carrier-accounts", response_model=list[CarrierAccountRead], **OPERATORS)
async def list_carrier_accounts(ctx: CtxDep, session: ReadSession) -> list[CarrierAccountRead]:
    """Carrier accounts, without their secrets (operators)."""
    rows = await shipping.list_carrier_accounts(session, principal=ctx.principal)
    return [CarrierAccountRead.model_validate(row) for row in rows]


@router.post(
    "/orders/{order_id}/shipments",
    status_code=201,
    responses=CARRIER_CALL,
    **access.views(SHIPMENT_VIEWS, only=(Role.operator, Role.seller)),
)
async def create_shipment(
    order_id: str, request: Request, ctx: CtxDep, body: ShipmentCreate
) -> Response:
    """F8 step 3: book the parcel with the chosen service; the carrier assigns the tracking number.

    Refused with 409 while the order has a shipment that is not cancelled (F10).
    """
    return await run_mutation(
        request,
        ctx,
        lambda s: shipments.create(s, ctx=ctx, order_id=order_id, data=body),
        _render(ctx),
        status_code=201,
    )


@router.get("/orders/{order_id}/shipments", **access.views(SHIPMENT_VIEWS, array=True))
async def order_shipments(order_id: str, ctx: CtxDep, session: ReadSession) -> list[ShipmentView]:
    """The order's shipments the caller may read, newest first (cancelled ones included)."""
    rows = await shipments.for_order(session, principal=ctx.principal, order_id=order_id)
    return [shipments.present(row, ctx.principal) for row in rows]


@router.get("/shipments/{shipment_id}", **access.views(SHIPMENT_VIEWS))
async def get_shipment(shipment_id: str, ctx: CtxDep, session: ReadSession) -> ShipmentView:
    """One shipment: for its seller with its quote, charge, handover and what may be done next."""
    found = await shipments.read_shipment(session, principal=ctx.principal, shipment_id=shipment_id)
    return shipments.present(found, ctx.principal)


@router.get(
    "/shipments/{shipment_id}/events",
    response_model=list[TrackingEventRead],
    **access.roles(*SHIPMENT_VIEWS),  # whoever reads the parcel reads its tracking
)
async def shipment_events(
    shipment_id: str, ctx: CtxDep, session: ReadSession
) -> list[TrackingEventRead]:
    """F9: the parcel's normalized tracking history, oldest first (the buyer tracks it too)."""
    await shipments.read_shipment(session, principal=ctx.principal, shipment_id=shipment_id)
    rows = await tracking.events(session, shipment_id)
    return [TrackingEventRead.model_validate(row) for row in rows]


@router.get(
    "/shipments/{shipment_id}/label.pdf",
    response_class=Response,
    responses={200: PDF, **VOID, **BUSY},
    **HANDLERS,
)
async def label_pdf(shipment_id: str, ctx: CtxDep, request: Request) -> Response:
    """F8 step 3: the label as a 100 x 150 mm PDF with its fonts embedded."""
    batch = await _label_data(request, ctx, [shipment_id], "PDF")
    return Response(await labels.pdf(batch), media_type="application/pdf")


async def _label_data(
    request: Request, ctx: Ctx, ids: list[str], fmt: str
) -> list[labels.LabelData]:
    """What the labels print, read in a session closed before they are drawn: a render that
    waits its turn holds no database connection."""
    async with get_database(request).read() as session:
        return await printing.label_batch(session, ctx=ctx, shipment_ids=ids, fmt=fmt)


@router.get(
    "/shipments/{shipment_id}/label.zpl",
    response_class=Response,
    responses={200: ZPL, **VOID, **BUSY},
    **HANDLERS,
)
async def label_zpl(shipment_id: str, ctx: CtxDep, request: Request) -> Response:
    """F8 step 3: the label in ZPL II for 203 dpi thermal printers."""
    batch = await _label_data(request, ctx, [shipment_id], "ZPL")
    return Response(await labels.zpl(batch[0]), media_type="text/plain; charset=utf-8")


@router.get(
    "/labels.pdf", response_class=Response, responses={200: PDF, **VOID, **BUSY}, **HANDLERS
)
async def label_batch(
    ctx: CtxDep,
    request: Request,
    ids: Annotated[
        list[str], Query(description="1 to 200 shipment ids; a repeated id prints once")
    ],
) -> Response:
    """Many labels as one PDF, in the order given (batch printing)."""
    batch = await _label_data(request, ctx, ids, "PDF")
    return Response(await labels.pdf(batch), media_type="application/pdf")


async def _act(
    request: Request,
    ctx: Ctx,
    shipment_id: str,
    action: ShipmentAction,
    body: PickupCreate | ShipmentCancel | None,
    if_match: str | None,
) -> Response:
    version = expected_version(if_match)
    return await run_mutation(
        request,
        ctx,
        lambda s: shipments.act(
            s, ctx=ctx, shipment_id=shipment_id, action=action, body=body, expected_version=version
        ),
        _render(ctx),
    )


@router.post(
    "/shipments/{shipment_id}/submit",
    responses=CARRIER_CALL,
    **_acting(ShipmentAction.submit),
)
async def submit(
    shipment_id: str, request: Request, ctx: CtxDep, if_match: IfMatch = None
) -> Response:
    """F8 step 4: send the shipping info to the carrier; the order is shipped (F9)."""
    return await _act(request, ctx, shipment_id, ShipmentAction.submit, None, if_match)


@router.post(
    "/shipments/{shipment_id}/pickup",
    responses=CARRIER_CALL,
    **_acting(ShipmentAction.schedule_pickup),
)
async def schedule_pickup(
    shipment_id: str, request: Request, ctx: CtxDep, body: PickupCreate, if_match: IfMatch = None
) -> Response:
    """F8 step 5: book the carrier's pickup for a window and place."""
    return await _act(request, ctx, shipment_id, ShipmentAction.schedule_pickup, body, if_match)


@router.post(
    "/shipments/{shipment_id}/self-drop",
    responses=CARRIER_CALL,
    **_acting(ShipmentAction.self_drop),
)
async def self_drop(
    shipment_id: str, request: Request, ctx: CtxDep, if_match: IfMatch = None
) -> Response:
    """F4: the seller will drop the parcel at the carrier within 48 hours of its label."""
    return await _act(request, ctx, shipment_id, ShipmentAction.self_drop, None, if_match)


@router.post(
    "/shipments/{shipment_id}/cancel",
    responses=CARRIER_CALL,
    **_acting(ShipmentAction.cancel),
)
async def cancel(
    shipment_id: str, request: Request, ctx: CtxDep, body: ShipmentCancel, if_match: IfMatch = None
) -> Response:
    """F10: ask the carrier to cancel; the shipment shows cancel_requested until it answers."""
    return await _act(request, ctx, shipment_id, ShipmentAction.cancel, body, if_match)


@router.post(
    "/shipments/{shipment_id}/refresh",
    response_model=PushResult,
    responses=CARRIER_CALL,
    **HANDLERS,
)
async def refresh(shipment_id: str, request: Request, ctx: CtxDep) -> Response:
    """Poll the carrier for the parcel's events now (they are normally pushed)."""

    async def work(session: AsyncSession) -> PushResult:
        found = await shipments.get_shipment(
            session, principal=ctx.principal, shipment_id=shipment_id
        )
        return await tracking.refresh(session, ctx=ctx, shipment=found)

    async def render(_: AsyncSession, result: PushResult) -> PushResult:
        return result

    return await run_mutation(request, ctx, work, render)


@router.post(
    "/carriers/{code}/events",
    response_model=PushResult,
    responses=UNSIGNED,
    **access.roles(Role.carrier, token=False),  # signed with the carrier's secret
)
async def carrier_events(code: str, request: Request) -> PushResult:
    """A carrier pushes tracking events, signed with its webhook secret (5-minute window).

    Repeats and out-of-order events are harmless; an unknown parcel refuses the
    delivery (422) and nothing is applied.
    """
    db = get_database(request)
    clock = get_clock(request)
    body = await request.body()
    async with db.read() as session:
        adapter = carrier_for(await shipping.carrier_account(session, code))
    headers = {k.lower(): v for k, v in request.headers.items()}
    scans = adapter.read_push(headers, body, clock.now())
    ctx = Ctx(
        principal=tracking.carrier_principal(code),
        clock=clock,
        settings=request.app.state.settings,
        request_id=getattr(request.state, "request_id", None),
    )
    async with db.write() as session:
        result = await tracking.ingest(session, ctx=ctx, carrier_code=code, scans=scans)
        await session.commit()
    return result


async def _claim(_: AsyncSession, claim: InsuranceClaim) -> ClaimRead:
    return ClaimRead.model_validate(claim)


@router.post("/shipments/{shipment_id}/claims", status_code=201, response_model=ClaimRead, **STAFF)
async def file_claim(
    shipment_id: str, request: Request, ctx: CtxDep, body: ClaimCreate
) -> Response:
    """G3: claim on an insured parcel's loss or damage, with evidence."""
    return await run_mutation(
        request,
        ctx,
        lambda s: claims.file(s, ctx=ctx, shipment_id=shipment_id, data=body),
        _claim,
        status_code=201,
    )


@router.get("/claims", response_model=list[ClaimRead], **STAFF)
async def list_claims(
    request: Request,
    response: Response,
    ctx: CtxDep,
    session: ReadSession,
    status: ClaimStatus | None = None,
    order_id: Annotated[str | None, Query(max_length=40)] = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ClaimRead]:
    """Claims newest first: a seller its own; operators all (status=filed is the queue).
    More pages: the ``Link`` header's rel=next."""
    rows, next_cursor = await claims.list_claims(
        session,
        principal=ctx.principal,
        status=status,
        order_id=order_id,
        cursor=cursor,
        limit=limit,
    )
    next_link(request, response, next_cursor)
    return [ClaimRead.model_validate(row) for row in rows]


@router.get("/claims/{claim_id}", response_model=ClaimRead, **STAFF)
async def get_claim(claim_id: str, ctx: CtxDep, session: ReadSession) -> ClaimRead:
    """One claim."""
    return ClaimRead.model_validate(
        await claims.get_claim(session, principal=ctx.principal, claim_id=claim_id)
    )


@router.post("/claims/{claim_id}/approve", response_model=ClaimRead, **OPERATORS)
async def approve_claim(
    claim_id: str, request: Request, ctx: CtxDep, body: ClaimApprove
) -> Response:
    """An operator approves an amount up to the claim (owed to the seller)."""
    return await run_mutation(
        request, ctx, lambda s: claims.decide(s, ctx=ctx, claim_id=claim_id, decision=body), _claim
    )


@router.post("/claims/{claim_id}/reject", response_model=ClaimRead, **OPERATORS)
async def reject_claim(claim_id: str, request: Request, ctx: CtxDep, body: ClaimReject) -> Response:
    """An operator rejects the claim with a reason."""
    return await run_mutation(
        request, ctx, lambda s: claims.decide(s, ctx=ctx, claim_id=claim_id, decision=body), _claim
    )

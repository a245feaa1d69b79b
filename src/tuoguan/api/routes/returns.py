"""After-sales returns (G6, M3, O4): the storefront asks for its buyer's return and reads it
with its label; the platform (or, outside full-managed, the seller) authorizes it, which books
the return label with the carrier; the warehouse or the seller it goes to records its receipt;
the refund is the case's decision (``POST /cases/{id}/decision``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, ReadSession, get_database
from tuoguan.api.mutation import run_mutation
from tuoguan.api.openapi import CARRIER_CALL
from tuoguan.api.routes.cases import (
    EVIDENCE_FORM,
    STOREFRONT,
    _appeal,
    _evidence,
    _message,
    _render,
    only_kind,
)
from tuoguan.cases import reads, return_parcel, returns, service
from tuoguan.cases.kinds import CaseKind
from tuoguan.cases.reads import CASE_VIEWS
from tuoguan.cases.return_schemas import ReturnAuthorize, ReturnCreate, ReturnReceipt
from tuoguan.cases.schemas import (
    AppealRead,
    CaseAppeal,
    CaseMessage,
    CaseRead,
    PartyCaseRead,
    PartyEntryRead,
)
from tuoguan.context import Ctx
from tuoguan.errors import NotFound
from tuoguan.kit.clock import as_utc
from tuoguan.principal import Role

router = APIRouter(tags=["returns"])
LABEL = {
    "content": {
        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        "text/plain": {"schema": {"type": "string"}},
        "image/png": {"schema": {"type": "string", "format": "binary"}},
    },
    "description": "The return label: a 100 x 150 mm PDF, or the carrier's own (ZPL, PNG).",
}
AUTHORIZERS = access.views(CASE_VIEWS, only=(Role.operator, Role.seller))
RECEIVERS = access.views(CASE_VIEWS, only=(Role.operator, Role.seller, Role.warehouse))


@router.post("/cases/{case_id}/return/authorize", responses=CARRIER_CALL, **AUTHORIZERS)
async def authorize_return(
    case_id: str, request: Request, ctx: CtxDep, body: ReturnAuthorize
) -> Response:
    """G6: authorize the return and book its label with the carrier (an operator; the seller
    outside full-managed). 409 ``return_case``, ``illegal_transition``,
    ``return_after_delivery``, ``return_address``; 422 ``service_code``; 503 when the carrier
    cannot be reached (nothing booked)."""
    return await run_mutation(
        request,
        ctx,
        lambda s: return_parcel.authorize(s, ctx, case_id=case_id, data=body),
        _render(ctx),
    )


@router.post("/cases/{case_id}/return/receipt", **RECEIVERS)
async def receive_return(
    case_id: str, request: Request, ctx: CtxDep, body: ReturnReceipt
) -> Response:
    """G6: the return arrived; what came back (full-managed goods at the platform's warehouse
    go back on hand, or to defective). By staff of that warehouse, the seller it went to, or an
    operator. 403 ``receiver``; 409 ``illegal_transition``."""
    return await run_mutation(
        request,
        ctx,
        lambda s: return_parcel.receive(s, ctx, case_id=case_id, data=body),
        _render(ctx),
    )


@router.get(
    "/cases/{return_id}/return/label",
    response_class=Response,
    responses={200: LABEL},
    **access.roles(Role.operator, Role.seller, Role.carrier),
)
async def case_return_label(return_id: str, ctx: CtxDep, request: Request) -> Response:
    """The return label, for the platform, the seller and the return's carrier (warehouse
    staff receive the parcel; they do not print its label). 404 ``return_label`` before it is
    authorized."""
    return await _label(ctx, request, return_id)


# -- the storefront -------------------------------------------------------------------------------


@router.post("/returns", status_code=201, response_model=PartyCaseRead, **STOREFRONT)
async def open_return(request: Request, ctx: CtxDep, body: ReturnCreate) -> Response:
    """G6: the storefront asks for its buyer's return of a delivered order, within the return
    window. 409 ``return_after_delivery``, ``return_window``, ``one_open_return``,
    ``nothing_to_refund``."""
    return await run_mutation(
        request, ctx, lambda s: returns.open_return(s, ctx, body), _render(ctx), status_code=201
    )


@router.get("/returns/{return_id}", response_model=PartyCaseRead, **STOREFRONT)
async def get_return(return_id: str, ctx: CtxDep, session: ReadSession) -> CaseRead | PartyCaseRead:
    """A return as the buyer's side reads it: its step, its parcel and label, the decision."""
    case = await service.get_case(session, principal=ctx.principal, case_id=return_id)
    if case.kind is not CaseKind.after_sale:
        raise NotFound(f"return {return_id} not found", field="return_id")
    full = await reads.one(session, ctx.settings, ctx.principal, case, ctx.clock.now())
    return reads.for_reader(ctx.principal, full)


@router.get(
    "/returns/{return_id}/label",
    response_class=Response,
    responses={200: LABEL},
    **STOREFRONT,
)
async def return_label(return_id: str, ctx: CtxDep, request: Request) -> Response:
    """The return label the buyer prints. 404 ``return_label`` before it is authorized."""
    return await _label(ctx, request, return_id)


@router.post(
    "/returns/{return_id}/messages", status_code=201, response_model=PartyEntryRead, **STOREFRONT
)
async def post_return_message(
    return_id: str, request: Request, ctx: CtxDep, body: CaseMessage
) -> Response:
    """The buyer's message on its return. 409 ``case_open``."""
    await only_kind(request, ctx, return_id, CaseKind.after_sale)
    return await _message(request, ctx, return_id, body)


@router.post(
    "/returns/{return_id}/evidence",
    status_code=201,
    response_model=PartyEntryRead,
    **{**STOREFRONT, "openapi_extra": {**STOREFRONT["openapi_extra"], **EVIDENCE_FORM}},
)
async def add_return_evidence(return_id: str, request: Request, ctx: CtxDep) -> Response:
    """The buyer's photos of what it sends back. 409 ``case_open``; 422 ``document_type``,
    ``document_max_bytes``, ``required``."""
    await only_kind(request, ctx, return_id, CaseKind.after_sale)
    return await _evidence(request, ctx, return_id)


@router.post("/returns/{return_id}/appeal", response_model=AppealRead, **STOREFRONT)
async def appeal_return(
    return_id: str, request: Request, ctx: CtxDep, body: CaseAppeal
) -> Response:
    """The buyer's one appeal of the return's decision, within its window. 409
    ``appeal_once``, ``appeal_window``."""
    await only_kind(request, ctx, return_id, CaseKind.after_sale)
    return await _appeal(request, ctx, return_id, body)


async def _label(ctx: Ctx, request: Request, case_id: str) -> Response:
    async with get_database(request).read() as session:
        today = as_utc(ctx.clock.now()).date().isoformat()
        content, media = await return_parcel.label(
            session, principal=ctx.principal, case_id=case_id, printed_on=today
        )
    return Response(content, media_type=media)

"""Cases (R2-R4, G4): receiving exceptions and buyer disputes, their evidence and messages,
decisions, one appeal. Each party reads the cases it is on; anyone else's read as not found."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, ReadSession, get_database
from tuoguan.api.mutation import run_mutation
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.cases import decisions, prevention, reads, reports, service, steps
from tuoguan.cases.kinds import CaseKind, CaseState
from tuoguan.cases.models import Case, CaseEntry
from tuoguan.cases.reads import CASE_VIEWS, ENTRY_VIEWS
from tuoguan.cases.schemas import (
    AppealDecide,
    AppealRead,
    CaseAppeal,
    CaseDecide,
    CaseEntryRead,
    CaseMessage,
    CaseMove,
    CaseRead,
    DisputeCreate,
    DisputeWeekRead,
    PartyCaseRead,
    PartyEntryRead,
    PreSendCheckRead,
    ReceivingCaseCreate,
    ReceivingReportRead,
)
from tuoguan.context import Ctx
from tuoguan.errors import InvalidInput, NotFound
from tuoguan.onboarding import documents
from tuoguan.onboarding.review_models import Document
from tuoguan.principal import Role

router = APIRouter(tags=["cases"])

OPERATOR = access.roles(Role.operator)
# The platform's side and the parties to a receiving exception; the storefront works on its
# buyer's disputes through /disputes (one view per route, no other case in sight).
CASE_ROLES = (Role.operator, Role.seller, Role.warehouse, Role.carrier)
ENTRY = access.views(ENTRY_VIEWS, only=CASE_ROLES)
STOREFRONT = access.roles(Role.buyer_channel)
Limit = Annotated[int, Query(ge=1, le=200)]
EVIDENCE_BODY_BYTES = 32 * 1_048_576 + 64 * 1024
LARGER_BODIES = (
    (re.compile(r"^/api/v1/(cases|disputes|returns)/[^/]+/evidence$"), EVIDENCE_BODY_BYTES),
)
EVIDENCE_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "A photo or a PDF (PDF, JPEG, PNG, WebP by content), "
                            "at most TUOGUAN_DOCUMENT_MAX_BYTES.",
                        },
                        "text": {
                            "type": "string",
                            "maxLength": 2000,
                            "description": "What the proof shows, or the proof itself.",
                        },
                    },
                }
            }
        },
    }
}


def _render(ctx: Ctx) -> Callable[[AsyncSession, Case], Awaitable[CaseRead | PartyCaseRead]]:
    async def render(session: AsyncSession, row: Case) -> CaseRead | PartyCaseRead:
        full = await reads.one(session, ctx.settings, ctx.principal, row, ctx.clock.now())
        return reads.for_reader(ctx.principal, full)

    return render


async def _entry(
    ctx: Ctx, session: AsyncSession, entry: CaseEntry
) -> CaseEntryRead | PartyEntryRead:
    document = await session.get(Document, entry.document_id) if entry.document_id else None
    shown = reads.present_entry(ctx.settings, entry, document, ctx.clock.now())
    return reads.entry_for(ctx.principal, shown)


@router.post(
    "/cases/receiving",
    status_code=201,
    **access.views(CASE_VIEWS, only=(Role.operator, Role.seller, Role.warehouse)),
)
async def raise_receiving_exception(
    request: Request, ctx: CtxDep, body: ReceivingCaseCreate
) -> Response:
    """R2: raise a receiving exception on an inbound notice (staff of its warehouse, its
    seller, an operator), from one of its discrepancies where there is one. Another seller's
    notice: 404; 409 ``one_case_per_discrepancy``; 422 ``required`` (the cause)."""
    return await run_mutation(
        request,
        ctx,
        lambda s: service.open_receiving(s, ctx, body),
        _render(ctx),
        status_code=201,
    )


@router.get("/cases", **access.views(CASE_VIEWS, only=CASE_ROLES, array=True))
async def list_cases(
    request: Request,
    response: Response,
    ctx: CtxDep,
    session: ReadSession,
    kind: CaseKind | None = None,
    state: CaseState | None = None,
    cursor: CursorQuery = None,
    limit: Limit = 50,
) -> list[CaseRead | PartyCaseRead]:
    """The cases the reader is on (operators: all; a carrier those that name it), working ones
    first with the nearest deadline first, then decided, then closed. More pages: the ``Link``
    header's rel=next."""
    rows, next_cursor = await reads.queue(
        session, principal=ctx.principal, kind=kind, state=state, cursor=cursor, limit=limit
    )
    next_link(request, response, next_cursor)
    now = ctx.clock.now()
    return [reads.for_reader(ctx.principal, reads.present(row, ctx.principal, now)) for row in rows]


@router.get(
    "/inbound-notices/{notice_id}/pre-send-check",
    response_model=list[PreSendCheckRead],
    **access.roles(Role.seller, Role.operator),
)
async def pre_send_check(
    notice_id: str, ctx: CtxDep, session: ReadSession
) -> list[PreSendCheckRead]:
    """R4: what to check before sending this notice: its counts against the supply order it
    answers, cartons against units, the carton labels (notice and warehouse), and the causes of
    the seller's receiving exceptions in the last 90 days. It warns; it refuses nothing."""
    found = await prevention.pre_send(
        session, principal=ctx.principal, notice_id=notice_id, now=ctx.clock.now()
    )
    return [PreSendCheckRead(check=c.check, level=c.level, data=c.data) for c in found]


@router.get("/cases/reports/receiving", response_model=ReceivingReportRead, **OPERATOR)
async def receiving_report(
    ctx: CtxDep, session: ReadSession, weeks: Annotated[int, Query(ge=1, le=52)] = 12
) -> ReceivingReportRead:
    """R4: receiving exception rates over the last ``weeks`` weeks (Monday to Sunday, China
    time): per week, per seller and per carrier (exceptions over the notices that arrived), and
    per cause; a seller or carrier with 3 or more in the last 30 days is flagged ``repeat``."""
    found = await reports.receiving(session, now=ctx.clock.now(), weeks=weeks)
    return reads.present_receiving(found)


@router.get("/cases/reports/disputes", response_model=list[DisputeWeekRead], **OPERATOR)
async def dispute_report(
    ctx: CtxDep, session: ReadSession, weeks: Annotated[int, Query(ge=1, le=52)] = 12
) -> list[DisputeWeekRead]:
    """G4: per week of opening, the disputes' time to decision (p50, p95, in hours) and how
    many were decided within the 3-day target (a dispute still open past it is late)."""
    found = await reports.disputes(session, now=ctx.clock.now(), weeks=weeks)
    return reads.present_disputes(found)


@router.get("/cases/{case_id}", **access.views(CASE_VIEWS, only=CASE_ROLES))
async def get_case(case_id: str, ctx: CtxDep, session: ReadSession) -> CaseRead | PartyCaseRead:
    """One case and its whole timeline (files behind short-lived signed links)."""
    return await _read(ctx, session, case_id)


@router.post("/cases/{case_id}/move", response_model=CaseRead, **OPERATOR)
async def move_case(case_id: str, request: Request, ctx: CtxDep, body: CaseMove) -> Response:
    """R3: take the case to one of its next steps (ask the carrier, ask the seller, escalate);
    the step's owner and deadline follow. 409 ``illegal_transition``."""
    return await run_mutation(
        request, ctx, lambda s: steps.move(s, ctx, case_id=case_id, data=body), _render(ctx)
    )


@router.post("/cases/{case_id}/messages", status_code=201, **ENTRY)
async def post_message(case_id: str, request: Request, ctx: CtxDep, body: CaseMessage) -> Response:
    """A message from a party on the case. 403 ``not_a_party``; 409 ``case_open``."""
    return await _message(request, ctx, case_id, body)


@router.post(
    "/cases/{case_id}/evidence",
    status_code=201,
    **{**ENTRY, "openapi_extra": {**ENTRY["openapi_extra"], **EVIDENCE_FORM}},
)
async def add_evidence(case_id: str, request: Request, ctx: CtxDep) -> Response:
    """R3: proof from a party on the case, a file (multipart ``file``, checked by content) and
    or a ``text``, kept with who, when and its SHA-256. 403 ``not_a_party``; 409
    ``case_open``; 422 ``document_type``, ``document_max_bytes``, ``required``."""
    return await _evidence(request, ctx, case_id)


@router.post("/cases/{case_id}/decision", response_model=CaseRead, **OPERATOR)
async def decide_case(case_id: str, request: Request, ctx: CtxDep, body: CaseDecide) -> Response:
    """R3, G4: decide from the kind's list, naming who bears it; the money is posted with the
    decision. 409 ``illegal_transition``, ``nothing_to_refund``, ``refundable_state``; 422
    ``decision_in_kind``, ``bearer_allowed``, ``no_bearer``, ``no_amount``, ``required``,
    ``within_refundable``, ``postage_seller_only``."""
    return await run_mutation(
        request, ctx, lambda s: decisions.decide(s, ctx, case_id=case_id, data=body), _render(ctx)
    )


@router.post(
    "/cases/{case_id}/appeal",
    response_model=AppealRead,
    **access.roles(Role.seller, Role.warehouse, Role.carrier),
)
async def appeal_case(case_id: str, request: Request, ctx: CtxDep, body: CaseAppeal) -> Response:
    """R3 申诉: once per case, by a party on it, within the decision's appeal window. 409
    ``appeal_once``, ``appeal_window``; 403 ``not_a_party``."""
    return await _appeal(request, ctx, case_id, body)


@router.post("/cases/{case_id}/appeal/decision", response_model=CaseRead, **OPERATOR)
async def decide_appeal(
    case_id: str, request: Request, ctx: CtxDep, body: AppealDecide
) -> Response:
    """The appeal's final result, by another operator than the first decision's (403
    ``different_operator``): upheld, or overturned with a new decision whose money replaces
    the first's. 409 ``illegal_transition``, ``refund_kept``; 422 as for a decision."""
    return await run_mutation(
        request,
        ctx,
        lambda s: decisions.decide_appeal(s, ctx, case_id=case_id, data=body),
        _render(ctx),
    )


# -- the storefront's side of its buyers' disputes (G4) -------------------------------------------


@router.post("/disputes", status_code=201, response_model=PartyCaseRead, **STOREFRONT)
async def open_dispute(request: Request, ctx: CtxDep, body: DisputeCreate) -> Response:
    """G4: the storefront opens its buyer's dispute on an order that shipped; the platform's
    target is a decision within 3 natural days. 409 ``refundable_state``, ``one_open_dispute``."""
    return await run_mutation(
        request,
        ctx,
        lambda s: service.open_dispute(s, ctx, body),
        _render(ctx),
        status_code=201,
    )


@router.get("/disputes/{dispute_id}", response_model=PartyCaseRead, **STOREFRONT)
async def get_dispute(
    dispute_id: str, ctx: CtxDep, session: ReadSession
) -> CaseRead | PartyCaseRead:
    """A dispute and its timeline as the buyer's side reads it."""
    case = await service.get_case(session, principal=ctx.principal, case_id=dispute_id)
    _kind(case, CaseKind.dispute)
    full = await reads.one(session, ctx.settings, ctx.principal, case, ctx.clock.now())
    return reads.for_reader(ctx.principal, full)


@router.post(
    "/disputes/{dispute_id}/messages",
    status_code=201,
    response_model=PartyEntryRead,
    **STOREFRONT,
)
async def post_dispute_message(
    dispute_id: str, request: Request, ctx: CtxDep, body: CaseMessage
) -> Response:
    """The buyer's message on its dispute (the storefront relays it). 409 ``case_open``."""
    await only_kind(request, ctx, dispute_id, CaseKind.dispute)
    return await _message(request, ctx, dispute_id, body)


@router.post(
    "/disputes/{dispute_id}/evidence",
    status_code=201,
    response_model=PartyEntryRead,
    **{**STOREFRONT, "openapi_extra": {**STOREFRONT["openapi_extra"], **EVIDENCE_FORM}},
)
async def add_dispute_evidence(dispute_id: str, request: Request, ctx: CtxDep) -> Response:
    """The buyer's proof (photos, a text), kept with when and its SHA-256. 409 ``case_open``;
    422 ``document_type``, ``document_max_bytes``, ``required``."""
    await only_kind(request, ctx, dispute_id, CaseKind.dispute)
    return await _evidence(request, ctx, dispute_id)


@router.post("/disputes/{dispute_id}/appeal", response_model=AppealRead, **STOREFRONT)
async def appeal_dispute(
    dispute_id: str, request: Request, ctx: CtxDep, body: CaseAppeal
) -> Response:
    """The buyer's one appeal of the decision, within its window. 409 ``appeal_once``,
    ``appeal_window``."""
    await only_kind(request, ctx, dispute_id, CaseKind.dispute)
    return await _appeal(request, ctx, dispute_id, body)


# -- shared ---------------------------------------------------------------------------------------


def _kind(case: Case, kind: CaseKind) -> None:
    if case.kind is not kind:
        noun, field = (
            ("return", "return_id") if kind is CaseKind.after_sale else (kind.value, "dispute_id")
        )
        raise NotFound(f"{noun} {case.id} not found", field=field)


async def only_kind(request: Request, ctx: Ctx, case_id: str, kind: CaseKind) -> None:
    """The storefront's routes of one kind act on cases of that kind only (404 otherwise)."""
    async with get_database(request).read() as session:
        _kind(await service.get_case(session, principal=ctx.principal, case_id=case_id), kind)


async def _read(ctx: Ctx, session: AsyncSession, case_id: str) -> CaseRead | PartyCaseRead:
    case = await service.get_case(session, principal=ctx.principal, case_id=case_id)
    full = await reads.one(session, ctx.settings, ctx.principal, case, ctx.clock.now())
    return reads.for_reader(ctx.principal, full)


async def _message(request: Request, ctx: Ctx, case_id: str, body: CaseMessage) -> Response:
    return await run_mutation(
        request,
        ctx,
        lambda s: steps.add_message(s, ctx, case_id=case_id, text=body.text),
        lambda s, e: _entry(ctx, s, e),
        status_code=201,
    )


async def _appeal(request: Request, ctx: Ctx, case_id: str, body: CaseAppeal) -> Response:
    async def render(_: AsyncSession, case: Case) -> AppealRead:
        assert case.appealed_at is not None and case.appealed_party is not None
        return AppealRead(
            case_id=case.id,
            state=case.state,
            appealed_party=case.appealed_party,
            appealed_at=case.appealed_at,
            reason=case.appeal_reason or "",
            decide_by=case.step_due_at,
        )

    return await run_mutation(
        request, ctx, lambda s: decisions.appeal(s, ctx, case_id=case_id, data=body), render
    )


async def _evidence(request: Request, ctx: Ctx, case_id: str) -> Response:
    await request.body()
    form = await request.form(max_files=1, max_fields=4)
    upload = form.get("file")
    text = form.get("text")
    if text is not None and not isinstance(text, str):
        raise InvalidInput("text is a form field, not a file", field="text", rule="text")
    said = (text or "").strip() or None
    if said is not None and (len(said) > 2000 or "\x00" in said):
        raise InvalidInput(
            "text is at most 2000 characters, without NUL", field="text", rule="max_length"
        )
    data: bytes | None = None
    name: str | None = None
    if isinstance(upload, UploadFile):
        data = await upload.read(ctx.settings.document_max_bytes + 1)
        name = upload.filename
    elif upload is not None:
        raise InvalidInput("send the file as the multipart field `file`", field="file")
    evidence = steps.Evidence(text=said, data=data, file_name=name)
    return await run_mutation(
        request,
        ctx,
        lambda s: steps.add_evidence(
            s,
            ctx,
            case_id=case_id,
            evidence=evidence,
            storage=documents.storage_for(ctx.settings),
            settings=ctx.settings,
        ),
        lambda s, e: _entry(ctx, s, e),
        status_code=201,
    )

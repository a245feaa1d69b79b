"""Inbound notices (ASN, 入库单), their carton labels, receiving and its discrepancies, and the
stale-inbound report (R1, R2, R4).

Made for a phone-sized receiving screen and a barcode scanner that types: scan the ASN id (the
carton label's barcode) or the carrier's tracking number into ``/inbound-notices/lookup``, then
scan each SKU's barcode or code straight into ``/counts`` (or look its line up first with
``/lines/lookup``); send an ``Idempotency-Key`` with each count so a retried scan counts once.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import FileResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, PrincipalDep, ReadSession, expected_version, get_database
from tuoguan.api.mutation import run_mutation
from tuoguan.api.openapi import refusal
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.context import Ctx
from tuoguan.errors import InvalidInput
from tuoguan.fulfilment import (
    carton_labels,
    discrepancies,
    inbound,
    inbound_reads,
    receiving,
    uploads,
)
from tuoguan.fulfilment.inbound_schemas import (
    CountsCreate,
    DiscrepancyRead,
    InboundLineRead,
    InboundNoticeCreate,
    InboundNoticeRead,
    InboundNoticeUpdate,
    StaleInboundReport,
)
from tuoguan.fulfilment.models import InboundDiscrepancy, InboundNotice, InboundStatus
from tuoguan.principal import Role

router = APIRouter(tags=["inbound"])
API = "/api/v1"
SENDERS = access.roles(Role.operator, Role.seller)
RECEIVERS = access.roles(Role.operator, Role.warehouse)
READERS = access.roles(Role.operator, Role.seller, Role.warehouse)
IdFilter = Annotated[str | None, Query(min_length=1, max_length=40)]
StatusQuery = Annotated[list[InboundStatus] | None, Query(alias="status")]
Code = Annotated[str, Query(min_length=1, max_length=64, description="As scanned or typed.")]
IfMatch = Annotated[str | None, Header(description="The notice version you saw; 409 if it moved.")]
BINARY = {"schema": {"type": "string", "format": "binary"}}
PDF = {
    "content": {"application/pdf": BINARY},
    "description": "A 100 x 150 mm page per carton, with the ASN id as a Code 128 barcode.",
}
IMAGE = {
    "content": {"image/jpeg": BINARY, "image/png": BINARY, "image/webp": BINARY},
    "description": "The photo, as uploaded.",
}
BUSY = refusal(429, "Labels are being drawn for many requests at once: wait Retry-After seconds.")
PHOTO_PATH = re.compile(r"^/api/v1/inbound-notices/[^/]+/discrepancies/[^/]+/photos$")
# A photo and its multipart envelope: the body limit for PHOTO_PATH (api/middleware.BodyLimit).
PHOTO_BODY_BYTES = uploads.MAX_PHOTO_BYTES + 64 * 1024
LARGER_BODIES = ((PHOTO_PATH, PHOTO_BODY_BYTES),)
PHOTO_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "A JPEG, PNG or WebP photo (by content), at most 5 MB.",
                        }
                    },
                }
            }
        },
    }
}


def photo_url(notice_id: str, discrepancy_id: str, n: int) -> str:
    """Where a discrepancy's photo is served."""
    return f"{API}/inbound-notices/{notice_id}/discrepancies/{discrepancy_id}/photos/{n}"


async def _show(session: AsyncSession, ctx: Ctx, notice: InboundNotice) -> InboundNoticeRead:
    (shown,) = await inbound_reads.present(
        session, principal=ctx.principal, notices=[notice], photo_url=photo_url
    )
    return shown


def _render(ctx: Ctx) -> Callable[[AsyncSession, InboundNotice], Awaitable[InboundNoticeRead]]:
    async def render(session: AsyncSession, notice: InboundNotice) -> InboundNoticeRead:
        return await _show(session, ctx, notice)

    return render


# -- the seller's side ------------------------------------------------------------------------


@router.post("/inbound-notices", status_code=201, response_model=InboundNoticeRead, **SENDERS)
async def create_inbound_notice(
    request: Request, ctx: CtxDep, body: InboundNoticeCreate
) -> Response:
    """A draft inbound notice (R1): the store (the seller's own), the destination warehouse (the
    platform's or a third party's, or the seller's own; another seller's: 404 for a seller,
    422 ``not_your_warehouse`` for an operator), SKU lines (the store's, each once, 1-100 000
    units), cartons (1-999), optionally the supply order it answers, the carrier and the
    tracking number."""
    return await run_mutation(
        request,
        ctx,
        lambda s: inbound.create(s, ctx=ctx, data=body),
        _render(ctx),
        status_code=201,
    )


@router.get("/inbound-notices", response_model=list[InboundNoticeRead], **READERS)
async def list_inbound_notices(
    request: Request,
    response: Response,
    ctx: CtxDep,
    session: ReadSession,
    status: StatusQuery = None,
    warehouse_id: IdFilter = None,
    store_id: IdFilter = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[InboundNoticeRead]:
    """Inbound notices, newest first: operators all, a seller its own, warehouse staff those
    sent to their warehouses. More pages: the ``Link`` header's rel=next."""
    rows, next_cursor = await inbound_reads.list_notices(
        session,
        principal=ctx.principal,
        statuses=status or (),
        warehouse_id=warehouse_id,
        store_id=store_id,
        cursor=cursor,
        limit=limit,
    )
    next_link(request, response, next_cursor)
    return await inbound_reads.present(
        session, principal=ctx.principal, notices=rows, photo_url=photo_url
    )


@router.get("/inbound-notices/lookup", response_model=list[InboundNoticeRead], **READERS)
async def lookup_inbound_notices(
    ctx: CtxDep, session: ReadSession, code: Code
) -> list[InboundNoticeRead]:
    """For scanners: the notice whose id the code is (the carton label's barcode; any letter
    case), else the notices shipped under it as tracking number, those being received first.
    An empty list when none the caller may see matches."""
    rows = await inbound_reads.lookup(session, principal=ctx.principal, code=code)
    return await inbound_reads.present(
        session, principal=ctx.principal, notices=rows, photo_url=photo_url
    )


@router.get("/inbound-notices/{notice_id}", response_model=InboundNoticeRead, **READERS)
async def get_inbound_notice(
    notice_id: str, ctx: CtxDep, session: ReadSession
) -> InboundNoticeRead:
    """One notice with its lines (SKU code, barcode, product), counts, discrepancies and what
    the caller may do next."""
    notice = await inbound.get_notice(session, principal=ctx.principal, notice_id=notice_id)
    return await _show(session, ctx, notice)


@router.patch("/inbound-notices/{notice_id}", response_model=InboundNoticeRead, **SENDERS)
async def update_inbound_notice(
    notice_id: str,
    request: Request,
    ctx: CtxDep,
    body: InboundNoticeUpdate,
    if_match: IfMatch = None,
) -> Response:
    """Change a draft (409 once sent): a field left out stays, ``lines`` replaces them all."""
    version = expected_version(if_match)
    return await run_mutation(
        request,
        ctx,
        lambda s: inbound.update(
            s, ctx=ctx, notice_id=notice_id, data=body, expected_version=version
        ),
        _render(ctx),
    )


@router.post("/inbound-notices/{notice_id}/send", response_model=InboundNoticeRead, **SENDERS)
async def send_inbound_notice(
    notice_id: str, request: Request, ctx: CtxDep, if_match: IfMatch = None
) -> Response:
    """The cartons left (发货): draft → in_transit; needs the carrier and the tracking number;
    the warehouse's ``inbound`` stock shows the units announced."""
    version = expected_version(if_match)
    return await run_mutation(
        request,
        ctx,
        lambda s: inbound.send(s, ctx=ctx, notice_id=notice_id, expected_version=version),
        _render(ctx),
    )


@router.post("/inbound-notices/{notice_id}/cancel", response_model=InboundNoticeRead, **SENDERS)
async def cancel_inbound_notice(
    notice_id: str, request: Request, ctx: CtxDep, if_match: IfMatch = None
) -> Response:
    """Withdraw a draft (409 once sent)."""
    version = expected_version(if_match)
    return await run_mutation(
        request,
        ctx,
        lambda s: inbound.cancel(s, ctx=ctx, notice_id=notice_id, expected_version=version),
        _render(ctx),
    )


@router.get(
    "/inbound-notices/{notice_id}/labels.pdf",
    response_class=Response,
    responses={200: PDF, **refusal(409, "The notice is cancelled."), **BUSY},
    **READERS,
)
async def inbound_carton_labels(notice_id: str, ctx: CtxDep, request: Request) -> Response:
    """The carton labels (箱唛): a 100 x 150 mm page per carton with the ASN id's barcode, the
    warehouse, the store, "carton n of N" (第 n/N 箱) and the SKUs."""
    # Read in a session closed before drawing: a render waiting its turn holds no connection.
    async with get_database(request).read() as session:
        data = await carton_labels.label_data(
            session, principal=ctx.principal, notice_id=notice_id, today=ctx.clock.now().date()
        )
    return Response(
        await carton_labels.pdf(data),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{data.notice_id}-cartons.pdf"'},
    )


# -- receiving --------------------------------------------------------------------------------


@router.post("/inbound-notices/{notice_id}/arrive", response_model=InboundNoticeRead, **RECEIVERS)
async def arrive_inbound_notice(
    notice_id: str, request: Request, ctx: CtxDep, if_match: IfMatch = None
) -> Response:
    """The cartons reached the warehouse (到仓): in_transit → arrived."""
    version = expected_version(if_match)
    return await run_mutation(
        request,
        ctx,
        lambda s: receiving.arrive(s, ctx=ctx, notice_id=notice_id, expected_version=version),
        _render(ctx),
    )


@router.post(
    "/inbound-notices/{notice_id}/start-receiving",
    response_model=InboundNoticeRead,
    **RECEIVERS,
)
async def start_receiving_inbound_notice(
    notice_id: str, request: Request, ctx: CtxDep, if_match: IfMatch = None
) -> Response:
    """Counting begins (开始收货): arrived → receiving (the first count does it as well)."""
    version = expected_version(if_match)
    return await run_mutation(
        request,
        ctx,
        lambda s: receiving.start_receiving(
            s, ctx=ctx, notice_id=notice_id, expected_version=version
        ),
        _render(ctx),
    )


@router.get("/inbound-notices/{notice_id}/lines/lookup", response_model=InboundLineRead, **READERS)
async def lookup_inbound_line(
    notice_id: str, ctx: CtxDep, session: ReadSession, code: Code
) -> InboundLineRead:
    """For scanners: the notice's line a SKU's barcode, code or id names (404, rule
    ``sku_not_on_notice``, when none does)."""
    line = await receiving.find_line(
        session, principal=ctx.principal, notice_id=notice_id, code=code
    )
    notice = await inbound.get_notice(session, principal=ctx.principal, notice_id=notice_id)
    shown = await _show(session, ctx, notice)
    return next(each for each in shown.lines if each.sku_id == line.sku_id)


@router.post("/inbound-notices/{notice_id}/counts", response_model=InboundNoticeRead, **RECEIVERS)
async def count_inbound_notice(
    notice_id: str, request: Request, ctx: CtxDep, body: CountsCreate
) -> Response:
    """Add counts (清点, 验货): each names a SKU by ``sku_id`` or by ``code`` as scanned
    (barcode, code or id) with units ``good`` and ``defective``; each adds to what was counted
    and is put away at once (good units available, defective kept apart). A SKU not on the
    notice needs a ``wrong_sku`` discrepancy (kept, not stocked); going over the announced
    units needs an ``over`` discrepancy (rule ``over_receipt_needs_discrepancy``). Any count
    refused refuses the request, and nothing is written. Send an ``Idempotency-Key``: a scan
    retried with it counts once."""
    return await run_mutation(
        request,
        ctx,
        lambda s: receiving.count(s, ctx=ctx, notice_id=notice_id, data=body),
        _render(ctx),
    )


@router.post("/inbound-notices/{notice_id}/close", response_model=InboundNoticeRead, **RECEIVERS)
async def close_inbound_notice(
    notice_id: str, request: Request, ctx: CtxDep, if_match: IfMatch = None
) -> Response:
    """Receiving done (收货完成): ``received`` when every line was counted good exactly as
    announced, else ``closed_with_discrepancies`` with a ``short`` discrepancy per line counted
    short; what never arrived leaves the ``inbound`` stock."""
    version = expected_version(if_match)
    return await run_mutation(
        request,
        ctx,
        lambda s: receiving.close(s, ctx=ctx, notice_id=notice_id, expected_version=version),
        _render(ctx),
    )


async def _photo_upload(request: Request) -> tuple[bytes, str | None]:
    """The uploaded file's bytes and name. The body is read whole first (it is bounded by the
    body limit), so the form is parsed from it and the Idempotency-Key's fingerprint covers it."""
    await request.body()
    form = await request.form(max_files=1, max_fields=4)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput(
            "send the photo as the multipart field `file`", field="file", rule="required"
        )
    content = await upload.read(uploads.MAX_PHOTO_BYTES + 1)
    return content, upload.filename


@router.post(
    "/inbound-notices/{notice_id}/discrepancies/{discrepancy_id}/photos",
    status_code=201,
    response_model=DiscrepancyRead,
    **{**RECEIVERS, "openapi_extra": {**RECEIVERS["openapi_extra"], **PHOTO_FORM}},
)
async def add_discrepancy_photo(
    notice_id: str, discrepancy_id: str, request: Request, ctx: CtxDep
) -> Response:
    """Attach a photo to a discrepancy (multipart field ``file``): JPEG, PNG or WebP as its
    content shows (its name does not count), at most 5 MB, at most 6 per discrepancy; the
    same photo sent twice is kept once."""
    content, name = await _photo_upload(request)

    async def render(_: AsyncSession, found: InboundDiscrepancy) -> DiscrepancyRead:
        return inbound_reads.present_discrepancy(found, photo_url)

    return await run_mutation(
        request,
        ctx,
        lambda s: discrepancies.add_photo(
            s,
            ctx=ctx,
            notice_id=notice_id,
            discrepancy_id=discrepancy_id,
            content=content,
            name=name,
        ),
        render,
        status_code=201,
    )


@router.get(
    "/inbound-notices/{notice_id}/discrepancies/{discrepancy_id}/photos/{n}",
    response_class=Response,
    responses={200: IMAGE},
    **READERS,
)
async def get_discrepancy_photo(
    notice_id: str, discrepancy_id: str, n: int, ctx: CtxDep, session: ReadSession
) -> Response:
    """Photo ``n`` (from 1) of a discrepancy, for the notice's seller, operators and the
    warehouse's staff."""
    path, content_type = await discrepancies.photo_file(
        session,
        principal=ctx.principal,
        upload_dir=ctx.settings.upload_dir,
        notice_id=notice_id,
        discrepancy_id=discrepancy_id,
        n=n,
    )
    return FileResponse(path, media_type=content_type, headers={"Cache-Control": "private"})


# -- R4 ---------------------------------------------------------------------------------------


@router.get(
    "/reports/stale-inbound",
    response_model=StaleInboundReport,
    **access.roles(Role.operator),
)
async def stale_inbound_report(
    principal: PrincipalDep,
    ctx: CtxDep,
    session: ReadSession,
    days: Annotated[int, Query(ge=1, le=365, description="In transit longer than this.")] = 7,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> StaleInboundReport:
    """R4: inbound in transit for more than ``days`` (shipped, not arrived), counted by seller
    and by carrier (most first: the repeat offenders), and the notices, oldest first; more
    rows with ``cursor`` = ``next_cursor``."""
    return await inbound_reads.stale_inbound(
        session,
        principal=principal,
        now=ctx.clock.now(),
        days=days,
        cursor=cursor,
        limit=limit,
    )

"""Leaving full-managed (退出全托管, S4, S5): the exit page, the archive, the application and its
documents, the operators' review, unbinding and closing the store; the exit terms."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.api.openapi import refusal
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.context import Ctx
from tuoguan.errors import InvalidInput
from tuoguan.exits import archive, close, reads, service, unbind
from tuoguan.exits import terms as exit_terms
from tuoguan.exits.models import ExitApplication, ExitArchive, ExitTerms
from tuoguan.exits.schemas import (
    ArchiveRead,
    ExitApply,
    ExitDecision,
    ExitPageRead,
    ExitRead,
    ExitTermsCreate,
    ExitTermsRead,
    ExitUnbind,
    StoreClose,
)
from tuoguan.onboarding import documents
from tuoguan.onboarding.review_models import Document
from tuoguan.onboarding.review_reads import present_document
from tuoguan.onboarding.review_schemas import DocumentRead
from tuoguan.principal import Role

router = APIRouter(tags=["exits"])

SELLER = access.roles(Role.seller)
OPERATOR = access.roles(Role.operator)
READERS = access.roles(Role.operator, Role.seller)
NOT_MANAGED = refusal(409, "The store is not full-managed (full_managed_only).")
Limit = Annotated[int, Query(ge=1, le=200)]
# A document and its multipart envelope: the largest document the settings may allow.
DOCUMENT_BODY_BYTES = 32 * 1_048_576 + 64 * 1024
UPLOAD_PATH = re.compile(r"^/api/v1/stores/[^/]+/exit/documents$")
LARGER_BODIES = ((UPLOAD_PATH, DOCUMENT_BODY_BYTES),)
UPLOAD_FORM = {
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
                            "description": "A PDF, JPEG, PNG or WebP file (by its content), at "
                            "most TUOGUAN_DOCUMENT_MAX_BYTES (10 MB unless configured).",
                        }
                    },
                }
            }
        },
    }
}


async def _one(session: AsyncSession, ctx: Ctx, row: ExitApplication) -> ExitRead:
    return (await reads.present_exits(session, ctx.settings, [row], ctx.clock.now()))[0]


def _render(ctx: Ctx) -> Any:
    async def render(session: AsyncSession, row: ExitApplication) -> ExitRead:
        return await _one(session, ctx, row)

    return render


# -- the exit page and the archive ----------------------------------------------------------------


@router.get(
    "/stores/{store_id}/exit", response_model=ExitPageRead, responses=NOT_MANAGED, **READERS
)
async def exit_page(store_id: str, ctx: CtxDep, session: ReadSession) -> ExitPageRead:
    """S4, S5: what a seller reads before leaving full-managed: the terms in force in the
    store's currency (store management fee, refund handling fee, either possibly 0, and the
    review's business days), what stands in the way (``blockers``: each failing rule, with the
    things that break it and their console links), whether it may apply now, its current
    application and its archive. A seller reads its own stores'."""
    found = await service.page(session, ctx=ctx, store_id=store_id)
    return await reads.present_page(session, ctx.settings, found, ctx.clock.now())


@router.post(
    "/stores/{store_id}/exit-archive",
    status_code=202,
    response_model=ArchiveRead,
    responses=NOT_MANAGED,
    **READERS,
)
async def start_archive(store_id: str, request: Request, ctx: CtxDep) -> Response:
    """S4: one-click export: queue the store's archive (its information, every month's
    statement and its orders, as CSV and XLSX in one zip); the worker writes it. One being
    written already is answered instead. Follow it with ``GET .../exit-archive``. 409
    ``store_closed``."""
    said = (request.headers.get("accept-language") or "").strip().lower()
    language = "zh-CN" if said.startswith("zh") else "en"  # the API's words: English by default

    async def render(_: AsyncSession, row: ExitArchive) -> ArchiveRead:
        return reads.present_archive(row)

    return await run_mutation(
        request,
        ctx,
        lambda s: archive.start(s, ctx=ctx, store_id=store_id, language=language),
        render,
        status_code=202,
    )


@router.get(
    "/stores/{store_id}/exit-archive",
    response_model=ArchiveRead,
    responses=NOT_MANAGED,
    **READERS,
)
async def get_archive(store_id: str, ctx: CtxDep, session: ReadSession) -> ArchiveRead:
    """The store's newest archive and its progress (404 when none was started); ``download``
    is set once it is done, for 7 days."""
    return reads.present_archive(
        await archive.current(session, principal=ctx.principal, store_id=store_id)
    )


@router.get(
    "/stores/{store_id}/exit-archive/download",
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}, "description": "The archive as a zip."},
        **refusal(409, "The archive is not done yet, failed, or expired (archive_done)."),
    },
    **READERS,
)
async def download_archive(
    store_id: str, request: Request, ctx: CtxDep, session: ReadSession
) -> Response:
    """The store's finished archive (its seller and operators only); 409 ``archive_done``
    while it is written, once it failed or after its 7 days."""
    found, path = await archive.archive_file(
        session,
        principal=ctx.principal,
        store_id=store_id,
        export_dir=request.app.state.settings.export_dir,
    )
    return FileResponse(
        path,
        media_type="application/zip",
        filename=f"exit-archive-{found.store_id}-{found.created_at:%Y%m%d}.zip",
        headers={"Cache-Control": "private, no-store"},
    )


# -- applying -------------------------------------------------------------------------------------


async def _upload(request: Request, ctx: Ctx) -> tuple[bytes, str | None]:
    """The file's bytes and name (the body is read whole first, so the Idempotency-Key's
    fingerprint covers it)."""
    await request.body()
    form = await request.form(max_files=1, max_fields=4)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput(
            "send the document as the multipart field `file`", field="file", rule="required"
        )
    return await upload.read(ctx.settings.document_max_bytes + 1), upload.filename


@router.post(
    "/stores/{store_id}/exit/documents",
    status_code=201,
    response_model=DocumentRead,
    **{**SELLER, "openapi_extra": {**SELLER["openapi_extra"], **UPLOAD_FORM}},
)
async def upload_exit_document(store_id: str, request: Request, ctx: CtxDep) -> Response:
    """S4: upload a paper for the store's exit application (multipart ``file``), then name it
    in ``document_ids`` when applying. Checked by content, not name: 422 ``document_type``
    (PDF, JPEG, PNG, WebP only), ``document_max_bytes``, ``document_not_empty``."""
    content, name = await _upload(request, ctx)

    async def render(_: AsyncSession, row: Document) -> DocumentRead:
        return present_document(ctx.settings, row, ctx.clock.now())

    return await run_mutation(
        request,
        ctx,
        lambda s: documents.upload(
            s,
            ctx=ctx,
            storage=documents.storage_for(ctx.settings),
            settings=ctx.settings,
            store_id=store_id,
            purpose=service.PURPOSE,
            data=content,
            file_name=name,
        ),
        render,
        status_code=201,
    )


@router.post(
    "/stores/{store_id}/exit",
    status_code=201,
    response_model=ExitRead,
    responses=NOT_MANAGED,
    **SELLER,
)
async def apply_exit(store_id: str, request: Request, ctx: CtxDep, body: ExitApply) -> Response:
    """S4: the seller applies to leave full-managed, with a reason and its documents, having
    read the fees (``fees_acknowledged``). 409 naming the first thing in the way
    (``no_unfinished_orders``, ``no_open_cases``, ``no_unpaid_debt``; every one in ``failed``,
    each thing with its link), ``one_open_application``, ``store_active``,
    ``exit_terms_in_force``; 422 ``fees_acknowledged``, ``exit_document``."""
    return await run_mutation(
        request,
        ctx,
        lambda s: service.apply(s, ctx, store_id=store_id, data=body),
        _render(ctx),
        status_code=201,
    )


# -- the review, unbinding, closing ---------------------------------------------------------------


@router.get("/exits", response_model=list[ExitRead], **OPERATOR)
async def exit_queue(
    request: Request,
    response: Response,
    ctx: CtxDep,
    session: ReadSession,
    cursor: CursorQuery = None,
    limit: Limit = 50,
) -> list[ExitRead]:
    """The operators' queue: applications waiting for review first, oldest first, then the
    others. More pages: the ``Link`` header's rel=next."""
    rows, next_cursor = await service.queue(
        session, principal=ctx.principal, cursor=cursor, limit=limit
    )
    next_link(request, response, next_cursor)
    return await reads.present_exits(session, ctx.settings, rows, ctx.clock.now())


@router.get("/exits/{exit_id}", response_model=ExitRead, **READERS)
async def get_exit(exit_id: str, ctx: CtxDep, session: ReadSession) -> ExitRead:
    """One application and its steps (a seller its own stores')."""
    row = await service.get_exit(session, principal=ctx.principal, exit_id=exit_id)
    return await _one(session, ctx, row)


@router.post("/exits/{exit_id}/decision", response_model=ExitRead, **OPERATOR)
async def decide_exit(exit_id: str, request: Request, ctx: CtxDep, body: ExitDecision) -> Response:
    """S4: approve or reject (operators), with reasons; the seller is told in-app and by
    webhook, with the reasons and the fees. 409 ``illegal_transition``; 422
    ``reason_required``."""
    return await run_mutation(
        request,
        ctx,
        lambda s: service.decide(s, ctx, exit_id=exit_id, data=body),
        _render(ctx),
    )


@router.post("/exits/{exit_id}/unbind", response_model=ExitRead, **READERS)
async def unbind_exit(exit_id: str, request: Request, ctx: CtxDep, body: ExitUnbind) -> Response:
    """S4: unbind an approved exit (its seller, or an operator for it), with the seller's
    choice for the stock the platform's warehouses hold (``return`` to ``return_address``, or
    ``dispose``): the store leaves full-managed (no new orders, its products delisted), the
    stock leaves the warehouses' books, the fees are charged, the last settlement is made and
    the deposit refunded, debts first. 409 ``illegal_transition``, the blockers' rules,
    ``no_unpaid_debt``, ``payout_account_bound``; 422 ``return_address_required``."""
    return await run_mutation(
        request,
        ctx,
        lambda s: unbind.unbind(s, ctx, exit_id=exit_id, data=body),
        _render(ctx),
    )


@router.post("/stores/{store_id}/close", response_model=ExitRead, **READERS)
async def close_store(store_id: str, request: Request, ctx: CtxDep, body: StoreClose) -> Response:
    """S4, S5: close a store that left full-managed (its seller or an operator), for good: its
    contact details and addresses are cleared, its documents and archives deleted, and its
    audit events lose their personal data (who closed it is kept). 409 ``store_exited``,
    ``payouts_pending``, ``money_left``; 422 ``confirm_required``."""
    done: list[close.Closed] = []

    async def act(session: AsyncSession) -> close.Closed:
        closed = await close.close_store(session, ctx, store_id=store_id, confirm=body.confirm)
        done.append(closed)
        return closed

    async def render(session: AsyncSession, closed: close.Closed) -> ExitRead:
        return await _one(session, ctx, closed.exit)

    answer = await run_mutation(request, ctx, act, render)
    for closed in done:
        await close.forget_files(ctx.settings, closed)
    return answer


# -- the terms ------------------------------------------------------------------------------------


@router.post("/exit-terms", status_code=201, response_model=ExitTermsRead, **OPERATOR)
async def create_terms(request: Request, ctx: CtxDep, body: ExitTermsCreate) -> Response:
    """S5: add the next version of a currency's exit terms (operators), now or later. 422
    ``not_past``, ``after_previous``, ``within_horizon``."""

    async def render(session: AsyncSession, row: ExitTerms) -> ExitTermsRead:
        versions = await exit_terms.list_terms(session, principal=ctx.principal)
        return reads.present_terms(row, versions, ctx.clock.now())

    return await run_mutation(
        request,
        ctx,
        lambda s: exit_terms.create_terms(s, ctx=ctx, data=body),
        render,
        status_code=201,
    )


@router.get("/exit-terms", response_model=list[ExitTermsRead], **READERS)
async def list_terms(ctx: CtxDep, session: ReadSession) -> list[ExitTermsRead]:
    """Every version, per currency oldest first, with which is in force now."""
    versions = await exit_terms.list_terms(session, principal=ctx.principal)
    now = ctx.clock.now()
    return [reads.present_terms(v, versions, now) for v in versions]

"""Export jobs (O5): an export too large to stream inline is written to a file by the worker."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, PrincipalDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.api.openapi import refusal
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.exports import service as exports
from tuoguan.exports.models import ExportJob
from tuoguan.exports.schemas import ExportCreate, ExportRead
from tuoguan.exports.states import ExportStatus
from tuoguan.principal import Role

router = APIRouter(tags=["exports"])
EXPORTERS = access.roles(Role.operator, Role.seller)  # O5: each their own jobs
ExportId = Annotated[str, Path(max_length=40, description="The job's id (exp_…).")]


def present(job: ExportJob) -> ExportRead:
    """A job with its download link once its file is ready."""
    read = ExportRead.model_validate(job)
    if job.status is ExportStatus.done:
        read.download = f"/api/v1/exports/{job.id}/file"
    return read


@router.post("/exports", status_code=202, response_model=ExportRead, **EXPORTERS)
async def create_export(request: Request, ctx: CtxDep, body: ExportCreate) -> Response:
    """Start an export job of the caller's orders (a seller's only), newest first; the worker
    writes the file. Follow it with ``GET /exports/{export_id}``."""

    async def render(_: AsyncSession, job: ExportJob) -> ExportRead:
        return present(job)

    return await run_mutation(
        request,
        ctx,
        lambda s: exports.create_export(s, ctx=ctx, data=body),
        render,
        status_code=202,
    )


@router.get("/exports", response_model=list[ExportRead], **EXPORTERS)
async def list_exports(
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: ReadSession,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[ExportRead]:
    """The caller's export jobs, newest first. More pages: the ``Link`` header's rel=next."""
    rows, next_cursor = await exports.list_exports(
        session, principal=principal, cursor=cursor, limit=limit
    )
    next_link(request, response, next_cursor)
    return [present(job) for job in rows]


@router.get("/exports/{export_id}", response_model=ExportRead, **EXPORTERS)
async def get_export(
    export_id: ExportId, principal: PrincipalDep, session: ReadSession
) -> ExportRead:
    """One of the caller's export jobs and its progress; another's is not found."""
    return present(await exports.get_export(session, principal=principal, job_id=export_id))


@router.get(
    "/exports/{export_id}/file",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "The orders as CSV."},
        **refusal(409, "The export is not done yet, failed, or its file has expired."),
    },
    **EXPORTERS,
)
async def download_export(
    export_id: ExportId, request: Request, principal: PrincipalDep, session: ReadSession
) -> Response:
    """The finished file of one of the caller's jobs; 409 while it runs, failed or expired."""
    job, path = await exports.export_file(
        session,
        principal=principal,
        job_id=export_id,
        export_dir=request.app.state.settings.export_dir,
    )
    return FileResponse(
        path,
        media_type="text/csv",
        filename=f"orders-{job.created_at:%Y%m%d-%H%M}.csv",
    )

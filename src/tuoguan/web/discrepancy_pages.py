"""The receiving screen's discrepancies (R2): damaged, over or wrong-SKU units recorded with a
note and a photo, a photo added to one recorded earlier, and the photos served to the warehouse's
staff. The rest of the screen is ``warehouse_pages.py``; these forms post through its ``_act``."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from tuoguan.context import Ctx
from tuoguan.fulfilment import discrepancies, receiving, uploads
from tuoguan.fulfilment.inbound_schemas import CountsCreate
from tuoguan.fulfilment.models import DiscrepancyKind
from tuoguan.web.console import _current, _to_login, home_for
from tuoguan.web.forms import FormProblem
from tuoguan.web.inbound_pages import serve_photo
from tuoguan.web.warehouse_pages import (
    KINDS,
    RECEIVING,
    Work,
    _act,
    _arrived,
    _receiver,
    _scanned,
    _units,
)

router = APIRouter(include_in_schema=False)
# The forms that carry a photo: their bodies may be as large as a photo (api/middleware.BodyLimit).
PHOTO_FORMS = re.compile(rf"^{RECEIVING}/[^/]+/(discrepancy|discrepancies/[^/]+/photo)$")
LARGER_BODIES = ((PHOTO_FORMS, uploads.MAX_PHOTO_BYTES + 64 * 1024),)


async def _photo(request: Request) -> tuple[bytes, str | None] | None:
    """The photo field of a multipart form, if a file was chosen."""
    form = await request.form(max_files=1, max_fields=12)
    upload = form.get("photo")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    content = await upload.read(uploads.MAX_PHOTO_BYTES + 1)
    return (content, upload.filename) if content else None


def _discrepancy_count(kind: DiscrepancyKind, code: str, units: int, note: str) -> CountsCreate:
    """A count that records a discrepancy: damaged units are counted defective, over and wrong
    SKU units as received (a wrong SKU is kept apart, not stocked)."""
    damaged = kind is DiscrepancyKind.damaged
    return CountsCreate.model_validate(
        {
            "counts": [
                {
                    "code": code,
                    "good": 0 if damaged else units,
                    "defective": units if damaged else 0,
                    "discrepancy": {"kind": kind.value, "note": note or None},
                }
            ]
        }
    )


async def _attach(
    session: AsyncSession,
    ctx: Ctx,
    notice_id: str,
    discrepancy_id: str,
    photo: tuple[bytes, str | None],
) -> None:
    await discrepancies.add_photo(
        session,
        ctx=ctx,
        notice_id=notice_id,
        discrepancy_id=discrepancy_id,
        content=photo[0],
        name=photo[1],
    )


async def _recorded(
    session: AsyncSession, ctx: Ctx, notice_id: str, kind: DiscrepancyKind, code: str
) -> str:
    """The discrepancy a count just recorded: of its kind, for the SKU on the notice the code
    names, or for the code itself (a wrong SKU)."""
    sku_id = None
    if kind is not DiscrepancyKind.wrong_sku:
        line = await receiving.find_line(
            session, principal=ctx.principal, notice_id=notice_id, code=code
        )
        sku_id = line.sku_id
    recorded = [d for d in await discrepancies.recorded_for(session, notice_id) if d.kind is kind]
    folded = code.casefold()
    for found in recorded:
        if (sku_id and found.sku_id == sku_id) or (
            not sku_id and (found.scanned_code or "").casefold() == folded
        ):
            return found.id
    # A wrong SKU of the store recorded earlier under another of its codes.
    return recorded[-1].id


@router.post(RECEIVING + "/{notice_id}/discrepancy", response_model=None)
async def record_discrepancy(request: Request, notice_id: str) -> Response:
    """Record damaged, over or wrong-SKU units with a note and, optionally, a photo (R2), in
    one transaction: the count, the discrepancy and its photo are kept together or not at all."""
    photo = await _photo(request)  # parsed first, with the upload's limits

    def recording(form: dict[str, str]) -> Work:
        if form.get("kind") not in {k.value for k in KINDS}:
            raise FormProblem("err_pick_kind", "discrepancy.kind")
        kind = DiscrepancyKind(form["kind"])
        code, units = _scanned(form, "discrepancy"), _units(form, "discrepancy")
        body = _discrepancy_count(kind, code, units, form.get("note", "").strip()[:1000])

        async def work(session: AsyncSession, ctx: Ctx) -> dict[str, str]:
            await _arrived(session, ctx, notice_id)
            await receiving.count(session, ctx=ctx, notice_id=notice_id, data=body)
            if photo is not None:
                target = await _recorded(session, ctx, notice_id, kind, code)
                await _attach(session, ctx, notice_id, target, photo)
            return {"recorded": "1"}

        return work

    return await _act(request, notice_id, "discrepancy", recording)


@router.post(RECEIVING + "/{notice_id}/discrepancies/{discrepancy_id}/photo", response_model=None)
async def add_photo(request: Request, notice_id: str, discrepancy_id: str) -> Response:
    """Attach a photo to a discrepancy already recorded (a short count's, say)."""
    photo = await _photo(request)

    def adding(_: dict[str, str]) -> Work:
        if photo is None:
            raise FormProblem("err_photo_empty")

        async def work(session: AsyncSession, ctx: Ctx) -> dict[str, str]:
            await _attach(session, ctx, notice_id, discrepancy_id, photo)
            return {"photo": "1"}

        return work

    return await _act(request, notice_id, "photo", adding)


@router.get(RECEIVING + "/{notice_id}/photos/{discrepancy_id}/{n}", response_model=None)
async def photo(request: Request, notice_id: str, discrepancy_id: str, n: int) -> Response:
    """A discrepancy's photo, for the warehouse's staff."""
    current = await _current(request)
    if current is None:
        return _to_login()
    if not _receiver(current[0]):
        return RedirectResponse(home_for(current[0]), status_code=303)
    return await serve_photo(request, *current, notice_id, discrepancy_id, n)

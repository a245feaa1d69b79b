"""Console actions on a return (G6): the platform (or, outside full-managed, the seller)
authorizes it, which books the return label with the carrier; the warehouse or the seller it
went to records what came back; any party prints the label. The refund is the case page's
decision form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tuoguan.accounts import service as accounts
from tuoguan.cases import return_parcel
from tuoguan.cases.return_schemas import ReturnAuthorize, ReturnReceipt
from tuoguan.errors import DomainError, Forbidden
from tuoguan.principal import Role
from tuoguan.web.case_pages import CASES, _act, _reader
from tuoguan.web.console import _db
from tuoguan.web.stock_pages import error_page

router = APIRouter(include_in_schema=False)


@router.post(CASES + "/{case_id}/return/authorize", response_model=None)
async def post_authorize(request: Request, case_id: str) -> Response:
    async def work(session: Any, ctx: Any, form: Mapping[str, str]) -> None:
        data = ReturnAuthorize.model_validate(
            {
                "service_code": form.get("service_code") or None,
                "note": form.get("note", "").strip() or None,
            },
            strict=False,
        )
        await return_parcel.authorize(session, ctx, case_id=case_id[:40], data=data)

    return await _act(request, case_id, "authorized", work)


@router.post(CASES + "/{case_id}/return/receipt", response_model=None)
async def post_receipt(request: Request, case_id: str) -> Response:
    async def work(session: Any, ctx: Any, form: Mapping[str, str]) -> None:
        data = ReturnReceipt.model_validate(
            {
                "condition": form.get("condition", ""),
                "note": form.get("note", "").strip() or None,
            },
            strict=False,
        )
        await return_parcel.receive(session, ctx, case_id=case_id[:40], data=data)

    return await _act(request, case_id, "received", work)


@router.get(CASES + "/{case_id}/return/label", response_model=None)
async def get_label(request: Request, case_id: str) -> Response:
    """The return label, printed from the case page."""
    checked = await _reader(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    if user.role is Role.warehouse:  # staff receive the parcel; the buyer prints its label
        return error_page(
            request,
            user,
            web_session.csrf_token,
            Forbidden("warehouse staff print no return label"),
        )
    principal = accounts.principal_for_user(user)
    today = request.app.state.clock.now().date().isoformat()
    try:
        async with _db(request).read() as session:
            content, media = await return_parcel.label(
                session, principal=principal, case_id=case_id[:40], printed_on=today
            )
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    return Response(content, media_type=media)

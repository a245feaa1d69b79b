"""One deposit refund application, for its seller and for the operators (S3): the store's
deposit now, the debts approval deducts (penalties first), and the approve and reject forms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.errors import DomainError
from tuoguan.kit.i18n import N_
from tuoguan.principal import Role
from tuoguan.settlement import (
    deposit_checks,
    deposit_reads,
    deposits,
)
from tuoguan.settlement.deposit_models import DepositRefundStatus
from tuoguan.stores import service as stores
from tuoguan.web import owners
from tuoguan.web.console import (
    _db,
    _render,
    request_ctx,
    request_language,
)
from tuoguan.web.deposit_pages import (
    DONE,
    QUEUE,
    RULE_WORDS,
    local_day,
    operator_form,
    refusal_errors,
    whoami,
)
from tuoguan.web.forms import (
    REFUSED,
    Errors,
    FormProblem,
    status_of,
)
from tuoguan.web.ledger_pages import abouts
from tuoguan.web.stock_pages import error_page, say, viewer_zone

router = APIRouter(include_in_schema=False)


# -- one application ----------------------------------------------------------------------------


async def _refund_page(
    request: Request,
    user: User,
    web_session: WebSession,
    refund_id: str,
    *,
    errors: Errors | None = None,
    form: Mapping[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    lang = request_language(request)
    try:
        async with _db(request).read() as session:
            row = await deposit_reads.get_refund(session, principal=principal, refund_id=refund_id)
            store = await stores.get_store(session, principal=principal, store_id=row.store_id)
            found = await deposits.status_of(session, store, now)
            paid_by = await deposit_reads.payouts_of(session, [row])
            waiting = row.status is DepositRefundStatus.applied
            lines = (
                [
                    {
                        "kind": d.kind.value,
                        "subject_type": d.subject_type,
                        "subject_id": d.subject_id,
                        "amount_minor": d.left_minor,
                    }
                    for d in deposit_checks.deduction_order(found.debts)
                ]
                if waiting
                else list(row.deductions or [])
            )
            about = await abouts(session, {(d["subject_type"], d["subject_id"]) for d in lines})
            whose = await owners.owners(session, [store.id])
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    payout = paid_by.get(row.payout_id or "")
    return _render(
        request,
        "deposit_refund.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "row": row,
            "shown": deposit_reads.shown_status(row, payout),
            "store": store,
            "owner": whose.get(store.id),
            "found": found,
            "lines": lines,
            "about": about,
            "rule_words": RULE_WORDS,
            "waiting": waiting,
            "can_decide": waiting and user.role is Role.operator,
            "viewer_zone": viewer_zone(user),
            "day": lambda d: local_day(d, lang),
            "errors": errors or {},
            "form": form or {},
            "message": message,
        },
        status_code,
    )


@router.get(QUEUE + "/{refund_id}", response_model=None)
async def refund_page(
    request: Request,
    refund_id: str,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """One application: the store's deposit now, the deductions, approve and reject."""
    checked = await whoami(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    message = say(request, DONE[done]) if done in DONE else None
    return await _refund_page(request, user, web_session, refund_id, message=message)


@router.post(QUEUE + "/{refund_id}/{action}", response_model=None)
async def decide(request: Request, refund_id: str, action: str) -> Response:
    """Approve (with an optional note) or reject (with a reason) an application."""
    checked = await operator_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    if action not in ("approve", "reject"):
        return await _refund_page(
            request, user, web_session, refund_id, message=None, status_code=404
        )
    note = form.get("note", "").strip()[:1000]
    try:
        async with _db(request).write() as session:
            ctx = request_ctx(request, user)
            if action == "approve":
                await deposits.approve(session, ctx, refund_id=refund_id, note=note or None)
            else:
                if not note:
                    raise FormProblem(N_("err_reason_required"), "note")
                await deposits.reject(session, ctx, refund_id=refund_id, reason=note)
            await session.commit()
    except REFUSED as exc:
        errors = refusal_errors(request, exc)
        if action == "reject" and "reason" in errors:
            errors = {"note": errors["reason"]}
        return await _refund_page(
            request,
            user,
            web_session,
            refund_id,
            errors={f"{action}-{k}": v for k, v in errors.items()},
            form={**form, "action": action},
            status_code=status_of(exc),
        )
    done = "approved" if action == "approve" else "rejected"
    return RedirectResponse(f"{QUEUE}/{refund_id}?done={done}", status_code=303)

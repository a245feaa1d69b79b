"""Console pages of cases (R2, R3, G4): the list (operators: a queue per kind, the most at risk
first; sellers and warehouse staff: theirs), one case with its timeline, every piece of
evidence side by side and the forms its reader may use (a message, evidence, the operator's
next step and decision, the one appeal and its decision), and raising a receiving exception
from a discrepancy (the receiving screen, the seller's notice page)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.cases import decisions, reads, service, steps
from tuoguan.cases.kinds import ACTION_STATES, KINDS, WORKING, Bearer, CaseKind, CaseState
from tuoguan.cases.schemas import (
    AppealDecide,
    CaseAppeal,
    CaseDecide,
    CaseMessage,
    CaseMove,
    ReceivingCaseCreate,
)
from tuoguan.errors import BadRequest, DomainError, Forbidden, InvalidInput
from tuoguan.kit.i18n import N_
from tuoguan.kit.money import parse_major
from tuoguan.onboarding import documents
from tuoguan.principal import Role
from tuoguan.web import owners, return_view
from tuoguan.web.console import _current, _db, _render, _to_login, checked_form, request_ctx
from tuoguan.web.forms import FORM, REFUSED, Errors, Refused, errors_of, status_of
from tuoguan.web.ledger_pages import pages_query
from tuoguan.web.policy_pages import PLATFORM_ZONE
from tuoguan.web.stock_pages import error_page, say

router = APIRouter(include_in_schema=False)
CASES = "/console/cases"
PAGE = 50
READERS = (Role.operator, Role.seller, Role.warehouse)
EVIDENCE_FORM = re.compile(rf"^{CASES}/[^/]+/evidence$")
LARGER_BODIES = ((EVIDENCE_FORM, 32 * 1_048_576 + 64 * 1024),)
DONE = {
    "opened": N_("case_done_opened"),
    "moved": N_("case_done_moved"),
    "message": N_("case_done_message"),
    "evidence": N_("case_done_evidence"),
    "decided": N_("case_done_decided"),
    "appealed": N_("case_done_appealed"),
    "final": N_("case_done_final"),
    "authorized": N_("case_done_authorized"),
    "received": N_("case_done_received"),
}
# What the service refuses, by rule: (the form field it concerns, the words beside it).
REFUSALS = {
    "not_a_party": (FORM, N_("case_err_not_a_party")),
    "case_open": (FORM, N_("case_err_closed")),
    "illegal_transition": (FORM, N_("case_err_state")),
    "decision_in_kind": ("decision", N_("case_err_decision")),
    "bearer_allowed": ("bearer", N_("case_err_bearer")),
    "no_bearer": ("bearer", N_("case_err_no_bearer")),
    "no_amount": ("amount", N_("case_err_no_amount")),
    "postage_seller_only": ("amount", N_("case_err_postage")),
    "within_refundable": ("amount", N_("case_err_refundable")),
    "nothing_to_refund": ("decision", N_("case_err_refunded")),
    "refund_kept": ("amount", N_("case_err_refund_kept")),
    "appeal_once": (FORM, N_("case_err_appeal_once")),
    "appeal_window": (FORM, N_("case_err_appeal_window")),
    "different_operator": (FORM, N_("case_err_other_operator")),
    "upheld_unchanged": ("decision", N_("case_err_upheld")),
    "one_case_per_discrepancy": (FORM, N_("case_err_one_per_discrepancy")),
    "document_type": ("file", N_("exit_err_document_type")),
    "document_max_bytes": ("file", N_("exit_err_document_size")),
    "document_not_empty": ("file", N_("exit_err_document_empty")),
    "required": (FORM, N_("case_err_required")),
    "carrier_named": ("bearer", N_("case_err_carrier_named")),
    "money": ("amount", N_("case_err_amount")),
    "units": ("units", N_("case_err_units")),
    "no_units": ("units", N_("case_err_no_units")),
    "adjust_needs_sku": ("decision", N_("case_err_adjust_sku")),
    "decimals": ("amount", N_("case_err_amount")),
    "authorizer": (FORM, N_("case_err_authorizer")),
    "appellant": (FORM, N_("case_err_appellant")),
    "returned_already": ("decision", N_("case_err_returned_already")),
    "service_required": ("service_code", N_("case_err_service_required")),
    "receiver": (FORM, N_("case_err_receiver")),
    "return_after_delivery": (FORM, N_("case_err_return_after_delivery")),
    "return_address": (FORM, N_("case_err_return_address")),
    "one_open_return": ("decision", N_("case_err_one_open_return")),
    "active": ("service_code", N_("case_err_service")),
    "carrier_refused": (FORM, N_("case_err_carrier_refused")),
    "carrier_unavailable": (FORM, N_("case_err_carrier_unavailable")),
}
KEYS = {
    "text": N_("case_err_text"),
    "reason": N_("case_err_reason"),
    "summary": N_("case_err_text"),
    "amount_minor": N_("case_err_amount"),
    "decision": N_("case_err_decision"),
    "bearer": N_("case_err_bearer"),
    "to": N_("case_err_state"),
    "units": N_("case_err_units"),
}


def _errors(request: Request, exc: Refused) -> Errors:
    if isinstance(exc, DomainError):
        rule = str(exc.extra.get("rule") or "")
        if rule in REFUSALS:
            field, key = REFUSALS[rule]
            return {field: say(request, key)}
    return errors_of(request, exc, place=_place, keys=KEYS)


def _place(path: str) -> str:
    """The form field a schema's or the service's field is shown beside."""
    name = path.split(".")[0]
    return {"amount_minor": "amount"}.get(name, name if name in KEYS else FORM)


async def _reader(request: Request) -> tuple[User, WebSession] | Response:
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    if user.role not in READERS:
        return error_page(
            request, user, web_session.csrf_token, Forbidden("cases are not this role's")
        )
    return current


def _kind(value: str | None) -> CaseKind | None:
    try:
        return CaseKind(value) if value else None
    except ValueError:
        return None


@router.get(CASES, response_model=None)
async def cases_page(request: Request) -> Response:
    """The cases the reader is on, working ones first, the nearest deadline first."""
    checked = await _reader(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    principal = accounts.principal_for_user(user)
    kind = _kind(request.query_params.get("kind"))
    cursor = request.query_params.get("cursor")
    now = request.app.state.clock.now()
    try:
        async with _db(request).read() as session:
            rows, next_cursor = await reads.queue(
                session, principal=principal, kind=kind, state=None, cursor=cursor, limit=PAGE
            )
            whose = await owners.owners(session, {row.store_id for row in rows})
    except BadRequest:
        return RedirectResponse(CASES, status_code=303)
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    shown = [reads.present(row, principal, now) for row in rows]
    return _render(
        request,
        "cases.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "rows": shown,
            "owners": whose,
            "kinds": list(CaseKind),
            "kind": kind,
            "zone": PLATFORM_ZONE,
            "next_url": next_cursor
            and CASES + pages_query(cursor=next_cursor, kind=kind.value if kind else None),
        },
    )


async def _case_page(
    request: Request,
    user: User,
    web_session: WebSession,
    case_id: str,
    *,
    errors: Errors | None = None,
    form: Mapping[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    settings = request.app.state.settings
    try:
        async with _db(request).read() as session:
            case = await service.get_case(session, principal=principal, case_id=case_id)
            shown = await reads.one(session, settings, principal, case, now)
            whose = await owners.owners(session, [case.store_id])
            returned = await return_view.context(
                session, principal, case, service.party_of(principal, case)
            )
            refunded = await return_view.refund_context(session, case)
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    spec = KINDS[case.kind]
    party = service.party_of(principal, case)
    operator = user.role is Role.operator
    working = case.state in WORKING
    may_appeal = (
        party is not None
        and not operator
        and case.state is CaseState.decided
        and case.appealed_at is None
        and party in spec.appellants
    )
    context: dict[str, Any] = {
        "user": user,
        "csrf": web_session.csrf_token,
        "case": shown,
        "owner": whose.get(case.store_id),
        "evidence": [e for e in shown.entries or [] if e.type == "evidence"],
        "zone": PLATFORM_ZONE,
        "decisions": list(spec.decisions.items()),
        "bearers": list(Bearer),
        "moves": [s for s in spec.step(case.state).next if s in WORKING and s not in ACTION_STATES]
        if working
        else [],
        "can_add": party is not None
        and party in spec.parties
        and case.state is not CaseState.closed,
        "can_move": operator and working,
        "can_decide": operator and working,
        "can_appeal": may_appeal,
        "can_decide_appeal": operator
        and case.state is CaseState.appealed
        and case.decided_by != principal.actor_id,
        "errors": errors or {},
        "form": form or {},
        "message": message,
        "can_authorize": False,
        "can_print": False,
        "can_receive": False,
        **returned,
        **refunded,
        # The decision form asks only for what the kind's decisions take.
        "uses_bearer": any(d.bearers for d in spec.decisions.values()),
        "uses_units": any(d.units for d in spec.decisions.values()),
    }
    return _render(request, "case.html", context, status_code)


@router.get(CASES + "/{case_id}", response_model=None)
async def case_page(request: Request, case_id: str) -> Response:
    checked = await _reader(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    done = request.query_params.get("done")
    message = say(request, DONE[done]) if done in DONE else None
    return await _case_page(request, user, web_session, case_id[:40], message=message)


async def _posted(request: Request) -> tuple[User, WebSession, dict[str, str]] | Response:
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    if checked[0].role not in READERS:
        user, web_session, _ = checked
        return error_page(request, user, web_session.csrf_token, Forbidden("not a case reader"))
    return checked


def _units(form: Mapping[str, str]) -> int | None:
    typed = form.get("units", "").strip().replace("+", "")
    if not typed:
        return None
    if not re.fullmatch(r"-?[0-9]{1,6}", typed):
        raise InvalidInput("units are a whole number", field="units", rule="units")
    return int(typed)


def _amount(form: Mapping[str, str], currency: str) -> int | None:
    typed = form.get("amount", "").strip()
    return parse_major(typed, currency, field="amount") if typed else None


async def _act(request: Request, case_id: str, done: str, work: Any) -> Response:
    checked = await _posted(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    case_id = case_id[:40]
    ctx = request_ctx(request, user)
    try:
        async with _db(request).write() as session:
            await work(session, ctx, form)
            await session.commit()
    except REFUSED as exc:
        return await _case_page(
            request,
            user,
            web_session,
            case_id,
            errors=_errors(request, exc),
            form=form,
            status_code=status_of(exc),
        )
    return RedirectResponse(f"{CASES}/{case_id}?done={done}", status_code=303)


@router.post(CASES + "/{case_id}/message", response_model=None)
async def post_message(request: Request, case_id: str) -> Response:
    async def work(session: Any, ctx: Any, form: Mapping[str, str]) -> None:
        said = CaseMessage.model_validate({"text": form.get("text", "")}, strict=False)
        await steps.add_message(session, ctx, case_id=case_id[:40], text=said.text)

    return await _act(request, case_id, "message", work)


@router.post(CASES + "/{case_id}/evidence", response_model=None)
async def post_evidence(request: Request, case_id: str) -> Response:
    """A file (checked by content) and/or a text, as evidence."""
    raw = await request.form(max_files=1, max_fields=4)
    upload = raw.get("file")
    data: bytes | None = None
    name: str | None = None
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(request.app.state.settings.document_max_bytes + 1) or None
        name = upload.filename

    async def work(session: Any, ctx: Any, form: Mapping[str, str]) -> None:
        typed = form.get("text", "").strip()
        text = CaseMessage.model_validate({"text": typed}, strict=False).text if typed else None
        await steps.add_evidence(
            session,
            ctx,
            case_id=case_id[:40],
            evidence=steps.Evidence(text=text, data=data, file_name=name),
            storage=documents.storage_for(ctx.settings),
            settings=ctx.settings,
        )

    return await _act(request, case_id, "evidence", work)


@router.post(CASES + "/{case_id}/move", response_model=None)
async def post_move(request: Request, case_id: str) -> Response:
    async def work(session: Any, ctx: Any, form: Mapping[str, str]) -> None:
        data = CaseMove.model_validate(
            {"to": form.get("to", ""), "note": form.get("note", "").strip() or None}, strict=False
        )
        await steps.move(session, ctx, case_id=case_id[:40], data=data)

    return await _act(request, case_id, "moved", work)


async def _currency(session: Any, ctx: Any, case_id: str) -> str:
    case = await service.get_case(session, principal=ctx.principal, case_id=case_id)
    return case.currency


@router.post(CASES + "/{case_id}/decision", response_model=None)
async def post_decision(request: Request, case_id: str) -> Response:
    async def work(session: Any, ctx: Any, form: Mapping[str, str]) -> None:
        currency = await _currency(session, ctx, case_id[:40])
        data = CaseDecide.model_validate(
            {
                "decision": form.get("decision", ""),
                "bearer": form.get("bearer") or None,
                "amount_minor": _amount(form, currency),
                "units": _units(form),
                "reason": form.get("reason", ""),
            },
            strict=False,
        )
        await decisions.decide(session, ctx, case_id=case_id[:40], data=data)

    return await _act(request, case_id, "decided", work)


@router.post(CASES + "/{case_id}/appeal", response_model=None)
async def post_appeal(request: Request, case_id: str) -> Response:
    async def work(session: Any, ctx: Any, form: Mapping[str, str]) -> None:
        data = CaseAppeal.model_validate({"reason": form.get("reason", "")}, strict=False)
        await decisions.appeal(session, ctx, case_id=case_id[:40], data=data)

    return await _act(request, case_id, "appealed", work)


@router.post(CASES + "/{case_id}/appeal-decision", response_model=None)
async def post_appeal_decision(request: Request, case_id: str) -> Response:
    async def work(session: Any, ctx: Any, form: Mapping[str, str]) -> None:
        currency = await _currency(session, ctx, case_id[:40])
        overturned = form.get("outcome") == "overturned"
        data = AppealDecide.model_validate(
            {
                "outcome": form.get("outcome", ""),
                "decision": (form.get("decision") or None) if overturned else None,
                "bearer": (form.get("bearer") or None) if overturned else None,
                "amount_minor": _amount(form, currency) if overturned else None,
                "units": _units(form) if overturned else None,
                "reason": form.get("reason", ""),
            },
            strict=False,
        )
        await decisions.decide_appeal(session, ctx, case_id=case_id[:40], data=data)

    return await _act(request, case_id, "final", work)


@router.post(CASES, response_model=None)
async def raise_case(request: Request) -> Response:
    """R2: raise a receiving exception from a discrepancy (the warehouse's receiving screen,
    the seller's notice page); then the case's page."""
    checked = await _posted(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    try:
        data = ReceivingCaseCreate.model_validate(
            {
                "notice_id": form.get("notice_id", "")[:40],
                "discrepancy_id": form.get("discrepancy_id", "")[:40] or None,
                "summary": form.get("summary", ""),
            },
            strict=False,
        )
        async with _db(request).write() as session:
            case = await service.open_receiving(session, request_ctx(request, user), data)
            case_id = case.id
            await session.commit()
    except REFUSED as exc:
        refused = (
            exc
            if isinstance(exc, DomainError)
            else InvalidInput("say what went wrong", field="summary", rule="required")
        )
        return error_page(request, user, web_session.csrf_token, refused)
    return RedirectResponse(f"{CASES}/{case_id}?done=opened", status_code=303)

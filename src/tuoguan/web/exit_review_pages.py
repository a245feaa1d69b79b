"""Console pages of leaving full-managed (S4, S5), the operators' side: the queue (waiting first,
oldest first, each with its review deadline), an application's page with its documents, what
stands in the way now and the decision form, and the exit terms with the form to add a
version. ``/console/exits`` shows the queue to operators (``exit_pages``)."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import groupby

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.errors import BadRequest, DomainError, Forbidden
from tuoguan.exits import service
from tuoguan.exits import terms as exit_terms
from tuoguan.exits.models import ExitStatus
from tuoguan.exits.reads import documents_of
from tuoguan.exits.schemas import ExitDecision, ExitTermsCreate
from tuoguan.kit.i18n import N_
from tuoguan.kit.money import parse_major
from tuoguan.onboarding import documents
from tuoguan.principal import Role
from tuoguan.web import owners
from tuoguan.web.console import _db, _render, checked_form, request_ctx
from tuoguan.web.exit_forms import ITEM_WORDS, RULE_WORDS, refusal_errors, whoami
from tuoguan.web.forms import REFUSED, Errors, FormProblem, local_start, status_of, whole
from tuoguan.web.ledger_pages import pages_query
from tuoguan.web.policy_pages import PLATFORM_ZONE
from tuoguan.web.stock_pages import error_page, say

router = APIRouter(include_in_schema=False)
EXITS = "/console/exits"
APPLICATION = EXITS + "/applications"
TERMS = "/console/exit-terms"
PAGE = 50
DONE = {
    "approved": N_("exit_done_approved"),
    "rejected": N_("exit_done_rejected"),
    "terms": N_("exit_done_terms"),
}


async def queue_page(
    request: Request,
    user: User,
    web_session: WebSession,
    *,
    cursor: str | None = None,
    errors: Errors | None = None,
    form: Mapping[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    """The operators' queue and the exit terms."""
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    if message is None and request.query_params.get("done") in DONE:
        message = say(request, DONE[request.query_params["done"]])
    try:
        async with _db(request).read() as session:
            rows, next_cursor = await service.queue(
                session, principal=principal, cursor=cursor, limit=PAGE
            )
            whose = await owners.owners(session, {row.store_id for row in rows})
            versions = await exit_terms.list_terms(session, principal=principal)
    except BadRequest:
        return RedirectResponse(EXITS, status_code=303)
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    groups = [
        (currency, [(v, exit_terms.standing(v, versions, now)) for v in reversed(list(rows_))])
        for currency, rows_ in groupby(versions, key=lambda v: v.currency)
    ]
    return _render(
        request,
        "exit_queue.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "rows": rows,
            "owners": whose,
            "groups": groups,
            "zone": PLATFORM_ZONE,
            "errors": errors or {},
            "form": form or {},
            "message": message,
            "next_url": next_cursor and EXITS + pages_query(cursor=next_cursor),
        },
        status_code,
    )


async def _application_page(
    request: Request,
    user: User,
    web_session: WebSession,
    exit_id: str,
    *,
    errors: Errors | None = None,
    form: Mapping[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    try:
        async with _db(request).read() as session:
            row = await service.get_exit(session, principal=principal, exit_id=exit_id)
            store = (await service.stores_of(session, {row.store_id}))[row.store_id]
            found = await service.page_of(session, store, now)
            whose = await owners.owners(session, [store.id])
            papers = await documents_of(session, [row])
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    settings = request.app.state.settings
    return _render(
        request,
        "exit_application.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "row": row,
            "store": store,
            "owner": whose.get(store.id),
            "found": found,
            "papers": [
                (papers[d], documents.signed_link(settings, papers[d], now=now))
                for d in row.document_ids
                if d in papers
            ],
            "rule_words": RULE_WORDS,
            "item_words": ITEM_WORDS,
            "can_decide": user.role is Role.operator and row.status is ExitStatus.applied,
            "zone": PLATFORM_ZONE if user.role is Role.operator else store.timezone,
            "errors": errors or {},
            "form": form or {},
            "message": message,
        },
        status_code,
    )


@router.get(APPLICATION + "/{exit_id}", response_model=None)
async def application_page(request: Request, exit_id: str) -> Response:
    """One application: its store, reason, documents, fees, what stands in the way now, its
    steps and (for operators, while it waits) the decision form."""
    checked = await whoami(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    done = request.query_params.get("done")
    message = say(request, DONE[done]) if done in DONE else None
    return await _application_page(request, user, web_session, exit_id[:40], message=message)


async def _operator_form(request: Request) -> tuple[User, WebSession, dict[str, str]] | Response:
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, _ = checked
    if user.role is not Role.operator:
        refused = Forbidden("only operators do this")
        return error_page(request, user, web_session.csrf_token, refused)
    return checked


@router.post(APPLICATION + "/{exit_id}/decision", response_model=None)
async def decide(request: Request, exit_id: str) -> Response:
    """An operator approves or rejects, with reasons (one a line)."""
    checked = await _operator_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    exit_id = exit_id[:40]
    try:
        reasons = [line.strip() for line in form.get("reasons", "").splitlines() if line.strip()]
        data = ExitDecision.model_validate(
            {"decision": form.get("decision", ""), "reasons": reasons}, strict=False
        )
        async with _db(request).write() as session:
            await service.decide(session, request_ctx(request, user), exit_id=exit_id, data=data)
            await session.commit()
    except REFUSED as exc:
        return await _application_page(
            request,
            user,
            web_session,
            exit_id,
            errors=refusal_errors(request, exc),
            form=form,
            status_code=status_of(exc),
        )
    done = "approved" if data.decision == "approve" else "rejected"
    return RedirectResponse(f"{APPLICATION}/{exit_id}?done={done}", status_code=303)


@router.post(TERMS, response_model=None)
async def add_terms(request: Request) -> Response:
    """An operator adds the next version of a currency's exit terms."""
    checked = await _operator_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    try:
        currency = form.get("currency", "").strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise FormProblem(N_("err_deposit_currency"), "currency")
        try:
            management = parse_major(form.get("management_fee") or "0", currency)
            refund = parse_major(form.get("refund_fee") or "0", currency)
        except DomainError:
            raise FormProblem(N_("exit_err_fee"), "fees") from None
        data = ExitTermsCreate.model_validate(
            {
                "currency": currency,
                "management_fee_minor": management,
                "refund_fee_minor": refund,
                "review_days": whole(
                    form.get("review_days"), N_("exit_err_review_days"), "review_days"
                ),
                "effective_from": local_start(form.get("effective_from"), PLATFORM_ZONE),
                "note": form.get("note") or None,
            },
            strict=False,
        )
        async with _db(request).write() as session:
            await exit_terms.create_terms(session, ctx=request_ctx(request, user), data=data)
            await session.commit()
    except REFUSED as exc:
        return await queue_page(
            request,
            user,
            web_session,
            errors=refusal_errors(request, exc),
            form=form,
            status_code=status_of(exc),
        )
    return RedirectResponse(f"{EXITS}?done=terms#terms", status_code=303)

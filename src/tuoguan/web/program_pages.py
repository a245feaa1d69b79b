"""Console pages of the full-managed program (全托管): invitations (M2), the program agreement
(签订合同, M4) and joining (入驻).

``/console/program`` serves both roles:

- a seller: its open invitation with the accept and decline forms, the agreement in force in
  the page's language with the accept form, the joining checklist of each of its full-managed
  stores (agreement, business review, deposit, each linked to its page), and its past
  invitations;
- an operator: the invite form, every invitation with its status (withdraw an open one), the
  agreement's versions with the publish form, and the latest acceptances (who, when, where).

Refusals are said beside the field they concern, in the page's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from tuoguan.accounts import service as accounts
from tuoguan.accounts.models import User, WebSession
from tuoguan.errors import BadRequest, DomainError, Forbidden
from tuoguan.kit.i18n import N_
from tuoguan.onboarding import agreements as publishing
from tuoguan.onboarding import invitation_reads, invitations, joining
from tuoguan.onboarding.invitation_states import allowed_actions, shown_status
from tuoguan.onboarding.origin import Origin, origin_of
from tuoguan.onboarding.schemas import AgreementCreate, InvitationCreate
from tuoguan.principal import Role
from tuoguan.stores import agreements
from tuoguan.stores import service as stores
from tuoguan.stores.agreement_models import AgreementAcceptance
from tuoguan.stores.models import Seller, Store, StoreMode, StoreStatus
from tuoguan.web import owners
from tuoguan.web.console import (
    _current,
    _db,
    _render,
    _to_login,
    checked_form,
    request_ctx,
    request_language,
)
from tuoguan.web.forms import (
    FORM,
    REFUSED,
    Errors,
    FormProblem,
    Refused,
    errors_of,
    local_start,
    status_of,
    whole,
)
from tuoguan.web.policy_pages import PLATFORM_ZONE
from tuoguan.web.stock_pages import error_page, say, viewer_zone

router = APIRouter(include_in_schema=False)
PROGRAM = "/console/program"
INVITATIONS_PAGE = 50
ACCEPTANCES_SHOWN = 20

# What the services refuse, by rule: (the form field it concerns, the words beside it).
_REFUSALS = {
    "seller_exited": ("store", N_("inv_err_seller_exited")),
    "already_in_program": ("store", N_("inv_err_in_program")),
    "store_in_good_standing": ("store", N_("inv_err_good_standing")),
    "sellers_store": ("store", N_("inv_err_good_standing")),
    "one_open_invitation": ("store", N_("inv_err_one_open")),
    "invitation_expired": (FORM, N_("inv_err_expired")),
    "state_allows_action": (FORM, N_("inv_err_decided")),
    "illegal_transition": (FORM, N_("inv_err_decided")),
    "reason_required": ("reason", N_("err_reason_required")),
    "agreement_superseded": (FORM, N_("agr_err_superseded")),
    "not_past": ("effective_from", N_("err_effective_not_past")),
    "after_previous": ("effective_from", N_("err_effective_after_previous")),
    "within_horizon": ("effective_from", N_("agr_err_horizon")),
}
# What a form's schema refuses, by field, as the words beside it.
_KEYS = {
    "message": N_("inv_err_message"),
    "expires_in_days": N_("inv_err_expiry"),
    "store_name": N_("inv_err_store_name"),
    "reason": N_("inv_err_reason"),
    "label": N_("agr_err_label"),
    "title_zh": N_("agr_err_title"),
    "title_en": N_("agr_err_title"),
    "body_zh": N_("agr_err_body"),
    "body_en": N_("agr_err_body"),
    "effective_from": N_("err_effective_format"),
    "agree": N_("agr_err_agree"),
}
DONE = {
    "invited": N_("inv_done_invited"),
    "accepted": N_("inv_done_accepted"),
    "declined": N_("inv_done_declined"),
    "withdrawn": N_("inv_done_withdrawn"),
    "published": N_("agr_done_published"),
    "agreed": N_("agr_done_accepted"),
}


def _place(path: str) -> str:
    name = path.split(".")[0]
    return name if name in _KEYS else FORM


def _errors(request: Request, exc: Refused, prefix: str) -> Errors:
    """A refusal's words beside its field (named ``prefix`` + field on the page)."""
    if isinstance(exc, DomainError):
        rule = str(exc.extra.get("rule") or exc.code)
        if rule in _REFUSALS:
            field, key = _REFUSALS[rule]
            return {prefix + field: say(request, key)}
    found = errors_of(request, exc, place=_place, keys=_KEYS)
    return {prefix + field: words for field, words in found.items()}


def request_origin(request: Request) -> Origin:
    """The client address (through trusted proxies only) and user agent of a console form."""
    return origin_of(
        request.app.state.settings,
        peer=request.client.host if request.client else None,
        forwarded_for=request.headers.get("x-forwarded-for"),
        user_agent=request.headers.get("user-agent"),
    )


async def _whoami(request: Request) -> tuple[User, WebSession] | Response:
    current = await _current(request)
    if current is None:
        return _to_login()
    user, web_session = current
    if user.role not in (Role.seller, Role.operator):
        refused = Forbidden("the full-managed program is sellers' and operators'")
        return error_page(request, user, web_session.csrf_token, refused)
    return current


# -- the page -----------------------------------------------------------------------------------


async def _seller_view(request: Request, user: User) -> dict[str, Any]:
    principal = accounts.principal_for_user(user)
    assert principal.seller_id is not None
    now = request.app.state.clock.now()
    async with _db(request).read() as session:
        waiting = await invitation_reads.open_for(session, principal.seller_id, now)
        history, _ = await invitation_reads.list_for(
            session, principal=principal, now=now, limit=INVITATIONS_PAGE
        )
        rows = await agreements.versions(session)
        accepted = await agreements.accepted_by(session, principal.seller_id)
        owed = await agreements.pending_agreement(session, principal.seller_id, now)
        current = agreements.current_of(rows, now)
        upcoming = [
            v
            for v in rows
            if agreements.standing(v, rows, now) == agreements.SCHEDULED and v.id not in accepted
        ]
        checklists = [
            await joining.checklist(session, store, now)
            for store in await stores.program_stores(session, principal.seller_id)
            if store.status not in stores.LEFT_PROGRAM
        ]
        linked = await owners.owners(session, {row.store_id for row in history})
    return {
        "waiting": waiting,
        "history": [(row, shown_status(row, now)) for row in history if row is not waiting],
        "current": current,
        "upcoming": upcoming,
        "accepted": accepted,
        "owed": owed,
        "checklists": checklists,
        "linked": linked,
    }


async def _operator_view(request: Request, user: User, cursor: str | None) -> dict[str, Any]:
    principal = accounts.principal_for_user(user)
    now = request.app.state.clock.now()
    managed = aliased(Store)
    async with _db(request).read() as session:
        rows, next_cursor = await invitation_reads.list_for(
            session, principal=principal, now=now, cursor=cursor, limit=INVITATIONS_PAGE
        )
        whose = await owners.owners(session, {row.store_id for row in rows})
        # Stores in good standing whose seller is not in the program, nor ever left it.
        invitable = await session.execute(
            select(Store.id, Store.name, Seller.name)
            .join(Seller, Seller.id == Store.seller_id)
            .where(
                Store.mode != StoreMode.full_managed,
                Store.status == StoreStatus.active,
                Store.seller_id.not_in(
                    select(managed.seller_id).where(managed.mode == StoreMode.full_managed)
                ),
            )
            .order_by(Seller.name, Store.name)
            .limit(owners.CHOICES)
        )
        versions = await agreements.versions(session)
        counts = dict(
            (
                await session.execute(
                    select(AgreementAcceptance.version_id, func.count()).group_by(
                        AgreementAcceptance.version_id
                    )
                )
            ).all()
        )
        recent, _ = await publishing.acceptances(
            session, principal=principal, limit=ACCEPTANCES_SHOWN
        )
        seller_names = dict(
            (
                await session.execute(
                    select(Seller.id, Seller.name).where(
                        Seller.id.in_(sorted({a.seller_id for a in recent}))
                    )
                )
            ).all()
        )
    by_id = {v.id: v for v in versions}
    return {
        "rows": [
            (row, shown_status(row, now), allowed_actions(row, Role.operator, now)) for row in rows
        ],
        "owners": whose,
        "next_url": next_cursor and f"{PROGRAM}?cursor={next_cursor}",
        "invitable": list(invitable),
        "versions": [
            (v, agreements.standing(v, versions, now), counts.get(v.id, 0))
            for v in reversed(versions)
        ],
        "recent": [(a, seller_names.get(a.seller_id, ""), by_id.get(a.version_id)) for a in recent],
    }


async def _page(
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
    try:
        view = (
            await _operator_view(request, user, cursor)
            if user.role is Role.operator
            else await _seller_view(request, user)
        )
    except BadRequest:
        return RedirectResponse(PROGRAM, status_code=303)
    except DomainError as exc:
        return error_page(request, user, web_session.csrf_token, exc)
    return _render(
        request,
        "program.html",
        {
            "user": user,
            "csrf": web_session.csrf_token,
            "zh": request_language(request) == "zh-CN",
            "zone": viewer_zone(user) or PLATFORM_ZONE,
            "platform_zone": PLATFORM_ZONE,
            "errors": errors or {},
            "form": form or {},
            "message": message,
            **view,
        },
        status_code,
    )


@router.get(PROGRAM, response_model=None)
async def program_page(
    request: Request,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """The seller's invitation, agreement and joining; the operators' invitations and
    agreement versions."""
    checked = await _whoami(request)
    if isinstance(checked, Response):
        return checked
    user, web_session = checked
    message = say(request, DONE[done]) if done in DONE else None
    return await _page(request, user, web_session, cursor=cursor, message=message)


# -- the forms ----------------------------------------------------------------------------------


async def _form(request: Request, role: Role) -> tuple[User, WebSession, dict[str, str]] | Response:
    checked = await checked_form(request)
    if isinstance(checked, Response):
        return checked
    user, web_session, _ = checked
    if user.role is not role:
        return RedirectResponse(PROGRAM, status_code=303)
    return checked


@router.post(PROGRAM + "/invitations", response_model=None)
async def invite(request: Request) -> Response:
    """An operator invites the seller of the chosen store, with a message and an expiry."""
    checked = await _form(request, Role.operator)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    try:
        async with _db(request).write() as session:
            store = await stores.get_store(
                session,
                principal=accounts.principal_for_user(user),
                store_id=form.get("store", "")[:40],
            )
            data = InvitationCreate.model_validate(
                {
                    "seller_id": store.seller_id,
                    "store_id": store.id,
                    "message": form.get("message", ""),
                    "expires_in_days": whole(
                        form.get("expires_in_days"), _KEYS["expires_in_days"], "expires_in_days"
                    ),
                    "store_name": form.get("store_name", "").strip() or None,
                },
                strict=False,
            )
            await invitations.invite(session, ctx=request_ctx(request, user), data=data)
            await session.commit()
    except REFUSED as exc:
        return await _page(
            request,
            user,
            web_session,
            errors=_errors(request, exc, "inv-"),
            form={**form, "which": "invite"},
            status_code=status_of(exc),
        )
    return RedirectResponse(f"{PROGRAM}?done=invited", status_code=303)


async def _answer(request: Request, invitation_id: str, action: str) -> Response:
    """The seller's accept or decline, or an operator's withdraw, of one invitation."""
    role = Role.operator if action == "withdraw" else Role.seller
    checked = await _form(request, role)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    reason = form.get("reason", "").strip()
    origin = request_origin(request)
    try:
        if len(reason) > 500:
            raise FormProblem(_KEYS["reason"], "reason")
        async with _db(request).write() as session:
            ctx = request_ctx(request, user)
            if action == "accept":
                await invitations.accept(
                    session, ctx=ctx, invitation_id=invitation_id, origin=origin
                )
            elif action == "decline":
                await invitations.decline(
                    session, ctx=ctx, invitation_id=invitation_id, reason=reason, origin=origin
                )
            else:
                await invitations.withdraw(
                    session, ctx=ctx, invitation_id=invitation_id, reason=reason
                )
            await session.commit()
    except REFUSED as exc:
        return await _page(
            request,
            user,
            web_session,
            errors=_errors(request, exc, f"{action}-"),
            form={**form, "which": action, "invitation": invitation_id},
            status_code=status_of(exc),
        )
    done = {"accept": "accepted", "decline": "declined", "withdraw": "withdrawn"}[action]
    return RedirectResponse(f"{PROGRAM}?done={done}", status_code=303)


@router.post(PROGRAM + "/invitations/{invitation_id}/accept", response_model=None)
async def accept_invitation(request: Request, invitation_id: str) -> Response:
    """The seller accepts its invitation: its full-managed store opens, joining."""
    return await _answer(request, invitation_id[:40], "accept")


@router.post(PROGRAM + "/invitations/{invitation_id}/decline", response_model=None)
async def decline_invitation(request: Request, invitation_id: str) -> Response:
    """The seller declines its invitation, optionally saying why."""
    return await _answer(request, invitation_id[:40], "decline")


@router.post(PROGRAM + "/invitations/{invitation_id}/withdraw", response_model=None)
async def withdraw_invitation(request: Request, invitation_id: str) -> Response:
    """An operator withdraws an open invitation, saying why."""
    return await _answer(request, invitation_id[:40], "withdraw")


@router.post(PROGRAM + "/agreements", response_model=None)
async def publish(request: Request) -> Response:
    """An operator publishes the next version of the agreement, in both languages."""
    checked = await _form(request, Role.operator)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    try:
        data = AgreementCreate.model_validate(
            {
                "label": form.get("label", ""),
                "title_zh": form.get("title_zh", ""),
                "title_en": form.get("title_en", ""),
                "body_zh": form.get("body_zh", ""),
                "body_en": form.get("body_en", ""),
                "effective_from": local_start(form.get("effective_from"), PLATFORM_ZONE),
                "requires_acceptance": form.get("requires_acceptance") == "yes",
            },
            strict=False,
        )
        async with _db(request).write() as session:
            await publishing.publish(session, ctx=request_ctx(request, user), data=data)
            await session.commit()
    except REFUSED as exc:
        return await _page(
            request,
            user,
            web_session,
            errors=_errors(request, exc, "agr-"),
            form={**form, "which": "publish"},
            status_code=status_of(exc),
        )
    return RedirectResponse(f"{PROGRAM}?done=published#agreement", status_code=303)


@router.post(PROGRAM + "/agreements/{agreement_id}/accept", response_model=None)
async def accept_agreement(request: Request, agreement_id: str) -> Response:
    """The seller accepts a version of the agreement, having ticked that it read it."""
    checked = await _form(request, Role.seller)
    if isinstance(checked, Response):
        return checked
    user, web_session, form = checked
    origin = request_origin(request)
    try:
        if form.get("agree") != "yes":
            raise FormProblem(_KEYS["agree"], "agree")
        async with _db(request).write() as session:
            await publishing.accept(
                session,
                ctx=request_ctx(request, user),
                version_id=agreement_id[:40],
                origin=origin,
            )
            await session.commit()
    except REFUSED as exc:
        return await _page(
            request,
            user,
            web_session,
            errors=_errors(request, exc, "agree-"),
            form={**form, "which": "agree"},
            status_code=status_of(exc),
        )
    return RedirectResponse(f"{PROGRAM}?done=agreed#agreement", status_code=303)

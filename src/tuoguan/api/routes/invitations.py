"""Invitations to the full-managed program (邀约制, M2) and a store's joining checklist."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import ClockDep, CtxDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.api.openapi import refusal
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.errors import Conflict
from tuoguan.onboarding import invitation_reads, invitations, joining
from tuoguan.onboarding.invitation_states import allowed_actions, shown_status
from tuoguan.onboarding.models import Invitation, InvitationStatus
from tuoguan.onboarding.origin import Origin, origin_of
from tuoguan.onboarding.schemas import (
    ChecklistRead,
    InvitationCreate,
    InvitationDecline,
    InvitationRead,
    InvitationWithdraw,
)
from tuoguan.principal import Principal, Role
from tuoguan.stores import service as stores
from tuoguan.stores.models import StoreMode

router = APIRouter(tags=["invitations"])

OPERATOR = access.roles(Role.operator)
SELLER = access.roles(Role.seller)
READERS = access.roles(Role.operator, Role.seller)
Limit = Annotated[int, Query(ge=1, le=200)]


def request_origin(request: Request) -> Origin:
    """Where the request comes from: its client address (through trusted proxies only) and
    user agent, recorded with a seller's answer (M2, M4)."""
    return origin_of(
        request.app.state.settings,
        peer=request.client.host if request.client else None,
        forwarded_for=request.headers.get("x-forwarded-for"),
        user_agent=request.headers.get("user-agent"),
    )


def present(row: Invitation, principal: Principal, now: datetime) -> InvitationRead:
    """An invitation as the reader sees it: its status as of now, what the reader may do."""
    read = InvitationRead.model_validate(row)
    read.status = shown_status(row, now)
    read.allowed_actions = allowed_actions(row, principal.role, now)
    return read


@router.post("/invitations", status_code=201, response_model=InvitationRead, **OPERATOR)
async def invite(request: Request, ctx: CtxDep, body: InvitationCreate) -> Response:
    """M2: invite a seller to the full-managed program (operators), with a message and an
    expiry (14 days unless said, 1-60). The seller is told. 409 ``seller_exited`` (a seller
    whose full-managed store exited or closed is never invited again, S4),
    ``already_in_program``, ``store_in_good_standing``, ``one_open_invitation``; 422
    ``sellers_store``."""

    async def render(_: AsyncSession, row: Invitation) -> InvitationRead:
        return present(row, ctx.principal, ctx.clock.now())

    return await run_mutation(
        request,
        ctx,
        lambda s: invitations.invite(s, ctx=ctx, data=body),
        render,
        status_code=201,
    )


@router.get("/invitations", response_model=list[InvitationRead], **READERS)
async def list_invitations(
    request: Request,
    response: Response,
    ctx: CtxDep,
    session: ReadSession,
    status: InvitationStatus | None = None,
    seller_id: Annotated[str | None, Query(max_length=40)] = None,
    cursor: CursorQuery = None,
    limit: Limit = 50,
) -> list[InvitationRead]:
    """Invitations, newest first: a seller its own, operators every seller's (``seller_id``
    for one). ``status=expired`` includes open invitations past their expiry. More pages: the
    ``Link`` header's rel=next."""
    now = ctx.clock.now()
    rows, next_cursor = await invitation_reads.list_for(
        session,
        principal=ctx.principal,
        now=now,
        status=status,
        seller_id=seller_id,
        cursor=cursor,
        limit=limit,
    )
    next_link(request, response, next_cursor)
    return [present(row, ctx.principal, now) for row in rows]


@router.get("/invitations/{invitation_id}", response_model=InvitationRead, **READERS)
async def get_invitation(invitation_id: str, ctx: CtxDep, session: ReadSession) -> InvitationRead:
    """One invitation (a seller its own), with its status as of now and what the reader may
    do."""
    row = await invitation_reads.get(session, principal=ctx.principal, invitation_id=invitation_id)
    return present(row, ctx.principal, ctx.clock.now())


@router.post("/invitations/{invitation_id}/accept", response_model=InvitationRead, **SELLER)
async def accept(invitation_id: str, request: Request, ctx: CtxDep) -> Response:
    """M2: the seller accepts: its full-managed store opens beside the linked store, joining
    (``full_managed_store_id``; no orders until it has joined: GET /stores/{id}/joining). Who,
    when and the client address are recorded; the operators are told. 409
    ``invitation_expired``, ``illegal_transition``, ``seller_exited``, ``already_in_program``,
    ``store_in_good_standing``."""
    origin = request_origin(request)

    async def render(_: AsyncSession, row: Invitation) -> InvitationRead:
        return present(row, ctx.principal, ctx.clock.now())

    return await run_mutation(
        request,
        ctx,
        lambda s: invitations.accept(s, ctx=ctx, invitation_id=invitation_id, origin=origin),
        render,
    )


@router.post("/invitations/{invitation_id}/decline", response_model=InvitationRead, **SELLER)
async def decline(
    invitation_id: str, request: Request, ctx: CtxDep, body: InvitationDecline | None = None
) -> Response:
    """The seller declines, optionally saying why; the operators are told. 409
    ``invitation_expired``, ``illegal_transition``."""
    origin = request_origin(request)
    reason = body.reason if body else None

    async def render(_: AsyncSession, row: Invitation) -> InvitationRead:
        return present(row, ctx.principal, ctx.clock.now())

    return await run_mutation(
        request,
        ctx,
        lambda s: invitations.decline(
            s, ctx=ctx, invitation_id=invitation_id, reason=reason, origin=origin
        ),
        render,
    )


@router.post("/invitations/{invitation_id}/withdraw", response_model=InvitationRead, **OPERATOR)
async def withdraw(
    invitation_id: str, request: Request, ctx: CtxDep, body: InvitationWithdraw
) -> Response:
    """An operator withdraws an open invitation, saying why; the seller is told. 409
    ``illegal_transition`` once answered, expired or withdrawn."""

    async def render(_: AsyncSession, row: Invitation) -> InvitationRead:
        return present(row, ctx.principal, ctx.clock.now())

    return await run_mutation(
        request,
        ctx,
        lambda s: invitations.withdraw(s, ctx=ctx, invitation_id=invitation_id, reason=body.reason),
        render,
    )


@router.get(
    "/stores/{store_id}/joining",
    response_model=ChecklistRead,
    responses=refusal(409, "The store is not full-managed: it joins nothing (full_managed_only)."),
    **READERS,
)
async def joining_checklist(
    store_id: str, ctx: CtxDep, session: ReadSession, clock: ClockDep
) -> ChecklistRead:
    """M2, M4, S1, S3: where a full-managed store stands in joining the program: the agreement
    in force accepted, its business review approved, its deposit held at least what it must
    hold. ``joined_at`` is set once all three hold; until then it takes no orders (409
    ``store_joining``). A seller reads its own stores'."""
    store = await stores.get_store(session, principal=ctx.principal, store_id=store_id)
    if store.mode is not StoreMode.full_managed:
        raise Conflict(
            f"store {store.name} is {store.mode.value}: only a full-managed store joins the "
            "program",
            field="store_id",
            rule="full_managed_only",
        )
    found = await joining.checklist(session, store, clock.now())
    return ChecklistRead(
        store_id=store.id,
        joined_at=store.joined_at,
        agreement_id=found.agreement.id if found.agreement else None,
        agreement_label=found.agreement.label if found.agreement else None,
        agreement_accepted=found.agreement_accepted,
        review_approved=found.review_approved,
        deposit_currency=store.currency,
        deposit_required_minor=found.deposit_required_minor,
        deposit_held_minor=found.deposit_held_minor,
        deposit_funded=found.deposit_funded,
        done=found.done,
    )

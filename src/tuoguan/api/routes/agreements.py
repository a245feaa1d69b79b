"""The full-managed program agreement (签订合同, M4): its versions, the version in force in one
language, sellers' acceptances."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.api.routes.invitations import request_origin
from tuoguan.onboarding import agreements as publishing
from tuoguan.onboarding.schemas import (
    AcceptanceRead,
    AgreementCreate,
    AgreementRead,
    AgreementText,
    Language,
)
from tuoguan.principal import Principal, Role
from tuoguan.stores import agreements
from tuoguan.stores.agreement_models import AgreementAcceptance, AgreementVersion

router = APIRouter(tags=["agreements"])

OPERATOR = access.roles(Role.operator)
SELLER = access.roles(Role.seller)
READERS = access.roles(Role.operator, Role.seller)
Limit = Annotated[int, Query(ge=1, le=200)]


def present(
    row: AgreementVersion,
    rows: list[AgreementVersion],
    now: datetime,
    accepted: dict[str, AgreementAcceptance],
) -> AgreementRead:
    found = accepted.get(row.id)
    stored = {name: getattr(row, name) for name in AgreementRead.model_fields if hasattr(row, name)}
    return AgreementRead(
        **stored,
        standing=agreements.standing(row, rows, now),
        accepted_at=found.accepted_at if found else None,
    )


async def _accepted(session: AsyncSession, principal: Principal) -> dict[str, AgreementAcceptance]:
    if principal.role is Role.seller and principal.seller_id:
        return await agreements.accepted_by(session, principal.seller_id)
    return {}


@router.post("/agreements", status_code=201, response_model=AgreementRead, **OPERATOR)
async def publish(request: Request, ctx: CtxDep, body: AgreementCreate) -> Response:
    """M4: publish the next version of the program agreement (operators), in Chinese and
    English, in force now or later; every seller in the program is told. With
    ``requires_acceptance`` (the default) a seller's new supply orders are refused until it
    accepts (409 ``agreement_pending``); what is already promised still ships. 422
    ``not_past``, ``within_horizon``, ``after_previous``."""

    async def render(session: AsyncSession, row: AgreementVersion) -> AgreementRead:
        return present(row, await agreements.versions(session), ctx.clock.now(), {})

    return await run_mutation(
        request,
        ctx,
        lambda s: publishing.publish(s, ctx=ctx, data=body),
        render,
        status_code=201,
    )


@router.get("/agreements", response_model=list[AgreementRead], **READERS)
async def list_agreements(ctx: CtxDep, session: ReadSession) -> list[AgreementRead]:
    """Every version, oldest first, with which is in force now; a seller's with when it accepted
    each."""
    rows = await agreements.versions(session)
    accepted = await _accepted(session, ctx.principal)
    now = ctx.clock.now()
    return [present(row, rows, now, accepted) for row in rows]


@router.get("/agreements/current", response_model=AgreementText | None, **READERS)
async def current(
    ctx: CtxDep, session: ReadSession, lang: Language = "zh-CN"
) -> AgreementText | None:
    """M4: the version in force, in one language (``zh-CN`` or ``en``); for a seller, whether it
    accepted it and whether it must (``pending``). Null while no version is in force."""
    now = ctx.clock.now()
    row = await agreements.in_force(session, now)
    if row is None:
        return None
    accepted = await _accepted(session, ctx.principal)
    pending = (
        await agreements.pending_agreement(session, ctx.principal.seller_id, now)
        if ctx.principal.role is Role.seller and ctx.principal.seller_id
        else None
    )
    found = accepted.get(row.id)
    return AgreementText(
        id=row.id,
        version=row.version,
        label=row.label,
        lang=lang,
        title=row.title_zh if lang == "zh-CN" else row.title_en,
        body=row.body_zh if lang == "zh-CN" else row.body_en,
        effective_from=row.effective_from,
        requires_acceptance=row.requires_acceptance,
        accepted_at=found.accepted_at if found else None,
        pending=pending is not None and pending.id == row.id,
    )


@router.get("/agreements/{agreement_id}", response_model=AgreementRead, **READERS)
async def get_agreement(agreement_id: str, ctx: CtxDep, session: ReadSession) -> AgreementRead:
    """One version, in both languages."""
    row = await publishing.get_version(session, principal=ctx.principal, version_id=agreement_id)
    rows = await agreements.versions(session)
    return present(row, rows, ctx.clock.now(), await _accepted(session, ctx.principal))


@router.post(
    "/agreements/{agreement_id}/accept", status_code=201, response_model=AcceptanceRead, **SELLER
)
async def accept(agreement_id: str, request: Request, ctx: CtxDep) -> Response:
    """M4: the seller accepts a version (the one in force, or one scheduled, ahead of time);
    who, when, the client address and the user agent are recorded. Accepting again answers the
    first acceptance. Each of the seller's stores still joining joins if everything else is
    done. 409 ``agreement_superseded``."""
    origin = request_origin(request)

    async def render(_: AsyncSession, row: AgreementAcceptance) -> AcceptanceRead:
        return AcceptanceRead.model_validate(row)

    return await run_mutation(
        request,
        ctx,
        lambda s: publishing.accept(s, ctx=ctx, version_id=agreement_id, origin=origin),
        render,
        status_code=201,
    )


@router.get("/agreement-acceptances", response_model=list[AcceptanceRead], **READERS)
async def list_acceptances(
    request: Request,
    response: Response,
    ctx: CtxDep,
    session: ReadSession,
    agreement_id: Annotated[str | None, Query(max_length=40)] = None,
    cursor: CursorQuery = None,
    limit: Limit = 50,
) -> list[AcceptanceRead]:
    """Acceptances, newest first (of one version with ``agreement_id``): operators every
    seller's, a seller its own. More pages: the ``Link`` header's rel=next."""
    rows, next_cursor = await publishing.acceptances(
        session, principal=ctx.principal, version_id=agreement_id, cursor=cursor, limit=limit
    )
    next_link(request, response, next_cursor)
    return [AcceptanceRead.model_validate(row) for row in rows]

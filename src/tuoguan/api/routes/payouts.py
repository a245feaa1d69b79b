"""Payout accounts and payouts (M3, S3): a store's seller or an operator binds the account the
store is paid to; both read what was paid to it. Payouts are made by settlement runs and
deposit refunds and sent by the worker, never by a request here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.principal import Role
from tuoguan.settlement import payout_accounts, payout_reads
from tuoguan.settlement.models import PayoutAccount, PayoutStatus
from tuoguan.settlement.schemas import (
    PAYOUT_VIEWS,
    PayoutAccountBind,
    PayoutAccountBook,
    PayoutAccountRead,
    PayoutRead,
)

router = APIRouter(tags=["payouts"])
ACCOUNT_HOLDERS = access.roles(Role.operator, Role.seller)


@router.put(
    "/stores/{store_id}/payout-account", response_model=PayoutAccountRead, **ACCOUNT_HOLDERS
)
async def bind_payout_account(
    store_id: str, request: Request, ctx: CtxDep, body: PayoutAccountBind
) -> Response:
    """S3: bind the account the store is paid to (收款账户), replacing the one in force (kept
    as history); the same details again change nothing. The store's seller or an operator.
    The number is read back masked to its last four characters. 422 ``account_number_format``
    (6 to 34 letters and digits), ``iso_4217``."""

    async def render(_: AsyncSession, row: PayoutAccount) -> PayoutAccountRead:
        return payout_accounts.present_account(row)

    return await run_mutation(
        request, ctx, lambda s: payout_accounts.bind_account(s, ctx, store_id, body), render
    )


@router.get(
    "/stores/{store_id}/payout-account", response_model=PayoutAccountBook, **ACCOUNT_HOLDERS
)
async def get_payout_account(store_id: str, ctx: CtxDep, session: ReadSession) -> PayoutAccountBook:
    """The store's payout account in force (``current``, null when none is bound) and the
    ones it replaced, newest first; numbers masked."""
    current, history = await payout_accounts.account_book(
        session, principal=ctx.principal, store_id=store_id
    )
    return PayoutAccountBook(
        current=payout_accounts.present_account(current) if current else None,
        history=[payout_accounts.present_account(a) for a in history],
    )


@router.get("/stores/{store_id}/payouts", **access.views(PAYOUT_VIEWS, array=True))
async def list_store_payouts(
    store_id: str,
    request: Request,
    response: Response,
    ctx: CtxDep,
    session: ReadSession,
    status: PayoutStatus | None = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[PayoutRead]:
    """The store's payouts, newest first (a seller its own stores'), by status if asked. More
    pages: the ``Link`` header's rel=next."""
    rows, next_cursor = await payout_reads.list_payouts(
        session,
        principal=ctx.principal,
        store_id=store_id,
        status=status,
        cursor=cursor,
        limit=limit,
    )
    next_link(request, response, next_cursor)
    accounts = await payout_accounts.accounts_of(session, rows)
    return [payout_reads.present(p, ctx.principal, accounts.get(p.payout_account_id)) for p in rows]


@router.get("/payouts", **access.views(PAYOUT_VIEWS, only=(Role.operator,), array=True))
async def list_all_payouts(
    request: Request,
    response: Response,
    ctx: CtxDep,
    session: ReadSession,
    status: PayoutStatus | None = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[PayoutRead]:
    """Every store's payouts, newest first, by status if asked (``status=failed``: what the
    rail refused; ``status=sending``: on the rail with no answer yet). Operators."""
    rows, next_cursor = await payout_reads.list_payouts(
        session, principal=ctx.principal, status=status, cursor=cursor, limit=limit
    )
    next_link(request, response, next_cursor)
    accounts = await payout_accounts.accounts_of(session, rows)
    return [payout_reads.present(p, ctx.principal, accounts.get(p.payout_account_id)) for p in rows]


@router.get("/payouts/{payout_id}", **access.views(PAYOUT_VIEWS))
async def get_payout(payout_id: str, ctx: CtxDep, session: ReadSession) -> PayoutRead:
    """One payout: a seller its own stores'; operators any (with its journal entries)."""
    payout = await payout_reads.get_payout(session, principal=ctx.principal, payout_id=payout_id)
    accounts = await payout_accounts.accounts_of(session, [payout])
    return payout_reads.present(payout, ctx.principal, accounts.get(payout.payout_account_id))

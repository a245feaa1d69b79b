"""The deposit (保证金, S3): its status, deposits received, refund applications and their review;
and the deposit rates per product category."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import ClockDep, CtxDep, PrincipalDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.api.openapi import refusal
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.onboarding import joining
from tuoguan.principal import Role
from tuoguan.settlement import deposit_funding, deposit_rates, deposit_reads, deposits
from tuoguan.settlement.deposit_models import DepositRate, DepositRefund
from tuoguan.settlement.deposit_schemas import (
    DepositFundingCreate,
    DepositFundingRead,
    DepositRateCreate,
    DepositRateRead,
    DepositRefundCreate,
    DepositRefundRead,
    DepositStatusRead,
    RefundApproval,
    RefundRejection,
)

router = APIRouter(tags=["deposits"])

OPERATOR = access.roles(Role.operator)
READERS = access.roles(Role.operator, Role.seller)
NOT_MANAGED = refusal(
    409, "The store is not full-managed and holds no deposit (full_managed_only)."
)
Limit = Annotated[int, Query(ge=1, le=200)]


@router.get(
    "/stores/{store_id}/deposit",
    response_model=DepositStatusRead,
    responses=NOT_MANAGED,
    **READERS,
)
async def deposit_status(store_id: str, ctx: CtxDep, session: ReadSession) -> DepositStatusRead:
    """S3: the store's deposit: what it must hold (the highest rate among its products'
    categories), what it holds, what it owes, what is refundable (held - owed, never below 0),
    its state, the application waiting if any, its debts line by line and the refund's
    preconditions that fail now. A seller reads its own stores'."""
    found = await deposits.status(session, ctx=ctx, store_id=store_id)
    return await deposit_reads.present_status(session, found)


@router.post(
    "/stores/{store_id}/deposit/fundings",
    status_code=201,
    response_model=DepositFundingRead,
    **OPERATOR,
)
async def record_funding(
    store_id: str, request: Request, ctx: CtxDep, body: DepositFundingCreate
) -> Response:
    """S3: record a deposit the seller paid by bank transfer (operators), posted to the store's
    deposit held at once; the same reference again records nothing more. 409
    ``full_managed_only``, ``reference_used``; 422 ``store_currency``, ``no_fractions``."""

    async def render(_: AsyncSession, done: deposit_funding.Funding) -> DepositFundingRead:
        return DepositFundingRead(
            store_id=done.store_id,
            entry_id=done.entry.id,
            amount_minor=int(done.entry.parts["amount"]),
            currency=done.entry.currency or "",
            reference=done.reference,
            posted_at=done.entry.posted_at,
            held_minor=done.held_minor,
        )

    async def fund(session: AsyncSession) -> deposit_funding.Funding:
        done = await deposit_funding.fund(
            session,
            ctx,
            store_id=store_id,
            amount_minor=body.amount_minor,
            currency=body.currency,
            reference=body.reference,
        )
        await joining.try_join(session, ctx=ctx, store_id=store_id)  # M2: the last step?
        return done

    return await run_mutation(request, ctx, fund, render, status_code=201)


async def _one(session: AsyncSession, row: DepositRefund) -> DepositRefundRead:
    return (await deposit_reads.present_refunds(session, [row]))[0]


@router.post(
    "/stores/{store_id}/deposit/refunds",
    status_code=201,
    response_model=DepositRefundRead,
    **access.roles(Role.seller),
)
async def apply_refund(
    store_id: str, request: Request, ctx: CtxDep, body: DepositRefundCreate
) -> Response:
    """S3: the seller applies for its deposit back, with a reason and an amount. 409
    ``refund_preconditions`` names every precondition that fails in ``failed`` (each with its
    ``rule``, ``count`` and ``what``: ``no_unfinished_orders``, ``no_open_cases``,
    ``no_unpaid_debt``); 409 ``one_open_application``; 422 ``within_refundable`` (held - owed),
    ``no_fractions``."""
    return await run_mutation(
        request,
        ctx,
        lambda s: deposits.apply_refund(s, ctx, store_id=store_id, data=body),
        _one,
        status_code=201,
    )


@router.get(
    "/stores/{store_id}/deposit/refunds",
    response_model=list[DepositRefundRead],
    **READERS,
)
async def store_refunds(
    store_id: str,
    request: Request,
    response: Response,
    ctx: CtxDep,
    session: ReadSession,
    cursor: CursorQuery = None,
    limit: Limit = 50,
) -> list[DepositRefundRead]:
    """The store's refund applications, newest first, each with its status (paid or failed
    once its payout has the rail's answer), deductions and expected arrival."""
    rows, next_cursor = await deposit_reads.store_refunds(
        session, principal=ctx.principal, store_id=store_id, cursor=cursor, limit=limit
    )
    next_link(request, response, next_cursor)
    return await deposit_reads.present_refunds(session, rows)


@router.get("/deposit-refunds", response_model=list[DepositRefundRead], **OPERATOR)
async def refund_queue(
    request: Request,
    response: Response,
    ctx: CtxDep,
    session: ReadSession,
    cursor: CursorQuery = None,
    limit: Limit = 50,
) -> list[DepositRefundRead]:
    """The operators' queue: applications waiting for a decision first, oldest first, then the
    decided ones. More pages: the ``Link`` header's rel=next."""
    rows, next_cursor = await deposit_reads.queue(
        session, principal=ctx.principal, cursor=cursor, limit=limit
    )
    next_link(request, response, next_cursor)
    return await deposit_reads.present_refunds(session, rows)


@router.get("/deposit-refunds/{refund_id}", response_model=DepositRefundRead, **READERS)
async def get_refund(refund_id: str, ctx: CtxDep, session: ReadSession) -> DepositRefundRead:
    """One application (a seller its own stores')."""
    row = await deposit_reads.get_refund(session, principal=ctx.principal, refund_id=refund_id)
    return await _one(session, row)


@router.post("/deposit-refunds/{refund_id}/approve", response_model=DepositRefundRead, **OPERATOR)
async def approve_refund(
    refund_id: str, request: Request, ctx: CtxDep, body: RefundApproval | None = None
) -> Response:
    """S3: approve (operators): the preconditions are checked again; what the store owes is
    taken from the deposit (penalties first, line by line) and the refund is set aside for a
    payout to the store's bound account, arriving in 3-5 business days. 409
    ``illegal_transition`` (decided already), ``refund_preconditions``, ``within_refundable``,
    ``payout_account_bound``."""
    note = body.note if body else None
    return await run_mutation(
        request,
        ctx,
        lambda s: deposits.approve(s, ctx, refund_id=refund_id, note=note),
        _one,
    )


@router.post("/deposit-refunds/{refund_id}/reject", response_model=DepositRefundRead, **OPERATOR)
async def reject_refund(
    refund_id: str, request: Request, ctx: CtxDep, body: RefundRejection
) -> Response:
    """Reject (operators), saying why; the seller is told. 409 ``illegal_transition``."""
    return await run_mutation(
        request,
        ctx,
        lambda s: deposits.reject(s, ctx, refund_id=refund_id, reason=body.reason),
        _one,
    )


# -- rates ---------------------------------------------------------------------------------------


@router.post("/deposit-rates", status_code=201, response_model=DepositRateRead, **OPERATOR)
async def create_rate(request: Request, ctx: CtxDep, body: DepositRateCreate) -> Response:
    """Add the next version of a category's deposit in a currency (operators), now or later.
    422 ``not_past``, ``after_previous``."""

    async def render(session: AsyncSession, rate: DepositRate) -> DepositRateRead:
        versions = await deposit_rates.list_rates(
            session, principal=ctx.principal, category=rate.category
        )
        return deposit_reads.present_rate(rate, versions, ctx.clock.now())

    return await run_mutation(
        request,
        ctx,
        lambda s: deposit_rates.create_rate(s, ctx=ctx, data=body),
        render,
        status_code=201,
    )


@router.get("/deposit-rates", response_model=list[DepositRateRead], **READERS)
async def list_rates(
    principal: PrincipalDep,
    session: ReadSession,
    clock: ClockDep,
    category: Annotated[str | None, Query(max_length=60)] = None,
) -> list[DepositRateRead]:
    """Every version, per category and currency oldest first, with which is in force now."""
    versions = await deposit_rates.list_rates(session, principal=principal, category=category)
    now = clock.now()
    return [deposit_reads.present_rate(v, versions, now) for v in versions]

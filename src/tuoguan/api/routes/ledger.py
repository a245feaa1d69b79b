"""The ledger (M3, S3, F6): accounts and their balances, movements, entries and an order's
entries; an operator's hand-made adjustment and reversal. A seller reads its own stores'
accounts, and of an entry only the lines on them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.api import access
from tuoguan.api.deps import CtxDep, PrincipalDep, ReadSession
from tuoguan.api.mutation import run_mutation
from tuoguan.api.paging import CursorQuery, next_link
from tuoguan.kit.clock import UTCInstant
from tuoguan.ledger import reads, service
from tuoguan.ledger.accounts import Owner
from tuoguan.ledger.kinds import EntryKind
from tuoguan.ledger.records import Entry
from tuoguan.ledger.schemas import (
    ENTRY_VIEWS,
    AccountRead,
    AdjustmentCreate,
    EntryRead,
    EntryView,
    MovementRead,
    ReverseBody,
    present_account,
    present_entry,
    present_movement,
)
from tuoguan.orders import service as orders
from tuoguan.principal import Role

router = APIRouter(tags=["ledger"])
READERS = access.roles(Role.operator, Role.seller)
ORDER = "order"  # the subject type of the entries about an order


@router.get("/ledger/accounts", response_model=list[AccountRead], **READERS)
async def list_ledger_accounts(
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: ReadSession,
    store_id: Annotated[str | None, Query(max_length=40)] = None,
    owner: Annotated[
        Owner | None, Query(description="store: the stores' accounts; platform: the platform's.")
    ] = None,
    currency: Annotated[str | None, Query(max_length=8, description="ISO 4217.")] = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AccountRead]:
    """Ledger accounts by id with their balances: operators any (one store's, the platform's),
    a seller its own stores' (another store's: an empty page). Accounts open with their first
    posting. More pages: the ``Link`` header's rel=next."""
    rows, next_cursor = await reads.list_accounts(
        session,
        principal,
        store_id=store_id,
        owner=owner,
        currency=currency,
        cursor=cursor,
        limit=limit,
    )
    next_link(request, response, next_cursor)
    return [present_account(account) for account in rows]


@router.get("/ledger/accounts/{account_id}", response_model=AccountRead, **READERS)
async def get_ledger_account(
    account_id: str, principal: PrincipalDep, session: ReadSession
) -> AccountRead:
    """One account and its balance on its normal side (another seller's: 404)."""
    return present_account(await reads.account_for(session, principal, account_id))


@router.get("/ledger/accounts/{account_id}/postings", response_model=list[MovementRead], **READERS)
async def list_account_postings(
    account_id: str,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: ReadSession,
    kind: Annotated[EntryKind | None, Query(description="Only entries of this kind.")] = None,
    since: Annotated[UTCInstant | None, Query(description="Posted at or after.")] = None,
    until: Annotated[UTCInstant | None, Query(description="Posted before.")] = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[MovementRead]:
    """An account's movements, newest first, with what each entry records; of one kind, in a
    period [since, until). More pages: the ``Link`` header's rel=next."""
    account = await reads.account_for(session, principal, account_id)
    rows, next_cursor = await reads.movements_of(
        session, [account], kind=kind, since=since, until=until, cursor=cursor, limit=limit
    )
    next_link(request, response, next_cursor)
    return [present_movement(movement) for movement in rows]


@router.get("/ledger/entries/{entry_id}", **access.views(ENTRY_VIEWS))
async def get_ledger_entry(
    entry_id: str, principal: PrincipalDep, session: ReadSession
) -> EntryView:
    """One journal entry and its lines: operators every line; a seller an entry that moves its
    own stores' accounts, and only those lines (else 404)."""
    entry, reversed_by = await reads.entry_for(session, principal, entry_id)
    return present_entry(entry, reversed_by, principal.role)


@router.get("/orders/{order_id}/ledger", **access.views(ENTRY_VIEWS, array=True))
async def order_ledger(
    order_id: str, principal: PrincipalDep, session: ReadSession
) -> list[EntryView]:
    """The entries about an order, oldest first (its sale, fees, refunds, compensation…), as
    the caller's role reads them: a seller only the lines on its own stores' accounts."""
    await orders.get_order(session, principal=principal, order_id=order_id)
    found = await reads.subject_entries_for(
        session, principal, subject_type=ORDER, subject_id=order_id
    )
    return [present_entry(entry, mirror, principal.role) for entry, mirror in found]


async def _render(_: AsyncSession, entry: Entry) -> EntryRead:
    shown = present_entry(entry, None, Role.operator)
    assert isinstance(shown, EntryRead)
    return shown


@router.post(
    "/ledger/entries",
    status_code=201,
    response_model=EntryRead,
    **access.roles(Role.operator),
)
async def create_adjustment(request: Request, ctx: CtxDep, body: AdjustmentCreate) -> Response:
    """手工调账: an operator's correction that no entry kind describes, legs balanced per
    currency, with a memo. Refused with nothing posted: 422 naming ``postings.<n>``,
    ``currency`` or ``memo`` and the rule (two_legs, no_fractions, balanced, matches_account,
    known_account, memo_required); 409 for a closed account or one that would go below zero."""
    legs = [(leg.account_id, leg.amount_minor, leg.currency) for leg in body.postings]
    return await run_mutation(
        request,
        ctx,
        lambda s: service.adjust(s, ctx, legs, body.memo),
        _render,
        status_code=201,
    )


@router.post(
    "/ledger/entries/{entry_id}/reverse",
    status_code=201,
    response_model=EntryRead,
    **access.roles(Role.operator),
)
async def reverse_entry(
    entry_id: str, request: Request, ctx: CtxDep, body: ReverseBody
) -> Response:
    """Post an entry's mirror (every posting negated), with the reason. An entry is reversed
    at most once (409 reversed_once), a reversal is not reversed (409 reversal_not_reversed),
    and the mirror obeys every rule of an entry (409 insufficient_balance, account_open)."""
    return await run_mutation(
        request,
        ctx,
        lambda s: service.reverse(s, ctx, entry_id, body.reason),
        _render,
        status_code=201,
    )

"""Reading payouts: a store's (its seller's own), a seller's stores', every store's (operators),
one payout; and a payout as each role reads it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.errors import Forbidden, NotFound
from tuoguan.kit.keyset import Keyset
from tuoguan.principal import Principal, Role
from tuoguan.settlement.models import Payout, PayoutAccount, PayoutStatus
from tuoguan.settlement.payout_accounts import present_account, store_of
from tuoguan.settlement.schemas import PAYOUT_VIEWS, PayoutRead
from tuoguan.stores.models import Store

NEWEST = Keyset((Payout.id,), ("id",), descending=True)


def _reader(principal: Principal) -> None:
    if principal.role not in PAYOUT_VIEWS:
        raise Forbidden(f"a {principal.role.value} does not read payouts")


async def list_payouts(
    session: AsyncSession,
    *,
    principal: Principal,
    store_id: str | None = None,
    seller_id: str | None = None,
    status: PayoutStatus | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Payout], str | None]:
    """Payouts newest first, by status if asked, and the next page's cursor: one store's (a
    seller's own), else a seller's stores' (a seller always its own), else all (operators)."""
    _reader(principal)
    if principal.role is Role.seller:
        seller_id = principal.seller_id or "-"
    query = select(Payout)
    if store_id is not None:
        store = await store_of(session, principal, store_id)
        query = query.where(Payout.store_id == store.id)
    elif seller_id is not None:
        owned = select(Store.id).where(Store.seller_id == seller_id)
        query = query.where(Payout.store_id.in_(owned))
    elif not principal.is_operator:
        raise Forbidden("only operators read every store's payouts")
    if status is not None:
        query = query.where(Payout.status == status)
    return await NEWEST.page(session, [query], cursor=cursor, limit=limit)


async def get_payout(session: AsyncSession, *, principal: Principal, payout_id: str) -> Payout:
    """One payout the principal may see (another seller's is not found)."""
    _reader(principal)
    payout = await session.get(Payout, payout_id)
    if payout is None:
        raise NotFound(f"payout {payout_id} not found", field="payout_id")
    try:
        await store_of(session, principal, payout.store_id)
    except NotFound:
        raise NotFound(f"payout {payout_id} not found", field="payout_id") from None
    return payout


def present(
    payout: Payout, principal: Principal, account: PayoutAccount | None = None
) -> PayoutRead:
    """A payout as the caller's role reads it (``PAYOUT_VIEWS``)."""
    model = PAYOUT_VIEWS[principal.role]
    fields = {c: getattr(payout, c) for c in model.model_fields if c != "account"}
    return model.model_validate(
        {**fields, "account": present_account(account) if account else None}
    )

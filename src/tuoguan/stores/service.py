"""Use cases for sellers and stores; the caller commits."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput, NotFound
from tuoguan.kit.ids import new_id
from tuoguan.kit.money import check_currency
from tuoguan.principal import Principal, Role
from tuoguan.stores import repository
from tuoguan.stores.models import Seller, Store, StoreMode, StoreStatus
from tuoguan.stores.modes import rules
from tuoguan.stores.schemas import Address, SellerCreate, StoreCreate, StoreUpdate
from tuoguan.timing.calendar import BusinessCalendar, calendar_for
from tuoguan.timing.places import check_country, check_timezone, country_timezone


def _require_operator(principal: Principal) -> None:
    if principal.role is not Role.operator:
        raise Forbidden("only an operator may do this")


async def create_seller(session: AsyncSession, *, ctx: Ctx, data: SellerCreate) -> Seller:
    """An operator registers a seller."""
    _require_operator(ctx.principal)
    seller = Seller(
        id=new_id("seller"),
        name=data.name,
        country=check_country(data.country),
        created_at=ctx.clock.now(),
    )
    session.add(seller)
    audit.record(session, ctx=ctx, subject_type="seller", subject_id=seller.id, action="create")
    await session.flush()
    return seller


async def get_seller(session: AsyncSession, *, principal: Principal, seller_id: str) -> Seller:
    """A seller the principal may see (operators: any; sellers: themselves)."""
    seller = await repository.get_seller(session, seller_id)
    allowed = principal.is_operator or (
        principal.role is Role.seller and principal.seller_id == seller_id
    )
    if seller is None or not allowed:
        raise NotFound(f"seller {seller_id} not found", field="seller_id")
    return seller


async def list_sellers(
    session: AsyncSession, *, principal: Principal, cursor: str | None = None, limit: int = 100
) -> tuple[list[Seller], str | None]:
    """Operators list every seller, by id; a seller sees itself."""
    if principal.is_operator:
        return await repository.list_sellers(session, cursor=cursor, limit=limit)
    if principal.role is Role.seller and principal.seller_id:
        repository.SELLERS.seek(cursor)  # a bad cursor is still a 400
        seller = await repository.get_seller(session, principal.seller_id)
        return ([seller] if seller and not cursor else []), None
    raise Forbidden("this role cannot list sellers")


async def get_store(session: AsyncSession, *, principal: Principal, store_id: str) -> Store:
    """A store the principal may see; anyone else's is reported as not found."""
    store = await repository.get_store(session, store_id)
    if store is None or not can_see_store(principal, store):
        raise NotFound(f"store {store_id} not found", field="store_id")
    return store


def store_calendar(store: Store) -> BusinessCalendar:
    """The business calendar of the place a store ships from (F1): country plus closed days."""
    return calendar_for(store.country, (date.fromisoformat(d) for d in store.closed_days))


def can_see_store(principal: Principal, store: Store) -> bool:
    """Operators (and the system's own jobs) see every store, a seller its own."""
    if principal.is_operator or principal.role is Role.system:
        return True
    return principal.role is Role.seller and principal.seller_id == store.seller_id


async def list_stores(
    session: AsyncSession, *, principal: Principal, cursor: str | None = None, limit: int = 100
) -> tuple[list[Store], str | None]:
    """The stores this principal may see, by id, and the next page's cursor."""
    if principal.role not in (Role.operator, Role.seller):
        raise Forbidden("this role cannot list stores")
    return await repository.list_visible(session, principal, cursor=cursor, limit=limit)


def may_open(principal: Principal, data: StoreCreate) -> None:
    """Refuse a store opening this principal may not ask for: a seller opens its own
    non-managed stores only (full-managed is by invitation, M2); operators open any."""
    if principal.role is Role.seller:
        if data.seller_id != principal.seller_id:
            raise NotFound(f"seller {data.seller_id} not found", field="seller_id")
        if rules(data.mode).invitation_only:
            raise Forbidden(
                "full-managed stores are by invitation only (M2): an operator opens them",
                field="mode",
            )
    elif principal.role is not Role.operator:
        raise Forbidden("this role cannot open stores")


async def create_store(session: AsyncSession, *, ctx: Ctx, data: StoreCreate) -> Store:
    """Open a self-run or semi-managed store, joined at once. A full-managed store opens by
    invitation only (M2): when its seller accepts one, or when an operator accepts one on the
    seller's behalf (``onboarding.invitations``), never through here (409 ``by_invitation``)."""
    may_open(ctx.principal, data)
    if rules(data.mode).invitation_only:
        raise Conflict(
            "a full-managed store opens by invitation only (M2): invite the seller, or open it "
            "on the seller's behalf with a reason",
            field="mode",
            rule="by_invitation",
        )
    if data.on_behalf_reason is not None:
        raise InvalidInput(
            "only a full-managed store is opened on a seller's behalf; leave the reason out",
            field="on_behalf_reason",
            rule="full_managed_only",
        )
    return await open_store(session, ctx=ctx, data=data, joined_at=ctx.clock.now())


async def open_store(
    session: AsyncSession, *, ctx: Ctx, data: StoreCreate, joined_at: datetime | None
) -> Store:
    """Open the store ``data`` describes (the caller checked who may): its row and its audit
    event. ``joined_at`` None: a full-managed store opened by invitation, still joining."""
    if await repository.get_seller(session, data.seller_id) is None:
        raise NotFound(f"seller {data.seller_id} not found", field="seller_id")
    country = check_country(data.country)
    timezone = (
        check_timezone(data.timezone)
        if data.timezone is not None
        else country_timezone(country).key
    )
    linked = None
    if rules(data.mode).invitation_only:
        linked = await _linked_store(
            session, seller_id=data.seller_id, store_id=data.linked_store_id
        )
    elif data.linked_store_id:
        raise InvalidInput(
            "only a full-managed store links to another store", field="linked_store_id"
        )
    store = Store(
        id=new_id("store"),
        seller_id=data.seller_id,
        name=data.name,
        mode=data.mode,
        status=StoreStatus.active,
        country=country,
        timezone=timezone,
        currency=check_currency(data.currency),
        ship_promise_days=data.ship_promise_days,
        closed_days=[],
        linked_store_id=linked,
        sender_address=_sender(data.sender_address),
        created_at=ctx.clock.now(),
        joined_at=joined_at,
    )
    session.add(store)
    audit.record(
        session,
        ctx=ctx,
        subject_type="store",
        subject_id=store.id,
        store_id=store.id,
        action="create",
        to_state=store.status.value,
        data={
            "mode": store.mode.value,
            "joined_at": joined_at.isoformat() if joined_at else None,
        },
    )
    await session.flush()
    return store


# A seller whose full-managed store left the program (S4) may never be invited back.
LEFT_PROGRAM = (StoreStatus.exited, StoreStatus.closed)


async def program_stores(session: AsyncSession, seller_id: str) -> list[Store]:
    """The seller's full-managed stores, whatever their status, oldest first (M2, S4)."""
    rows = await session.scalars(
        select(Store)
        .where(Store.seller_id == seller_id, Store.mode == StoreMode.full_managed)
        .order_by(Store.created_at, Store.id)
    )
    return list(rows)


async def _linked_store(session: AsyncSession, *, seller_id: str, store_id: str | None) -> str:
    if not store_id:
        raise InvalidInput(
            "a full-managed store is opened beside an existing store of the seller (M2)",
            field="linked_store_id",
        )
    existing = await repository.get_store(session, store_id)
    if existing is None or existing.seller_id != seller_id:
        raise InvalidInput(
            f"store {store_id} is not a store of this seller", field="linked_store_id"
        )
    if rules(existing.mode).invitation_only:
        raise InvalidInput("link to the seller's own non-managed store", field="linked_store_id")
    return existing.id


def _sender(address: Address | None) -> dict[str, Any] | None:
    """A sender address as stored, its country checked."""
    if address is None:
        return None
    stored = address.model_dump(mode="json")
    stored["country"] = check_country(address.country, field="sender_address.country")
    return stored


# A seller announces a closure this many days ahead, so it never moves the deadlines of
# orders already placed; operators may record an emergency closure at once.
CLOSED_DAY_NOTICE_DAYS = 7
# The longest closure in a row (Spring Festival closures run two to four weeks).
MAX_CLOSED_RUN_DAYS = 31


def _checked_closed_days(store: Store, ctx: Ctx, requested: list[str]) -> list[str]:
    """The new closed days, sorted; refused if added at short notice or closed too long."""
    days = sorted(set(requested))
    today = ctx.clock.now().astimezone(ZoneInfo(store.timezone)).date()
    added = set(days) - set(store.closed_days or [])
    earliest = today + timedelta(days=CLOSED_DAY_NOTICE_DAYS)
    short = sorted(d for d in added if date.fromisoformat(d) < earliest)
    if short and ctx.principal.role is not Role.operator:
        raise InvalidInput(
            f"closed day {short[0]} is announced too late: add closed days at least "
            f"{CLOSED_DAY_NOTICE_DAYS} days ahead (from {earliest.isoformat()}), so orders "
            "already placed keep their deadlines",
            field="closed_days",
            rule="closed_day_notice",
        )
    run = 1
    for before, after in zip(days, days[1:], strict=False):
        run = (
            run + 1 if date.fromisoformat(after) - date.fromisoformat(before) == timedelta(1) else 1
        )
        if run > MAX_CLOSED_RUN_DAYS:
            raise InvalidInput(
                f"closed days run longer than {MAX_CLOSED_RUN_DAYS} days in a row (to {after})",
                field="closed_days",
                rule="closed_days_run",
            )
    return days


async def update_store(
    session: AsyncSession, *, ctx: Ctx, store_id: str, data: StoreUpdate
) -> Store:
    """Rename a store or change its ship promise (F1)."""
    store = await get_store(session, principal=ctx.principal, store_id=store_id)
    changes = data.model_dump(mode="json", exclude_none=True)
    if data.sender_address is not None:
        changes["sender_address"] = _sender(data.sender_address)
    if "closed_days" in changes:
        changes["closed_days"] = _checked_closed_days(store, ctx, changes["closed_days"])
    for key, value in changes.items():
        setattr(store, key, value)
    if changes:
        audit.record(
            session,
            ctx=ctx,
            subject_type="store",
            subject_id=store.id,
            store_id=store.id,
            action="update",
            data=changes,
        )
    return store

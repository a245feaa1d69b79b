"""Breaches: find missed deadlines, record each once, flag the order, tell the seller, fine it."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.errors import Forbidden, NotFound
from tuoguan.finance import service as finance
from tuoguan.finance.schemas import Rating
from tuoguan.kit.clock import as_utc
from tuoguan.kit.keyset import Keyset
from tuoguan.orders import deadlines
from tuoguan.orders import service as orders
from tuoguan.orders.models import Order
from tuoguan.principal import Principal, Role
from tuoguan.sla import breaches, repository
from tuoguan.sla.models import BREACH_OF, Breach
from tuoguan.stores import service as stores
from tuoguan.stores.modes import Party
from tuoguan.timing.kinds import BreachKind

# The order stamps that end a breach's lateness: the late work done, or the order cancelled.
_ENDED_BY = {
    BreachKind.confirm_late: ("confirmed_at", "cancelled_at"),
    BreachKind.ship_late: ("shipped_at", "cancelled_at"),
}
RATING_WINDOW_DAYS = 90


async def record_due_breaches(
    session: AsyncSession,
    *,
    ctx: Ctx,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> int:
    """Record a breach for each order whose confirm or ship deadline has passed, once.

    The caller commits. The rows are locked (SKIP LOCKED on PostgreSQL), so
    concurrent workers take disjoint batches, and the order's flag and the
    unique (order, kind) pair keep a breach from being recorded twice. A batch
    is a handful of statements whatever its size: breaches, notifications,
    flags and audit events each go in one.

    An order that re-entered a deadline it had already missed (its shipment
    cancelled, F10) keeps its breach: it is flagged again, and no second breach
    or notification is made. ``exclude`` leaves out orders set aside after a
    failure; ``only`` takes just these (the worker retrying one at a time).
    """
    now = ctx.clock.now()
    due = await deadlines.overdue(
        session, now=now, limit=limit, skip_locked=skip_locked, exclude=exclude, only=only
    )
    if not due:
        return 0
    known = await repository.breached(session, [o.id for o in due])
    fresh = [o for o in due if (o.id, BREACH_OF[o.status]) not in known]
    versions = await finance.all_policies(session) if fresh else []
    await breaches.record_many(session, ctx=ctx, due=fresh, versions=versions)
    await deadlines.flag_missed(
        session, ctx=ctx, missed=[(o, BREACH_OF[o.status].value) for o in due]
    )
    return len(due)


async def overdue_ids(
    session: AsyncSession, *, now: datetime, limit: int, exclude: Collection[str]
) -> list[str]:
    """The orders the breach sweep would take next (no locks): to retry them one by one."""
    due = await deadlines.overdue(session, now=now, limit=limit, skip_locked=False, exclude=exclude)
    return [o.id for o in due]


def lateness_of(breach: Breach, order: Order, now: datetime) -> timedelta:
    """How late the work was: until it was done or the order cancelled, else until now."""
    ended = [getattr(order, stamp) for stamp in _ENDED_BY[breach.kind]]
    end = min((as_utc(at) for at in ended if at is not None), default=now)
    return max(end - as_utc(breach.deadline_at), timedelta(0))


async def assess_due_breaches(
    session: AsyncSession,
    *,
    ctx: Ctx,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> int:
    """F6, O2: price each breach whose lateness is settled under the policy of its deadline.

    Each breach is assessed once: the sweep only reads unassessed breaches, under
    a row lock, and the penalty's unique breach id refuses a second one. The
    platform's breaches (F11: its warehouse shipped late) get their lateness and
    are never fined. ``exclude`` and ``only`` scope the breaches as in
    ``record_due_breaches``.
    """
    now = ctx.clock.now()
    ready = await repository.ready_to_assess(
        session, now=now, limit=limit, skip_locked=skip_locked, exclude=exclude, only=only
    )
    versions = await finance.all_policies(session) if ready else []
    for breach, order in ready:
        lateness = lateness_of(breach, order, now)
        breach.lateness_seconds = int(lateness.total_seconds())
        breach.assessed_at = now
        if breach.responsible is not Party.seller:
            continue
        governing = finance.in_force(versions, breach.kind, as_utc(breach.deadline_at))
        if governing is None:
            continue
        finance.assess(
            session,
            ctx=ctx,
            policy=governing,
            breach_id=breach.id,
            order_id=order.id,
            store_id=order.store_id,
            seller_id=order.seller_id,
            order_total_minor=order.total_minor,
            currency=order.currency,
            lateness=lateness,
        )
    return len(ready)


async def assessable_ids(
    session: AsyncSession, *, now: datetime, limit: int, exclude: Collection[str]
) -> list[str]:
    """The breaches the penalty sweep would take next (no locks): to retry them one by one."""
    ready = await repository.ready_to_assess(
        session, now=now, limit=limit, skip_locked=False, exclude=exclude
    )
    return [breach.id for breach, _ in ready]


BREACHES_NEWEST = Keyset((Breach.detected_at, Breach.id), ("instant", "id"), descending=True)


async def list_breaches(
    session: AsyncSession,
    *,
    principal: Principal,
    order_id: str | None = None,
    seller_id: str | None = None,
    store_id: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> tuple[list[Breach], str | None]:
    """Breaches the principal may see, newest first, and the next page's cursor: operators
    all, a seller its own; narrowed to an order, a store or a seller (indexes ``(detected_at,
    id)``, ``(order_id|store_id|seller_id, …)``). Another seller's order, store or id is an
    empty page."""
    query = select(Breach)
    if principal.role is not Role.operator and not (
        principal.role is Role.seller and principal.seller_id
    ):
        raise Forbidden("this role cannot read breaches")
    if principal.role is Role.seller:
        if seller_id and seller_id != principal.seller_id:
            return _no_breaches(cursor)
        seller_id = principal.seller_id
    if order_id:
        # The order's own range; a seller's filter by an order not theirs is an empty page.
        try:
            order = await orders.get_order(session, principal=principal, order_id=order_id)
        except NotFound:
            return _no_breaches(cursor)
        if store_id not in (None, order.store_id) or seller_id not in (None, order.seller_id):
            return _no_breaches(cursor)
        query = query.where(Breach.order_id == order_id)
    elif store_id:
        # The store proves its seller: its own range.
        try:
            store = await stores.get_store(session, principal=principal, store_id=store_id)
        except NotFound:
            return _no_breaches(cursor)
        if seller_id not in (None, store.seller_id):
            return _no_breaches(cursor)
        query = query.where(Breach.store_id == store_id)
    elif seller_id:
        query = query.where(Breach.seller_id == seller_id)
    return await BREACHES_NEWEST.page(session, [query], cursor=cursor, limit=limit)


def _no_breaches(cursor: str | None) -> tuple[list[Breach], str | None]:
    BREACHES_NEWEST.seek(cursor)  # a bad cursor is still a 400
    return [], None


async def seller_rating(
    session: AsyncSession, *, principal: Principal, seller_id: str, now: datetime
) -> Rating:
    """F6: 100 less the rating points of the seller's penalties in the window, not waived."""
    await stores.get_seller(session, principal=principal, seller_id=seller_id)
    since = now - timedelta(days=RATING_WINDOW_DAYS)
    points, counting, waived = await finance.rating_counts(
        session, seller_id=seller_id, since=since
    )
    return Rating(
        seller_id=seller_id,
        score=max(0, 100 - points),
        window_days=RATING_WINDOW_DAYS,
        points_deducted=points,
        breaches=await repository.count_by_kind(session, seller_id=seller_id, since=since),
        penalties_counting=counting,
        penalties_waived=waived,
    )

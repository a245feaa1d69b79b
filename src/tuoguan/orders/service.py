"""Use cases for orders: place, act on, read. The caller commits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.audit.models import Event
from tuoguan.catalog import service as catalog
from tuoguan.context import Ctx
from tuoguan.errors import Forbidden, InvalidInput, NotFound, check_version
from tuoguan.kit.clock import as_utc
from tuoguan.kit.ids import new_id, new_ids
from tuoguan.kit.money import check_currency
from tuoguan.orders import pace, repository
from tuoguan.orders.models import Order, OrderLine
from tuoguan.orders.repository import OrderFilter, Overdue, RiskCheck
from tuoguan.orders.schemas import CancelBody, Deadline, OrderCreate, ShipBody
from tuoguan.orders.states import DEADLINE_OF, INITIAL, OrderAction, OrderStatus, next_state
from tuoguan.principal import Principal, Role
from tuoguan.stores import repository as store_repository
from tuoguan.stores.models import Store, StoreStatus
from tuoguan.stores.modes import Party, rules
from tuoguan.stores.service import store_calendar
from tuoguan.timing import deadlines, explain, risk
from tuoguan.timing.calendar import calendar_for
from tuoguan.timing.places import check_country, country_timezone

_PLACERS = (Role.buyer_channel, Role.operator)
# Roles whose order view (schemas.ORDER_VIEWS) leaves out the seller's deadlines.
_NO_DEADLINES = (Role.buyer_channel, Role.carrier)
# When each action happened, stamped on the order.
_STAMPED = {
    OrderAction.confirm: "confirmed_at",
    OrderAction.ship: "shipped_at",
    OrderAction.deliver: "delivered_at",
    OrderAction.complete: "completed_at",
    OrderAction.cancel: "cancelled_at",
    OrderAction.request_cancel: "cancel_requested_at",
}

# Finished work counted in the pace aggregates (G5), by the deadline it was due by.
_PACED = {
    OrderAction.confirm: "confirm_by",
    OrderAction.ship: "ship_by",
    OrderAction.deliver: "deliver_by",
}


async def place_order(session: AsyncSession, *, ctx: Ctx, data: OrderCreate) -> Order:
    """O1: the buyer's channel places an order; it exists from that instant with its deadlines."""
    if ctx.principal.role not in _PLACERS:
        raise Forbidden("only the buyer's channel or an operator places orders")
    store = await store_repository.get_store(session, data.store_id)
    if store is None:
        raise InvalidInput(f"store {data.store_id} not found", field="store_id")
    if store.status is not StoreStatus.active:
        raise InvalidInput(f"store {store.id} is {store.status.value}", field="store_id")
    currency = check_currency(data.currency)
    if currency != store.currency:
        raise InvalidInput(f"store {store.id} sells in {store.currency}", field="currency")
    country = check_country(data.address.country, field="address.country")
    sold = await catalog.orderable(
        session, store_id=store.id, lines=[(line.product_id, line.sku_id) for line in data.lines]
    )
    now = ctx.clock.now()
    order = Order(
        id=new_id("order"),
        store_id=store.id,
        seller_id=store.seller_id,
        mode=store.mode,
        status=INITIAL[store.mode],
        currency=currency,
        shipping_minor=data.shipping_minor,
        buyer_ref=data.buyer_ref,
        recipient_name=data.address.name,
        recipient_phone=data.address.phone,
        address_line1=data.address.line1,
        address_line2=data.address.line2,
        city=data.address.city,
        region=data.address.region,
        postcode=data.address.postcode,
        country=country,
        placed_at=now,
    )
    subtotal = 0
    for position, (line, (product, sku)) in enumerate(zip(data.lines, sold, strict=True)):
        unit = product.price_minor or 0
        subtotal += unit * line.quantity
        order.lines.append(
            OrderLine(
                id=new_id("line"),
                position=position,
                product_id=product.id,
                sku_id=sku.id,
                sku=sku,  # C3: the variant sold, shown with the line
                name=product.name,
                quantity=line.quantity,
                unit_price_minor=unit,
                line_total_minor=unit * line.quantity,
            )
        )
    order.subtotal_minor = subtotal
    order.total_minor = subtotal + data.shipping_minor
    _enter_state(order, store, order.status, now, ctx)
    session.add(order)
    audit.record(
        session,
        ctx=ctx,
        subject_type="order",
        subject_id=order.id,
        store_id=store.id,
        action="place",
        to_state=order.status.value,
        data={"total_minor": order.total_minor},
    )
    await session.flush()
    return order


def _enter_state(order: Order, store: Store, status: OrderStatus, now: datetime, ctx: Ctx) -> None:
    """Compute the deadlines a state starts, then point deadline_at at the running one."""
    # Stored and returned in UTC, whatever zone they were computed in; views localise them.
    if status is OrderStatus.awaiting_confirmation:
        order.confirm_by = as_utc(deadlines.confirm_by(order.placed_at))
    elif status is OrderStatus.awaiting_shipment and order.ship_by is not None:
        pass  # re-entered (F10 unship, a refused void): the deadline is the one first computed
    elif status is OrderStatus.awaiting_shipment and rules(order.mode).ships is Party.platform:
        pass  # F11: the platform's clock starts when its warehouse holds the stock
    elif status is OrderStatus.awaiting_shipment:
        tz = ZoneInfo(store.timezone)
        ship_by = deadlines.ship_by(
            order.placed_at, store.ship_promise_days, tz, store_calendar(store)
        )
        order.ship_by = as_utc(ship_by)
        order.deliver_by = as_utc(
            deadlines.deliver_by(
                ship_by.date(),
                deadlines.transit_days(store.country, order.country),
                country_timezone(order.country),
                calendar_for(order.country),
            )
        )
    elif status is OrderStatus.delivered:
        order.auto_complete_at = as_utc(
            deadlines.auto_complete_at(now, ctx.settings.auto_confirm_days)
        )
    field = DEADLINE_OF.get(status)
    order.deadline_at = getattr(order, field) if field else None
    order.deadline_missed_at = None
    # G5: a new state's risk is unknown until the worker scores it, at the window's start.
    order.risk_score = order.risk_reasons = order.risk_scored_at = None
    start = window_start(order)
    order.risk_check_at = start if order.deadline_at is not None else None


def start_ship_clock(
    session: AsyncSession, *, ctx: Ctx, order: Order, ship_by: datetime, origin: str
) -> None:
    """F11: the platform's warehouse holds the stock: its ship deadline (``ship_by``, from the
    warehouse's calendar) and the delivery deadline from its country (``origin``) start now."""
    local = ship_by.astimezone(country_timezone(origin))
    order.ship_by = as_utc(ship_by)
    order.deliver_by = as_utc(
        deadlines.deliver_by(
            local.date(),
            deadlines.transit_days(origin, order.country),
            country_timezone(order.country),
            calendar_for(order.country),
        )
    )
    if DEADLINE_OF.get(order.status) == "ship_by":
        order.deadline_at = order.ship_by
        order.deadline_missed_at = None
        order.risk_score = order.risk_reasons = order.risk_scored_at = None
        order.risk_check_at = window_start(order)


def _sellers_work(order: Order, action: OrderAction, ctx: Ctx) -> bool:
    """Whether the step is the seller's own work, which its pace counts (G5): not a parcel the
    platform ships (F11), nor a confirmation the system gives for an order served from stock."""
    if action is OrderAction.ship:
        return rules(order.mode).ships is Party.seller
    if action is OrderAction.confirm:
        return ctx.principal.role is not Role.system
    return True


def window_start(order: Order) -> datetime | None:
    """When the running deadline's window opened (G5 scores how much of it is gone)."""
    if order.status in (OrderStatus.awaiting_confirmation, OrderStatus.awaiting_shipment):
        return as_utc(order.placed_at)
    if order.status is OrderStatus.shipped and order.shipped_at is not None:
        return as_utc(order.shipped_at)
    return None


async def get_order(session: AsyncSession, *, principal: Principal, order_id: str) -> Order:
    """An order the principal may see; anyone else's is not found (no existence leak)."""
    order = await session.scalar(repository.visible_orders(principal).where(Order.id == order_id))
    if order is None:
        raise NotFound(f"order {order_id} not found", field="order_id")
    return order


# What the domains above orders must see before an order moves, in the same transaction: SLA
# enforcement records a deadline that was missed before its sweep noticed, shipping refuses a
# second shipment. Each registers itself when its package is imported (``tuoguan.sla``,
# ``tuoguan.shipping``), so orders never imports them: the layers stay one-way.
Guard = Callable[[AsyncSession, Ctx, Order, OrderAction, Any], Awaitable[None]]
_GUARDS: dict[str, Guard] = {}


def guard(name: str) -> Callable[[Guard], Guard]:
    """Register ``fn`` to run before every order action, once per name (re-imports replace it)."""

    def register(fn: Guard) -> Guard:
        _GUARDS[name] = fn
        return fn

    return register


def guards() -> list[str]:
    """The names of the registered guards, in the order they run."""
    return list(_GUARDS)


async def act(
    session: AsyncSession,
    *,
    ctx: Ctx,
    order_id: str,
    action: OrderAction,
    body: Any = None,
    expected_version: int | None = None,
) -> Order:
    """Apply one action to an order under a row lock, with its audit event."""
    order = await repository.get_for_update(session, ctx.principal, order_id)
    if order is None:
        raise NotFound(f"order {order_id} not found", field="order_id")
    check_version("order", order_id, order.version, expected_version)
    target = next_state(order.mode, order.status, action, ctx.principal.role)
    now = ctx.clock.now()
    if action is OrderAction.ship and not isinstance(body, ShipBody):
        raise InvalidInput("shipping needs a carrier and a tracking number", field="body")
    for check in _GUARDS.values():
        await check(session, ctx, order, action, body)
    data: dict[str, Any] = {}
    if action is OrderAction.ship:
        assert isinstance(body, ShipBody)
        order.carrier_code = body.carrier_code
        order.tracking_number = body.tracking_number
        data = body.model_dump()
    elif action in (OrderAction.cancel, OrderAction.request_cancel):
        if not isinstance(body, CancelBody):
            raise InvalidInput("cancelling needs a reason", field="reason")
        order.cancel_reason = body.reason
    store = await session.get(Store, order.store_id)
    assert store is not None
    if action is OrderAction.unship:
        # F10: the shipment is undone, and so is its count in the seller's pace.
        if _sellers_work(order, OrderAction.ship, ctx):
            await pace.count(session, order=order, kind="ship_by", origin=store.country, undo=True)
        order.carrier_code = order.tracking_number = order.shipped_at = None
    if action in _STAMPED:
        setattr(order, _STAMPED[action], now)
    if action in _PACED and _sellers_work(order, action, ctx):
        await pace.count(session, order=order, kind=_PACED[action], origin=store.country)
    reason = getattr(body, "reason", None)
    source = order.status
    order.status = target
    _enter_state(order, store, target, now, ctx)
    audit.record(
        session,
        ctx=ctx,
        subject_type="order",
        subject_id=order.id,
        store_id=order.store_id,
        action=action.value,
        from_state=source.value,
        to_state=target.value,
        reason=reason,
        data=data,
    )
    return order


async def overdue(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> list[Overdue]:
    """Orders whose confirm or ship deadline passed and is not yet recorded as missed, locked
    (leaving out those set aside, ``exclude``; or just ``only`` these, when retried one by one)."""
    rows = await repository.overdue_unmissed(
        session, now=now, limit=limit, skip_locked=skip_locked, exclude=exclude, only=only
    )
    return [Overdue(r.id, r.store_id, r.seller_id, r.status, as_utc(r.deadline_at)) for r in rows]


def _missed_fields(order: Order | Overdue, kind: str) -> dict[str, Any]:
    deadline = order.deadline_at.isoformat() if order.deadline_at else None
    return {
        "subject_type": "order",
        "subject_id": order.id,
        "store_id": order.store_id,
        "action": "deadline_missed",
        "from_state": order.status.value,
        "to_state": order.status.value,
        "reason": kind,
        "data": {"deadline_at": deadline},
    }


def mark_deadline_missed(session: AsyncSession, *, ctx: Ctx, order: Order, kind: str) -> None:
    """Flag the order's running deadline as missed, with its audit event."""
    order.deadline_missed_at = ctx.clock.now()
    audit.record(session, ctx=ctx, **_missed_fields(order, kind))


async def flag_missed(
    session: AsyncSession, *, ctx: Ctx, missed: list[tuple[Overdue, str]]
) -> None:
    """Flag many orders' deadlines as missed in two statements, an audit event each."""
    if not missed:
        return
    await repository.flag_missed(session, ids=[o.id for o, _ in missed], now=ctx.clock.now())
    event_ids = new_ids("event", len(missed))
    await audit.record_many(
        session,
        [
            audit.event_row(ctx=ctx, event_id=event_id, **_missed_fields(o, kind))
            for (o, kind), event_id in zip(missed, event_ids, strict=True)
        ],
    )


async def list_orders(
    session: AsyncSession, *, principal: Principal, flt: OrderFilter
) -> tuple[list[Order], str | None]:
    """A page of the orders the principal may see."""
    if principal.role in _NO_DEADLINES and (flt.sort == "deadline" or flt.due_before):
        # Their view shows no seller deadlines; sorting or filtering by them would tell them.
        raise Forbidden(
            f"a {principal.role.value} does not see orders' deadlines, so cannot sort or "
            "filter by them",
            field="due_before" if flt.due_before else "sort",
            rule="role_view",
        )
    return await repository.page(session, principal, flt)


async def events(session: AsyncSession, *, principal: Principal, order_id: str) -> list[Event]:
    """The order's timeline, oldest first."""
    await get_order(session, principal=principal, order_id=order_id)
    return await audit.timeline(session, subject_type="order", subject_id=order_id)


DEADLINE_KINDS = ("confirm_by", "ship_by", "deliver_by", "auto_complete_at")
# Deadlines about the parcel's arrival are read in the buyer's zone; the rest in the store's.
_AT_DESTINATION = frozenset({"deliver_by", "auto_complete_at"})


def _deadline(order: Order, kind: str, store_tz: str, now: datetime) -> Deadline | None:
    at: datetime | None = getattr(order, kind)
    if at is None:
        return None
    zone = country_timezone(order.country) if kind in _AT_DESTINATION else ZoneInfo(store_tz)
    return Deadline(
        kind=kind,
        at=at.astimezone(zone),
        timezone=zone.key,
        seconds_left=int((at - now).total_seconds()),
    )


def next_deadline(order: Order, store_tz: str, now: datetime) -> Deadline | None:
    """O5: the deadline running now, in the zone of the place it applies to, with time left."""
    kind = DEADLINE_OF.get(order.status)
    return _deadline(order, kind, store_tz, now) if kind else None


def all_deadlines(order: Order, store_tz: str, now: datetime) -> list[Deadline]:
    """Every deadline the order has, each in its own zone."""
    found = (_deadline(order, kind, store_tz, now) for kind in DEADLINE_KINDS)
    return [deadline for deadline in found if deadline is not None]


async def explain_deadlines(
    session: AsyncSession, *, ctx: Ctx, order_id: str
) -> list[explain.Explanation]:
    """How each of the order's deadlines was computed, with the days counted and skipped."""
    order = await get_order(session, principal=ctx.principal, order_id=order_id)
    store = await session.get(Store, order.store_id)
    assert store is not None
    tz = ZoneInfo(store.timezone)
    placed = as_utc(order.placed_at)
    found: list[explain.Explanation] = []
    if order.confirm_by is not None:
        found.append(explain.confirm_by(placed, tz))
    if order.ship_by is not None:
        found.append(
            explain.ship_by(
                placed, store.ship_promise_days, tz, store_calendar(store), store.country
            )
        )
    if order.deliver_by is not None:
        found.append(
            explain.deliver_by(
                as_utc(order.ship_by or order.deliver_by).astimezone(tz),
                deadlines.transit_days(store.country, order.country),
                store.country,
                order.country,
                country_timezone(order.country),
                calendar_for(order.country),
            )
        )
    if order.delivered_at is not None:
        found.append(
            explain.auto_complete(
                as_utc(order.delivered_at),
                ctx.settings.auto_confirm_days,
                country_timezone(order.country),
            )
        )
    for item in found:
        stored: datetime | None = getattr(order, item.kind)
        if stored is not None and item.at is not None and as_utc(stored) != as_utc(item.at):
            item.steps.append(
                f"stored deadline {as_utc(stored).isoformat()} differs: it was computed under "
                "the store's settings at the time (promise, closed days, or configuration)"
            )
            item.at = as_utc(stored)
    return found


async def due_risk_checks(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> list[Order]:
    """Orders due a fresh risk score (G5), locked for this worker (scoped as ``overdue``)."""
    return await repository.due_risk_checks(
        session, now=now, limit=limit, skip_locked=skip_locked, exclude=exclude, only=only
    )


async def set_risk_checks(session: AsyncSession, checks: list[RiskCheck]) -> None:
    """Store orders' risk scores and next checkpoints (G5) without bumping their versions."""
    await repository.set_risk_checks(session, checks)


async def at_risk_page(
    session: AsyncSession,
    *,
    principal: Principal,
    min_score: int,
    store_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[Order], str | None]:
    """The principal's scored orders, highest stored score first, and the next page's cursor."""
    return await repository.at_risk_page(
        session, principal, min_score=min_score, store_id=store_id, cursor=cursor, limit=limit
    )


async def seller_pace(
    session: AsyncSession, *, seller_id: str, kind: str, since: date
) -> risk.History:
    """How long the seller took to confirm or ship (``kind``) since a day, as a histogram."""
    return await pace.history(session, kind=kind, key=seller_id, since=since)


async def lane_pace(
    session: AsyncSession, *, origin: str, destination: str, since: date
) -> risk.History:
    """How long parcels on a lane took to arrive since a day, as a histogram."""
    return await pace.history(
        session, kind="deliver_by", key=pace.lane(origin, destination), since=since
    )


async def prune_pace(session: AsyncSession, *, now: datetime) -> int:
    """Drop the oldest day of pace aggregates that no window reads any more (G5)."""
    return await pace.prune(session, now=now)


async def rebuild_pace(session: AsyncSession, *, now: datetime) -> int:
    """Recount the pace aggregates from the orders (after a bulk load or a repair)."""
    return await pace.rebuild(session, now=now)


async def lock_order(session: AsyncSession, *, principal: Principal, order_id: str) -> Order:
    """A visible order, freshly read and row-locked until the transaction ends."""
    order = await repository.get_for_update(session, principal, order_id)
    if order is None:
        raise NotFound(f"order {order_id} not found", field="order_id")
    return order


async def origin_country(session: AsyncSession, order: Order) -> str:
    """The country the order ships from (its store's)."""
    store = await session.get(Store, order.store_id)
    assert store is not None
    return store.country

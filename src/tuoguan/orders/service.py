"""Use cases for orders: place, act on, read. The caller commits. What each state's deadlines
are, and the sweeps' and warnings' reads of them, are in ``deadlines.py``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.audit.models import Event
from tuoguan.catalog import service as catalog
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput, NotFound, check_version
from tuoguan.kit.ids import new_id
from tuoguan.kit.money import check_currency
from tuoguan.orders import deadlines, listing, pace, repository, sales
from tuoguan.orders.models import Order, OrderLine
from tuoguan.orders.repository import OrderFilter
from tuoguan.orders.schemas import CancelBody, OrderCreate, ShipBody
from tuoguan.orders.states import INITIAL, OrderAction, OrderStatus, next_state
from tuoguan.principal import Principal, Role
from tuoguan.stores import repository as store_repository
from tuoguan.stores.models import Store, StoreStatus
from tuoguan.stores.modes import Party, rules
from tuoguan.timing import explain
from tuoguan.timing.places import check_country

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
    if store.joined_at is None:
        raise Conflict(
            f"store {store.id} is still joining the full-managed program (agreement, business "
            "review, deposit): it takes orders once it has joined",
            field="store_id",
            rule="store_joining",
        )
    currency = check_currency(data.currency)
    if currency != store.currency:
        raise InvalidInput(f"store {store.id} sells in {store.currency}", field="currency")
    country = check_country(data.address.country, field="address.country")
    sold = await catalog.orderable(
        session, store_id=store.id, lines=[(line.product_id, line.sku_id) for line in data.lines]
    )
    now = ctx.clock.now()
    rates = await sales.commission_rates(session, store.mode, [p for p, _ in sold], now)
    order = Order(
        id=new_id("order"),
        store_id=store.id,
        seller_id=store.seller_id,
        mode=store.mode,
        status=INITIAL[store.mode],
        currency=currency,
        shipping_minor=data.shipping_minor,
        buyer_ref=data.buyer_ref,
        buyer_locale=data.buyer_locale,
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
        made = OrderLine(
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
        sales.fix_line(made, store.mode, product, rates)  # M3: what its sale will post
        order.lines.append(made)
    order.subtotal_minor = subtotal
    order.total_minor = subtotal + data.shipping_minor
    deadlines.enter_state(order, store, order.status, now, ctx)
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


def _sellers_work(order: Order, action: OrderAction, ctx: Ctx) -> bool:
    """Whether the step is the seller's own work, which its pace counts (G5): not a parcel the
    platform ships (F11), nor a confirmation the system gives for an order served from stock."""
    if action is OrderAction.ship:
        return rules(order.mode).ships is Party.seller
    if action is OrderAction.confirm:
        return ctx.principal.role is not Role.system
    return True


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
    deadlines.enter_state(order, store, target, now, ctx)
    if target is OrderStatus.completed:
        await sales.post_completed(session, ctx, order)  # O3: the sale posts as it completes
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
    return await listing.page(session, principal, flt)


async def events(session: AsyncSession, *, principal: Principal, order_id: str) -> list[Event]:
    """The order's timeline, oldest first."""
    await get_order(session, principal=principal, order_id=order_id)
    return await audit.timeline(session, subject_type="order", subject_id=order_id)


async def explain_deadlines(
    session: AsyncSession, *, ctx: Ctx, order_id: str
) -> list[explain.Explanation]:
    """How each of the order's deadlines was computed, with the days counted and skipped."""
    order = await get_order(session, principal=ctx.principal, order_id=order_id)
    store = await session.get(Store, order.store_id)
    assert store is not None
    return deadlines.explain_all(order, store, ctx.settings)


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

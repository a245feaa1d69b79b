"""Use cases of fulfilment: a buyer order routed to a warehouse, served from stock or supplied.

Placing an order lives here, the highest layer it touches: ``orders`` makes the order, then, in
the same transaction, the mode table (``stores.modes``) says who ships it (M1, F11):

- the seller (self-run, semi-managed): one fulfilment order ``seller_ships``, from the seller's
  own origin or overseas warehouse when it has exactly one; the order's own states say the rest;
- the platform (full-managed): the platform's consolidation warehouse (优选仓) reserves every
  line at once (a SAVEPOINT: all or nothing). With the stock held the order needs no
  confirmation and the warehouse's ship clock starts (F11); without it, a supply order (备货单)
  goes to the seller, who confirms it within the order's 24 hours (O2 × M5), and the order is
  served when the goods are received (``serve_waiting``).

Each step is an audit event on the buyer order's timeline as well as on its own object. The
caller commits.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.catalog import service as catalog
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput, NotFound
from tuoguan.fulfilment import repository
from tuoguan.fulfilment.models import (
    FulfilmentLine,
    FulfilmentOrder,
    FulfilmentStatus,
    SupplyLine,
    SupplyOrder,
    SupplyStatus,
)
from tuoguan.fulfilment.moves import cancel_supply, move_supply
from tuoguan.fulfilment.states import OPEN_SUPPLY, FulfilmentAction, SupplyAction, fulfilment_next
from tuoguan.fulfilment.timeline import REF, note, record
from tuoguan.inventory import service as inventory
from tuoguan.inventory import warehouses
from tuoguan.inventory.models import Warehouse, WarehouseKind
from tuoguan.kit.clock import as_utc
from tuoguan.kit.ids import new_id
from tuoguan.orders import deadlines
from tuoguan.orders import service as orders
from tuoguan.orders.models import Order
from tuoguan.orders.schemas import OrderCreate
from tuoguan.orders.states import OrderAction, OrderStatus
from tuoguan.principal import SYSTEM, Principal, Role
from tuoguan.stores import agreements
from tuoguan.stores.modes import ModeRules, Party, rules

# An order that can still be served from stock that arrives.
_SERVABLE = frozenset({OrderStatus.awaiting_confirmation, OrderStatus.awaiting_shipment})


def _as_system(ctx: Ctx) -> Ctx:
    return replace(ctx, principal=SYSTEM)


# -- placing and routing -----------------------------------------------------------------------


async def place_order(session: AsyncSession, *, ctx: Ctx, data: OrderCreate) -> Order:
    """O1: place a buyer order and route it to the warehouse that fulfils it, in one transaction.

    409 ``no_platform_warehouse`` when the platform ships and has no active warehouse of the
    kind it ships from (nothing is written: the caller rolls back).
    """
    order = await orders.place_order(session, ctx=ctx, data=data)
    await _route(session, ctx=ctx, order=order)
    return order


def _kinds(mode: ModeRules) -> list[WarehouseKind]:
    return [WarehouseKind(kind.value) for kind in mode.ships_from]


async def _route(session: AsyncSession, *, ctx: Ctx, order: Order) -> FulfilmentOrder:
    mode = rules(order.mode)
    now = ctx.clock.now()
    fo = FulfilmentOrder(
        id=new_id("fulfilment"),
        order_id=order.id,
        store_id=order.store_id,
        seller_id=order.seller_id,
        shipper=mode.ships,
        status=FulfilmentStatus.seller_ships,
        created_at=now,
        updated_at=now,
        lines=[
            FulfilmentLine(
                id=new_id("fulfilment_line"),
                order_line_id=line.id,
                position=line.position,
                sku_id=line.sku_id,
                quantity=line.quantity,
            )
            for line in order.lines
        ],
    )
    if mode.ships is Party.seller:
        own = await repository.seller_warehouses(
            session, seller_id=order.seller_id, kinds=_kinds(mode)
        )
        fo.warehouse_id = own[0].id if len(own) == 1 else None
        session.add(fo)
        record(session, ctx, fo, "create", None)
        return fo
    warehouse = await _platform_warehouse(session, order, mode)
    fo.warehouse_id = warehouse.id
    fo.status = FulfilmentStatus.awaiting_stock
    session.add(fo)
    record(session, ctx, fo, "create", None)
    await session.flush()
    if await _try_reserve(session, ctx, fo):
        await _reserved(session, ctx, order, fo, warehouse)
        return fo
    if not mode.supply_orders:
        raise Conflict(
            f"warehouse {warehouse.code} does not hold the stock for this order",
            field="lines",
            rule="not_enough_available",
        )
    await _ask_seller(session, ctx, order, fo, warehouse)
    return fo


async def _platform_warehouse(session: AsyncSession, order: Order, mode: ModeRules) -> Warehouse:
    """The platform's warehouse for an order: in the store's country if it has one there; of
    several, the one holding most of the order's units, then by code."""
    candidates = await repository.platform_warehouses(session, _kinds(mode))
    if not candidates:
        raise Conflict(
            "the platform ships this store's orders but has no active "
            f"{' or '.join(k.value for k in _kinds(mode))} warehouse to ship them from",
            field="store_id",
            rule="no_platform_warehouse",
        )
    country = await orders.origin_country(session, order)
    near = [w for w in candidates if w.country == country] or candidates
    if len(near) == 1:
        return near[0]
    needed: dict[str, int] = {}
    for line in order.lines:
        needed[line.sku_id] = needed.get(line.sku_id, 0) + line.quantity
    held = await repository.available(
        session, warehouse_ids=[w.id for w in near], sku_ids=list(needed)
    )

    def units(w: Warehouse) -> int:
        return sum(min(held.get((w.id, sku), 0), n) for sku, n in needed.items())

    return min(near, key=lambda w: (-units(w), w.code))


async def _try_reserve(session: AsyncSession, ctx: Ctx, fo: FulfilmentOrder) -> bool:
    """Hold every line's units in the fulfilment order's warehouse, all or none (M5)."""
    assert fo.warehouse_id is not None
    await session.flush()  # nothing of the ORM is written inside the savepoint
    try:
        async with session.begin_nested():
            for line in fo.lines:
                await inventory.reserve(
                    session,
                    ctx=ctx,
                    warehouse_id=fo.warehouse_id,
                    sku_id=line.sku_id,
                    quantity=line.quantity,
                    ref_type=REF,
                    ref_id=fo.id,
                )
    except Conflict as short:
        if short.extra.get("rule") != "not_enough_available":
            raise
        return False
    return True


async def _reserved(
    session: AsyncSession, ctx: Ctx, order: Order, fo: FulfilmentOrder, warehouse: Warehouse
) -> None:
    """The stock is held: the warehouse's ship clock starts (F11); an order still awaiting
    confirmation is confirmed by the system, as the seller has nothing to confirm."""
    now = ctx.clock.now()
    source = fo.status.value
    fo.status = fulfilment_next(fo.status, FulfilmentAction.reserve)
    fo.reserved_at = fo.updated_at = now
    fo.ship_by = as_utc(warehouses.ship_by(warehouse, now))
    record(session, ctx, fo, "reserve", source)
    note(
        session,
        ctx,
        order,
        "fulfilment_reserved",
        {
            "fulfilment_order_id": fo.id,
            "warehouse_id": warehouse.id,
            "ship_by": fo.ship_by.isoformat(),
        },
    )
    if order.status is OrderStatus.awaiting_confirmation:
        await orders.act(session, ctx=_as_system(ctx), order_id=order.id, action=OrderAction.confirm)
    deadlines.start_ship_clock(
        session, ctx=ctx, order=order, ship_by=fo.ship_by, origin=warehouse.country
    )


async def _ask_seller(
    session: AsyncSession, ctx: Ctx, order: Order, fo: FulfilmentOrder, warehouse: Warehouse
) -> SupplyOrder:
    """O2 × M5: the warehouse cannot serve the order: a supply order to the seller, to confirm
    by the order's own confirm-by, for the order's SKUs at their supply prices. Refused while
    the seller owes an acceptance of the program agreement (M4, 409 ``agreement_pending``)."""
    assert order.confirm_by is not None, "a supplied order awaits the seller's confirmation"
    await agreements.require_accepted(session, seller_id=order.seller_id, at=ctx.clock.now())
    products = await catalog.products_by_id(session, [line.product_id for line in order.lines])
    wanted: dict[str, tuple[int, int | None]] = {}
    for line in order.lines:
        price = line.sku.supply_price_minor
        if price is None:
            price = products[line.product_id].supply_price_minor
        quantity, _ = wanted.get(line.sku_id, (0, None))
        wanted[line.sku_id] = (quantity + line.quantity, price)
    now = ctx.clock.now()
    supply = SupplyOrder(
        id=new_id("supply"),
        fulfilment_order_id=fo.id,
        order_id=order.id,
        store_id=order.store_id,
        seller_id=order.seller_id,
        warehouse_id=warehouse.id,
        status=SupplyStatus.awaiting_confirmation,
        currency=order.currency,
        confirm_by=order.confirm_by,
        created_at=now,
        updated_at=now,
        lines=[
            SupplyLine(
                id=new_id("supply_line"),
                position=position,
                sku_id=sku_id,
                quantity=quantity,
                supply_price_minor=price,
            )
            for position, (sku_id, (quantity, price)) in enumerate(wanted.items())
        ],
    )
    session.add(supply)
    record(session, ctx, supply, "create", None)
    note(
        session,
        ctx,
        order,
        "supply_order_created",
        {
            "supply_order_id": supply.id,
            "fulfilment_order_id": fo.id,
            "warehouse_id": warehouse.id,
            "confirm_by": as_utc(supply.confirm_by).isoformat(),
        },
    )
    return supply


# -- stock arriving, goods sent ----------------------------------------------------------------


async def serve_waiting(
    session: AsyncSession, *, ctx: Ctx, warehouse_id: str, sku_ids: Collection[str]
) -> list[str]:
    """Stock of these SKUs arrived in the warehouse: serve the fulfilment orders waiting for it,
    oldest first, each all or nothing; the ids of the buyer orders served.

    A served order's supply order is received (or, if the seller had not confirmed it yet, no
    longer needed: cancelled, and the order confirmed by the system); the ship clock starts.
    """
    warehouse = await repository.get_warehouse(session, warehouse_id)
    if warehouse is None:
        raise InvalidInput(
            f"warehouse {warehouse_id} does not exist", field="warehouse_id", rule="known_warehouse"
        )
    served = []
    for order_id in await repository.waiting_for(
        session, warehouse_id=warehouse_id, sku_ids=sku_ids
    ):
        order = await orders.lock_order(session, principal=SYSTEM, order_id=order_id)
        fo = await repository.fulfilment_of(session, order_id, lock=True)
        if (
            fo is None
            or fo.status is not FulfilmentStatus.awaiting_stock
            or fo.warehouse_id != warehouse_id
            or order.status not in _SERVABLE
        ):
            continue
        if not await _try_reserve(session, ctx, fo):
            continue
        supply = await repository.supply_of(session, order_id, lock=True)
        if supply is not None and supply.status is SupplyStatus.awaiting_confirmation:
            reason = "served from stock that reached the warehouse before it was confirmed"
            cancel_supply(session, ctx, order, supply, reason)
        elif supply is not None and supply.status in OPEN_SUPPLY:
            move_supply(session, ctx, order, supply, SupplyAction.receive, "supply_received")
        await _reserved(session, ctx, order, fo, warehouse)
        served.append(order_id)
    return served


async def supply_sent(session: AsyncSession, *, ctx: Ctx, supply_order_id: str) -> SupplyOrder:
    """R1: an inbound notice for the supply order left the seller: it is in transit.

    Sending again (a second notice for the rest) changes nothing, nor does sending goods for a
    supply order cancelled meanwhile (they arrive as stock like any other); a supply order not
    yet confirmed is refused (409 ``supply_not_confirmed``).
    """
    found = await get_supply_order(
        session, principal=ctx.principal, supply_order_id=supply_order_id
    )
    order = await orders.lock_order(session, principal=SYSTEM, order_id=found.order_id)
    supply = await repository.get_supply(session, supply_order_id, lock=True)
    assert supply is not None
    if supply.status in (SupplyStatus.in_transit, SupplyStatus.received, SupplyStatus.cancelled):
        return supply
    if supply.status is SupplyStatus.awaiting_confirmation:
        raise Conflict(
            f"supply order {supply.id} is not confirmed: confirm it before sending its goods",
            field="supply_order_id",
            rule="supply_not_confirmed",
        )
    move_supply(session, ctx, order, supply, SupplyAction.send, "supply_in_transit")
    return supply


# -- reads -------------------------------------------------------------------------------------


def can_see_supply(principal: Principal, supply: SupplyOrder) -> bool:
    """Operators and the system see every supply order; a seller its own."""
    if principal.is_operator or principal.role is Role.system:
        return True
    return principal.role is Role.seller and supply.seller_id == principal.seller_id


async def get_supply_order(
    session: AsyncSession, *, principal: Principal, supply_order_id: str
) -> SupplyOrder:
    """A supply order the principal may see; another seller's is not found."""
    if principal.role not in (Role.operator, Role.seller, Role.system):
        raise Forbidden("this role does not read supply orders")
    supply = await repository.get_supply(session, supply_order_id)
    if supply is None or not can_see_supply(principal, supply):
        raise NotFound(f"supply order {supply_order_id} not found", field="supply_order_id")
    return supply


async def fulfilment_orders(
    session: AsyncSession, *, principal: Principal, order_id: str
) -> list[FulfilmentOrder]:
    """The fulfilment orders of a buyer order the principal may see (today at most one)."""
    await orders.get_order(session, principal=principal, order_id=order_id)
    fo = await repository.fulfilment_of(session, order_id)
    return [fo] if fo is not None else []


async def platform_shipped(session: AsyncSession, order_ids: Sequence[str]) -> dict[str, str | None]:
    """F11: of these buyer orders, those the platform ships, with the warehouse shipping each."""
    return await repository.platform_shipped(session, order_ids)


def confirm_seconds_left(supply: SupplyOrder, now: datetime) -> int | None:
    """O2: seconds left to confirm a supply order awaiting confirmation (negative once late)."""
    if supply.status is not SupplyStatus.awaiting_confirmation:
        return None
    return int((as_utc(supply.confirm_by) - now).total_seconds())

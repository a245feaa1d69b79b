"""The demo's deadlines: orders that missed theirs and orders about to, so that the at-risk,
breaches and penalties pages show something from the first start (O2, F1, F6, G5).

Nothing here is written around the rules. Each order is placed through the order service
with a clock set to the moment it was placed, and its late work is done at the moment it was
done, so its deadlines are the ones the real rules give it (a ship-by is looked for among the
placements whose deadline falls where the story needs it, whatever the calendar's holidays).
Then, back at the real now, the worker's deadline sweeps run once, as a worker starting up
would run them: the missed deadlines become breaches, the settled ones are priced (so their
appeal window is open), and the open orders are scored and their sellers warned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.demo.data import ADDRESSES, CHANNEL, STOCKED, tracking_number
from tuoguan.fulfilment import service as fulfilment
from tuoguan.kit.clock import Clock, FrozenClock
from tuoguan.orders import deadlines
from tuoguan.orders import service as orders
from tuoguan.orders.models import Order
from tuoguan.orders.schemas import Address, LineCreate, OrderCreate, ShipBody
from tuoguan.orders.states import OrderAction, OrderStatus
from tuoguan.principal import SYSTEM
from tuoguan.sla import service as sla
from tuoguan.sla import warnings
from tuoguan.stores.models import Store
from tuoguan.stores.modes import Party, rules

# Placements are tried going back from now in steps of this (an odd step, so that the demo's
# orders are not all placed on the hour), at most this far back.
_STEP = timedelta(minutes=37)
_LOOKBACK = timedelta(days=20)
# "About to miss it": at least this share of the window gone, with an hour or more left.
_NEARLY_GONE = 0.75
_STILL_LEFT = timedelta(hours=1)
_NEVER_STOCKED = "Silicone phone case 手机壳"
assert _NEVER_STOCKED not in STOCKED


@dataclass(frozen=True)
class Shop:
    """A demo store, its seller, and what it sells: (product id, its SKU ids, product name)."""

    store: Store
    seller: Ctx
    products: list[tuple[str, list[str], str]]


async def late_and_due(session: AsyncSession, *, shops: Sequence[Shop], clock: Clock) -> None:
    """For each store, the deadlines its seller keeps: a confirmation (O2) where the seller
    confirms, a shipment (F1) where the seller ships. One of each story per store: done late,
    not done and overdue, and nearly due."""
    now = clock.now()
    for shop in shops:
        mode = rules(shop.store.mode)
        if mode.seller_confirms:
            await _confirmations(session, shop, now)
        if mode.ships is Party.seller:
            await _shipments(session, shop, now)


async def catch_up(session: AsyncSession, *, clock: Clock, settings: Settings) -> None:
    """The worker's deadline sweeps at the real now, each until it comes back short: record
    the missed deadlines (O2, F1), price the breaches whose lateness is settled (F6), score the
    open orders and warn their sellers (G5). The caller commits."""
    await session.flush()
    # A sweep reads what the database holds, as a worker's fresh transaction would.
    session.expunge_all()
    ctx = Ctx(principal=SYSTEM, clock=clock, settings=settings)
    batch = settings.worker_batch_size
    for sweep in (sla.record_due_breaches, sla.assess_due_breaches, warnings.warn_due):
        while await sweep(session, ctx=ctx, limit=batch, skip_locked=False) >= batch:
            pass


async def _confirmations(session: AsyncSession, shop: Shop, now: datetime) -> None:
    # Only an order the platform's warehouse cannot serve waits for its seller's confirmation:
    # phone cases, which it neither stocks nor receives (the earbuds that it receives are the
    # full-managed journey's, in full_managed.py).
    case = next(p for p in shop.products if p[2] == _NEVER_STOCKED)
    stories = (
        ("confirmed-late", timedelta(hours=40), timedelta(hours=10)),  # 6 h late
        ("unconfirmed-overdue", timedelta(hours=30), None),
        ("unconfirmed-due", timedelta(hours=20), None),  # 4 h of its 24 left
    )
    for (story, age, done_ago), buyer in zip(stories, ADDRESSES, strict=True):
        order = await _place(session, shop, now - age, case, story, buyer)
        if order.status is not OrderStatus.awaiting_confirmation:
            continue
        if done_ago is not None:
            at = replace(shop.seller, clock=FrozenClock(now - done_ago))
            await orders.act(session, ctx=at, order_id=order.id, action=OrderAction.confirm)
            await session.flush()


async def _shipments(session: AsyncSession, shop: Shop, now: datetime) -> None:
    def ship_by(placed: datetime) -> datetime:
        return deadlines.ship_by_for(shop.store, placed)

    # Shipped late: the deadline passed at least 8 h ago, and the parcel left well after it.
    placed = _latest(now, ship_by, due_by=now - timedelta(hours=8))
    late = await _place(session, shop, placed, shop.products[0], "shipped-late", ADDRESSES[2])
    deadline = ship_by(placed)
    shipped = deadline + min(timedelta(hours=20), (now - deadline) / 2)
    at = replace(shop.seller, clock=FrozenClock(shipped))
    body = ShipBody(carrier_code="cainiao", tracking_number=tracking_number(late.id))
    await orders.act(session, ctx=at, order_id=late.id, action=OrderAction.ship, body=body)
    await session.flush()
    # Not shipped, and its deadline passed an hour or more ago.
    placed = _latest(now, ship_by, due_by=now - timedelta(hours=1))
    overdue = shop.products[1 % len(shop.products)]
    await _place(session, shop, placed, overdue, "unshipped-overdue", ADDRESSES[1])
    # Nearly due, when the calendar has such an order now (not on a weekend morning, when
    # every running ship-by is a working day away).
    nearly = _nearly_due(now, ship_by)
    if nearly is not None:
        due = shop.products[2 % len(shop.products)]
        await _place(session, shop, nearly, due, "unshipped-due", ADDRESSES[0])


def _placements(now: datetime) -> Iterator[datetime]:
    placed = now
    while now - placed < _LOOKBACK:
        placed -= _STEP
        yield placed
    raise RuntimeError(f"no placement in the {_LOOKBACK.days} days before {now} fits the demo")


def _latest(now: datetime, due_of: Callable[[datetime], datetime], *, due_by: datetime) -> datetime:
    """The latest placement before now whose deadline fell due by ``due_by``."""
    return next(placed for placed in _placements(now) if due_of(placed) <= due_by)


def _nearly_due(now: datetime, due_of: Callable[[datetime], datetime]) -> datetime | None:
    """The earliest placement whose deadline is still ahead by an hour or more, if most of its
    window is gone by now (else None)."""
    earliest = None
    for placed in _placements(now):
        if due_of(placed) < now + _STILL_LEFT:
            break
        earliest = placed
    if earliest is None:
        return None
    gone = (now - earliest) / (due_of(earliest) - earliest)
    return earliest if gone >= _NEARLY_GONE else None


async def _place(
    session: AsyncSession,
    shop: Shop,
    placed: datetime,
    product: tuple[str, list[str], str],
    story: str,
    buyer: Address,
) -> Order:
    product_id, sku_ids, _ = product
    order = await fulfilment.place_order(
        session,
        ctx=Ctx(principal=CHANNEL, clock=FrozenClock(placed), settings=shop.seller.settings),
        data=OrderCreate(
            store_id=shop.store.id,
            currency=shop.store.currency,
            lines=[LineCreate(product_id=product_id, sku_id=sku_ids[0], quantity=1)],
            address=buyer,
            shipping_minor=300,
            buyer_ref=f"buyer-{story}",
        ),
    )
    await session.flush()
    return order

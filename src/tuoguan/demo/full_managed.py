"""The demo's full-managed journey (O2 × M5, R1, F11, R4): an order the platform's warehouse
could not serve becomes a supply order, which the seller confirms and sends in, and the
warehouse receives; and a second inbound notice stuck in transit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.catalog.models import Product
from tuoguan.context import Ctx
from tuoguan.demo.data import ADDRESSES, CHANNEL, PRODUCTS
from tuoguan.fulfilment import inbound, receiving
from tuoguan.fulfilment import repository as fulfilment_repository
from tuoguan.fulfilment import service as fulfilment
from tuoguan.fulfilment import supply as supply_service
from tuoguan.fulfilment.inbound_schemas import (
    CountLine,
    CountsCreate,
    InboundLineCreate,
    InboundNoticeCreate,
)
from tuoguan.kit.clock import Clock, FrozenClock
from tuoguan.orders.schemas import LineCreate, OrderCreate


async def supplied_and_received(
    session: AsyncSession, supplier: tuple[str, Ctx], staff: Ctx, hub: str, clock: Clock
) -> None:
    """O2 × M5, R1, F11 end to end: a full-managed order the warehouse could not serve becomes a
    supply order; the seller confirms it and sends the goods under an inbound notice; the
    warehouse receives them, which reserves the stock and starts the platform's ship clock. The
    order then waits on the pick list, to be picked and shipped online from the console. A
    second notice has been in transit for ten days: the stale-inbound report (R4) shows it."""
    store_id, seller = supplier
    earbuds = await session.scalar(
        select(Product).where(Product.store_id == store_id, Product.name == PRODUCTS[0][0])
    )
    assert earbuds is not None and earbuds.skus
    sku_id = earbuds.skus[0].id
    placed = FrozenClock(clock.now() - timedelta(hours=30))
    order = await fulfilment.place_order(
        session,
        ctx=Ctx(principal=CHANNEL, clock=placed, settings=seller.settings),
        data=OrderCreate(
            store_id=store_id,
            currency="USD",
            lines=[LineCreate(product_id=earbuds.id, sku_id=sku_id, quantity=2)],
            address=ADDRESSES[0],
            shipping_minor=300,
            buyer_ref="buyer-supplied",
        ),
    )
    await session.flush()
    supply = await fulfilment_repository.supply_of(session, order.id)
    assert supply is not None
    placed.advance(timedelta(hours=3))
    at = replace(seller, clock=placed)
    await supply_service.confirm_supply_order(session, ctx=at, supply_order_id=supply.id)
    placed.advance(timedelta(hours=4))
    notice = await inbound.create(
        session,
        ctx=at,
        data=InboundNoticeCreate(
            store_id=store_id,
            warehouse_id=hub,
            lines=[InboundLineCreate(sku_id=sku_id, quantity=2)],
            cartons=1,
            supply_order_id=supply.id,
            carrier_name="顺丰 SF Express",
            tracking_number="SF1402233445566",
        ),
    )
    await session.flush()
    await inbound.send(session, ctx=at, notice_id=notice.id)
    placed.advance(timedelta(hours=18))
    receiver = replace(staff, clock=placed)
    await receiving.arrive(session, ctx=receiver, notice_id=notice.id)
    await receiving.count(
        session,
        ctx=receiver,
        notice_id=notice.id,
        data=CountsCreate(counts=[CountLine(sku_id=sku_id, good=2)]),
    )
    await receiving.close(session, ctx=receiver, notice_id=notice.id)
    await session.flush()
    # R4: cartons that left ten days ago and never arrived.
    long_ago = replace(seller, clock=FrozenClock(clock.now() - timedelta(days=10)))
    stale = await inbound.create(
        session,
        ctx=long_ago,
        data=InboundNoticeCreate(
            store_id=store_id,
            warehouse_id=hub,
            lines=[InboundLineCreate(sku_id=sku_id, quantity=30)],
            cartons=3,
            carrier_name="德邦 Deppon",
            tracking_number="DPK300118822",
        ),
    )
    await session.flush()
    await inbound.send(session, ctx=long_ago, notice_id=stale.id)

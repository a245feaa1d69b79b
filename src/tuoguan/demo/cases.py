"""The demo's cases (R2, R3, G4): a receiving exception waiting for the seller's proof (two units
short at the hub, raised by the dock, the seller's step running), one decided for the seller
with a compensation the platform bears and its appeal window open, and a buyer's dispute on a
delivered self-run order waiting for the seller's answer; and a buyer's return of a delivered
order awaiting the platform's authorization (G6)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.cases import decisions, returns, steps
from tuoguan.cases import service as cases
from tuoguan.cases.kinds import Bearer, CaseState
from tuoguan.cases.return_schemas import ReturnCreate
from tuoguan.cases.schemas import CaseDecide, CaseMove, DisputeCreate, ReceivingCaseCreate
from tuoguan.catalog.models import Product
from tuoguan.context import Ctx
from tuoguan.demo.data import CHANNEL, PRODUCTS
from tuoguan.fulfilment import inbound, receiving
from tuoguan.fulfilment.inbound_schemas import (
    CountLine,
    CountsCreate,
    InboundLineCreate,
    InboundNoticeCreate,
)
from tuoguan.fulfilment.models import InboundDiscrepancy
from tuoguan.kit.clock import Clock, FrozenClock
from tuoguan.orders.models import Order
from tuoguan.orders.states import OrderStatus
from tuoguan.stores.models import StoreMode


async def _short_notice(
    session: AsyncSession,
    seller: Ctx,
    staff: Ctx,
    store_id: str,
    hub: str,
    at: FrozenClock,
    *,
    sent: int,
    counted: int,
    tracking: str,
) -> tuple[str, str]:
    """A notice of ``sent`` units of which ``counted`` arrived: (its id, its short discrepancy)."""
    earbuds = await session.scalar(
        select(Product).where(Product.store_id == store_id, Product.name == PRODUCTS[0][0])
    )
    assert earbuds is not None and earbuds.skus
    sku_id = earbuds.skus[0].id
    notice = await inbound.create(
        session,
        ctx=replace(seller, clock=at),
        data=InboundNoticeCreate(
            store_id=store_id,
            warehouse_id=hub,
            lines=[InboundLineCreate(sku_id=sku_id, quantity=sent)],
            cartons=2,
            carrier_name="顺丰 SF Express",
            tracking_number=tracking,
        ),
    )
    await session.flush()
    await inbound.send(session, ctx=replace(seller, clock=at), notice_id=notice.id)
    at.advance(timedelta(hours=20))
    dock = replace(staff, clock=at)
    await receiving.arrive(session, ctx=dock, notice_id=notice.id)
    await receiving.count(
        session,
        ctx=dock,
        notice_id=notice.id,
        data=CountsCreate(counts=[CountLine(sku_id=sku_id, good=counted)]),
    )
    await receiving.close(session, ctx=dock, notice_id=notice.id)
    await session.flush()
    short = await session.scalar(
        select(InboundDiscrepancy.id).where(InboundDiscrepancy.notice_id == notice.id)
    )
    assert short is not None
    return notice.id, short


async def cases_in_progress(
    session: AsyncSession,
    *,
    supplier: tuple[str, Ctx],
    staff: Ctx,
    operator: Ctx,
    hub: str,
    clock: Clock,
) -> None:
    store_id, seller = supplier
    # R3: two units short, raised by the dock, the seller asked for proof yesterday
    at = FrozenClock(clock.now() - timedelta(days=2))
    notice_id, short_id = await _short_notice(
        session, seller, staff, store_id, hub, at, sent=6, counted=4, tracking="SF1402299887766"
    )
    waiting = await cases.open_receiving(
        session,
        replace(staff, clock=at),
        ReceivingCaseCreate(
            notice_id=notice_id,
            discrepancy_id=short_id,
            summary="2号箱少2件，箱子完好 / carton 2 is 2 units short, the carton was intact",
        ),
    )
    at.advance(timedelta(hours=2))
    await steps.move(
        session,
        replace(operator, clock=at),
        case_id=waiting.id,
        data=CaseMove(
            to=CaseState.awaiting_seller,
            note="请提供装箱单 / please send the packing list",
        ),
    )
    # R3: one unit short, decided for the seller: the platform's receiving bears it
    at = FrozenClock(clock.now() - timedelta(days=1))
    notice_id, short_id = await _short_notice(
        session, seller, staff, store_id, hub, at, sent=3, counted=2, tracking="SF1402211223344"
    )
    decided = await cases.open_receiving(
        session,
        replace(seller, clock=at),
        ReceivingCaseCreate(
            notice_id=notice_id,
            discrepancy_id=short_id,
            summary="我们发了3件，签收单上也是3件 / we sent 3, the delivery slip says 3",
        ),
    )
    at.advance(timedelta(hours=3))
    await decisions.decide(
        session,
        replace(operator, clock=at),
        case_id=decided.id,
        data=CaseDecide(
            decision="compensate",
            bearer=Bearer.platform,
            amount_minor=1200,
            reason="签收记录为3件，仓库少计 / the gate signed for 3: the warehouse miscounted",
        ),
    )
    # G4: a buyer's dispute on a delivered self-run order, the seller's answer awaited
    order = await session.scalar(
        select(Order)
        .where(Order.mode == StoreMode.self_run, Order.status == OrderStatus.delivered)
        .order_by(Order.id)
        .limit(1)
    )
    storefront = Ctx(principal=CHANNEL, clock=clock, settings=seller.settings)
    if order is not None:
        await cases.open_dispute(
            session,
            storefront,
            DisputeCreate(
                order_id=order.id,
                cause="not_as_described",
                summary="颜色与图片不符 / the colour is not the one pictured",
            ),
        )
    # G6: a buyer's return of a delivered order, the day after delivery, awaiting the
    # platform's authorization (which books its label with the carrier)
    returned = await session.scalar(
        select(Order)
        .where(
            Order.status == OrderStatus.delivered,
            Order.id != (order.id if order is not None else ""),
            Order.delivered_at.is_not(None),
        )
        .order_by(Order.mode.desc(), Order.id)
        .limit(1)
    )
    if returned is not None and returned.delivered_at is not None:
        asked = FrozenClock(returned.delivered_at + timedelta(days=1))
        await returns.open_return(
            session,
            replace(storefront, clock=asked),
            ReturnCreate(
                order_id=returned.id,
                cause="not_wanted",
                summary="尺寸不合适，未拆封 / it does not fit; still sealed",
            ),
        )
    await session.flush()

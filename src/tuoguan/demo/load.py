"""Load the demo marketplace through the domain services (so every row has its audit trail)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts import service as accounts
from tuoguan.catalog import service as catalog
from tuoguan.catalog.models import Product, ProductStatus
from tuoguan.catalog.schemas import ProductCreate, ProductStatusSet, ProductUpdate, SkuCreate
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.finance import service as finance
from tuoguan.finance.schemas import PenaltyPolicyCreate, TierIn
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
from tuoguan.inventory import service as inventory
from tuoguan.inventory import warehouses
from tuoguan.inventory.models import WarehouseKind, WarehouseOwner
from tuoguan.inventory.schemas import StockAdjustmentCreate, WarehouseCreate
from tuoguan.kit.clock import Clock, FrozenClock
from tuoguan.orders import service as orders
from tuoguan.orders.schemas import Address, CancelBody, LineCreate, OrderCreate, ShipBody
from tuoguan.orders.states import OrderAction, OrderStatus
from tuoguan.principal import SYSTEM, Principal, Role
from tuoguan.shipping import service as shipping
from tuoguan.shipping.carriers import sandbox_catalog as demo_shipping
from tuoguan.shipping.schemas import SandboxAccountCreate
from tuoguan.stores import service as stores
from tuoguan.stores.models import Seller, Store, StoreMode
from tuoguan.stores.modes import Party, rules
from tuoguan.stores.schemas import SellerCreate, StoreCreate
from tuoguan.timing.kinds import BreachKind

OPERATOR_EMAIL = "operator@demo.tuoguan"
PASSWORD = "tuoguan-demo"


@dataclass(frozen=True)
class DemoLogin:
    """A console login the demo prints."""

    email: str
    role: str
    what: str


SELLERS = (
    # seller, country, stores (name, mode, country, currency, promise)
    (
        "深圳优品科技",
        "CN",
        "shenzhen",
        [
            ("优品旗舰店", StoreMode.self_run, "CN", "USD", 2),
            ("优品全托管", StoreMode.full_managed, "CN", "USD", 2),
        ],
    ),
    (
        "Iberia Home S.L.",
        "ES",
        "iberia",
        [
            ("Iberia Home (semi)", StoreMode.semi_managed, "ES", "EUR", 1),
        ],
    ),
    (
        "义乌小商品",
        "CN",
        "yiwu",
        [
            ("义乌杂货铺", StoreMode.semi_managed, "DE", "EUR", 2),
            ("义乌全托管", StoreMode.full_managed, "CN", "USD", 2),
        ],
    ),
)

PRODUCTS = (
    ("Bluetooth earbuds 蓝牙耳机", "electronics/audio", 80, 1999),
    ("Silicone phone case 手机壳", "accessories/phone", 60, 599),
    ("Ceramic mug 陶瓷杯", "home/kitchen", 420, 1250),
    ("Power bank 充电宝", "battery/power-bank", 260, 2599),
    ("Perfume 香水", "liquid/perfume", 180, 6900),
)
# The seller's own code (商家编码) and a barcode for each one-variant product, as a seller types
# them in, so warehouse staff scan and read real codes.
SINGLE_SKUS = {
    "Bluetooth earbuds 蓝牙耳机": SkuCreate(code="EB-001", barcode="6901234567915"),
    "Ceramic mug 陶瓷杯": SkuCreate(code="MUG-350", barcode="6901234567922"),
    "Power bank 充电宝": SkuCreate(code="PB-10K", barcode="6901234567939"),
    "Perfume 香水": SkuCreate(code="PF-50ML", barcode="6901234567946"),
}
# Products sold in several variants (C3: 规格); the others have one SKU each.
VARIANTS = {
    "Silicone phone case 手机壳": (
        SkuCreate(code="CASE-BLK", attributes={"colour": "black 黑色"}, barcode="6901234567892"),
        SkuCreate(code="CASE-CLR", attributes={"colour": "clear 透明"}, barcode="6901234567908"),
    ),
}

ADDRESSES = (
    Address(
        name="Maria Lopez",
        phone="+34 612 345 678",
        line1="Calle Mayor 1",
        city="Madrid",
        postcode="28013",
        country="ES",
    ),
    Address(
        name="Jan Kowalski",
        phone="+48 501 234 567",
        line1="ul. Marszałkowska 10",
        city="Warszawa",
        postcode="00-590",
        country="PL",
    ),
    Address(
        name="Emma Schmidt",
        phone="+49 151 2345678",
        line1="Hauptstraße 5",
        city="Berlin",
        postcode="10115",
        country="DE",
    ),
)

# How far each demo order has gone: the actions applied after placement, in order.
JOURNEYS: tuple[tuple[str, ...], ...] = (
    (),
    ("confirm",),
    ("confirm", "ship"),
    ("confirm", "ship", "deliver"),
    ("confirm", "ship", "deliver", "complete"),
    ("cancel",),
)


async def is_loaded(session: AsyncSession) -> bool:
    """Whether any seller exists already (the demo loads into an empty database only)."""
    return bool(await session.scalar(select(func.count()).select_from(Seller)))


async def load(db: Database, clock: Clock, settings: Settings) -> list[DemoLogin]:
    """Create the demo marketplace in one transaction; returns the console logins."""
    logins = [DemoLogin(OPERATOR_EMAIL, "operator", "平台运营 platform operator")]
    async with db.write() as session:
        if await is_loaded(session):
            raise RuntimeError("the database already has data; the demo loads into an empty one")
        system = Ctx(principal=SYSTEM, clock=clock, settings=settings)
        operator_user = await accounts.create_user(
            session,
            ctx=system,
            email=OPERATOR_EMAIL,
            password=PASSWORD,
            display_name="运营小二",
            role=Role.operator,
        )
        operator = Ctx(
            principal=accounts.principal_for_user(operator_user), clock=clock, settings=settings
        )
        await accounts.create_token(
            session, ctx=system, name="demo carrier", role=Role.carrier, carrier_code="cainiao"
        )
        await _penalty_policies(session, operator)
        await _shipping_catalog(session, operator)
        hub = await warehouses.create_warehouse(session, ctx=_back_then(operator), data=DONGGUAN)
        supplier: tuple[str, Ctx] | None = None
        for seller_name, country, slug, store_specs in SELLERS:
            seller = await stores.create_seller(
                session, ctx=operator, data=SellerCreate(name=seller_name, country=country)
            )
            await session.flush()
            email = f"{slug}@demo.tuoguan"
            user = await accounts.create_user(
                session,
                ctx=system,
                email=email,
                password=PASSWORD,
                display_name=seller_name,
                role=Role.seller,
                seller_id=seller.id,
                locale="zh-CN" if country == "CN" else "en",
            )
            logins.append(DemoLogin(email, "seller", seller_name))
            seller_ctx = Ctx(
                principal=accounts.principal_for_user(user), clock=clock, settings=settings
            )
            first_store_id = None
            for name, mode, store_country, currency, promise in store_specs:
                store = await stores.create_store(
                    session,
                    ctx=operator,
                    data=StoreCreate(
                        seller_id=seller.id,
                        name=name,
                        mode=mode,
                        country=store_country,
                        currency=currency,
                        ship_promise_days=promise,
                        linked_store_id=first_store_id if mode is StoreMode.full_managed else None,
                        sender_address=Address(**demo_shipping.SENDERS[store_country]),
                    ),
                )
                first_store_id = first_store_id or store.id
                await session.flush()
                await _stock_and_sell(session, store.id, mode, seller_ctx, operator, clock, hub.id)
                if rules(mode).supply_orders and slug == "yiwu":
                    supplier = (store.id, seller_ctx)
        staff = await accounts.create_user(
            session,
            ctx=system,
            email=WAREHOUSE_EMAIL,
            password=PASSWORD,
            display_name="东莞仓 收货员",
            role=Role.warehouse,
            warehouse_ids=[hub.id],
        )
        logins.append(DemoLogin(WAREHOUSE_EMAIL, "warehouse", "优选仓 东莞一号 warehouse staff"))
        staff_ctx = Ctx(principal=accounts.principal_for_user(staff), clock=clock, settings=settings)
        assert supplier is not None
        await _supplied_and_received(session, supplier, staff_ctx, hub.id, clock)
        await session.commit()
    return logins


WAREHOUSE_EMAIL = "dongguan@demo.tuoguan"


async def _supplied_and_received(
    session: AsyncSession, supplier: tuple[str, Ctx], staff: Ctx, hub: str, clock: Clock
) -> None:
    """O2 × M5, R1, F11 end to end: a full-managed order the warehouse could not serve becomes a
    supply order; the seller confirms it and sends the goods under an inbound notice; the
    warehouse receives them, which reserves the stock and starts the platform's ship clock. The
    order then waits on the pick list, to be picked and shipped online from the console. A
    second notice has been in transit for ten days: the stale-inbound report (R4) shows it."""
    store_id, seller = supplier
    channel = Principal(role=Role.buyer_channel, actor_id="demo-storefront", name="storefront")
    earbuds = await session.scalar(
        select(Product).where(Product.store_id == store_id, Product.name == PRODUCTS[0][0])
    )
    assert earbuds is not None and earbuds.skus
    sku_id = earbuds.skus[0].id
    placed = FrozenClock(clock.now() - timedelta(hours=30))
    order = await fulfilment.place_order(
        session,
        ctx=Ctx(principal=channel, clock=placed, settings=seller.settings),
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


# M5, F11: the platform's domestic consolidation warehouse (优选仓), which ships full-managed
# orders; it holds stock of some of their products (STOCKED), so some orders are served at once
# and the others become supply orders to their sellers (O2 × M5).
DONGGUAN = WarehouseCreate(
    code="DG1",
    name="优选仓 东莞一号 Dongguan",
    owner=WarehouseOwner.platform,
    kind=WarehouseKind.consolidation,
    address=Address(
        name="优选仓 东莞一号",
        phone="+86 769 2233 4455",
        line1="松山湖园区 工业北路 8 号",
        city="Dongguan",
        region="Guangdong",
        postcode="523808",
        country="CN",
    ),
    country="CN",
)
STOCKED = frozenset({"Ceramic mug 陶瓷杯", "Power bank 充电宝", "Perfume 香水"})


# F6, O2: the demo's fines, in force since before its oldest order.
DEMO_POLICIES = {
    BreachKind.ship_late: [
        TierIn(from_hours=0, to_hours=24, rate_bp=500, rating_points=1),
        TierIn(from_hours=24, to_hours=72, rate_bp=1000, rating_points=3),
        TierIn(from_hours=72, to_hours=None, rate_bp=3000, rating_points=6),
    ],
    BreachKind.confirm_late: [
        TierIn(from_hours=0, to_hours=24, rate_bp=200, rating_points=1),
        TierIn(from_hours=24, to_hours=None, rate_bp=500, rating_points=2),
    ],
}


def _back_then(operator: Ctx) -> Ctx:
    """The operator a month ago, so the demo's rules were in force for its oldest order."""
    since = FrozenClock(operator.clock.now() - timedelta(days=30))
    return Ctx(principal=operator.principal, clock=since, settings=operator.settings)


async def _shipping_catalog(session: AsyncSession, operator: Ctx) -> None:
    back_then = _back_then(operator)
    # The demo's sandbox carrier listens on this machine. Registering it is the demo's own
    # choice, not input, so its host is allowed here; calling it needs the deployment's
    # allowance (`make run` sets TUOGUAN_OUTBOUND_ALLOW), else shipping online is refused.
    allowed = f"{back_then.settings.outbound_allow},{urlsplit(demo_shipping.SANDBOX_URL).hostname}"
    registering = replace(
        back_then, settings=back_then.settings.model_copy(update={"outbound_allow": allowed})
    )
    # Fresh credentials per install: `tuoguan carrier-sandbox` reads them from this account.
    await shipping.create_carrier_account(
        session,
        ctx=registering,
        data=SandboxAccountCreate(
            code=demo_shipping.CARRIER,
            name="Sandbox carrier 沙箱物流",
            adapter="sandbox",
            base_url=demo_shipping.SANDBOX_URL,
            api_key=secrets.token_urlsafe(18),
            webhook_secret=secrets.token_urlsafe(32),
        ),
    )
    for service in demo_shipping.SERVICES:
        await shipping.create_service(session, ctx=back_then, data=service)
    for code, card in demo_shipping.rate_cards():
        await shipping.add_rate_card(session, ctx=back_then, code=code, data=card)
    for rule in demo_shipping.RULES:
        await shipping.create_rule(session, ctx=back_then, data=rule)


async def _penalty_policies(session: AsyncSession, operator: Ctx) -> None:
    back_then = _back_then(operator)
    for kind, tiers in DEMO_POLICIES.items():
        await finance.create_policy(
            session,
            ctx=back_then,
            data=PenaltyPolicyCreate(kind=kind, tiers=tiers, note="demo policy"),
        )


async def _stock_and_sell(
    session: AsyncSession,
    store_id: str,
    mode: StoreMode,
    seller: Ctx,
    operator: Ctx,
    clock: Clock,
    hub: str,
) -> None:
    products: list[tuple[str, list[str]]] = []  # (product id, its SKU ids)
    for name, category, weight, price in PRODUCTS:
        full = mode is StoreMode.full_managed
        product = await catalog.create_product(
            session,
            ctx=seller,
            data=ProductCreate(
                store_id=store_id,
                name=name,
                category=category,
                weight_g=weight,
                length_mm=150,
                width_mm=100,
                height_mm=60,
                declared_value_minor=price,
                price_minor=None if full else price,
                supply_price_minor=price * 6 // 10 if full else None,
                skus=list(VARIANTS[name]) if name in VARIANTS else [SINGLE_SKUS[name]],
            ),
        )
        if full:
            await catalog.update_product(
                session, ctx=operator, product_id=product.id, data=ProductUpdate(price_minor=price)
            )
        await catalog.set_status(
            session,
            ctx=operator,
            product_id=product.id,
            data=ProductStatusSet(status=ProductStatus.active, note="demo"),
        )
        products.append((product.id, [sku.id for sku in product.skus]))
        if rules(mode).stock_held_by is Party.platform and name in STOCKED:
            await session.flush()
            for sku in product.skus:
                await inventory.adjust(
                    session,
                    ctx=_back_then(operator),
                    data=StockAdjustmentCreate(
                        warehouse_id=hub, sku_id=sku.id, on_hand=20, reason="opening stock"
                    ),
                )
    await session.flush()
    channel = Principal(role=Role.buyer_channel, actor_id="demo-storefront", name="storefront")
    for index, journey in enumerate(JOURNEYS):
        # Older orders went further; place each far enough back for its journey.
        placed = FrozenClock(clock.now() - timedelta(hours=2 + 20 * len(journey) + index))
        store = await session.scalar(select(Store.currency).where(Store.id == store_id))
        product_id, sku_ids = products[index % len(products)]
        order = await fulfilment.place_order(
            session,
            ctx=Ctx(principal=channel, clock=placed, settings=operator.settings),
            data=OrderCreate(
                store_id=store_id,
                currency=str(store),
                lines=[
                    LineCreate(
                        product_id=product_id,
                        sku_id=sku_ids[index % len(sku_ids)],
                        quantity=1 + index % 2,
                    )
                ],
                address=ADDRESSES[index % 3],
                shipping_minor=300,
                buyer_ref=f"buyer-{index}",
            ),
        )
        await session.flush()
        for step in journey:
            if step == "confirm" and order.status is not OrderStatus.awaiting_confirmation:
                continue  # nothing to confirm: not this mode's, or served from stock at once
            placed.advance(timedelta(hours=18))
            # The platform ships what its warehouse holds (F11); the seller ships its own.
            shipper = operator if rules(mode).ships is Party.platform else seller
            await _step(session, order.id, step, seller, shipper, operator, channel, placed)


async def _step(
    session: AsyncSession,
    order_id: str,
    step: str,
    seller: Ctx,
    shipper: Ctx,
    operator: Ctx,
    channel: Principal,
    clock: FrozenClock,
) -> None:
    action = OrderAction(step)
    actor = {
        OrderAction.confirm: seller.principal,
        OrderAction.ship: shipper.principal,
        OrderAction.deliver: Principal(
            role=Role.carrier, actor_id="cainiao", carrier_code="cainiao"
        ),
        OrderAction.complete: channel,
        OrderAction.cancel: channel,
    }[action]
    body = {
        OrderAction.ship: ShipBody(
            carrier_code="cainiao", tracking_number=f"LP{int(order_id[-8:], 36) % 10**11:011d}CN"
        ),
        OrderAction.cancel: CancelBody(reason="buyer changed their mind"),
    }.get(action)
    ctx = Ctx(principal=actor, clock=clock, settings=operator.settings)
    await orders.act(session, ctx=ctx, order_id=order_id, action=action, body=body)
    await session.flush()

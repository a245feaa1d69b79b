"""Load the demo marketplace through the domain services (so every row has its audit trail).

The marketplace's data is in ``data.py``; the full-managed journey in ``full_managed.py``; the
orders that missed or are about to miss their deadlines, and the sweeps that then run, in
``deadlines.py``; the refunds in ``money.py``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts import service as accounts
from tuoguan.catalog import listing, review
from tuoguan.catalog import service as catalog
from tuoguan.catalog.models import ProductStatus
from tuoguan.catalog.review_schemas import ProductDecision, RevisionDecision
from tuoguan.catalog.schemas import ProductCreate
from tuoguan.config import Settings
from tuoguan.context import Ctx
from tuoguan.db import Database
from tuoguan.demo import cases, deadlines, exits, full_managed, money, program, reviews
from tuoguan.demo.data import (
    ADDRESSES,
    CHANNEL,
    DEMO_POLICIES,
    DONGGUAN,
    JOURNEYS,
    PRODUCTS,
    SELLERS,
    SINGLE_SKUS,
    STOCKED,
    VARIANTS,
    tracking_number,
)
from tuoguan.finance import service as finance
from tuoguan.finance.schemas import PenaltyPolicyCreate
from tuoguan.fulfilment import service as fulfilment
from tuoguan.inventory import service as inventory
from tuoguan.inventory import warehouses
from tuoguan.inventory.schemas import StockAdjustmentCreate
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

OPERATOR_EMAIL = "operator@demo.tuoguan"
WAREHOUSE_EMAIL = "dongguan@demo.tuoguan"
PASSWORD = "tuoguan-demo"


@dataclass(frozen=True)
class DemoLogin:
    """A console login the demo prints."""

    email: str
    role: str
    what: str


async def is_loaded(session: AsyncSession) -> bool:
    """Whether any seller exists already (the demo loads into an empty database only)."""
    return bool(await session.scalar(select(func.count()).select_from(Seller)))


async def load(db: Database, clock: Clock, settings: Settings) -> list[DemoLogin]:
    """Create the demo marketplace in one transaction; returns the console logins.

    Its orders were placed over the last days, each with a clock set to its moment; the
    worker's deadline sweeps then run at ``clock``'s now, so breaches, penalties and at-risk
    orders are there from the start (``deadlines.py``).
    """
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
        agreement_id = await program.publish_agreement(session, operator)  # M4
        invitable: list[tuple[Ctx, Store]] = []  # sellers outside full-managed, to invite (M2)
        supplier: tuple[str, Ctx] | None = None
        shops: list[deadlines.Shop] = []
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
            modes = {spec[1] for spec in store_specs}
            for name, mode, store_country, currency, promise in store_specs:
                data = StoreCreate(
                    seller_id=seller.id,
                    name=name,
                    mode=mode,
                    country=store_country,
                    currency=currency,
                    ship_promise_days=promise,
                    linked_store_id=first_store_id if mode is StoreMode.full_managed else None,
                    sender_address=Address(**demo_shipping.SENDERS[store_country]),
                )
                back_then = _back_then(operator)  # opened a month ago: settled since then
                store = await (
                    program.open_full_managed(session, back_then, seller_ctx, data, agreement_id)
                    if mode is StoreMode.full_managed
                    else stores.create_store(session, ctx=back_then, data=data)
                )
                if first_store_id is None and StoreMode.full_managed not in modes:
                    invitable.append((seller_ctx, store))
                first_store_id = first_store_id or store.id
                await session.flush()
                products = await _stock_and_sell(
                    session, store.id, mode, seller_ctx, operator, clock, hub.id
                )
                shops.append(deadlines.Shop(store, seller_ctx, products))
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
        staff_ctx = Ctx(
            principal=accounts.principal_for_user(staff), clock=clock, settings=settings
        )
        assert supplier is not None
        await full_managed.supplied_and_received(session, supplier, staff_ctx, hub.id, clock)
        joining = None
        for seller_ctx, linked in invitable[:1]:  # M2: invited lately, joining
            joined = await program.invited_and_joining(
                session, operator, seller_ctx, linked, agreement_id
            )
            joining = (seller_ctx, joined.id)
        # S1, S2: one store's business review approved, the joining store's waiting (stuck).
        await reviews.business_reviews(
            session,
            clock=clock,
            operator=operator,
            approved=(supplier[1], supplier[0]),
            joining=joining,
        )
        await exits.exit_terms_with_fees(session, operator)  # S5: the fees shown before exit
        await deadlines.late_and_due(session, shops=shops, clock=clock)
        await deadlines.catch_up(session, clock=clock, settings=settings)
        await money.refund_some(session, operator)
        await money.settle_some(session, operator)
        # R2, R3, G4: a receiving exception waiting for the seller, one decided, a dispute
        await cases.cases_in_progress(
            session, supplier=supplier, staff=staff_ctx, operator=operator, hub=hub.id, clock=clock
        )
        await session.commit()
    return logins


def _back_then(operator: Ctx) -> Ctx:
    """The operator a month ago, so the demo's rules were in force for its oldest order."""
    since = FrozenClock(operator.clock.now() - timedelta(days=30))
    return Ctx(principal=operator.principal, clock=since, settings=operator.settings)


async def _shipping_catalog(session: AsyncSession, operator: Ctx) -> None:
    back_then = _back_then(operator)
    # The demo's sandbox carrier listens on this machine. Registering it is the demo's own
    # choice, not input, so its host is allowed here; calling it needs the deployment's
    # allowance (`make run` sets TUOGUAN_OUTBOUND_ALLOW), else shipping online is refused.
    where = back_then.settings.sandbox_carrier_url  # TUOGUAN_SANDBOX_CARRIER_URL
    allowed = f"{back_then.settings.outbound_allow},{urlsplit(where).hostname}"
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
            base_url=where,
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
) -> list[tuple[str, list[str], str]]:
    """List the demo's products in the store, stock the platform's warehouse with some, and
    place the store's orders in every state; returns (product id, its SKU ids, name) each."""
    products: list[tuple[str, list[str], str]] = []
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
        # C2: the seller lists it; where it needs review (full-managed, batteries, liquids) an
        # operator approves it, full-managed at the retail price.
        product = await listing.list_product(session, ctx=seller, product_id=product.id)
        if product.status is ProductStatus.under_review and product.pending_revision_id:
            await review.decide(
                session,
                ctx=operator,
                product_id=product.id,
                revision_id=product.pending_revision_id,
                data=RevisionDecision(
                    decision=ProductDecision.approve,
                    retail_price_minor=price if full else None,
                    note="demo",
                ),
            )
        products.append((product.id, [sku.id for sku in product.skus], name))
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
    for index, journey in enumerate(JOURNEYS):
        # Older orders went further; place each far enough back for its journey.
        placed = FrozenClock(clock.now() - timedelta(hours=2 + 20 * len(journey) + index))
        store = await session.scalar(select(Store.currency).where(Store.id == store_id))
        product_id, sku_ids, _ = products[index % len(products)]
        order = await fulfilment.place_order(
            session,
            ctx=Ctx(principal=CHANNEL, clock=placed, settings=operator.settings),
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
            await _step(session, order.id, step, seller, shipper, operator, placed)
    await _settled_history(session, store_id, seller, operator, clock, products)
    return products


# Weeks ago, each store sold these and the buyers confirmed receipt: money settled by the
# demo's payout runs (their sales fall before the last weekly and fortnightly boundaries).
HISTORY_DAYS_AGO = (26, 19)


async def _settled_history(
    session: AsyncSession,
    store_id: str,
    seller: Ctx,
    operator: Ctx,
    clock: Clock,
    products: list[tuple[str, list[str], str]],
) -> None:
    """Two orders weeks old, placed, shipped, delivered and completed, from stocked products."""
    stocked = [p for p in products if p[2] in STOCKED]
    store = await session.get(Store, store_id)
    assert store is not None
    shipper = operator if rules(store.mode).ships is Party.platform else seller
    for index, days in enumerate(HISTORY_DAYS_AGO):
        placed = FrozenClock(clock.now() - timedelta(days=days))
        product_id, sku_ids, _ = stocked[index % len(stocked)]
        order = await fulfilment.place_order(
            session,
            ctx=Ctx(principal=CHANNEL, clock=placed, settings=operator.settings),
            data=OrderCreate(
                store_id=store_id,
                currency=store.currency,
                lines=[LineCreate(product_id=product_id, sku_id=sku_ids[0], quantity=1)],
                address=ADDRESSES[index % 3],
                shipping_minor=300,
                buyer_ref=f"buyer-history-{index}",
            ),
        )
        await session.flush()
        for step in ("confirm", "ship", "deliver", "complete"):
            if step == "confirm" and order.status is not OrderStatus.awaiting_confirmation:
                continue
            placed.advance(timedelta(hours=18))
            await _step(session, order.id, step, seller, shipper, operator, placed)


async def _step(
    session: AsyncSession,
    order_id: str,
    step: str,
    seller: Ctx,
    shipper: Ctx,
    operator: Ctx,
    clock: FrozenClock,
) -> None:
    action = OrderAction(step)
    actor = {
        OrderAction.confirm: seller.principal,
        OrderAction.ship: shipper.principal,
        OrderAction.deliver: Principal(
            role=Role.carrier, actor_id="cainiao", carrier_code="cainiao"
        ),
        OrderAction.complete: CHANNEL,
        OrderAction.cancel: CHANNEL,
    }[action]
    body = {
        OrderAction.ship: ShipBody(
            carrier_code="cainiao", tracking_number=tracking_number(order_id)
        ),
        OrderAction.cancel: CancelBody(reason="buyer changed their mind"),
    }.get(action)
    ctx = Ctx(principal=actor, clock=clock, settings=operator.settings)
    await orders.act(session, ctx=ctx, order_id=order_id, action=action, body=body)
    await session.flush()

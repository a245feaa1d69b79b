"""The money side of an order's lines: what placement fixes and what completion posts (M3, O3).

At placement each line records, from the mode table, the commission rate in force for its
product's category (modes that take commission) or its SKU's supply price (modes where the
seller reports one). When the order completes, the sale posts to the ledger from those, in the
completion's transaction (``finance.sales``); a cancelled order never completes and posts
nothing. Lines placed before they recorded either are priced as they would have been: the rate
in force at the order's placement for the product's category now, the supply price now.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.catalog import service as catalog
from tuoguan.catalog.models import Product, Sku
from tuoguan.context import Ctx
from tuoguan.finance import commission, sales
from tuoguan.kit.clock import as_utc
from tuoguan.ledger.records import Entry
from tuoguan.orders.models import Order, OrderLine
from tuoguan.stores.models import StoreMode
from tuoguan.stores.modes import rules


def supply_price(product: Product, sku: Sku) -> int | None:
    """The supply price of one unit of a SKU: its own, else its product's (上报价格, C1)."""
    return (
        sku.supply_price_minor if sku.supply_price_minor is not None else product.supply_price_minor
    )


async def commission_rates(
    session: AsyncSession, mode: StoreMode, products: Sequence[Product], at: datetime
) -> dict[str, int]:
    """Each product's category's commission rate in force at ``at``, in basis points (0 where
    the mode takes none, or no rate is set for the category nor any it falls under)."""
    if not rules(mode).commission:
        return {}
    found = await commission.rates_at(session, [product.category for product in products], at)
    return {category: rate.rate_bp if rate else 0 for category, rate in found.items()}


def fix_line(line: OrderLine, mode: StoreMode, product: Product, rates: dict[str, int]) -> None:
    """Record on a new line what its sale will post (its SKU is set)."""
    if rules(mode).commission:
        line.commission_bp = rates.get(product.category, 0)
    if rules(mode).supply_price:
        line.supply_price_minor = supply_price(product, line.sku)


async def _sold_lines(session: AsyncSession, order: Order) -> list[sales.SoldLine]:
    mode = rules(order.mode)
    unfixed = [
        line
        for line in order.lines
        if (mode.commission and line.commission_bp is None)
        or (mode.supply_price and line.supply_price_minor is None)
    ]
    products: dict[str, Product] = {}
    rates: dict[str, int] = {}
    if unfixed:
        products = await catalog.products_by_id(session, [line.product_id for line in unfixed])
        rates = await commission_rates(
            session, order.mode, list(products.values()), as_utc(order.placed_at)
        )
    sold = []
    for line in order.lines:
        product = products.get(line.product_id)
        bp = line.commission_bp
        if mode.commission and bp is None:
            bp = rates.get(product.category, 0) if product else 0
        unit = line.supply_price_minor
        if mode.supply_price and unit is None and product is not None:
            unit = supply_price(product, line.sku)
        sold.append(
            sales.SoldLine(
                quantity=line.quantity,
                line_total_minor=line.line_total_minor,
                commission_bp=(bp or 0) if mode.commission else 0,
                supply_price_minor=unit or 0,
            )
        )
    return sold


async def post_completed(session: AsyncSession, ctx: Ctx, order: Order) -> list[Entry]:
    """O3: the completed order's sale, posted in the completion's transaction, once."""
    return await sales.post_sale(
        session,
        ctx,
        order_id=order.id,
        store_id=order.store_id,
        currency=order.currency,
        supplied=rules(order.mode).supply_price,
        total_minor=order.total_minor,
        lines=await _sold_lines(session, order),
    )

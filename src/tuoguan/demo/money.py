"""The demo's money beyond its sales (M3, S3, G6): two buyer refunds, one the seller bears (a
semi-managed order) and one the platform bears (a full-managed order, within the after-sales
exemption from its delivery), so the Money and Ledger pages show a debt and the platform's
side as well as sales; then payout accounts, deposits and one executed settlement run, so the
payouts, statements, payout-run and deposit pages have something to show."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.context import Ctx
from tuoguan.orders.models import Order
from tuoguan.orders.states import OrderStatus
from tuoguan.settlement import deposit_funding, deposit_rates, payout_accounts, runs
from tuoguan.settlement.schemas import PayoutAccountBind
from tuoguan.shipping import refunds
from tuoguan.shipping.refund_schemas import RefundCreate
from tuoguan.stores.models import Store, StoreMode

REASONS = {
    StoreMode.semi_managed: "外壳有划痕，部分退款 / the case arrived scratched: a partial refund",
    StoreMode.full_managed: "少发一个配件，部分退款 / an accessory was missing: a partial refund",
}


async def refund_some(session: AsyncSession, operator: Ctx) -> None:
    """A quarter of one delivered or completed order refunded in each of the two modes."""
    for mode, reason in REASONS.items():
        order = await session.scalar(
            select(Order)
            .join(Store, Store.id == Order.store_id)
            .where(
                Store.mode == mode,
                Order.status.in_([OrderStatus.delivered, OrderStatus.completed]),
            )
            .order_by(Order.id)
            .limit(1)
        )
        if order is None:
            continue
        amount = max(1, order.total_minor // 4)
        await refunds.refund(
            session,
            ctx=operator,
            order_id=order.id,
            data=RefundCreate(amount_minor=amount, currency=order.currency, reason=reason),
        )
        await session.flush()


# The store left without a payout account: the run holds its money until one is bound.
UNBOUND = "义乌杂货铺"
BANKS = {"CN": "中国工商银行 ICBC", "ES": "CaixaBank", "DE": "Deutsche Bank"}


async def settle_some(session: AsyncSession, operator: Ctx) -> None:
    """Payout accounts for every store but one; the full-managed stores' deposits, one paid in
    full and one in part; and each cycle settled up to its last boundary, which pays the
    stores' sales of weeks ago (``load._settled_history``), nets the debts they have run up
    since, and holds the money of the store without an account. The payouts are prepared here
    and sent by the worker's ``send_payouts`` once the app runs."""
    shops = list(await session.scalars(select(Store).order_by(Store.created_at, Store.id)))
    for number, store in enumerate(shops, start=1):
        if store.name == UNBOUND:
            continue
        await payout_accounts.bind_account(
            session,
            operator,
            store.id,
            PayoutAccountBind(
                holder_name=store.name,
                bank_name=BANKS.get(store.country, "HSBC"),
                account_number=f"62220{number:02d}0{store.country}88{number:04d}",
            ),
        )
    now = operator.clock.now()
    full = [s for s in shops if s.mode is StoreMode.full_managed]
    for share, store in zip((1, 2), full, strict=False):  # the second pays half so far
        required = (await deposit_rates.required(session, store, now)).amount_minor
        if not required:
            continue
        await deposit_funding.fund(
            session,
            operator,
            store_id=store.id,
            amount_minor=required // share,
            currency=store.currency,
            reference=f"DEMO-DEPOSIT-{store.name}",
        )
    for cycle in (StoreMode.full_managed, StoreMode.semi_managed, StoreMode.self_run):
        run = await runs.preview(session, operator, cycle)
        await session.flush()
        await runs.execute(session, operator, run.id)
        await session.flush()

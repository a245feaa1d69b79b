"""Unbinding (解绑全托管服务, S4): an approved exit takes the store out of full-managed, in one
transaction, or nothing changes. Never commits.

What unbinding does, in this order:

1. **The store leaves.** Its status is ``exited``: it takes no new orders (the orders service
   refuses a store that is not active) and its products on sale are delisted. The seller runs
   orders, logistics and after-sales itself from then on, in its own store.
2. **The stock.** What the platform's warehouses hold for the store (available and defective
   units) is taken off their books as the seller chose, one stock-ledger row per SKU and
   warehouse (``adjust``, with the reason and the exit as its reference): ``return`` sends it
   to the return address the seller gave, ``dispose`` has the warehouse dispose of it. The
   rows record the decision; packing, shipping or destroying the goods is the warehouse's
   physical work, done outside tuoguan.
3. **The fees** the seller acknowledged when applying are charged (``exit_fee_charged``: store
   management fee and refund handling fee on its payable; nothing when both are zero).
4. **The last settlement**, off-cycle and up to now (``settlement.store_settlement.settle_store``): the
   debts netted from what the store is due, the rest in one payout to its bound account.
5. **The deposit refund** (``settlement.deposits.refund_on_exit``): everything refundable,
   applied for and approved at once under the deposit's money rules, the debts left taken from
   the deposit first, penalties first.

Refused, with nothing changed: an exit not approved (409 ``illegal_transition``), anything in
the way (409 naming the first rule), fees and debts neither what is due nor the deposit covers
(409 ``no_unpaid_debt``), money to pay and no bound payout account (409
``payout_account_bound``), a return without its address (422 ``return_address_required``).
The money steps run as the system on the exit's behalf; the exit's own event names who
unbound.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.catalog.models import Product, ProductStatus
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput
from tuoguan.exits import blockers as checks
from tuoguan.exits.models import ExitApplication, ExitStatus, StockChoice
from tuoguan.exits.schemas import ExitUnbind
from tuoguan.exits.service import SUBJECT, blocked, fees_params, locked, record
from tuoguan.exits.states import ExitAction, check
from tuoguan.inventory import service as stock
from tuoguan.inventory.ledger import Deltas
from tuoguan.inventory.models import MoveKind, StockBalance, Warehouse, WarehouseOwner
from tuoguan.kit import i18n
from tuoguan.ledger import service as ledger
from tuoguan.ledger.kinds import EntryKind
from tuoguan.notify import service as notify
from tuoguan.principal import SYSTEM, Role
from tuoguan.settlement import deposits, store_settlement
from tuoguan.settlement.deposit_checks import NO_UNPAID_DEBT
from tuoguan.stores.models import Store, StoreStatus

_UNBINDERS = (Role.seller, Role.operator)


async def _delist(session: AsyncSession, ctx: Ctx, store: Store, exit_id: str) -> int:
    """Take the store's products on sale off sale; how many."""
    found = list(
        await session.scalars(
            select(Product)
            .where(Product.store_id == store.id, Product.status == ProductStatus.active)
            .order_by(Product.id)
        )
    )
    now = ctx.clock.now()
    events = []
    for product in found:
        product.status = ProductStatus.delisted
        product.updated_at = now
        events.append(
            audit.event_row(
                ctx=ctx,
                subject_type="product",
                subject_id=product.id,
                store_id=store.id,
                action="delist",
                from_state=ProductStatus.active.value,
                to_state=ProductStatus.delisted.value,
                reason=f"the store left full-managed (exit {exit_id})",
            )
        )
    await audit.record_many(session, events)
    return len(found)


async def _stock(
    session: AsyncSession, ctx: Ctx, store: Store, row: ExitApplication, choice: StockChoice
) -> list[dict[str, Any]]:
    """Take the store's stock in the platform's warehouses off their books as chosen."""
    balances = await session.execute(
        select(StockBalance, Warehouse.code)
        .join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
        .where(StockBalance.store_id == store.id, Warehouse.owner == WarehouseOwner.platform)
        .order_by(StockBalance.warehouse_id, StockBalance.sku_id)
    )
    why = (
        "returned to the seller (exit {id}): the warehouse ships it to the return address"
        if choice is StockChoice.return_
        else "disposed of as the seller chose (exit {id}): the warehouse disposes of it"
    ).format(id=row.id)
    moved = []
    for balance, code in balances:
        good = balance.on_hand - balance.reserved
        if good <= 0 and balance.defective <= 0:
            continue
        deltas = Deltas(on_hand=-max(good, 0), defective=-max(balance.defective, 0))
        move_id = await stock.record_move(
            session,
            ctx=ctx,
            warehouse_id=balance.warehouse_id,
            sku_id=balance.sku_id,
            kind=MoveKind.adjust,
            deltas=deltas,
            quantity=None,
            reason=why,
            ref_type=SUBJECT,
            ref_id=row.id,
        )
        moved.append(
            {
                "move_id": move_id,
                "warehouse_id": balance.warehouse_id,
                "warehouse_code": code,
                "sku_id": balance.sku_id,
                "good": max(good, 0),
                "defective": max(balance.defective, 0),
            }
        )
    return moved


async def unbind(
    session: AsyncSession, ctx: Ctx, *, exit_id: str, data: ExitUnbind
) -> ExitApplication:
    """S4: unbind an approved exit (see the module): the store's seller, or an operator for it."""
    if ctx.principal.role not in _UNBINDERS:
        raise Forbidden(f"a {ctx.principal.role.value} does not unbind exits")
    row = await locked(session, ctx.principal, exit_id)
    target = check(row.status, ExitAction.unbind, ctx.principal.role)
    if data.stock is StockChoice.return_ and data.return_address is None:
        raise InvalidInput(
            "returned stock needs the address it goes to",
            field="return_address",
            rule="return_address_required",
        )
    store = await session.get(Store, row.store_id, with_for_update=True, populate_existing=True)
    assert store is not None
    now = ctx.clock.now()
    found = await checks.blockers(session, store, now)
    if found:
        raise blocked(found, row.id)
    fees = row.management_fee_minor + row.refund_fee_minor
    plan = checks.outlook(await checks.money_of(session, store), fees)
    if plan.short > 0:
        raise Conflict(
            f"the fees and debts exceed what the store is due and its deposit by {plan.short} "
            f"({store.currency} minor units): pay the difference first",
            field="store_id",
            rule=NO_UNPAID_DEBT,
            short_minor=plan.short,
        )
    system = replace(ctx, principal=SYSTEM)
    subject = (SUBJECT, row.id)

    before_store = store.status
    store.status = StoreStatus.exited
    audit.record(
        session,
        ctx=ctx,
        subject_type="store",
        subject_id=store.id,
        store_id=store.id,
        action="exit",
        from_state=before_store.value,
        to_state=store.status.value,
        reason=f"exit {row.id} unbound",
    )
    delisted = await _delist(session, ctx, store, row.id)
    moved = await _stock(session, system, store, row, data.stock)
    if fees:
        entry = await ledger.post(
            session,
            system,
            EntryKind.exit_fee_charged,
            currency=row.currency,
            parts={"management": row.management_fee_minor, "refund_handling": row.refund_fee_minor},
            store_id=store.id,
            subject=subject,
            idem_key=f"{SUBJECT}:{row.id}:fees",
            memo=f"exit {row.id}: store management fee and refund handling fee",
        )
        row.fee_entry_id = entry.id
    settled = await store_settlement.settle_store(
        session, system, store_id=store.id, currency=store.currency, subject=subject
    )
    refund = await deposits.refund_on_exit(
        session,
        system,
        store_id=store.id,
        reason=f"the store left full-managed (exit {row.id})",
        subject=subject,
    )
    before = row.status
    row.status, row.queue_rank = target, 1
    row.stock_choice = data.stock
    row.return_address = (
        data.return_address.model_dump(mode="json")
        if data.stock is StockChoice.return_ and data.return_address
        else None
    )
    row.stock_moved = moved
    row.settled_netted_minor, row.settled_payout_minor = settled.netted, settled.payout
    row.settlement_payout_id = settled.payout_id
    row.deposit_refund_id = refund.id if refund else None
    row.deposit_deducted_minor = refund.deducted_minor if refund else plan.deducted_from_deposit
    row.unbound_at, row.unbound_by, row.updated_at = now, ctx.principal.actor_id, now
    record(
        session,
        ctx,
        row,
        "unbind",
        before,
        None,
        stock=data.stock.value,
        units_good=sum(m["good"] for m in moved),
        units_defective=sum(m["defective"] for m in moved),
        products_delisted=delisted,
        fee_entry_id=row.fee_entry_id,
        settlement_payout_id=settled.payout_id,
        deposit_refund_id=row.deposit_refund_id,
    )
    refunded = refund.amount_minor if refund else 0
    notify.notify(
        session,
        ctx=ctx,
        seller_id=row.seller_id,
        kind="exit_unbound",
        subject_type=SUBJECT,
        subject_id=row.id,
        key=i18n.N_("exit_note_unbound"),
        params={
            "store": store.name,
            "paid": i18n.money(settled.payout, row.currency),
            "refunded": i18n.money(refunded, row.currency),
            **fees_params(row),
        },
        data={
            "store_id": store.id,
            "stock": data.stock.value,
            "settlement_payout_minor": settled.payout,
            "deposit_refund_minor": refunded,
            "currency": row.currency,
        },
    )
    await session.flush()
    assert row.status is ExitStatus.unbound
    return row

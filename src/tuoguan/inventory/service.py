"""Stock use cases: each change is a ledger row and its balance, in the caller's transaction.

The kinds of move and what each does to the buckets are in ``inventory.ledger`` (M5). A move
is one conditional UPDATE of the balance (it matches only if every rule still holds after
it) and one INSERT of the ledger row; a move that would break a rule changes nothing and is
refused with the bucket and the rule. Reservations therefore never oversell, whatever the
concurrency: two transactions reserving the last unit update the same row, the second waits
for the first's lock and then no longer matches (PostgreSQL re-reads the row it waited for;
SQLite admits one writer at a time).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.catalog.models import Sku
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput
from tuoguan.inventory import repository
from tuoguan.inventory.ledger import Deltas, Levels, adjustment, deltas_for
from tuoguan.inventory.models import MoveKind, StockBalance, StockMove, Warehouse, WarehouseOwner
from tuoguan.inventory.schemas import StockAdjustmentCreate
from tuoguan.principal import Principal, Role
from tuoguan.stores.models import Store

# Moves that bring stock in or hold it need a working warehouse; the rest empty it out.
_INTAKE = frozenset({MoveKind.inbound, MoveKind.receipt, MoveKind.reserve})
# A move retried this often after racing another transaction to a key's first balance.
_ATTEMPTS = 3
_SHORT = {
    MoveKind.reserve: ("not_enough_available", "available"),
    MoveKind.release: ("not_enough_reserved", "reserved"),
    MoveKind.pick: ("not_enough_reserved", "reserved"),
    MoveKind.ship: ("not_enough_reserved", "reserved"),
    MoveKind.defective: ("not_enough_available", "available"),
    MoveKind.inbound_cancel: ("not_enough_inbound", "inbound"),
}


async def _subject(
    session: AsyncSession, kind: MoveKind, warehouse_id: str, sku_id: str
) -> tuple[Warehouse, Sku]:
    """The warehouse and the SKU a move names, after the rules of what may be stocked where."""
    warehouse = await repository.get_warehouse(session, warehouse_id)
    if warehouse is None:
        raise InvalidInput(
            f"warehouse {warehouse_id} does not exist", field="warehouse_id", rule="known_warehouse"
        )
    # The SKU's row is read directly: catalog keeps SKUs, stock only refers to them.
    sku = await session.get(Sku, sku_id)
    if sku is None:
        raise InvalidInput(f"SKU {sku_id} does not exist", field="sku_id", rule="known_sku")
    if kind in _INTAKE and not warehouse.active:
        raise Conflict(
            f"warehouse {warehouse.code} is not active: it takes in no stock",
            field="warehouse_id",
            rule="warehouse_active",
        )
    if warehouse.owner is WarehouseOwner.seller:
        store = await session.get(Store, sku.store_id)
        if store is None or store.seller_id != warehouse.seller_id:
            raise InvalidInput(
                "a seller's warehouse holds only that seller's SKUs",
                field="warehouse_id",
                rule="own_warehouse_only",
            )
    return warehouse, sku


def _refusal(kind: MoveKind, quantity: int | None, current: Levels, deltas: Deltas) -> Conflict:
    broken = current.plus(deltas).broken()
    assert broken is not None
    bucket, rule = broken
    levels = {
        "on_hand": current.on_hand,
        "reserved": current.reserved,
        "available": current.available,
        "defective": current.defective,
        "inbound": current.inbound,
    }
    if kind in _SHORT and quantity is not None:
        short_rule, what = _SHORT[kind]
        return Conflict(
            f"cannot {kind.value} {quantity}: only {levels[what]} {what} "
            f"(on hand {current.on_hand}, reserved {current.reserved})",
            field="quantity",
            rule=short_rule,
            stock=levels,
        )
    return Conflict(
        f"this {kind.value} would leave {bucket} at {getattr(current.plus(deltas), bucket)}: "
        f"stock never goes below zero and reserved stays within on hand",
        field=bucket,
        rule=rule,
        stock=levels,
    )


async def record_move(
    session: AsyncSession,
    *,
    ctx: Ctx,
    warehouse_id: str,
    sku_id: str,
    kind: MoveKind,
    deltas: Deltas,
    quantity: int | None,
    reason: str | None = None,
    ref_type: str | None = None,
    ref_id: str | None = None,
) -> int:
    """Apply one move to its balance and append its ledger row; the row's id.

    Refused (nothing changed) when the warehouse or SKU is unknown or the move would break
    a rule: a bucket below zero, more reserved than on hand. The common case, a key that
    has a balance and a move that fits, is one conditional statement; only when it does not
    match are the warehouse, the SKU and the levels read, to say why or to open the key.
    """
    row = repository.move_row(
        warehouse_id=warehouse_id,
        sku_id=sku_id,
        kind=kind.value,
        quantity=quantity,
        deltas=deltas,
        reason=reason,
        actor_id=ctx.principal.actor_id,
        actor_role=ctx.principal.role.value,
        ref_type=ref_type,
        ref_id=ref_id,
        now=ctx.clock.now(),
    )
    if deltas.is_zero:  # a pick: the units must be reserved, nothing moves
        _, sku = await _subject(session, kind, warehouse_id, sku_id)
        current = await repository.levels(session, warehouse_id=warehouse_id, sku_id=sku_id)
        probe = Deltas(reserved=-(quantity or 0))
        if (current or Levels()).plus(probe).broken():
            raise _refusal(kind, quantity, current or Levels(), probe)
        return await repository.add_move(session, row, sku.store_id)
    for _ in range(_ATTEMPTS):
        moved = await repository.move_if_fits(
            session,
            warehouse_id=warehouse_id,
            sku_id=sku_id,
            deltas=deltas,
            row=row,
            working=kind in _INTAKE,
        )
        if moved is not None:
            return moved
        _, sku = await _subject(session, kind, warehouse_id, sku_id)
        current = await repository.levels(session, warehouse_id=warehouse_id, sku_id=sku_id)
        after = (current or Levels()).plus(deltas)
        if after.broken():
            raise _refusal(kind, quantity, current or Levels(), deltas)
        if current is None and await repository.create_balance(
            session,
            warehouse_id=warehouse_id,
            sku_id=sku_id,
            store_id=sku.store_id,
            levels=after,
            now=row["created_at"],
        ):
            return await repository.add_move(session, row, sku.store_id)
        # Another transaction changed the balance (or opened it) in between: try again.
    raise Conflict(
        "the stock changed while this move was applied; try again",
        field="quantity",
        rule="concurrent_move",
    )


async def move(
    session: AsyncSession,
    *,
    ctx: Ctx,
    kind: MoveKind,
    warehouse_id: str,
    sku_id: str,
    quantity: int,
    reason: str | None = None,
    ref_type: str | None = None,
    ref_id: str | None = None,
) -> int:
    """A move of ``quantity`` units of a kind with fixed deltas (every kind but adjust)."""
    return await record_move(
        session,
        ctx=ctx,
        warehouse_id=warehouse_id,
        sku_id=sku_id,
        kind=kind,
        deltas=deltas_for(kind, quantity),
        quantity=quantity,
        reason=reason,
        ref_type=ref_type,
        ref_id=ref_id,
    )


async def reserve(
    session: AsyncSession,
    *,
    ctx: Ctx,
    warehouse_id: str,
    sku_id: str,
    quantity: int,
    ref_type: str | None = None,
    ref_id: str | None = None,
) -> int:
    """Hold ``quantity`` available units for an order (占用); 409 ``not_enough_available``."""
    return await move(
        session,
        ctx=ctx,
        kind=MoveKind.reserve,
        warehouse_id=warehouse_id,
        sku_id=sku_id,
        quantity=quantity,
        ref_type=ref_type,
        ref_id=ref_id,
    )


async def adjust(session: AsyncSession, *, ctx: Ctx, data: StockAdjustmentCreate) -> int:
    """An operator corrects a count (盘点调整), with a reason; never below zero (M5)."""
    if ctx.principal.role not in (Role.operator, Role.system):
        raise Forbidden("only an operator adjusts stock")
    deltas = adjustment(
        Deltas(on_hand=data.on_hand, defective=data.defective, inbound=data.inbound)
    )
    move_id = await record_move(
        session,
        ctx=ctx,
        warehouse_id=data.warehouse_id,
        sku_id=data.sku_id,
        kind=MoveKind.adjust,
        deltas=deltas,
        quantity=None,
        reason=data.reason,
    )
    sku = await session.get(Sku, data.sku_id)
    audit.record(
        session,
        ctx=ctx,
        subject_type="stock_move",
        subject_id=str(move_id),
        store_id=sku.store_id if sku else None,
        action="adjust",
        reason=data.reason,
        data={
            "warehouse_id": data.warehouse_id,
            "sku_id": data.sku_id,
            **{bucket.value: delta for bucket, delta in deltas.changed()},
        },
    )
    return move_id


# -- reads ------------------------------------------------------------------------------------


async def _scope(session: AsyncSession, principal: Principal) -> list[str] | None:
    """The stores whose stock the principal reads (None: every store)."""
    if principal.is_operator or principal.role is Role.system:
        return None
    if principal.role is Role.seller and principal.seller_id:
        return await repository.seller_store_ids(session, principal.seller_id)
    raise Forbidden("this role does not read stock")


def _narrow(scope: Sequence[str] | None, store_id: str | None) -> Sequence[str] | None:
    if store_id is None:
        return scope
    if scope is None:
        return [store_id]
    return [s for s in scope if s == store_id]  # another seller's store: nothing


async def _of_sku(
    session: AsyncSession, scope: Sequence[str] | None, sku_id: str | None
) -> Sequence[str] | None:
    """With a SKU named, its rows are all its own store's: every store (None) when the scope
    holds that store, so the SKU's index serves the read; nothing when it does not."""
    if sku_id is None or scope is None:
        return scope
    sku = await session.get(Sku, sku_id)
    return None if sku is not None and sku.store_id in scope else []


async def list_stock(
    session: AsyncSession,
    *,
    principal: Principal,
    warehouse_id: str | None = None,
    sku_id: str | None = None,
    store_id: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> tuple[list[StockBalance], str | None]:
    """Balances the principal may read (a seller: its own SKUs), by warehouse and SKU."""
    scope = _narrow(await _scope(session, principal), store_id)
    return await repository.list_balances(
        session,
        store_ids=await _of_sku(session, scope, sku_id),
        warehouse_id=warehouse_id,
        sku_id=sku_id,
        cursor=cursor,
        limit=limit,
    )


async def list_moves(
    session: AsyncSession,
    *,
    principal: Principal,
    warehouse_id: str | None = None,
    sku_id: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> tuple[list[StockMove], str | None]:
    """The ledger, newest first (a seller: its own SKUs' rows)."""
    return await repository.list_moves(
        session,
        store_ids=await _of_sku(session, await _scope(session, principal), sku_id),
        warehouse_id=warehouse_id,
        sku_id=sku_id,
        cursor=cursor,
        limit=limit,
    )


async def stock_of(session: AsyncSession, *, warehouse_id: str, sku_id: str) -> StockBalance:
    """A key's balance as stored now (after a move in this transaction)."""
    return await repository.get_balance(session, warehouse_id=warehouse_id, sku_id=sku_id)


async def get_move(session: AsyncSession, move_id: int) -> StockMove:
    """A ledger row by id."""
    return await repository.get_move(session, move_id)

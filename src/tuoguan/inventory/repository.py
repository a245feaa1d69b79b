"""Queries for warehouses, the stock ledger and the stock balances."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    exists,
    func,
    insert,
    literal,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.db import table_of
from tuoguan.inventory.ledger import Bucket, Deltas, Levels
from tuoguan.inventory.models import StockBalance, StockMove, Warehouse, WarehouseOwner
from tuoguan.kit.keyset import Keyset
from tuoguan.stores.models import Store

WAREHOUSES = Keyset((Warehouse.id,), ("id",))
BALANCES = Keyset((StockBalance.warehouse_id, StockBalance.sku_id), ("id", "id"))
# With the warehouse (or the SKU) named, the other column alone orders its rows: the seek runs
# on the index column after the named one (SQLite seeks no row value whose first column the
# WHERE already fixes, and would sort the rest).
IN_WAREHOUSE = Keyset((StockBalance.sku_id,), ("id",))
OF_SKU = Keyset((StockBalance.warehouse_id,), ("id",))
MOVES = Keyset((StockMove.id,), ("int",), descending=True)
BALANCE = table_of(StockBalance)
MOVE = table_of(StockMove)
SHARED_OWNERS = (WarehouseOwner.platform, WarehouseOwner.third_party)
_BUCKETS = [bucket.value for bucket in Bucket]


# -- warehouses -------------------------------------------------------------------------------


async def get_warehouse(session: AsyncSession, warehouse_id: str) -> Warehouse | None:
    """A warehouse by id, whoever owns it."""
    return await session.get(Warehouse, warehouse_id)


async def code_taken(session: AsyncSession, code: str) -> bool:
    """Whether a warehouse already has this code."""
    found = await session.scalar(select(Warehouse.id).where(Warehouse.code == code))
    return found is not None


async def list_warehouses(
    session: AsyncSession, *, seller_id: str | None, everyone: bool, cursor: str | None, limit: int
) -> tuple[list[Warehouse], str | None]:
    """All warehouses (``everyone``), or the shared active ones plus one seller's own, by id."""
    if everyone:
        return await WAREHOUSES.page(session, [select(Warehouse)], cursor=cursor, limit=limit)
    queries: list[Select[Any]] = [
        select(Warehouse).where(Warehouse.owner == owner, Warehouse.active.is_(True))
        for owner in SHARED_OWNERS
    ]
    if seller_id:
        queries.append(select(Warehouse).where(Warehouse.seller_id == seller_id))
    return await WAREHOUSES.page(session, queries, cursor=cursor, limit=limit)


# -- balances ---------------------------------------------------------------------------------


def _conditional_update(
    warehouse_id: str, sku_id: str, deltas: Deltas, now: datetime, *, working: bool
) -> Any:
    """UPDATE the balance by ``deltas``, matching only if every rule still holds after it
    (and, with ``working``, only in an active warehouse); RETURNING the SKU's store."""
    c = BALANCE.c
    values: dict[str, Any] = {"updated_at": now}
    conditions = [c.warehouse_id == warehouse_id, c.sku_id == sku_id]
    for bucket, delta in deltas.changed():
        column = c[bucket.value]
        values[bucket.value] = column + delta
        if delta < 0:
            conditions.append(column >= -delta)
    if deltas.reserved > 0 or deltas.on_hand < 0:
        conditions.append((c.on_hand + deltas.on_hand) - (c.reserved + deltas.reserved) >= 0)
    if working:
        conditions.append(exists().where(Warehouse.id == warehouse_id, Warehouse.active.is_(True)))
    return update(BALANCE).where(*conditions).values(values).returning(c.store_id)


async def move_if_fits(
    session: AsyncSession,
    *,
    warehouse_id: str,
    sku_id: str,
    deltas: Deltas,
    row: dict[str, Any],
    working: bool,
) -> int | None:
    """Apply a move to an existing balance and append its ledger row, if it fits; the row's
    id, or None when nothing matched (no balance yet, a rule would break, warehouse shut).

    The conditional UPDATE's row lock orders concurrent moves of one key, and each re-reads
    the row it updates, so two reservations of the last unit cannot both match. On
    PostgreSQL the UPDATE and the INSERT are one statement (a data-modifying CTE), so the
    lock is held for that statement and the commit only, as long as a bare UPDATE holds it;
    SQLite, which has one writer at a time, runs the same two steps one after the other.
    """
    now = row["created_at"]
    moved = _conditional_update(warehouse_id, sku_id, deltas, now, working=working)
    if session.get_bind().dialect.name == "postgresql":
        step = moved.cte("moved")
        source = select(
            *(literal(value, MOVE.c[name].type).label(name) for name, value in row.items()),
            step.c.store_id,
        )
        statement = insert(MOVE).from_select([*row, "store_id"], source).returning(MOVE.c.id)
        return (await session.execute(statement)).scalar()
    store_id = (await session.execute(moved)).scalar()
    if store_id is None:
        return None
    return await add_move(session, row, store_id)


async def create_balance(
    session: AsyncSession,
    *,
    warehouse_id: str,
    sku_id: str,
    store_id: str,
    levels: Levels,
    now: datetime,
) -> bool:
    """Insert a key's first balance; False if another transaction inserted it first."""
    row = {
        "warehouse_id": warehouse_id,
        "sku_id": sku_id,
        "store_id": store_id,
        "updated_at": now,
        **{name: getattr(levels, name) for name in _BUCKETS},
    }
    dialect = session.get_bind().dialect.name
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        maker(BALANCE)
        .values(row)
        .on_conflict_do_nothing(index_elements=["warehouse_id", "sku_id"])
        .returning(BALANCE.c.sku_id)
    )
    # RETURNING, not rowcount: the drivers do not agree on an INSERT's rowcount.
    return (await session.execute(statement)).first() is not None


async def seller_store_ids(session: AsyncSession, seller_id: str) -> list[str]:
    """The ids of a seller's stores, in order."""
    owned = select(Store.id).where(Store.seller_id == seller_id).order_by(Store.id)
    return list(await session.scalars(owned))


async def levels(session: AsyncSession, *, warehouse_id: str, sku_id: str) -> Levels | None:
    """A key's stored balance as it is now (not the session's copy), or None without one."""
    c = BALANCE.c
    row = (
        await session.execute(
            select(c.on_hand, c.reserved, c.defective, c.inbound).where(
                c.warehouse_id == warehouse_id, c.sku_id == sku_id
            )
        )
    ).first()
    return Levels(*row) if row is not None else None


async def get_balance(session: AsyncSession, *, warehouse_id: str, sku_id: str) -> StockBalance:
    """A key's stored balance, freshly read."""
    found = await session.scalar(
        select(StockBalance)
        .where(StockBalance.warehouse_id == warehouse_id, StockBalance.sku_id == sku_id)
        .execution_options(populate_existing=True)
    )
    assert found is not None
    return found


async def list_balances(
    session: AsyncSession,
    *,
    store_ids: Sequence[str] | None,
    warehouse_id: str | None,
    sku_id: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[StockBalance], str | None]:
    """Balances by (warehouse, SKU); ``store_ids`` limits them to those stores' SKUs (one index
    range per store, merged). A warehouse: the primary key or ``(store_id, warehouse_id,
    sku_id)`` by SKU; a SKU: ``(sku_id, warehouse_id)`` by warehouse (the SKU's store is
    checked by the caller, so it comes without ``store_ids``)."""

    def narrowed(query: Select[Any]) -> Select[Any]:
        if warehouse_id is not None:
            query = query.where(StockBalance.warehouse_id == warehouse_id)
        if sku_id is not None:
            query = query.where(StockBalance.sku_id == sku_id)
        return query

    if store_ids is None:
        queries = [narrowed(select(StockBalance))]
    else:
        queries = [
            narrowed(select(StockBalance).where(StockBalance.store_id == store_id))
            for store_id in store_ids
        ]
    keyset = IN_WAREHOUSE if warehouse_id is not None else OF_SKU if sku_id else BALANCES
    if not queries:
        keyset.seek(cursor)  # a bad cursor is still a 400
        return [], None
    return await keyset.page(session, queries, cursor=cursor, limit=limit)


# -- the ledger -------------------------------------------------------------------------------


def move_row(
    *,
    warehouse_id: str,
    sku_id: str,
    kind: str,
    quantity: int | None,
    deltas: Deltas,
    reason: str | None,
    actor_id: str,
    actor_role: str,
    ref_type: str | None,
    ref_id: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The column values of one ledger row, but its store (the SKU's, known when it is written)."""
    return {
        "warehouse_id": warehouse_id,
        "sku_id": sku_id,
        "kind": kind,
        "quantity": quantity,
        "on_hand": deltas.on_hand,
        "reserved": deltas.reserved,
        "defective": deltas.defective,
        "inbound": deltas.inbound,
        "reason": reason,
        "actor_id": actor_id,
        "actor_role": actor_role,
        "ref_type": ref_type,
        "ref_id": ref_id,
        "created_at": now,
    }


async def add_move(session: AsyncSession, row: dict[str, Any], store_id: str) -> int:
    """Append one ledger row; its id."""
    result = await session.execute(
        insert(MOVE).values({**row, "store_id": store_id}).returning(MOVE.c.id)
    )
    return int(result.scalar_one())


async def get_move(session: AsyncSession, move_id: int) -> StockMove:
    """A ledger row by id."""
    move = await session.get(StockMove, move_id)
    assert move is not None
    return move


async def list_moves(
    session: AsyncSession,
    *,
    store_ids: Sequence[str] | None,
    warehouse_id: str | None,
    sku_id: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[StockMove], str | None]:
    """Ledger rows, newest first, each filter served by an index ending in ``id`` (a SKU's rows
    without ``store_ids``: the caller checks the SKU's store)."""

    def narrowed(query: Select[Any]) -> Select[Any]:
        if warehouse_id is not None:
            query = query.where(StockMove.warehouse_id == warehouse_id)
        if sku_id is not None:
            query = query.where(StockMove.sku_id == sku_id)
        return query

    if store_ids is None:
        queries = [narrowed(select(StockMove))]
    else:
        queries = [
            narrowed(select(StockMove).where(StockMove.store_id == store_id))
            for store_id in store_ids
        ]
    if not queries:
        MOVES.seek(cursor)
        return [], None
    return await MOVES.page(session, queries, cursor=cursor, limit=limit)


# -- the check: balances rebuilt from the ledger, a range of keys at a time ---------------------

Key = tuple[str, str]


async def stored_after(
    session: AsyncSession, *, after: Key | None, limit: int
) -> list[tuple[Key, str, Levels]]:
    """The next ``limit`` stored balances after the key ``after``, in key order (primary key)."""
    c = BALANCE.c
    query = (
        select(c.warehouse_id, c.sku_id, c.store_id, c.on_hand, c.reserved, c.defective, c.inbound)
        .order_by(c.warehouse_id, c.sku_id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(tuple_(c.warehouse_id, c.sku_id) > tuple_(*after))
    rows = (await session.execute(query)).all()
    return [((w, s), store, Levels(*buckets)) for w, s, store, *buckets in rows]


def _in_range(columns: Any, low: Key | None, high: Key | None) -> Any:
    key = tuple_(*columns)
    bounds = []
    if low is not None:
        bounds.append(key > tuple_(*low))
    if high is not None:
        bounds.append(key <= tuple_(*high))
    return and_(*bounds) if bounds else true()


def _sums() -> list[Any]:
    m = MOVE.c
    return [
        func.min(m.store_id),
        func.count(),
        func.sum(m.on_hand),
        func.sum(m.reserved),
        func.sum(m.defective),
        func.sum(m.inbound),
    ]


async def ledger_in_range(
    session: AsyncSession, low: Key | None, high: Key | None
) -> dict[Key, tuple[str, int, Levels]]:
    """The ledger summed per key in (low, high], one GROUP BY: key -> (store, rows, levels)."""
    m = MOVE.c
    rows = await session.execute(
        select(m.warehouse_id, m.sku_id, *_sums())
        .where(_in_range((m.warehouse_id, m.sku_id), low, high))
        .group_by(m.warehouse_id, m.sku_id)
    )
    return {
        (w, s): (store, int(count), Levels(*(int(v) for v in sums)))
        for w, s, store, count, *sums in rows.all()
    }


async def ledger_of(session: AsyncSession, key: Key) -> tuple[str, Levels] | None:
    """One key's ledger sums: (store, levels), or None if it has no rows."""
    m = MOVE.c
    row = (
        await session.execute(select(*_sums()).where(m.warehouse_id == key[0], m.sku_id == key[1]))
    ).one()
    store, count, *sums = row
    if not count:
        return None
    return str(store), Levels(*(int(v) for v in sums))


async def lock_balance(session: AsyncSession, key: Key) -> bool:
    """Lock a key's balance row for a rewrite (PostgreSQL); whether it exists."""
    c = BALANCE.c
    found = await session.scalar(
        select(c.sku_id).where(c.warehouse_id == key[0], c.sku_id == key[1]).with_for_update()
    )
    return found is not None


async def overwrite_balance(
    session: AsyncSession, key: Key, store_id: str, target: Levels, now: datetime
) -> None:
    """Set a key's stored balance to ``target`` (the check's --fix)."""
    c = BALANCE.c
    values = {name: getattr(target, name) for name in _BUCKETS}
    await session.execute(
        update(BALANCE)
        .where(c.warehouse_id == key[0], c.sku_id == key[1])
        .values(store_id=store_id, updated_at=now, **values)
    )

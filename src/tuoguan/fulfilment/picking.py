"""The warehouse's pick list and picking (拣货): what the platform ships from its warehouse, soonest
deadline first, and the fulfilment order taken from the shelf to the packing bench (F11, C3).

Who: the warehouse's staff and operators. Staff of another warehouse are told the warehouse or
the fulfilment order is not found, exactly as receiving answers them for another warehouse's
inbound notice; every other role is refused (403).

Picking moves no stock: each line's ledger row ``pick`` names the units taken to packing (they
stay reserved until the parcel leaves, when the order's ``ship`` writes the ``ship`` rows). When
the picker scans the goods, what was scanned must match the order's lines exactly, SKU by SKU
and unit by unit (C3: quantities and specifications are checked at packing), or nothing moves.
The caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.catalog.models import Product, Sku
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput, NotFound
from tuoguan.fulfilment import repository
from tuoguan.fulfilment import service as fulfilment
from tuoguan.fulfilment.models import FulfilmentOrder, FulfilmentStatus
from tuoguan.fulfilment.picking_schemas import PickCreate, PickedItem, PickLineRead, PickOrderRead
from tuoguan.fulfilment.states import FulfilmentAction, fulfilment_next
from tuoguan.inventory import service as inventory
from tuoguan.inventory.models import MoveKind, Warehouse
from tuoguan.kit.keyset import Keyset
from tuoguan.orders import service as orders
from tuoguan.principal import SYSTEM, Principal, Role
from tuoguan.stores.modes import Party

# On the pick list: held in the warehouse and not yet gone (``ix_fulfilment_orders_warehouse``).
ON_THE_LIST = (FulfilmentStatus.reserved, FulfilmentStatus.picked)
# The soonest ship deadline first (F11), then by id.
SOONEST = Keyset((FulfilmentOrder.ship_by, FulfilmentOrder.id), ("instant", "id"))
_WORKERS = frozenset({Role.operator, Role.warehouse, Role.system})


def works_in(principal: Principal, warehouse_id: str | None) -> bool:
    """Operators and the system work in every warehouse; staff in theirs."""
    if principal.role in (Role.operator, Role.system):
        return True
    return principal.role is Role.warehouse and warehouse_id in principal.warehouse_ids


def _worker(principal: Principal) -> None:
    if principal.role not in _WORKERS:
        raise Forbidden("only the warehouse's staff or an operator pick and ship its orders")


async def warehouse_for(
    session: AsyncSession, *, principal: Principal, warehouse_id: str
) -> Warehouse:
    """A warehouse the principal works in; another is not found."""
    _worker(principal)
    warehouse = await repository.get_warehouse(session, warehouse_id)
    if warehouse is None or not works_in(principal, warehouse.id):
        raise NotFound(f"warehouse {warehouse_id} not found", field="warehouse_id")
    return warehouse


async def get_fulfilment_order(
    session: AsyncSession, *, principal: Principal, fulfilment_order_id: str
) -> FulfilmentOrder:
    """A fulfilment order of a warehouse the principal works in; another is not found."""
    _worker(principal)
    fo: FulfilmentOrder | None = await session.scalar(
        select(FulfilmentOrder).where(FulfilmentOrder.id == fulfilment_order_id)
    )
    if fo is None or fo.warehouse_id is None or not works_in(principal, fo.warehouse_id):
        raise NotFound(
            f"fulfilment order {fulfilment_order_id} not found", field="fulfilment_order_id"
        )
    return fo


async def lock_for_work(
    session: AsyncSession, *, principal: Principal, fulfilment_order_id: str
) -> FulfilmentOrder:
    """The fulfilment order, read afresh under a lock taken after its buyer order's (the order
    first, as every writer of both locks them), which must be one the platform ships."""
    seen = await get_fulfilment_order(
        session, principal=principal, fulfilment_order_id=fulfilment_order_id
    )
    await orders.lock_order(session, principal=SYSTEM, order_id=seen.order_id)
    fo = await repository.fulfilment_of(session, seen.order_id, lock=True)
    assert fo is not None and fo.id == seen.id
    if fo.shipper is not Party.platform:
        raise Conflict(
            f"the seller ships fulfilment order {fo.id} itself; the warehouse does not (M1)",
            field="fulfilment_order_id",
            rule="seller_ships",
        )
    return fo


# -- the pick list -----------------------------------------------------------------------------


async def pick_list(
    session: AsyncSession,
    *,
    principal: Principal,
    warehouse_id: str,
    statuses: Sequence[FulfilmentStatus] = (),
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[FulfilmentOrder], str | None]:
    """What the warehouse has to pick and pack, the soonest ship deadline first: one range of
    ``ix_fulfilment_orders_warehouse`` per status (reserved, picked), merged."""
    warehouse = await warehouse_for(session, principal=principal, warehouse_id=warehouse_id)
    wanted = [s for s in ON_THE_LIST if not statuses or s in statuses]
    queries: list[Select[Any]] = [
        select(FulfilmentOrder).where(
            FulfilmentOrder.warehouse_id == warehouse.id, FulfilmentOrder.status == status
        )
        for status in wanted
    ]
    if not queries:
        return [], None
    return await SOONEST.page(session, queries, cursor=cursor, limit=limit)


async def present(session: AsyncSession, found: Sequence[FulfilmentOrder]) -> list[PickOrderRead]:
    """Fulfilment orders with their lines as a picker reads them (SKU code, variant, barcode,
    product name): one query for a whole page."""
    if not found:
        return []
    skus = await _skus(session, {line.sku_id for fo in found for line in fo.lines})
    shown = []
    for fo in found:
        assert fo.warehouse_id is not None
        lines = []
        for line in fo.lines:
            sku, name = skus[line.sku_id]
            lines.append(
                PickLineRead(
                    sku_id=sku.id,
                    sku_code=sku.code,
                    barcode=sku.barcode,
                    attributes=dict(sku.attributes or {}),
                    product_id=sku.product_id,
                    product_name=name,
                    quantity=line.quantity,
                )
            )
        shown.append(
            PickOrderRead(
                id=fo.id,
                order_id=fo.order_id,
                store_id=fo.store_id,
                warehouse_id=fo.warehouse_id,
                status=fo.status,
                ship_by=fo.ship_by,
                reserved_at=fo.reserved_at,
                picked_at=fo.picked_at,
                shipped_at=fo.shipped_at,
                units=sum(line.quantity for line in lines),
                lines=lines,
            )
        )
    return shown


async def _skus(session: AsyncSession, sku_ids: set[str]) -> dict[str, tuple[Sku, str]]:
    rows = await session.execute(
        select(Sku, Product.name)
        .join(Product, Product.id == Sku.product_id)
        .where(Sku.id.in_(sku_ids))
    )
    return {sku.id: (sku, name) for sku, name in rows}


# -- picking -----------------------------------------------------------------------------------


async def pick(
    session: AsyncSession, *, ctx: Ctx, fulfilment_order_id: str, data: PickCreate | None = None
) -> FulfilmentOrder:
    """The goods are off the shelf (拣货): reserved → picked, a ledger ``pick`` row per line and
    the step on the buyer order's timeline. What was scanned, if sent, must match the lines
    (422 ``pick_mismatch``, naming the line); a fulfilment order not reserved is a 409."""
    fo = await lock_for_work(
        session, principal=ctx.principal, fulfilment_order_id=fulfilment_order_id
    )
    source = fo.status
    target = fulfilment_next(source, FulfilmentAction.pick)
    if data is not None and data.items is not None:
        skus = await _skus(session, {line.sku_id for line in fo.lines})
        _check_scans(fo, {sku_id: sku for sku_id, (sku, _) in skus.items()}, data.items)
    assert fo.warehouse_id is not None
    for line in fo.lines:
        await inventory.move(
            session,
            ctx=ctx,
            kind=MoveKind.pick,
            warehouse_id=fo.warehouse_id,
            sku_id=line.sku_id,
            quantity=line.quantity,
            reason=f"picked for order {fo.order_id}",
            ref_type=fulfilment.REF,
            ref_id=fo.id,
        )
    now = ctx.clock.now()
    fo.status = target
    fo.picked_at = fo.updated_at = now
    scanned = data is not None and data.items is not None
    audit.record(
        session,
        ctx=ctx,
        subject_type=fulfilment.REF,
        subject_id=fo.id,
        store_id=fo.store_id,
        action=FulfilmentAction.pick.value,
        from_state=source.value,
        to_state=target.value,
        data={"order_id": fo.order_id, "warehouse_id": fo.warehouse_id, "scanned": scanned},
    )
    order = await orders.get_order(session, principal=SYSTEM, order_id=fo.order_id)
    fulfilment.note(
        session,
        ctx,
        order,
        "fulfilment_picked",
        {"fulfilment_order_id": fo.id, "warehouse_id": fo.warehouse_id, "scanned": scanned},
    )
    return fo


def _check_scans(fo: FulfilmentOrder, skus: dict[str, Sku], items: Sequence[PickedItem]) -> None:
    """C3: the units scanned, SKU by SKU, are exactly the lines'; else the first line (or scan)
    that differs, as a 422 ``pick_mismatch``."""
    exact: dict[str, str] = {}
    folded: dict[str, str] = {}
    for sku in skus.values():
        # Weakest first, so an id beats a barcode and a barcode beats a code.
        for name in (sku.code, sku.barcode, sku.id):
            if name:
                exact[name] = sku.id
                folded[name.casefold()] = sku.id
    scanned: dict[str, int] = {}
    last_scan: dict[str, int] = {}
    for i, item in enumerate(items):
        sku_id = exact.get(item.code) or folded.get(item.code.casefold())
        if sku_id is None:
            raise InvalidInput(
                f"{item.code} is not on fulfilment order {fo.id}: a wrong item, keep it apart",
                field=f"items.{i}.code",
                rule="pick_mismatch",
                code=item.code,
            )
        scanned[sku_id] = scanned.get(sku_id, 0) + item.quantity
        last_scan[sku_id] = i
    wanted: dict[str, tuple[int, int]] = {}  # SKU -> (its first line's number, units)
    for n, line in enumerate(fo.lines, start=1):
        first, units = wanted.get(line.sku_id, (n, 0))
        wanted[line.sku_id] = (first, units + line.quantity)
    for sku_id, (n, units) in wanted.items():
        got = scanned.get(sku_id, 0)
        if got == units:
            continue
        sku = skus[sku_id]
        variant = ", ".join(f"{k}: {v}" for k, v in (sku.attributes or {}).items())
        named = f"SKU {sku.code}" + (f" ({variant})" if variant else "")
        raise InvalidInput(
            f"line {n} of fulfilment order {fo.id}, {named}: {got} scanned, {units} to pick",
            field=f"items.{last_scan[sku_id]}.quantity" if sku_id in last_scan else "items",
            rule="pick_mismatch",
            line=n,
            sku_id=sku_id,
            sku_code=sku.code,
            expected=units,
            scanned=got,
        )

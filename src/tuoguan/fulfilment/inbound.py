"""Inbound notices (ASN, 入库单, R1): a seller announces what it sends to a warehouse, and how.

A notice names the store, the destination warehouse (the platform's or a third party's, or the
seller's own), lines of SKU x units, the cartons, and the carrier and tracking number. It may
answer a supply order (备货单, the Decision O2 x M5). Its life is the table in
``fulfilment.inbound_states``.

The seller (or an operator for it) edits, sends or cancels a draft; sending announces every
line in the warehouse's ``inbound`` bucket (ledger kind ``inbound``). Warehouse staff of the
destination (or an operator) take it from there (``fulfilment.receiving``).

Who sees a notice: operators every one; a seller its own; warehouse staff those sent to their
warehouses (not drafts). Anyone else's is not found (404), never forbidden, as for every object.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.catalog.models import Sku
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput, NotFound
from tuoguan.errors import check_version as _check_version
from tuoguan.fulfilment import service as fulfilment
from tuoguan.fulfilment.inbound_schemas import (
    InboundLineCreate,
    InboundNoticeCreate,
    InboundNoticeUpdate,
)
from tuoguan.fulfilment.inbound_states import SENDERS, SENT, InboundAction, transition
from tuoguan.fulfilment.models import (
    InboundLine,
    InboundNotice,
    InboundStatus,
    SupplyOrder,
    SupplyStatus,
)
from tuoguan.inventory import service as stock
from tuoguan.inventory import warehouses
from tuoguan.inventory.models import MoveKind, Warehouse, WarehouseOwner
from tuoguan.kit.ids import new_id
from tuoguan.principal import Principal, Role
from tuoguan.stores import service as stores
from tuoguan.stores.models import Store, StoreStatus

REF_TYPE = "inbound_notice"  # the stock ledger's ref_type for moves made under a notice


# -- who sees what ----------------------------------------------------------------------------


def visible(principal: Principal) -> Select[InboundNotice]:
    """Notices a principal may see (see the module)."""
    query = select(InboundNotice)
    if principal.is_operator or principal.role is Role.system:
        return query
    if principal.role is Role.seller and principal.seller_id:
        return query.where(InboundNotice.seller_id == principal.seller_id)
    if principal.role is Role.warehouse and principal.warehouse_ids:
        return query.where(
            InboundNotice.warehouse_id.in_(principal.warehouse_ids),
            InboundNotice.status.in_(SENT),
        )
    return query.where(false())


def enter(
    session: AsyncSession,
    ctx: Ctx,
    notice: InboundNotice,
    target: InboundStatus,
    action: InboundAction,
    data: dict[str, Any] | None = None,
) -> None:
    """The notice moves to ``target`` by ``action``, with its audit event (one per step)."""
    before = notice.status
    notice.status = target
    notice.updated_at = ctx.clock.now()
    audit.record(
        session,
        ctx=ctx,
        subject_type=REF_TYPE,
        subject_id=notice.id,
        store_id=notice.store_id,
        action=action.value,
        from_state=before.value,
        to_state=target.value,
        data=data or {},
    )


def _not_found(notice_id: str) -> NotFound:
    return NotFound(f"inbound notice {notice_id} not found", field="notice_id")


async def get_notice(
    session: AsyncSession, *, principal: Principal, notice_id: str
) -> InboundNotice:
    """A notice the principal may see; anyone else's is not found."""
    notice = await session.scalar(visible(principal).where(InboundNotice.id == notice_id))
    if notice is None:
        raise _not_found(notice_id)
    return notice


async def lock(session: AsyncSession, *, principal: Principal, notice_id: str) -> InboundNotice:
    """A visible notice read fresh and locked until the transaction ends (PostgreSQL; SQLite's
    write transaction already excludes other writers), so two scanners counting at once
    serialise and each sees the other's units."""
    await session.flush()
    notice = await session.scalar(
        visible(principal)
        .where(InboundNotice.id == notice_id)
        .with_for_update(of=InboundNotice)
        .execution_options(populate_existing=True)
    )
    if notice is None:
        raise _not_found(notice_id)
    return notice


# -- checks of a draft ------------------------------------------------------------------------


def _sender(principal: Principal) -> None:
    if principal.role not in SENDERS and principal.role is not Role.system:
        raise Forbidden("only the seller or an operator writes an inbound notice")


async def _store(session: AsyncSession, principal: Principal, store_id: str) -> Store:
    store = await stores.get_store(session, principal=principal, store_id=store_id)
    if store.status is StoreStatus.closed:
        raise Conflict(
            f"store {store.id} is closed: it sends no stock", field="store_id", rule="store_open"
        )
    return store


async def _destination(
    session: AsyncSession, principal: Principal, store: Store, warehouse_id: str
) -> Warehouse:
    """The warehouse the goods go to: one that takes in stock, and not another seller's."""
    warehouse = await warehouses.get_warehouse(
        session, principal=principal, warehouse_id=warehouse_id
    )
    if warehouse.owner is WarehouseOwner.seller and warehouse.seller_id != store.seller_id:
        raise InvalidInput(
            f"warehouse {warehouse.code} belongs to another seller: send stock to the platform's "
            "or a third party's warehouse, or to your own",
            field="warehouse_id",
            rule="not_your_warehouse",
        )
    if not warehouse.active:
        raise Conflict(
            f"warehouse {warehouse.code} is not active: it takes in no stock",
            field="warehouse_id",
            rule="warehouse_active",
        )
    return warehouse


async def _skus(
    session: AsyncSession, store_id: str, lines: Sequence[InboundLineCreate]
) -> dict[str, Sku]:
    """The SKUs the lines name: each once, each the store's (C3)."""
    seen: set[str] = set()
    for i, line in enumerate(lines):
        if line.sku_id in seen:
            raise InvalidInput(
                f"SKU {line.sku_id} is listed twice: one line per SKU, with its total",
                field=f"lines.{i}.sku_id",
                rule="sku_once",
            )
        seen.add(line.sku_id)
    found = {s.id: s for s in await session.scalars(select(Sku).where(Sku.id.in_(seen)))}
    for i, line in enumerate(lines):
        sku = found.get(line.sku_id)
        if sku is None or sku.store_id != store_id:
            raise InvalidInput(
                f"SKU {line.sku_id} is not a SKU of store {store_id}",
                field=f"lines.{i}.sku_id",
                rule="store_sku",
            )
    return found


async def _supply(
    session: AsyncSession,
    principal: Principal,
    *,
    supply_order_id: str,
    store: Store,
    warehouse_id: str,
    sku_ids: Sequence[str],
) -> SupplyOrder:
    """The supply order a notice answers: the store's, for this warehouse, confirmed (or already
    in transit under an earlier notice: the rest may follow in another), and covering every SKU
    the notice sends (the Decision O2 x M5)."""
    supply = await fulfilment.get_supply_order(
        session, principal=principal, supply_order_id=supply_order_id
    )
    if supply.store_id != store.id:
        raise InvalidInput(
            f"supply order {supply.id} is not store {store.id}'s",
            field="supply_order_id",
            rule="supply_order_of_store",
        )
    if supply.warehouse_id != warehouse_id:
        raise InvalidInput(
            f"supply order {supply.id} is to be delivered to warehouse {supply.warehouse_id}",
            field="supply_order_id",
            rule="supply_order_warehouse",
        )
    if supply.status not in (SupplyStatus.confirmed, SupplyStatus.in_transit):
        raise Conflict(
            f"supply order {supply.id} is {supply.status.value}: a notice answers a supply "
            "order the seller confirmed",
            field="supply_order_id",
            rule="supply_not_confirmed",
        )
    wanted = {line.sku_id for line in supply.lines}
    for i, sku_id in enumerate(sku_ids):
        if sku_id not in wanted:
            raise InvalidInput(
                f"SKU {sku_id} is not on supply order {supply.id}",
                field=f"lines.{i}.sku_id",
                rule="supply_order_sku",
            )
    return supply


def _lines(notice_id: str, lines: Sequence[InboundLineCreate]) -> list[InboundLine]:
    return [
        InboundLine(
            id=f"{notice_id}-{position}",
            position=position,
            sku_id=line.sku_id,
            expected=line.quantity,
            received_good=0,
            received_defective=0,
        )
        for position, line in enumerate(lines, start=1)
    ]


def _summary(notice: InboundNotice) -> dict[str, Any]:
    return {
        "warehouse_id": notice.warehouse_id,
        "supply_order_id": notice.supply_order_id,
        "cartons": notice.cartons,
        "carrier_name": notice.carrier_name,
        "tracking_number": notice.tracking_number,
        "lines": [{"sku_id": line.sku_id, "quantity": line.expected} for line in notice.lines],
    }


# -- the seller's side ------------------------------------------------------------------------


async def create(session: AsyncSession, *, ctx: Ctx, data: InboundNoticeCreate) -> InboundNotice:
    """A draft notice for a store (the seller's own; an operator's for any store)."""
    principal = ctx.principal
    _sender(principal)
    store = await _store(session, principal, data.store_id)
    warehouse = await _destination(session, principal, store, data.warehouse_id)
    await _skus(session, store.id, data.lines)
    if data.supply_order_id is not None:
        await _supply(
            session,
            principal,
            supply_order_id=data.supply_order_id,
            store=store,
            warehouse_id=warehouse.id,
            sku_ids=[line.sku_id for line in data.lines],
        )
    now = ctx.clock.now()
    notice_id = new_id("inbound")
    notice = InboundNotice(
        id=notice_id,
        store_id=store.id,
        seller_id=store.seller_id,
        warehouse_id=warehouse.id,
        supply_order_id=data.supply_order_id,
        status=InboundStatus.draft,
        cartons=data.cartons,
        carrier_name=data.carrier_name,
        tracking_number=data.tracking_number,
        created_at=now,
        updated_at=now,
        lines=_lines(notice_id, data.lines),
    )
    session.add(notice)
    audit.record(
        session,
        ctx=ctx,
        subject_type=REF_TYPE,
        subject_id=notice.id,
        store_id=store.id,
        action="create",
        to_state=notice.status.value,
        data=_summary(notice),
    )
    await session.flush()
    return notice


async def update(
    session: AsyncSession,
    *,
    ctx: Ctx,
    notice_id: str,
    data: InboundNoticeUpdate,
    expected_version: int | None = None,
) -> InboundNotice:
    """Change a draft: the warehouse, the lines (all replaced), cartons, supply order, carrier."""
    principal = ctx.principal
    _sender(principal)
    notice = await lock(session, principal=principal, notice_id=notice_id)
    transition(notice, InboundAction.edit, principal)
    _check_version("inbound notice", notice.id, notice.version, expected_version)
    given = data.model_fields_set
    for required in ("warehouse_id", "lines", "cartons"):
        if required in given and getattr(data, required) is None:
            raise InvalidInput(
                f"{required} cannot be cleared; leave it out to keep it",
                field=required,
                rule="not_null",
            )
    store = await _store(session, principal, notice.store_id)
    warehouse_id = data.warehouse_id or notice.warehouse_id
    if data.warehouse_id is not None:
        await _destination(session, principal, store, data.warehouse_id)
    lines = data.lines
    if lines is not None:
        await _skus(session, store.id, lines)
    supply_order_id = data.supply_order_id if "supply_order_id" in given else notice.supply_order_id
    if supply_order_id is not None:
        sku_ids = (
            [line.sku_id for line in lines]
            if lines is not None
            else [line.sku_id for line in notice.lines]
        )
        await _supply(
            session,
            principal,
            supply_order_id=supply_order_id,
            store=store,
            warehouse_id=warehouse_id,
            sku_ids=sku_ids,
        )
    notice.warehouse_id = warehouse_id
    notice.supply_order_id = supply_order_id
    if data.cartons is not None:
        notice.cartons = data.cartons
    for optional in ("carrier_name", "tracking_number"):
        if optional in given:
            setattr(notice, optional, getattr(data, optional))
    if lines is not None:
        # The old rows go first: a SKU kept on the notice keeps its (notice, SKU) key.
        notice.lines.clear()
        await session.flush()
        notice.lines.extend(_lines(notice.id, lines))
    notice.updated_at = ctx.clock.now()
    audit.record(
        session,
        ctx=ctx,
        subject_type=REF_TYPE,
        subject_id=notice.id,
        store_id=notice.store_id,
        action="update",
        data=_summary(notice),
    )
    await session.flush()
    return notice


async def send(
    session: AsyncSession, *, ctx: Ctx, notice_id: str, expected_version: int | None = None
) -> InboundNotice:
    """The cartons left the seller: the notice is in transit and every line is announced in the
    warehouse's ``inbound`` bucket. Needs the carrier and the tracking number (R4: information
    checked before it goes out)."""
    principal = ctx.principal
    notice = await lock(session, principal=principal, notice_id=notice_id)
    _sender(principal)
    step = transition(notice, InboundAction.send, principal)
    _check_version("inbound notice", notice.id, notice.version, expected_version)
    for required in ("carrier_name", "tracking_number"):
        if not getattr(notice, required):
            raise InvalidInput(
                f"name the {required.replace('_', ' ')} before sending the notice",
                field=required,
                rule="required_to_send",
            )
    store = await _store(session, principal, notice.store_id)
    await _destination(session, principal, store, notice.warehouse_id)
    if notice.supply_order_id is not None:
        await _supply(
            session,
            principal,
            supply_order_id=notice.supply_order_id,
            store=store,
            warehouse_id=notice.warehouse_id,
            sku_ids=[line.sku_id for line in notice.lines],
        )
    for line in notice.lines:
        await stock.move(
            session,
            ctx=ctx,
            kind=MoveKind.inbound,
            warehouse_id=notice.warehouse_id,
            sku_id=line.sku_id,
            quantity=line.expected,
            reason="inbound notice sent",
            ref_type=REF_TYPE,
            ref_id=notice.id,
        )
    notice.shipped_at = ctx.clock.now()
    enter(
        session,
        ctx,
        notice,
        step.targets[0],
        InboundAction.send,
        {"carrier_name": notice.carrier_name, "tracking_number": notice.tracking_number},
    )
    await session.flush()
    if notice.supply_order_id is not None:
        await fulfilment.supply_sent(session, ctx=ctx, supply_order_id=notice.supply_order_id)
    return notice


async def cancel(
    session: AsyncSession, *, ctx: Ctx, notice_id: str, expected_version: int | None = None
) -> InboundNotice:
    """Withdraw a draft (nothing was announced yet, so no stock moves)."""
    principal = ctx.principal
    notice = await lock(session, principal=principal, notice_id=notice_id)
    _sender(principal)
    step = transition(notice, InboundAction.cancel, principal)
    _check_version("inbound notice", notice.id, notice.version, expected_version)
    enter(session, ctx, notice, step.targets[0], InboundAction.cancel)
    await session.flush()
    return notice

"""Use cases for warehouses, their calendars and the platform's ship deadline; the caller commits.

Who sees which warehouse: operators all of them; a seller the platform's and third parties'
active warehouses (where it may send stock) and its own; another seller's is not found.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Conflict, Forbidden, InvalidInput, NotFound, check_version
from tuoguan.inventory import repository
from tuoguan.inventory.models import Warehouse, WarehouseKind, WarehouseOwner
from tuoguan.inventory.schemas import WarehouseCreate, WarehouseUpdate
from tuoguan.kit.ids import new_id
from tuoguan.principal import Principal, Role
from tuoguan.stores import service as stores
from tuoguan.stores.schemas import Address
from tuoguan.timing.calendar import BusinessCalendar, calendar_for
from tuoguan.timing.dispatch import dispatch_by
from tuoguan.timing.places import check_country, check_timezone, country_timezone

# What a seller may register as its own (F1: semi-managed sellers ship from overseas stock).
SELLER_KINDS = frozenset({WarehouseKind.seller_origin, WarehouseKind.overseas})


def warehouse_calendar(warehouse: Warehouse) -> BusinessCalendar:
    """The warehouse's business days: its country's calendar minus its own closed days."""
    return calendar_for(warehouse.country, (date.fromisoformat(d) for d in warehouse.closed_days))


def ship_by(warehouse: Warehouse, at: datetime) -> datetime:
    """F11: the platform's deadline to ship work that reached the warehouse at ``at``: the end
    of the warehouse's ``ship_days``-th business day after the intake day (timing.dispatch)."""
    return dispatch_by(
        at,
        warehouse.ship_days,
        ZoneInfo(warehouse.timezone),
        warehouse_calendar(warehouse),
        warehouse.pickup_cutoff,
    )


def can_see_warehouse(principal: Principal, warehouse: Warehouse) -> bool:
    """Operators and the system see every warehouse; a seller the shared ones and its own."""
    if principal.is_operator or principal.role is Role.system:
        return True
    if principal.role is not Role.seller:
        return False
    if warehouse.owner is WarehouseOwner.seller:
        return warehouse.seller_id == principal.seller_id
    return True


async def get_warehouse(
    session: AsyncSession, *, principal: Principal, warehouse_id: str
) -> Warehouse:
    """A warehouse the principal may see; another seller's is reported as not found."""
    warehouse = await repository.get_warehouse(session, warehouse_id)
    if warehouse is None or not can_see_warehouse(principal, warehouse):
        raise NotFound(f"warehouse {warehouse_id} not found", field="warehouse_id")
    return warehouse


async def list_warehouses(
    session: AsyncSession, *, principal: Principal, cursor: str | None = None, limit: int = 100
) -> tuple[list[Warehouse], str | None]:
    """Warehouses the principal may see, by id, and the next page's cursor."""
    if principal.role not in (Role.operator, Role.seller):
        raise Forbidden("this role cannot list warehouses")
    return await repository.list_warehouses(
        session,
        seller_id=principal.seller_id,
        everyone=principal.is_operator,
        cursor=cursor,
        limit=limit,
    )


def _address(address: Address) -> dict[str, Any]:
    stored = address.model_dump(mode="json")
    stored["country"] = check_country(address.country, field="address.country")
    return stored


async def _owner(session: AsyncSession, ctx: Ctx, data: WarehouseCreate) -> str | None:
    """The owning seller's id, after the rules of who may register what."""
    principal = ctx.principal
    if principal.role is Role.seller:
        if data.owner is not WarehouseOwner.seller:
            raise Forbidden(
                "a seller registers only its own warehouses (owner=seller)",
                field="owner",
                rule="seller_registers_own",
            )
        if data.kind not in SELLER_KINDS:
            raise Forbidden(
                "a seller's own warehouse is a seller_origin or overseas warehouse; "
                "the platform runs the consolidation warehouses (优选仓)",
                field="kind",
                rule="seller_warehouse_kind",
            )
        if data.seller_id not in (None, principal.seller_id):
            raise NotFound(f"seller {data.seller_id} not found", field="seller_id")
        return principal.seller_id
    if principal.role is not Role.operator:
        raise Forbidden("this role cannot register warehouses")
    if data.owner is not WarehouseOwner.seller:
        if data.seller_id is not None:
            raise InvalidInput(
                "only a seller-owned warehouse names a seller",
                field="seller_id",
                rule="seller_id_for_seller_owner",
            )
        return None
    if data.seller_id is None:
        raise InvalidInput(
            "a seller-owned warehouse names its seller",
            field="seller_id",
            rule="seller_id_for_seller_owner",
        )
    await stores.get_seller(session, principal=principal, seller_id=data.seller_id)
    if data.kind is WarehouseKind.consolidation:
        raise InvalidInput(
            "consolidation warehouses (优选仓) are the platform's or a third party's",
            field="kind",
            rule="seller_warehouse_kind",
        )
    return data.seller_id


def _cutoff(cutoff: str) -> time:
    """A pickup cut-off as stored: a warehouse-local time of day (HH:MM, checked by the schema)."""
    return time.fromisoformat(cutoff)


def _closed_days(
    ctx: Ctx, tz: str, requested: list[date], already: list[str], *, notice: bool
) -> list[str]:
    """The closed days as stored, sorted; refused if announced too late or closed too long.

    Same rules as a store's: a seller adds closed days a week ahead (the deadlines of work
    already taken in stay as they are); operators may record an emergency closure at once.
    """
    days = sorted({d.isoformat() for d in requested})
    if notice and ctx.principal.role is not Role.operator:
        today = ctx.clock.now().astimezone(ZoneInfo(tz)).date()
        earliest = today + timedelta(days=stores.CLOSED_DAY_NOTICE_DAYS)
        short = sorted(d for d in set(days) - set(already) if date.fromisoformat(d) < earliest)
        if short:
            raise InvalidInput(
                f"closed day {short[0]} is announced too late: add closed days at least "
                f"{stores.CLOSED_DAY_NOTICE_DAYS} days ahead (from {earliest.isoformat()})",
                field="closed_days",
                rule="closed_day_notice",
            )
    run = 1
    for before, after in zip(days, days[1:], strict=False):
        consecutive = date.fromisoformat(after) - date.fromisoformat(before) == timedelta(1)
        run = run + 1 if consecutive else 1
        if run > stores.MAX_CLOSED_RUN_DAYS:
            raise InvalidInput(
                f"closed days run longer than {stores.MAX_CLOSED_RUN_DAYS} days in a row "
                f"(to {after})",
                field="closed_days",
                rule="closed_days_run",
            )
    return days


async def create_warehouse(session: AsyncSession, *, ctx: Ctx, data: WarehouseCreate) -> Warehouse:
    """Register a warehouse: operators any, a seller its own origin or overseas warehouse."""
    seller_id = await _owner(session, ctx, data)
    country = check_country(data.country)
    timezone = (
        check_timezone(data.timezone) if data.timezone is not None else country_timezone(country).key
    )
    if await repository.code_taken(session, data.code):
        raise Conflict(
            f"a warehouse already has the code {data.code}", field="code", rule="code_unique"
        )
    now = ctx.clock.now()
    warehouse = Warehouse(
        id=new_id("warehouse"),
        code=data.code,
        name=data.name,
        owner=data.owner,
        seller_id=seller_id,
        kind=data.kind,
        address=_address(data.address),
        country=country,
        timezone=timezone,
        closed_days=_closed_days(ctx, timezone, data.closed_days, [], notice=False),
        pickup_cutoff=_cutoff(data.pickup_cutoff),
        ship_days=data.ship_days,
        active=data.active,
        created_at=now,
        updated_at=now,
    )
    session.add(warehouse)
    audit.record(
        session,
        ctx=ctx,
        subject_type="warehouse",
        subject_id=warehouse.id,
        action="create",
        data={"code": warehouse.code, "owner": warehouse.owner.value, "kind": warehouse.kind.value},
    )
    await session.flush()
    return warehouse


async def update_warehouse(
    session: AsyncSession,
    *,
    ctx: Ctx,
    warehouse_id: str,
    data: WarehouseUpdate,
    expected_version: int | None = None,
) -> Warehouse:
    """Change a warehouse's name, address, closed days, cut-off, ship days or whether it works.

    Operators change any warehouse, a seller its own; a seller may read the platform's
    warehouses but not change them (403).
    """
    principal = ctx.principal
    warehouse = await get_warehouse(session, principal=principal, warehouse_id=warehouse_id)
    if not principal.is_operator and not (
        principal.role is Role.seller and warehouse.seller_id == principal.seller_id
    ):
        raise Forbidden("only an operator changes the platform's warehouses")
    check_version("warehouse", warehouse.id, warehouse.version, expected_version)
    changes: dict[str, Any] = data.model_dump(mode="json", exclude_none=True)
    if data.address is not None:
        changes["address"] = _address(data.address)
    if data.closed_days is not None:
        changes["closed_days"] = _closed_days(
            ctx, warehouse.timezone, data.closed_days, warehouse.closed_days, notice=True
        )
    if data.pickup_cutoff is not None:
        changes["pickup_cutoff"] = _cutoff(data.pickup_cutoff)
    for key, value in changes.items():
        setattr(warehouse, key, value)
    if changes:
        warehouse.updated_at = ctx.clock.now()
        audit.record(
            session,
            ctx=ctx,
            subject_type="warehouse",
            subject_id=warehouse.id,
            action="update",
            data=data.model_dump(mode="json", exclude_none=True),
        )
        await session.flush()
    return warehouse

"""How an order is shown: its fields, its running deadline in local time, what the viewer may do."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from enum import Enum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts.principal import Principal
from tuoguan.orders.models import Order
from tuoguan.orders.schemas import OrderRead
from tuoguan.orders.service import all_deadlines, next_deadline
from tuoguan.orders.states import allowed
from tuoguan.stores.models import Store


async def store_zones(session: AsyncSession, store_ids: set[str]) -> dict[str, str]:
    """Each store's time zone, for showing deadlines locally (stores already loaded cost nothing)."""
    zones: dict[str, str] = {}
    for store_id in store_ids:
        key = session.sync_session.identity_key(Store, store_id)
        loaded = session.sync_session.identity_map.get(key)
        if isinstance(loaded, Store):
            zones[store_id] = loaded.timezone
    missing = store_ids - zones.keys()
    if missing:
        rows = await session.execute(select(Store.id, Store.timezone).where(Store.id.in_(missing)))
        zones.update({store_id: zone for store_id, zone in rows})
    return zones


def present(order: Order, *, principal: Principal, store_tz: str, now: datetime) -> OrderRead:
    """One order as the viewer sees it."""
    view = OrderRead.model_validate(order)
    view.next_deadline = next_deadline(order, store_tz, now)
    view.deadlines = all_deadlines(order, store_tz, now)
    view.allowed_actions = allowed(order.mode, order.status, principal.role)
    return view


async def present_many(
    session: AsyncSession, orders: Sequence[Order], *, principal: Principal, now: datetime
) -> list[OrderRead]:
    """Several orders, with one query for their stores' zones."""
    zones = await store_zones(session, {o.store_id for o in orders})
    return [present(o, principal=principal, store_tz=zones[o.store_id], now=now) for o in orders]


EXPORT_COLUMNS = (
    "id",
    "store_id",
    "mode",
    "status",
    "currency",
    "subtotal_minor",
    "shipping_minor",
    "total_minor",
    "placed_at",
    "confirm_by",
    "ship_by",
    "deliver_by",
    "auto_complete_at",
    "carrier_code",
    "tracking_number",
    "recipient_name",
    "city",
    "country",
    "buyer_ref",
)


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def orders_csv(orders: Sequence[Order]) -> str:
    """O5: orders as CSV, one row each, timestamps in ISO 8601 UTC."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for order in orders:
        writer.writerow([_cell(getattr(order, column)) for column in EXPORT_COLUMNS])
    return out.getvalue()

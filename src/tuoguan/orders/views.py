"""How an order is shown: its fields, its running deadline in local time, what the viewer may do."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import datetime
from enum import Enum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.accounts.visibility import model_for
from tuoguan.orders import listing
from tuoguan.orders.deadlines import all_deadlines, next_deadline
from tuoguan.orders.models import Order
from tuoguan.orders.repository import OrderFilter
from tuoguan.orders.schemas import ORDER_PAGES, ORDER_VIEWS, OrderPageView, OrderRead, OrderView
from tuoguan.orders.states import OrderAction, allowed
from tuoguan.principal import Principal, Role
from tuoguan.stores.models import Store
from tuoguan.stores.modes import Party, rules


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


def present(order: Order, *, principal: Principal, store_tz: str, now: datetime) -> OrderView:
    """One order as the viewer's role sees it (``ORDER_VIEWS``), with what the viewer may do."""
    view = model_for(ORDER_VIEWS, principal, "orders").model_validate(order)
    if isinstance(view, OrderRead):
        view.next_deadline = next_deadline(order, store_tz, now)
        view.deadlines = all_deadlines(order, store_tz, now)
    actions = allowed(order.mode, order.status, principal.role)
    if principal.role is Role.seller and rules(order.mode).ships is Party.platform:
        # F11: the platform ships it; the seller is refused the step, so it is not offered.
        actions = [a for a in actions if a is not OrderAction.ship]
    view.allowed_actions = actions
    return view


async def present_many(
    session: AsyncSession, orders: Sequence[Order], *, principal: Principal, now: datetime
) -> list[OrderView]:
    """Several orders, with one query for their stores' zones."""
    zones = await store_zones(session, {o.store_id for o in orders})
    return [present(o, principal=principal, store_tz=zones[o.store_id], now=now) for o in orders]


def page(
    items: Sequence[OrderView], *, principal: Principal, next_cursor: str | None
) -> OrderPageView:
    """A page of presented orders, in the page model of the viewer's role (``ORDER_PAGES``)."""
    model = model_for(ORDER_PAGES, principal, "orders")
    return model.model_validate({"items": items, "next_cursor": next_cursor})


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


# A spreadsheet runs a cell that starts with one of these as a formula: text a buyer typed
# (a name, a city) could then open links or run commands on the seller's machine.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # shown as the text it is (OWASP's advice for CSV injection)
    return value


def orders_csv(orders: Sequence[Order], *, header: bool = True) -> str:
    """O5: orders as CSV, one row each, timestamps in ISO 8601 UTC."""
    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(EXPORT_COLUMNS)
    for order in orders:
        writer.writerow([_cell(getattr(order, column)) for column in EXPORT_COLUMNS])
    return out.getvalue()


EXPORT_CHUNK = 1_000
Reader = Callable[[], AbstractAsyncContextManager[AsyncSession]]


async def csv_pages(
    read: Reader, *, principal: Principal, flt: OrderFilter
) -> AsyncIterator[tuple[str, int]]:
    """O5: the export as (CSV text, rows in it) per chunk, newest first, up to ``flt.limit``.

    Each chunk is one short keyset-paginated read in a session of its own, written
    to a small buffer and handed on before the next is read: memory stays that of
    one chunk whatever the limit. The header comes with the first chunk.
    """
    remaining = flt.limit
    cursor: str | None = None
    header = True
    while True:
        step = replace(flt, sort="newest", cursor=cursor, limit=min(EXPORT_CHUNK, remaining))
        async with read() as session:
            rows, cursor = await listing.page(session, principal, step)
            text = orders_csv(rows, header=header)
        yield text, len(rows)
        remaining -= len(rows)
        header = False
        if not cursor or remaining <= 0:
            return


async def export_csv(read: Reader, *, principal: Principal, flt: OrderFilter) -> AsyncIterator[str]:
    """O5: the export as CSV chunks (``csv_pages``) for a streamed response.

    The first chunk is read before anything is sent, so a refusal is still a 4xx.
    """
    pages = csv_pages(read, principal=principal, flt=flt)
    first, _ = await anext(pages)

    async def body() -> AsyncIterator[str]:
        yield first
        async for text, _ in pages:
            yield text

    return body()

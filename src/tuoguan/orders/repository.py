"""Queries for orders."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    String,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.catalog.models import Product, Sku
from tuoguan.db import table_of
from tuoguan.errors import BadRequest, Forbidden, InvalidInput
from tuoguan.kit.clock import as_utc
from tuoguan.kit.keyset import Keyset
from tuoguan.kit.pagination import decode_cursor, encode_cursor
from tuoguan.orders.models import Order, OrderLine
from tuoguan.orders.states import OrderStatus
from tuoguan.principal import Principal, Role
from tuoguan.stores.models import Store


@dataclass(frozen=True)
class OrderFilter:
    """What an order list asks for."""

    statuses: Sequence[OrderStatus] = ()
    store_id: str | None = None
    # One seller's orders (operators, the buyer channel; a seller's own, else none).
    seller_id: str | None = None
    due_before: datetime | None = None
    # A search: an order number, a tracking number, the buyer's name or phone, a product's
    # name or a SKU's code (``search``); it narrows by store and seller only.
    q: str | None = None
    sort: str = "newest"
    cursor: str | None = None
    limit: int = 50


@dataclass(frozen=True)
class Overdue:
    """An order whose running confirm or ship deadline passed unrecorded (just the keys)."""

    id: str
    store_id: str
    seller_id: str
    status: OrderStatus
    deadline_at: datetime


def visible_orders(principal: Principal) -> Select[Order]:
    """Orders a principal may see: sellers their stores', carriers those they carry."""
    query = select(Order)
    if principal.role in (Role.operator, Role.buyer_channel, Role.system):
        return query
    if principal.role is Role.seller and principal.seller_id:
        return query.where(Order.seller_id == principal.seller_id)
    if principal.role is Role.carrier and principal.carrier_code:
        return query.where(Order.carrier_code == principal.carrier_code)
    return query.where(Order.id.is_(None))


async def get_for_update(
    session: AsyncSession, principal: Principal, order_id: str
) -> Order | None:
    """Load a visible order fresh and lock its row until the transaction ends.

    PostgreSQL takes a row lock; SQLite has none, and there the write
    transaction (BEGIN IMMEDIATE) already excludes every other writer. Changes
    this transaction has not flushed yet are flushed first: reading the row
    afresh would otherwise drop them (a use case that locks the order twice).
    """
    await session.flush()
    return await session.scalar(
        visible_orders(principal)
        .where(Order.id == order_id)
        .with_for_update(of=Order)
        .execution_options(populate_existing=True)
    )


NEWEST = Keyset((Order.id,), ("id",), descending=True)
BY_DEADLINE = Keyset((Order.deadline_at, Order.id), ("instant", "id"))


_SEE_ALL = (Role.operator, Role.buyer_channel, Role.system)


async def _store_owner(session: AsyncSession, store_id: str) -> str | None:
    return await session.scalar(select(Store.seller_id).where(Store.id == store_id))


async def _list_scope(
    session: AsyncSession, principal: Principal, store_id: str | None, seller_id: str | None = None
) -> list[ColumnElement[bool]] | None:
    """The conditions that scope a list to what the principal may see, or None for nothing.

    A store proves its seller: a seller's own store (or, for an operator, a store of the
    seller asked for) is read on its store index alone; another seller's store is an empty
    page, found from the store row, not by a scan. Likewise another seller's id.
    """
    owner: str | None
    if principal.role in _SEE_ALL:
        scope: list[ColumnElement[bool]] = []
        owner = seller_id
    elif principal.role is Role.seller and principal.seller_id:
        if seller_id and seller_id != principal.seller_id:
            return None
        scope = [Order.seller_id == principal.seller_id]
        owner = principal.seller_id
    elif principal.role is Role.carrier and principal.carrier_code:
        if seller_id:
            raise Forbidden(
                "a carrier lists the orders it carries; it cannot filter them by seller",
                field="seller_id",
                rule="role_view",
            )
        scope = [Order.carrier_code == principal.carrier_code]
        owner = None
    else:
        return None
    if store_id:
        if owner is not None:
            if await _store_owner(session, store_id) != owner:
                return None
            scope = []
        scope.append(Order.store_id == store_id)
    elif seller_id and principal.role in _SEE_ALL:
        scope.append(Order.seller_id == seller_id)
    return scope


async def page(
    session: AsyncSession, principal: Principal, flt: OrderFilter
) -> tuple[list[Order], str | None]:
    """One page of orders and the cursor of the next, keyset-paginated on an index.

    Each status asked for is its own index range (``(status, id)``, ``(seller_id, status,
    deadline_at, id)``…), merged here; the database never sorts.
    """
    if flt.q is not None:
        return await search(session, principal, flt)
    scope = await _list_scope(session, principal, flt.store_id, flt.seller_id)
    keyset = BY_DEADLINE if flt.sort == "deadline" else NEWEST
    if scope is None:
        keyset.seek(flt.cursor)  # a bad cursor is still a 400
        return [], None
    if flt.due_before:
        scope.append(Order.deadline_at <= flt.due_before)
    if flt.sort == "deadline":
        # Deadline order lists the orders that have a deadline running.
        scope.append(Order.deadline_at.is_not(None))
    base = select(Order).where(*scope)
    statuses = list(dict.fromkeys(flt.statuses))
    if not statuses and principal.role is Role.carrier and flt.store_id:
        # A carrier's orders of one store: its (carrier_code, store_id, status, id) ranges.
        statuses = list(OrderStatus)
    queries = [base.where(Order.status == s) for s in statuses] or [base]
    return await keyset.page(session, queries, cursor=flt.cursor, limit=flt.limit)


# What a search string may be, besides a name (see ``search``).
ORDER_NUMBER = re.compile(r"^(?:ord_)?([0-9A-HJKMNP-TV-Z]{26})$", re.IGNORECASE)
TRACKING_NUMBER = re.compile(r"^[A-Z0-9]{8,30}$")
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,19}$")
# At most this many SKUs are followed to their orders in one search by product.
SEARCH_SKUS = 50


async def _search_stores(
    session: AsyncSession, principal: Principal, flt: OrderFilter
) -> list[str] | None:
    """The stores a search looks in: None for every store, else these ones (none: nothing)."""
    owner: str | None
    if principal.role in _SEE_ALL:
        owner = flt.seller_id
    elif principal.role is Role.seller and principal.seller_id:
        if flt.seller_id and flt.seller_id != principal.seller_id:
            return []
        owner = principal.seller_id
    elif principal.role is Role.carrier:
        raise Forbidden(
            "a carrier lists the orders it carries; search is for sellers and operators",
            field="q",
            rule="role_view",
        )
    else:
        return []
    if flt.store_id:
        found = await _store_owner(session, flt.store_id)
        return [flt.store_id] if found is not None and owner in (None, found) else []
    if owner is None:
        return None
    return list(await session.scalars(select(Store.id).where(Store.seller_id == owner)))


@dataclass
class _Runs:
    """Order ids found by several index ranges, each cut at the page plus one.

    A range that came back full may hold more rows past its last one, so only ids at or
    above the highest such cut are known to be complete (an order with two lines of one SKU
    comes twice in its range, so a full range may hold fewer orders than rows).
    """

    cut: int
    ids: set[str] = field(default_factory=set)
    horizon: str | None = None

    def add(self, found: Sequence[str], *, ranged: bool = True) -> None:
        self.ids.update(found)
        if ranged and len(found) >= self.cut:
            last = min(found)
            self.horizon = last if self.horizon is None else max(self.horizon, last)

    def page(self, limit: int) -> tuple[list[str], str | None]:
        known = sorted(
            (i for i in self.ids if self.horizon is None or i >= self.horizon), reverse=True
        )
        if len(known) > limit:
            return known[:limit], known[limit - 1]
        return known, (known[-1] if self.horizon is not None and known else None)


async def search(
    session: AsyncSession, principal: Principal, flt: OrderFilter
) -> tuple[list[Order], str | None]:
    """Orders matching a search string, newest first, a page at a time (G7, O5).

    The string is tried, each on an index and each as an exact match, as: an order number
    (with or without ``ord_``; the primary key), a tracking number (upper-cased, spaces
    dropped; ``ix_orders_tracking``), the buyer's name and phone as typed (``(recipient_name |
    recipient_phone, id)``, per store ``(store_id, …, id)``), a SKU's code and a product's
    name (``ix_skus_code`` / ``uq_skus_store_code``, ``ix_products_name``), whose order lines
    give the orders (``(sku_id, order_id)``). The runs are merged by order id, newest first;
    the database never sorts. A search narrows by store and seller, not by state or deadline.
    """
    if flt.statuses or flt.due_before or flt.sort != "newest":
        raise InvalidInput(
            "a search looks at orders in every state, newest first: leave out status, "
            "due_before and sort=deadline",
            field="q",
            rule="search_alone",
        )
    after = decode_cursor(flt.cursor, ("id",))[0] if flt.cursor else None
    stores = await _search_stores(session, principal, flt)
    text = " ".join((flt.q or "").split())
    if stores == [] or not text:
        return [], None
    runs = _Runs(cut=flt.limit + 1)
    found: dict[str, Order] = {}

    def newer(query: Select[Any], column: Any) -> Select[Any]:
        return query if after is None else query.where(column < after)

    # Lookups: a handful of rows at most, read whole.
    lookups: list[ColumnElement[bool]] = []
    if number := ORDER_NUMBER.match(text):
        lookups.append(Order.id == f"ord_{number.group(1).upper()}")
    tracking = text.replace(" ", "").upper()
    if TRACKING_NUMBER.match(tracking):
        lookups.append(Order.tracking_number == tracking)
    for condition in lookups:
        query = newer(select(Order).where(condition), Order.id)
        if stores is not None:
            query = query.where(Order.store_id.in_(stores))
        rows = list(await session.scalars(query))
        found.update((o.id, o) for o in rows)
        runs.add([o.id for o in rows], ranged=False)
    # The buyer: newest first off (column, id), or (store_id, column, id) per store.
    matches: list[ColumnElement[bool]] = []
    if len(text) <= 100:  # the column's length: anything longer names nobody
        matches.append(Order.recipient_name == text)
    if PHONE.match(text):
        matches.append(Order.recipient_phone == text)
    for condition in matches:
        ranges = (
            [select(Order).where(condition)]
            if stores is None
            else [select(Order).where(Order.store_id == s, condition) for s in stores]
        )
        for query in ranges:
            rows = list(await session.scalars(NEWEST.query(query, flt.cursor, flt.limit)))
            found.update((o.id, o) for o in rows)
            runs.add([o.id for o in rows])
    # Products: the SKUs with this code, or of products with this name, then their orders.
    for sku_id in await _skus_named(session, text, stores):
        query = newer(
            select(OrderLine.order_id).where(OrderLine.sku_id == sku_id), OrderLine.order_id
        )
        runs.add(
            list(await session.scalars(query.order_by(OrderLine.order_id.desc()).limit(runs.cut)))
        )
    ids, next_cursor = runs.page(flt.limit)
    missing = [i for i in ids if i not in found]
    if missing:
        found.update(
            (o.id, o) for o in await session.scalars(select(Order).where(Order.id.in_(missing)))
        )
    return [found[i] for i in ids], next_cursor and encode_cursor([next_cursor])


async def _skus_named(session: AsyncSession, text: str, stores: list[str] | None) -> list[str]:
    """Up to ``SEARCH_SKUS`` SKUs whose code is ``text`` or whose product is named ``text``."""
    by_code = select(Sku.id).where(Sku.code == text)
    by_name = select(Product.id).where(Product.name == text)
    if stores is not None:
        by_code = by_code.where(Sku.store_id.in_(stores))
        by_name = by_name.where(Product.store_id.in_(stores))
    # Longer than the column holds: no such code or name.
    skus = set(await session.scalars(by_code.limit(SEARCH_SKUS))) if len(text) <= 64 else set()
    products = list(await session.scalars(by_name.limit(SEARCH_SKUS))) if len(text) <= 200 else []
    if products:
        skus.update(await session.scalars(select(Sku.id).where(Sku.product_id.in_(products))))
    return sorted(skus)[:SEARCH_SKUS]


_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


def scoped(
    session: AsyncSession,
    query: _Query,
    column: Any,
    *,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> _Query:
    """A sweep's query narrowed to the rows it may take: never those set aside (``exclude``),
    and when retrying one by one, only the given ones. Unchanged when neither is given."""
    if only is not None:
        query = query.where(column.in_(list(only)))
    if exclude:
        query = query.where(~id_in(session, column, list(exclude)))
    return query


async def due_for_auto_complete(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> list[Order]:
    """Delivered orders past their auto-complete time, locked for this worker (O3)."""
    query = (
        select(Order)
        .where(Order.status == OrderStatus.delivered, Order.deadline_at <= now)
        .order_by(Order.deadline_at, Order.id)
        .limit(limit)
    )
    query = scoped(session, query, Order.id, exclude=exclude, only=only)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return list(await session.scalars(query))


async def overdue_unmissed(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> list[Row[tuple[str, str, str, OrderStatus, datetime]]]:
    """Keys of orders whose running confirm or ship deadline passed unrecorded, locked.

    Reads the partial index ix_orders_deadline_unmissed, so the cost follows the
    due work, not the number of open orders; columns only, no ORM objects, so a
    sweep of thousands stays cheap.
    """
    query = (
        select(Order.id, Order.store_id, Order.seller_id, Order.status, Order.deadline_at)
        .where(
            Order.deadline_missed_at.is_(None),
            Order.status.in_([OrderStatus.awaiting_confirmation, OrderStatus.awaiting_shipment]),
            # A deadline is met up to and including its instant.
            Order.deadline_at < now,
        )
        .order_by(Order.deadline_at)
        .limit(limit)
    )
    query = scoped(session, query, Order.id, exclude=exclude, only=only)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return list(await session.execute(query))


def id_in(session: AsyncSession, column: Any, ids: list[str]) -> ColumnElement[bool]:
    """``column IN ids`` bound as one parameter, not one per id (cheap for thousands).

    PostgreSQL: ``= ANY(:ids)`` with a text array; SQLite: ``IN (SELECT value
    FROM json_each(:ids))``. Both engines run the sweep tests that use it.
    """
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("ids", ids, type_=ARRAY(String)))
    listed: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam("ids", json.dumps(ids)))
    )
    return column.in_(listed.scalar_subquery())


async def flag_missed(session: AsyncSession, *, ids: list[str], now: datetime) -> None:
    """Set deadline_missed_at on many orders at once, bumping their version."""
    await session.execute(
        update(Order)
        .where(id_in(session, Order.id, ids), Order.deadline_missed_at.is_(None))
        .values(deadline_missed_at=now, version=Order.version + 1)
        .execution_options(synchronize_session=False)
    )


OPEN_WITH_DEADLINE = (
    OrderStatus.awaiting_confirmation,
    OrderStatus.awaiting_shipment,
    OrderStatus.shipped,
)


async def due_risk_checks(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int,
    skip_locked: bool,
    exclude: Collection[str] = (),
    only: Collection[str] | None = None,
) -> list[Order]:
    """Orders due a fresh risk score (G5), from the partial index ix_orders_risk_check."""
    query = (
        select(Order)
        .where(Order.risk_check_at.is_not(None), Order.risk_check_at <= now)
        .order_by(Order.risk_check_at)
        .limit(limit)
    )
    query = scoped(session, query, Order.id, exclude=exclude, only=only)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return list(await session.scalars(query))


async def set_risk_checks(session: AsyncSession, checks: Sequence[RiskCheck]) -> None:
    """Store each order's score and next checkpoint in one executemany, outside the ORM's
    versioning."""
    if not checks:
        return
    orders = table_of(Order)
    await session.execute(
        update(orders)
        .where(orders.c.id == bindparam("order_id"))
        .values(
            risk_check_at=bindparam("next_check"),
            risk_score=bindparam("score"),
            risk_reasons=bindparam("reasons", type_=orders.c.risk_reasons.type),
            risk_scored_at=bindparam("scored_at", type_=orders.c.risk_scored_at.type),
        ),
        [
            {
                "order_id": c.order_id,
                "next_check": c.next_check,
                "score": c.score,
                "reasons": c.reasons,
                "scored_at": c.scored_at,
            }
            for c in checks
        ],
    )


@dataclass(frozen=True)
class RiskCheck:
    """What one look at an order's risk found (G5): the score, its reasons, the next look."""

    order_id: str
    next_check: datetime | None
    score: int | None
    reasons: list[dict[str, Any]] | None
    scored_at: datetime


async def at_risk_page(
    session: AsyncSession,
    principal: Principal,
    *,
    min_score: int,
    store_id: str | None,
    cursor: str | None,
    limit: int,
    seller_id: str | None = None,
) -> tuple[list[Order], str | None]:
    """Scored orders, highest score first, then deadline soonest, then id (G5).

    Read off the partial indexes ``ix_orders_{,seller_,store_}risk`` (risk_score DESC,
    deadline_at, id) as two ranges: the rest of the cursor's score, then lower scores.
    """
    after = decode_cursor(cursor, ("int", "instant", "id")) if cursor else None
    if after is not None and not 0 <= after[0] <= 100:
        raise BadRequest("cursor is not one this server issued", field="cursor", rule="cursor")
    if principal.role not in (Role.operator, Role.seller):
        return [], None
    # A seller's own store is read on the store's index alone, another's is an empty page.
    scope = await _list_scope(session, principal, store_id, seller_id)
    if scope is None:
        return [], None
    query = select(Order).where(
        Order.risk_score.is_not(None), Order.risk_score >= min_score, *scope
    )
    rows: list[Order] = []
    if after is not None:
        score, at, last_id = after
        rest = tuple_(Order.deadline_at, Order.id) > tuple_(
            bindparam(None, at, type_=Order.deadline_at.type),
            bindparam(None, last_id, type_=Order.id.type),
        )
        rows = list(
            await session.scalars(
                query.where(Order.risk_score == score, rest)
                .order_by(Order.deadline_at, Order.id)
                .limit(limit + 1)
            )
        )
        query = query.where(Order.risk_score < score)
    if len(rows) <= limit:
        rows += await session.scalars(
            query.order_by(Order.risk_score.desc(), Order.deadline_at, Order.id).limit(
                limit + 1 - len(rows)
            )
        )
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    assert last.risk_score is not None and last.deadline_at is not None
    return rows[:limit], encode_cursor([last.risk_score, as_utc(last.deadline_at), last.id])

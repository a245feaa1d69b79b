"""Order lists: a page of orders by status, newest or most urgent first (keyset-paginated on
an index), the search by order, tracking number, buyer or product (G7, O5), and the orders at
risk, highest score first (G5)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.catalog.models import Product, Sku
from tuoguan.errors import BadRequest, Forbidden, InvalidInput
from tuoguan.kit.clock import as_utc
from tuoguan.kit.keyset import Keyset
from tuoguan.kit.pagination import decode_cursor, encode_cursor
from tuoguan.orders.models import Order, OrderLine
from tuoguan.orders.repository import OrderFilter
from tuoguan.orders.states import OrderStatus
from tuoguan.principal import Principal, Role
from tuoguan.stores.models import Store

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

"""Reading inbound notices: the list, the scanner's lookup, the notice as shown, and the R4
report of stale inbound (shipped long ago, not arrived)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.catalog.models import Product, Sku
from tuoguan.errors import Forbidden
from tuoguan.fulfilment.inbound import visible
from tuoguan.fulfilment.inbound_schemas import (
    DiscrepancyRead,
    InboundLineRead,
    InboundNoticeRead,
    PhotoRead,
    StaleByCarrier,
    StaleBySeller,
    StaleInboundReport,
    StaleInboundRow,
)
from tuoguan.fulfilment.inbound_states import SENT, allowed_actions
from tuoguan.fulfilment.models import InboundDiscrepancy, InboundNotice, InboundStatus
from tuoguan.inventory.models import Warehouse
from tuoguan.kit.keyset import Keyset
from tuoguan.principal import Principal, Role
from tuoguan.stores.models import Seller, Store

NEWEST = Keyset((InboundNotice.id,), ("id",), descending=True)
OLDEST_SHIPPED = Keyset((InboundNotice.shipped_at, InboundNotice.id), ("instant", "id"))
# (notice id, discrepancy id, photo number) -> where the API serves the photo.
PhotoUrl = Callable[[str, str, int], str]


def _ranges(
    principal: Principal,
    base: Select[InboundNotice],
    *,
    statuses: Sequence[InboundStatus],
    warehouse_id: str | None,
    store_id: str | None,
) -> list[Select[InboundNotice]]:
    """One index range per value of the filter, each read newest first and merged by the
    keyset, every range on an index that leads with all it matches:

    - a store → ``(store_id, id)``; with statuses ``(store_id, status, id)`` per status; with a
      warehouse ``(store_id, warehouse_id, status, id)`` per status;
    - warehouse staff → ``(warehouse_id, status, id)`` per warehouse of theirs and status sent
      (with a store, the store's index above);
    - a warehouse → ``(warehouse_id, status, id)`` per status; a seller's
      ``(seller_id, warehouse_id, status, id)``;
    - a seller → ``(seller_id, status, id)`` per status;
    - an operator → the primary key; with statuses ``(status, id)`` per status.
    """
    chosen = list(dict.fromkeys(statuses))
    every = chosen or list(InboundStatus)
    if principal.role is Role.warehouse:
        places = [w for w in principal.warehouse_ids if warehouse_id in (None, w)]
        shown = [s for s in every if s in SENT]
        if store_id is not None:
            base = base.where(InboundNotice.store_id == store_id)
        return [
            base.where(InboundNotice.warehouse_id == w, InboundNotice.status == s)
            for w in places
            for s in shown
        ]
    if store_id is not None:
        query = base.where(InboundNotice.store_id == store_id)
        if warehouse_id is not None:
            query = query.where(InboundNotice.warehouse_id == warehouse_id)
            return [query.where(InboundNotice.status == s) for s in every]
        return [query.where(InboundNotice.status == s) for s in chosen] or [query]
    if warehouse_id is not None:
        return [
            base.where(InboundNotice.warehouse_id == warehouse_id, InboundNotice.status == s)
            for s in every
        ]
    if principal.role is Role.seller:
        return [base.where(InboundNotice.status == s) for s in every]
    return [base.where(InboundNotice.status == s) for s in chosen] or [base]


async def list_notices(
    session: AsyncSession,
    *,
    principal: Principal,
    statuses: Sequence[InboundStatus] = (),
    warehouse_id: str | None = None,
    store_id: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[InboundNotice], str | None]:
    """Notices the principal may see, newest first, and the next page's cursor."""
    if principal.role not in (Role.operator, Role.seller, Role.warehouse, Role.system):
        raise Forbidden("this role does not read inbound notices")
    base: Select[InboundNotice] | None = visible(principal)
    if store_id is not None and principal.role is Role.seller:
        # A store's notices are its seller's: once the store is the caller's, the store's index
        # serves the read with no seller to match; another seller's store gives an empty page.
        store = await session.get(Store, store_id)
        mine = store is not None and store.seller_id == principal.seller_id
        base = select(InboundNotice) if mine else None
    ranges = (
        []
        if base is None
        else _ranges(
            principal, base, statuses=statuses, warehouse_id=warehouse_id, store_id=store_id
        )
    )
    if not ranges:
        NEWEST.seek(cursor)  # a bad cursor is still a 400
        return [], None
    return await NEWEST.page(session, ranges, cursor=cursor, limit=limit)


def canonical_id(code: str) -> str:
    """A scanned ASN id as stored: the prefix in lower case, the ULID in upper case (a scanner
    with Caps Lock on, or a person typing, may get either wrong)."""
    prefix, _, rest = code.strip().partition("_")
    return f"{prefix.lower()}_{rest.upper()}" if rest else code.strip()


async def lookup(
    session: AsyncSession, *, principal: Principal, code: str, limit: int = 10
) -> list[InboundNotice]:
    """The notices a scanned or typed code names: the notice whose id it is, else those
    shipped under it as tracking number, the ones being received first, then newest first."""
    code = code.strip()
    if not code:
        return []
    by_id = await session.scalar(visible(principal).where(InboundNotice.id == canonical_id(code)))
    if by_id is not None:
        return [by_id]
    found = await session.scalars(
        visible(principal)
        .where(InboundNotice.tracking_number == code.upper())
        .order_by(InboundNotice.id.desc())
        .limit(limit)
    )
    first = (InboundStatus.receiving, InboundStatus.arrived, InboundStatus.in_transit)
    return sorted(found, key=lambda n: first.index(n.status) if n.status in first else len(first))


# -- the notice as shown ----------------------------------------------------------------------


def _photos(found: InboundDiscrepancy, photo_url: PhotoUrl) -> list[PhotoRead]:
    return [
        PhotoRead(
            n=n,
            name=str(photo.get("name") or f"photo-{n}"),
            content_type=str(photo["content_type"]),
            size=int(str(photo["size"])),
            sha256=str(photo["sha256"]),
            url=photo_url(found.notice_id, found.id, n),
        )
        for n, photo in enumerate(found.photos or [], start=1)
    ]


def present_discrepancy(found: InboundDiscrepancy, photo_url: PhotoUrl) -> DiscrepancyRead:
    """A discrepancy as the API shows it (its photos as links, never as paths on disk)."""
    return DiscrepancyRead(
        id=found.id,
        kind=found.kind,
        sku_id=found.sku_id,
        scanned_code=found.scanned_code,
        expected=found.expected,
        counted=found.counted,
        note=found.note,
        photos=_photos(found, photo_url),
        recorded_by=found.recorded_by,
        recorded_at=found.recorded_at,
    )


async def present(
    session: AsyncSession,
    *,
    principal: Principal,
    notices: Sequence[InboundNotice],
    photo_url: PhotoUrl,
) -> list[InboundNoticeRead]:
    """Notices with their lines (SKU code, barcode and product name, for a receiving screen),
    discrepancies and the caller's next steps: four queries for a whole page."""
    if not notices:
        return []
    store_ids = {n.store_id for n in notices}
    warehouse_ids = {n.warehouse_id for n in notices}
    sku_ids = {line.sku_id for n in notices for line in n.lines}
    stores = {
        s.id: s.name for s in await session.scalars(select(Store).where(Store.id.in_(store_ids)))
    }
    places = {
        w.id: w
        for w in await session.scalars(select(Warehouse).where(Warehouse.id.in_(warehouse_ids)))
    }
    skus: dict[str, tuple[Sku, str]] = {
        sku.id: (sku, name)
        for sku, name in await session.execute(
            select(Sku, Product.name)
            .join(Product, Product.id == Sku.product_id)
            .where(Sku.id.in_(sku_ids))
        )
    }
    found: dict[str, list[InboundDiscrepancy]] = {}
    for row in await session.scalars(
        select(InboundDiscrepancy)
        .where(InboundDiscrepancy.notice_id.in_([n.id for n in notices]))
        .order_by(InboundDiscrepancy.notice_id, InboundDiscrepancy.id)
    ):
        found.setdefault(row.notice_id, []).append(row)
    shown = []
    for notice in notices:
        lines = []
        for line in notice.lines:
            sku, product_name = skus[line.sku_id]
            counted = line.received_good + line.received_defective
            lines.append(
                InboundLineRead(
                    sku_id=line.sku_id,
                    sku_code=sku.code,
                    barcode=sku.barcode,
                    product_id=sku.product_id,
                    product_name=product_name,
                    attributes=dict(sku.attributes or {}),
                    expected=line.expected,
                    received_good=line.received_good,
                    received_defective=line.received_defective,
                    outstanding=max(line.expected - counted, 0),
                )
            )
        warehouse = places[notice.warehouse_id]
        shown.append(
            InboundNoticeRead(
                id=notice.id,
                store_id=notice.store_id,
                store_name=stores.get(notice.store_id, ""),
                seller_id=notice.seller_id,
                warehouse_id=notice.warehouse_id,
                warehouse_code=warehouse.code,
                warehouse_name=warehouse.name,
                supply_order_id=notice.supply_order_id,
                status=notice.status,
                cartons=notice.cartons,
                carrier_name=notice.carrier_name,
                tracking_number=notice.tracking_number,
                shipped_at=notice.shipped_at,
                arrived_at=notice.arrived_at,
                received_at=notice.received_at,
                created_at=notice.created_at,
                updated_at=notice.updated_at,
                version=notice.version,
                units_expected=sum(line.expected for line in lines),
                units_counted=sum(line.received_good + line.received_defective for line in lines),
                lines=lines,
                discrepancies=[present_discrepancy(d, photo_url) for d in found.get(notice.id, [])],
                allowed_actions=allowed_actions(notice.status, principal.role),
            )
        )
    return shown


# -- R4: stale inbound ------------------------------------------------------------------------


def _worst(group: StaleBySeller | StaleByCarrier) -> tuple[int, datetime]:
    """Most stale notices first, then the longest waiting."""
    return -group.notices, group.oldest_shipped_at


def _stale(shipped_before: datetime) -> ColumnElement[bool]:
    """In transit and shipped before the cut: the partial index ix_inbound_notices_in_transit.
    The status is written as a literal, as in the index's WHERE: SQLite uses a partial index
    only for a query whose WHERE implies it, which a bound parameter never does."""
    return and_(
        InboundNotice.status == literal_column("'in_transit'"),
        InboundNotice.shipped_at < shipped_before,
    )


async def stale_inbound(
    session: AsyncSession,
    *,
    principal: Principal,
    now: datetime,
    days: int,
    cursor: str | None = None,
    limit: int = 50,
) -> StaleInboundReport:
    """R4 (seed 001, 定期检查): notices in transit whose cartons left more than ``days`` ago, by
    seller and by carrier (most first, so repeat offenders lead), and the notices, oldest first."""
    if not (principal.is_operator or principal.role is Role.system):
        raise Forbidden("only operators read the stale inbound report")
    cut = now - timedelta(days=days)
    stale = _stale(cut)
    # The stale rows off the partial index, in its order; grouped outside, so that neither
    # engine trades the index for one that hands the rows over already grouped (a whole scan).
    found = (
        select(InboundNotice.seller_id, InboundNotice.carrier_name, InboundNotice.shipped_at)
        .where(stale)
        .order_by(InboundNotice.shipped_at)
        .subquery()
    )
    count = func.count()
    oldest = func.min(found.c.shipped_at)
    per_seller = list(
        await session.execute(select(found.c.seller_id, count, oldest).group_by(found.c.seller_id))
    )
    ids = [seller_id for seller_id, _, _ in per_seller]
    names: dict[str, str] = {}
    if ids:
        found_sellers = await session.scalars(select(Seller).where(Seller.id.in_(ids)))
        names = {seller.id: seller.name for seller in found_sellers}
    by_seller = [
        StaleBySeller(
            seller_id=seller_id,
            seller_name=names.get(seller_id, ""),
            notices=n,
            oldest_shipped_at=first or cut,
        )
        for seller_id, n, first in per_seller
    ]
    by_carrier = [
        StaleByCarrier(carrier_name=carrier, notices=n, oldest_shipped_at=first or cut)
        for carrier, n, first in await session.execute(
            select(found.c.carrier_name, count, oldest).group_by(found.c.carrier_name)
        )
    ]
    rows, next_cursor = await OLDEST_SHIPPED.page(
        session, [select(InboundNotice).where(stale)], cursor=cursor, limit=limit
    )
    return StaleInboundReport(
        days=days,
        as_of=now,
        shipped_before=cut,
        total=sum(g.notices for g in by_seller),
        by_seller=sorted(by_seller, key=_worst),
        by_carrier=sorted(by_carrier, key=_worst),
        rows=[
            StaleInboundRow(
                id=n.id,
                seller_id=n.seller_id,
                store_id=n.store_id,
                warehouse_id=n.warehouse_id,
                carrier_name=n.carrier_name,
                tracking_number=n.tracking_number,
                shipped_at=shipped,
                days_in_transit=(now - shipped).days,
            )
            for n in rows
            if (shipped := n.shipped_at) is not None
        ],
        next_cursor=next_cursor,
    )

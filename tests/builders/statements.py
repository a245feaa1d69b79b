"""Statement builders: a store whose money moved in every way a statement shows, across two
months of its own time zone, posted straight through the ledger at set local times."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.builders.ledger import operator, post
from tuoguan.db import Database
from tuoguan.kit.clock import FrozenClock
from tuoguan.ledger import service
from tuoguan.ledger.kinds import EntryKind
from tuoguan.ledger.records import Entry
from tuoguan.stores import service as stores
from tuoguan.stores.models import StoreMode
from tuoguan.stores.schemas import SellerCreate, StoreCreate

K = EntryKind
ZONE = "America/New_York"  # 23:30 on the last day of a month is the next month in UTC


def local(month: int, day: int, hour: int = 10, minute: int = 0, *, zone: str = ZONE) -> datetime:
    """A local time of 2026 in ``zone`` (October 31 for month 10), as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@dataclass
class Mixed:
    """A store and what was posted to it: (kind, change to the seller's due or None) per
    entry, oldest first."""

    store_id: str
    seller_id: str
    order_id: str = "ord_01KSTATEMENTORDER0000000001"
    posted: list[tuple[EntryKind, int | None, Entry]] = field(default_factory=list)


async def open_store(
    db: Database, *, zone: str = ZONE, currency: str = "USD", name: str = "Statement store"
) -> tuple[str, str]:
    """A seller and a semi-managed store in ``zone``; (seller id, store id)."""
    ctx = operator()
    async with db.write() as session:
        seller = await stores.create_seller(
            session, ctx=ctx, data=SellerCreate(name="Statement seller", country="US")
        )
        store = await stores.create_store(
            session,
            ctx=ctx,
            data=StoreCreate(
                seller_id=seller.id,
                name=name,
                mode=StoreMode.semi_managed,
                country="US",
                timezone=zone,
                currency=currency,
            ),
        )
        await session.commit()
    return seller.id, store.id


async def _at(
    db: Database, mixed: Mixed, at: datetime, kind: EntryKind, due: int | None, **kw: Any
) -> Entry:
    entry = await post(
        db,
        kind,
        operator(FrozenClock(at)),
        currency=kw.pop("currency", "USD"),
        store_id=mixed.store_id,
        **kw,
    )
    mixed.posted.append((kind, due, entry))
    return entry


async def mixed_store(db: Database, *, order_id: str | None = None) -> Mixed:
    """Sales, a fee, a penalty waived on appeal and another netted, a refund, compensation, a
    claim, payouts and the deposit, in October (before), November and December 2026 local."""
    seller_id, store_id = await open_store(db)
    m = Mixed(store_id, seller_id)
    if order_id:
        m.order_id = order_id
    order = ("order", m.order_id)
    amount = lambda n: {"amount": n}  # noqa: E731
    # October 31, 23:30 local (November 1 in UTC): October's, so November's opening.
    await _at(
        db, m, local(10, 31, 23, 30), K.sale_commissioned, 1000,
        parts={"net": 1000, "commission": 100}, subject=order,
    )  # fmt: skip
    # November 1, 00:00 local: the month's first instant is the month's.
    await _at(db, m, local(11, 1, 0, 0), K.deposit_funded, None, parts=amount(50000))
    await _at(
        db, m, local(11, 2), K.sale_supplied, 20000,
        parts={"supply": 20000, "margin": 5000}, subject=order,
    )  # fmt: skip
    await _at(db, m, local(11, 3), K.shipping_fee_charged, -800, parts=amount(800), subject=order)
    penalty = await _at(
        db, m, local(11, 5), K.penalty_charged, -1500, parts=amount(1500),
        subject=("penalty", "pen_01KSTATEMENTPENALTY0000001"),
    )  # fmt: skip
    async with db.write() as session:  # waived on appeal
        waived = await service.reverse(
            session, operator(FrozenClock(local(11, 6))), penalty.id, "appeal upheld"
        )
        await session.commit()
    m.posted.append((K.penalty_charged, 1500, waived))
    await _at(
        db, m, local(11, 8), K.refund_charged_to_seller, -2000, parts=amount(2000), subject=order
    )
    await _at(db, m, local(11, 9), K.delivery_compensation, 300, parts=amount(300), subject=order)
    await _at(
        db, m, local(11, 10), K.insurance_claim_paid, 4000, parts=amount(4000),
        subject=("claim", "clm_01KSTATEMENTCLAIM000000001"),
    )  # fmt: skip
    payout = ("payout", "pay_01KSTATEMENTPAYOUT00000001")
    await _at(db, m, local(11, 15), K.payout_prepared, None, parts=amount(15000), subject=payout)
    await _at(db, m, local(11, 16), K.payout_sent, -15000, parts=amount(15000), subject=payout)
    await _at(
        db, m, local(11, 20), K.penalty_charged, -700, parts=amount(700),
        subject=("penalty", "pen_01KSTATEMENTPENALTY0000002"),
    )  # fmt: skip
    await _at(db, m, local(11, 21), K.debt_netted, None, parts=amount(700))
    # November 30, 23:30 local (December 1 in UTC): November's.
    await _at(
        db, m, local(11, 30, 23, 30), K.sale_commissioned, 5000,
        parts={"net": 5000, "commission": 500}, subject=order,
    )  # fmt: skip
    # December.
    await _at(db, m, local(12, 3), K.deposit_applied_to_debt, 1000, parts=amount(1000))
    second = ("payout", "pay_01KSTATEMENTPAYOUT00000002")
    await _at(db, m, local(12, 5), K.payout_prepared, None, parts=amount(10000), subject=second)
    await _at(db, m, local(12, 6), K.payout_sent, -10000, parts=amount(10000), subject=second)
    await _at(db, m, local(12, 10), K.shipping_fee_charged, -600, parts=amount(600), subject=order)
    # Another currency: its own statement.
    await _at(
        db, m, local(11, 12), K.sale_commissioned, 777, currency="CNY",
        parts={"net": 777, "commission": 0}, subject=order,
    )  # fmt: skip
    return m

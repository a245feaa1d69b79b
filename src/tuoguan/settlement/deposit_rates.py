"""Deposit rates (保证金标准) as versioned configuration per product category and currency (S3).

Joining full-managed requires a deposit. An operator sets the deposit of a category, or of
``*`` (every category without a rate of its own), in a currency, as a version in force from
``effective_from``, the way commission rates are versioned: never edited, a change is a new
version that starts later, never in the past.

A store's required deposit is the highest rate in force, in the store's currency, among the
categories of its products (each category looked up through its lineage, as commission rates
are: ``electronics/audio`` → ``electronics`` → ``*``); a store with no products yet needs
``*``'s. The migration seeds ``*`` at 10,000.00 CNY and 1,500.00 USD.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.catalog.models import Product, ProductStatus
from tuoguan.context import Ctx
from tuoguan.errors import Forbidden
from tuoguan.finance.commission import EVERY_CATEGORY, lineage
from tuoguan.kit.clock import as_utc
from tuoguan.kit.ids import new_id
from tuoguan.kit.money import check_currency
from tuoguan.kit.versions import next_start
from tuoguan.principal import Principal, Role
from tuoguan.settlement.deposit_models import DepositRate
from tuoguan.settlement.deposit_schemas import DepositRateCreate
from tuoguan.stores.models import Store


@dataclass(frozen=True)
class Requirement:
    """What a store must hold, and the category whose rate sets it (None: no rate at all)."""

    amount_minor: int | None
    category: str | None = None
    rate_id: str | None = None


def in_force(versions: Iterable[DepositRate], category: str, at: datetime) -> DepositRate | None:
    """The version that applies to ``category`` at ``at``: the nearest category of its lineage
    with a version started by then, and of that category the latest to start."""
    started: dict[str, DepositRate] = {}
    for version in versions:
        if as_utc(version.effective_from) > at:
            continue
        best = started.get(version.category)
        if best is None or as_utc(version.effective_from) > as_utc(best.effective_from):
            started[version.category] = version
    return next((started[name] for name in lineage(category) if name in started), None)


def highest(versions: list[DepositRate], categories: list[str], at: datetime) -> Requirement:
    """The highest rate in force among ``categories`` (``*``'s when there are none)."""
    found = [in_force(versions, category, at) for category in categories or [EVERY_CATEGORY]]
    rates = [rate for rate in found if rate is not None]
    if not rates:
        return Requirement(None)
    top = max(rates, key=lambda rate: (rate.amount_minor, rate.category != EVERY_CATEGORY))
    return Requirement(top.amount_minor, top.category, top.id)


async def store_categories(session: AsyncSession, store_id: str) -> list[str]:
    """The categories of a store's products (a rejected product sells nothing)."""
    rows = await session.scalars(
        select(Product.category)
        .where(Product.store_id == store_id, Product.status != ProductStatus.rejected)
        .distinct()
    )
    return sorted(rows)


async def required(session: AsyncSession, store: Store, at: datetime) -> Requirement:
    """S3: the deposit a full-managed store must hold at ``at``, in its currency."""
    categories = await store_categories(session, store.id)
    names = {name for category in categories or [EVERY_CATEGORY] for name in lineage(category)}
    versions = list(
        await session.scalars(
            select(DepositRate).where(
                DepositRate.category.in_(sorted(names)),
                DepositRate.currency == store.currency,
                DepositRate.effective_from <= at,
            )
        )
    )
    return highest(versions, categories, at)


async def required_of(
    session: AsyncSession, stores: Sequence[Store], at: datetime
) -> dict[str, Requirement]:
    """S3: what each of a page of stores must hold at ``at``, as ``required`` says, in two
    queries (their products' categories, the versions started in their currencies)."""
    if not stores:
        return {}
    categories: dict[str, list[str]] = {}
    rows = await session.execute(
        select(Product.store_id, Product.category)
        .where(
            Product.store_id.in_(sorted({s.id for s in stores})),
            Product.status != ProductStatus.rejected,
        )
        .distinct()
    )
    for store_id, category in rows:
        categories.setdefault(store_id, []).append(category)
    versions = list(
        await session.scalars(
            select(DepositRate).where(
                DepositRate.currency.in_(sorted({s.currency for s in stores})),
                DepositRate.effective_from <= at,
            )
        )
    )
    return {
        s.id: highest(
            [v for v in versions if v.currency == s.currency],
            sorted(categories.get(s.id, [])),
            at,
        )
        for s in stores
    }


async def create_rate(session: AsyncSession, *, ctx: Ctx, data: DepositRateCreate) -> DepositRate:
    """An operator adds the next version of a category's deposit in a currency, effective now
    or later (422 ``not_past``, ``after_previous`` as for commission rates)."""
    if not ctx.principal.is_operator:
        raise Forbidden("only an operator may change deposit rates")
    now = ctx.clock.now()
    currency = check_currency(data.currency)
    latest = await session.scalar(
        select(DepositRate)
        .where(DepositRate.category == data.category, DepositRate.currency == currency)
        .order_by(DepositRate.version.desc())
        .limit(1)
    )
    effective_from = next_start(
        data.effective_from,
        now,
        (latest.version, latest.effective_from) if latest else None,
        what="deposit rate",
    )
    created = DepositRate(
        id=new_id("deposit_rate"),
        category=data.category,
        currency=currency,
        version=(latest.version + 1) if latest else 1,
        amount_minor=data.amount_minor,
        effective_from=effective_from,
        note=data.note,
        created_at=now,
        created_by=ctx.principal.actor_id,
    )
    session.add(created)
    audit.record(
        session,
        ctx=ctx,
        subject_type="deposit_rate",
        subject_id=created.id,
        action="create",
        data={
            "category": created.category,
            "currency": currency,
            "version": created.version,
            "amount_minor": created.amount_minor,
            "effective_from": effective_from.isoformat(),
        },
    )
    await session.flush()
    return created


async def list_rates(
    session: AsyncSession, *, principal: Principal, category: str | None = None
) -> list[DepositRate]:
    """Every version, per category and currency oldest first; sellers may read them."""
    if principal.role not in (Role.operator, Role.seller):
        raise Forbidden("this role cannot read deposit rates")
    query = select(DepositRate).order_by(
        DepositRate.category, DepositRate.currency, DepositRate.version
    )
    if category is not None:
        query = query.where(DepositRate.category == category)
    return list(await session.scalars(query))


def standing(rate: DepositRate, versions: list[DepositRate], now: datetime) -> str:
    """scheduled, in_force or superseded, as of now (among its category's and currency's)."""
    if as_utc(rate.effective_from) > now:
        return "scheduled"
    own = [v for v in versions if (v.category, v.currency) == (rate.category, rate.currency)]
    current = in_force(own, rate.category, now)
    return "in_force" if current is not None and current.id == rate.id else "superseded"

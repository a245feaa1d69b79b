"""The exit terms (退店条款, S5) as versioned configuration per currency.

An operator sets, per currency, the store management fee (店铺管理费) and the refund handling
fee (退款手续费) an exit charges, either possibly zero, and how many business days the review
takes, as a version in force from ``effective_from``: never edited, a change is a new version
that starts later, never in the past (``kit.versions``), as deposit rates are. The exit page
shows the version in force in the store's currency before the seller applies; an application
keeps the fees it showed, which are what unbinding charges. The migration seeds CNY and USD at
zero fees and three business days.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tuoguan.audit import service as audit
from tuoguan.context import Ctx
from tuoguan.errors import Forbidden
from tuoguan.exits.models import ExitTerms
from tuoguan.exits.schemas import ExitTermsCreate
from tuoguan.kit.clock import as_utc
from tuoguan.kit.ids import new_id
from tuoguan.kit.money import check_currency
from tuoguan.kit.versions import next_start
from tuoguan.principal import Principal, Role


def latest_started(versions: Iterable[ExitTerms], at: datetime) -> ExitTerms | None:
    """Of one currency's versions, the latest to have started by ``at``."""
    started = [v for v in versions if as_utc(v.effective_from) <= at]
    return max(started, key=lambda v: as_utc(v.effective_from), default=None)


async def in_force(session: AsyncSession, currency: str, at: datetime) -> ExitTerms | None:
    """The terms in force in ``currency`` at ``at`` (None: an operator has set none)."""
    found = await session.scalars(
        select(ExitTerms)
        .where(ExitTerms.currency == currency, ExitTerms.effective_from <= at)
        .order_by(ExitTerms.effective_from.desc(), ExitTerms.version.desc())
        .limit(1)
    )
    return found.first()


async def create_terms(session: AsyncSession, *, ctx: Ctx, data: ExitTermsCreate) -> ExitTerms:
    """An operator adds the next version of a currency's exit terms, effective now or later
    (422 ``not_past``, ``after_previous``, ``within_horizon``)."""
    if not ctx.principal.is_operator:
        raise Forbidden("only an operator sets the exit terms")
    now = ctx.clock.now()
    currency = check_currency(data.currency)
    latest = await session.scalar(
        select(ExitTerms)
        .where(ExitTerms.currency == currency)
        .order_by(ExitTerms.version.desc())
        .limit(1)
    )
    effective_from = next_start(
        data.effective_from,
        now,
        (latest.version, latest.effective_from) if latest else None,
        what="version of the exit terms",
    )
    created = ExitTerms(
        id=new_id("exit_terms"),
        currency=currency,
        version=(latest.version + 1) if latest else 1,
        management_fee_minor=data.management_fee_minor,
        refund_fee_minor=data.refund_fee_minor,
        review_days=data.review_days,
        effective_from=effective_from,
        note=data.note,
        created_at=now,
        created_by=ctx.principal.actor_id,
    )
    session.add(created)
    audit.record(
        session,
        ctx=ctx,
        subject_type="exit_terms",
        subject_id=created.id,
        action="create",
        data={
            "currency": currency,
            "version": created.version,
            "management_fee_minor": created.management_fee_minor,
            "refund_fee_minor": created.refund_fee_minor,
            "review_days": created.review_days,
            "effective_from": effective_from.isoformat(),
        },
    )
    await session.flush()
    return created


async def list_terms(session: AsyncSession, *, principal: Principal) -> list[ExitTerms]:
    """Every version, per currency oldest first; sellers may read them."""
    if principal.role not in (Role.operator, Role.seller):
        raise Forbidden("this role cannot read the exit terms")
    found = await session.scalars(select(ExitTerms).order_by(ExitTerms.currency, ExitTerms.version))
    return list(found)


def standing(terms: ExitTerms, versions: list[ExitTerms], now: datetime) -> str:
    """scheduled, in_force or superseded, as of now (among its currency's versions)."""
    if as_utc(terms.effective_from) > now:
        return "scheduled"
    current = latest_started([v for v in versions if v.currency == terms.currency], now)
    return "in_force" if current is not None and current.id == terms.id else "superseded"
